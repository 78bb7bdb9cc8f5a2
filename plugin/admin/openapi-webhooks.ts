/**
 * The OpenAPI 3.1 `webhooks` section: what the plugin POSTs to receivers, one entry per event
 * type of the catalogue, so a receiver can generate types for each body. Each entry is the
 * envelope with that type's data schema; shared shapes (the user, a role, the context...) are
 * components, named `Event<Part>` so they never clash with the admin API's own schemas.
 */
import type { EventCatalogue, EventTypeDefinition } from '../events/catalogue.js';
import { DEFS_PREFIX, type DataSchema } from '../events/payload-schemas/data-schema.js';
import { envelopeSchemaFor, EVENT_CONTEXT_SCHEMA, exampleEnvelope } from '../events/payload-schemas/envelope-schema.js';
import { PAYLOAD_PARTS } from '../events/payload-schemas/schema-parts.js';

const COMPONENT_PREFIX = 'Event';
const componentRef = (name: string) => `#/components/schemas/${COMPONENT_PREFIX}${name}`;

/** A copy of a data schema whose `#/$defs/X` references point at the components, without its own `$defs`. */
function forComponents(schema: DataSchema): unknown {
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(Object.entries(node)
      .filter(([key]) => key !== '$defs' && key !== '$schema')
      .map(([key, value]) => [key, key === '$ref' && typeof value === 'string' && value.startsWith(DEFS_PREFIX)
        ? componentRef(value.slice(DEFS_PREFIX.length)) : rewrite(value)]));
  };
  return rewrite(schema);
}

const UNDECLARED: DataSchema = {
  type: 'object',
  description: 'Not declared: the host registered this type without a schema. Its data is only scrubbed of credential names and values.',
};

const header = (name: string, description: string, example: string) => ({
  name, in: 'header', required: true, description, schema: { type: 'string' }, example,
});

/** Standard Webhooks headers, plus the event type for routing without parsing the body. */
const DELIVERY_HEADERS = [
  header('webhook-id', 'Delivery id (msg_...): the same on every retry of one delivery; use it to drop duplicates', 'msg_2xK9pQ4rT7vW1yZ3bN5mCd'),
  header('webhook-timestamp', 'Unix time in seconds when this attempt was signed; refuse old ones to stop replays', '1768469400'),
  header('webhook-signature', 'Space-separated signatures, "v1,<base64 HMAC-SHA256 of id.timestamp.body>" (or "v1a,..." for ed25519), '
    + 'one per active secret; verify with any Standard Webhooks library', 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4='),
  header('x-webhook-event', 'The event type, as in the body\'s event_type', 'USER_LOGIN'),
];

function operation(definition: EventTypeDefinition, context: DataSchema) {
  const data = definition.schema === null ? UNDECLARED : (forComponents(definition.schema) as DataSchema);
  return {
    post: {
      operationId: `receive${definition.type}`,
      summary: definition.description,
      tags: [definition.category],
      security: [],
      parameters: DELIVERY_HEADERS.map((h) => (h.name === 'x-webhook-event' ? { ...h, example: definition.type } : h)),
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: envelopeSchemaFor(definition.type, definition.description, data, context),
            example: exampleEnvelope(definition),
          },
        },
      },
      responses: {
        '2XX': { description: 'Received. Any 2xx answer acknowledges the delivery; anything else (or no answer in time) is retried on the schedule.' },
      },
    },
  };
}

/** The `webhooks` section and the component schemas it refers to. */
export function buildWebhooksSection(catalogue: EventCatalogue): { webhooks: Record<string, unknown>; schemas: Record<string, unknown> } {
  const context: DataSchema = { $ref: componentRef('Context') };
  const schemas: Record<string, unknown> = { [`${COMPONENT_PREFIX}Context`]: EVENT_CONTEXT_SCHEMA };
  for (const [name, part] of Object.entries(PAYLOAD_PARTS)) schemas[`${COMPONENT_PREFIX}${name}`] = forComponents(part);
  const webhooks = Object.fromEntries(catalogue.list().map((definition) => [definition.type, operation(definition, context)]));
  return { webhooks, schemas };
}
