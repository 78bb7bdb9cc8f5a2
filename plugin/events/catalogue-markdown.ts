/**
 * Renders an event catalogue as the Markdown reference in docs/event-catalogue.md.
 * Shared by scripts/generate-event-docs.ts, which writes the file, and by the unit
 * test that fails when the committed file has drifted from the catalogue.
 */
import { TEST_EVENT_TYPE, type EventCatalogue } from './catalogue.js';
import { partNameOf, typesOf, type DataSchema } from './payload-schemas/data-schema.js';
import { PAYLOAD_PARTS } from './payload-schemas/schema-parts.js';

/** Keeps a description on one table row even if a host's text contains `|` or newlines. */
function tableCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\s*[\r\n]+\s*/g, ' ');
}

/** A schema's type in a few words: `string`, `[User](#user)`, `string[]`, `"email" or "sms"`. */
function typeLabel(schema: DataSchema): string {
  if (schema.$ref !== undefined) {
    const name = partNameOf(schema.$ref) ?? schema.$ref;
    return `[${name}](#${name.toLowerCase()})`;
  }
  if (schema.enum) return schema.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' or ');
  return (typesOf(schema) ?? ['any']).map((type) => {
    if (type === 'array') return `${schema.items ? typeLabel(schema.items) : 'any'}[]`;
    if (type === 'object' && schema.properties) return `{ ${fieldList(schema)} }`;
    if (type === 'string' && schema.format) return `string (${schema.format})`;
    return type;
  }).join(' or ');
}

/** `name` for required fields, `name?` for optional ones, each with its type. */
function fieldList(schema: DataSchema): string {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {})
    .map(([name, child]) => `\`${name}${required.has(name) ? '' : '?'}\`: ${typeLabel(child)}`)
    .join(', ');
}

/**
 * The catalogue as Markdown: a short guide to selectors and payloads, one table per category
 * in catalogue order (with each type's data fields), then the shared data shapes.
 * Deterministic, so the output can be compared verbatim.
 */
export function renderCatalogueMarkdown(catalogue: EventCatalogue): string {
  const lines: string[] = [
    '# Event catalogue',
    '',
    '<!-- Generated from plugin/events/catalogue.ts and plugin/events/payload-schemas/ by `npx tsx scripts/generate-event-docs.ts`. Do not edit by hand. -->',
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
    '',
    'Every body is `{ event_time, event_type, current_context, data }`. The Data column lists the',
    'fields `data` may carry (`name?`: optional); no other field is ever sent. Fields left out are',
    'logged once by the plugin, and values that look like credentials (JWTs, otpauth:// URLs, links',
    'with tokens, private keys...) are never sent, even in a declared field. The JSON Schemas are',
    'served by `GET /event-types` and in the OpenAPI document\'s `webhooks` section.',
  ];
  for (const [category, definitions] of Object.entries(catalogue.byCategory())) {
    lines.push('', `## ${category}`, '', '| Type | Description | Data |', '| --- | --- | --- |');
    for (const d of definitions) {
      const origin = d.builtIn ? '' : ' (custom)';
      const data = d.schema === null ? 'not declared: scrubbed of credentials only' : fieldList(d.schema);
      lines.push(`| \`${d.type}\` | ${tableCell(d.description)}${origin} | ${tableCell(data)} |`);
    }
  }
  lines.push('', '## Data shapes', '', 'Shared by the types above (`$defs` in each JSON Schema).');
  for (const [name, part] of Object.entries(PAYLOAD_PARTS)) {
    lines.push('', `### ${name}`, '', tableCell(part.description ?? ''), '');
    if (!part.properties) {
      lines.push(`Type: ${tableCell(typeLabel(part))}`);
      continue;
    }
    const required = new Set(part.required ?? []);
    lines.push('| Field | Type | Description |', '| --- | --- | --- |');
    for (const [field, child] of Object.entries(part.properties)) {
      lines.push(`| \`${field}${required.has(field) ? '' : '?'}\` | ${tableCell(typeLabel(child))} | ${tableCell(child.description ?? '')} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
