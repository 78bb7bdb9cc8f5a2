/**
 * Renders an event catalogue as the Markdown reference in docs/event-catalogue.md.
 * Shared by scripts/generate-event-docs.ts, which writes the file, and by the unit
 * test that fails when the committed file has drifted from the catalogue.
 */
import { TEST_EVENT_TYPE, type EventCatalogue } from './catalogue.js';

/** Keeps a description on one table row even if a host's text contains `|` or newlines. */
function tableCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\s*[\r\n]+\s*/g, ' ');
}

/**
 * The catalogue as Markdown: a short guide to selectors, then one table per
 * category in catalogue order. Deterministic, so the output can be compared verbatim.
 */
export function renderCatalogueMarkdown(catalogue: EventCatalogue): string {
  const lines: string[] = [
    '# Event catalogue',
    '',
    '<!-- Generated from plugin/events/catalogue.ts by `npx tsx scripts/generate-event-docs.ts`. Do not edit by hand. -->',
    '',
    `${catalogue.list().length} event types in ${catalogue.categories().length} categories.`,
    '',
    'Subscriptions select events with:',
    '',
    '- `*`: every event type;',
    '- an exact type name, e.g. `USER_LOGIN`;',
    '- a prefix pattern `PREFIX_*`, e.g. `USER_*`: every type whose name starts with `USER_`.',
    '  Patterns match the name, not the category below, so `USER_*` selects `USER_LOGIN`',
    '  (category AUTH) but not `EMAIL_CHANGED` (category USER).',
    '',
    `\`${TEST_EVENT_TYPE}\` is sent only by a webhook's "send test" action; no selector matches it.`,
  ];
  for (const [category, definitions] of Object.entries(catalogue.byCategory())) {
    lines.push('', `## ${category}`, '', '| Type | Description |', '| --- | --- |');
    for (const d of definitions) {
      const origin = d.builtIn ? '' : ' (custom)';
      lines.push(`| \`${d.type}\` | ${tableCell(d.description)}${origin} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
