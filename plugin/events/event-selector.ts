/**
 * Subscription selectors: which event types a subscription receives.
 *
 * A selector is one of
 * - `*`: every event type;
 * - an exact type name, e.g. `USER_LOGIN`;
 * - a prefix pattern `PREFIX_*`, e.g. `USER_*`: every type whose name starts with
 *   `USER_`. It matches on the name, not on the catalogue category, so `USER_*`
 *   selects USER_LOGIN (category AUTH) and not EMAIL_CHANGED (category USER).
 *
 * {@link TEST_EVENT_TYPE} is never matched, by any selector: it is sent only by an
 * explicit test send to one endpoint, and a subscription that could select it would
 * let a test ping reach receivers that never asked for it.
 */
import { EVENT_TYPE_NAME_PATTERN, TEST_EVENT_TYPE, type EventCatalogue } from './catalogue.js';

/** The selector that matches every deliverable event type. */
export const WILDCARD_SELECTOR = '*';

const PATTERN_SUFFIX = '_*';

/** The prefix of a `PREFIX_*` selector, including its trailing underscore, or undefined. */
function patternPrefix(selector: string): string | undefined {
  if (!selector.endsWith(PATTERN_SUFFIX)) return undefined;
  const prefix = selector.slice(0, -PATTERN_SUFFIX.length);
  return EVENT_TYPE_NAME_PATTERN.test(prefix) ? `${prefix}_` : undefined;
}

/**
 * Whether `selector` may be stored on a subscription: `*`, a type `catalogue` knows,
 * or a `PREFIX_*` pattern that selects at least one known type. Rejecting patterns
 * that select nothing catches typos such as `USR_*` when the subscription is saved.
 */
export function isValidSelector(selector: string, catalogue: EventCatalogue): boolean {
  if (typeof selector !== 'string') return false;
  if (selector === WILDCARD_SELECTOR) return true;
  if (selector === TEST_EVENT_TYPE) return false;
  const prefix = patternPrefix(selector);
  if (prefix === undefined) return catalogue.has(selector);
  return catalogue.list().some((d) => d.type !== TEST_EVENT_TYPE && d.type.startsWith(prefix));
}

/**
 * Whether `selector` selects events of `type`. Malformed selectors match nothing,
 * so a bad stored value fails closed instead of delivering everything.
 */
export function selectorMatches(selector: string, type: string): boolean {
  if (type === TEST_EVENT_TYPE) return false;
  if (selector === WILDCARD_SELECTOR) return true;
  const prefix = patternPrefix(selector);
  return prefix === undefined ? selector === type : type.startsWith(prefix);
}

/** Whether any of a subscription's `selectors` selects events of `type`. */
export function matchesAny(selectors: readonly string[], type: string): boolean {
  return selectors.some((selector) => selectorMatches(selector, type));
}
