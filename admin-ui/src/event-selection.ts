import type { EventType } from './api-types.js';

/**
 * Event selectors as the API stores them: `*`, an exact type, or a `PREFIX_*` pattern that
 * matches on the type name (not the category). Mirrors plugin/events/event-selector.ts.
 */
export const ALL_EVENTS = '*';

export interface EventGroup {
  category: string;
  types: EventType[];
}

export interface PrefixPattern {
  selector: string;
  prefix: string;
  count: number;
}

export function isPattern(selector: string): boolean {
  return selector !== ALL_EVENTS && selector.endsWith('_*');
}

export function selectorMatches(selector: string, type: string): boolean {
  if (selector === ALL_EVENTS) return true;
  if (isPattern(selector)) return type.startsWith(selector.slice(0, -1));
  return selector === type;
}

/** The catalogue's types grouped by category, in the API's category order. */
export function groupByCategory(types: readonly EventType[], categories: readonly string[]): EventGroup[] {
  const order = [...categories, ...types.map((t) => t.category).filter((c) => !categories.includes(c))];
  const groups = new Map<string, EventType[]>();
  for (const category of order) if (!groups.has(category)) groups.set(category, []);
  for (const type of types) groups.get(type.category)!.push(type);
  return [...groups].filter(([, list]) => list.length > 0).map(([category, list]) => ({ category, types: list }));
}

/**
 * `PREFIX_*` patterns from the first word of the type names in the catalogue, offered when a
 * prefix is shared by at least two types (a pattern for one type is just that type).
 */
export function prefixPatterns(types: readonly EventType[]): PrefixPattern[] {
  const counts = new Map<string, number>();
  for (const { type } of types) {
    const cut = type.indexOf('_');
    if (cut <= 0) continue;
    const prefix = type.slice(0, cut + 1);
    counts.set(prefix, (counts.get(prefix) ?? 0) + 1);
  }
  return [...counts].filter(([, n]) => n >= 2).sort(([a], [b]) => a.localeCompare(b))
    .map(([prefix, count]) => ({ selector: `${prefix}*`, prefix, count }));
}

/** The selector that covers `type` in `selected`, other than the type itself (a pattern or `*`). */
export function coveringSelector(selected: readonly string[], type: string): string | undefined {
  return selected.find((s) => s !== type && selectorMatches(s, type));
}

/** How many catalogue types the selection delivers. */
export function coveredCount(selected: readonly string[], types: readonly EventType[]): number {
  return types.filter((t) => selected.some((s) => selectorMatches(s, t.type))).length;
}

/**
 * What to save: `*` alone when chosen, else patterns and the exact types no pattern covers,
 * in a stable order (patterns first).
 */
export function normalizeSelection(selected: readonly string[]): string[] {
  if (selected.includes(ALL_EVENTS)) return [ALL_EVENTS];
  const unique = [...new Set(selected)];
  const patterns = unique.filter(isPattern).sort();
  const exact = unique.filter((s) => !isPattern(s) && !patterns.some((p) => selectorMatches(p, s))).sort();
  return [...patterns, ...exact];
}

export function matchesQuery(type: EventType, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  return type.type.toLowerCase().includes(q) || type.description.toLowerCase().includes(q)
    || type.type.toLowerCase().replace(/_/g, ' ').includes(q) || type.category.toLowerCase().includes(q);
}
