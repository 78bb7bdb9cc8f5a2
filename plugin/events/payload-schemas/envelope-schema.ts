/**
 * The envelope every receiver gets (envelope.ts), as JSON Schema and as an example, for
 * publishing: GET /event-types shows one example envelope per type, and the OpenAPI
 * document's `webhooks` section describes each type's request body with these.
 */
import { TEST_EVENT_TYPE, type EventTypeDefinition } from '../catalogue.js';
import type { Envelope } from '../envelope.js';
import type { DataSchema, JsonType } from './data-schema.js';
import { subjectOf } from '../event-subject.js';

const nullableText = (description: string): DataSchema => ({ type: ['string', 'null'] as JsonType[], description });

/** `current_context`: who did it, from where, for which tenant. */
export const EVENT_CONTEXT_SCHEMA: DataSchema = {
  type: 'object',
  description: 'Who caused the event, from where, for which tenant',
  properties: {
    event_id: { type: 'string', description: 'Unique per event; repeated deliveries of one event carry the same id' },
    tenant_id: { type: 'string', description: 'Tenant the event belongs to' },
    subject: nullableText('What the event is about, as <kind>:<id> (user:<id>, role:<id>...); null when it is about nothing in particular'),
    sequence: {
      type: ['integer', 'null'] as JsonType[],
      description: 'Number of this event among the tenant\'s events about the same subject, from 1 up, in commit order; '
        + 'a gap means an event this webhook did not receive (not subscribed to its type, or not delivered) - or, rarely, '
        + 'a number left unused by concurrent repeats of one idempotency key. Null without a subject',
    },
    source: { type: 'string', enum: ['host', 'test', 'replay'], description: 'host: it happened; test: a test send' },
    request: {
      type: ['object', 'null'] as JsonType[],
      description: 'The HTTP request that caused it, if any',
      properties: { ip: nullableText('Client IP address'), user_agent: nullableText('Client user agent'), request_id: nullableText('Request id') },
      required: ['ip', 'user_agent', 'request_id'],
      additionalProperties: false,
    },
    actor: {
      type: ['object', 'null'] as JsonType[],
      description: 'Who acted, if known',
      properties: {
        id: { type: 'string', description: 'Id of the actor' },
        type: { type: 'string', enum: ['user', 'admin', 'system', 'api_client'], description: 'Kind of actor' },
        username: { type: 'string', description: 'Name of the actor' },
      },
      required: ['id', 'type'],
      additionalProperties: false,
    },
    client: {
      type: ['object', 'null'] as JsonType[],
      description: 'The application involved, if any',
      properties: { id: { type: 'string', description: 'Client id' }, name: { type: 'string', description: 'Client name' } },
      required: ['id'],
      additionalProperties: false,
    },
  },
  required: ['event_id', 'tenant_id', 'subject', 'sequence', 'source', 'request', 'actor', 'client'],
  additionalProperties: false,
};

/**
 * The whole body of one event type: `data` is that type's schema, `event_type` its name. The
 * data schema's `$defs` move to the root, where its `#/$defs/...` references resolve.
 */
export function envelopeSchemaFor(type: string, description: string, data: DataSchema, context: DataSchema): DataSchema & { properties: Record<string, unknown> } {
  const { $defs, $schema: _dialect, ...dataSchema } = data;
  return {
    ...($defs ? { $defs } : {}),
    type: 'object',
    description,
    properties: {
      event_time: { type: 'string', format: 'date-time', description: 'When it happened (UTC, millisecond precision)' },
      event_type: { type: 'string', enum: [type], description: 'The event type' },
      current_context: context,
      data: dataSchema,
    },
    required: ['event_time', 'event_type', 'current_context', 'data'],
    additionalProperties: false,
  };
}

/** An example body of `definition`'s type, with its example data. */
export function exampleEnvelope(definition: EventTypeDefinition): Envelope {
  const test = definition.type === TEST_EVENT_TYPE;
  const management = test || definition.type.startsWith('WEBHOOK_');
  const data = structuredClone(definition.example) as Record<string, unknown>;
  const subject = test ? null : subjectOf(data, null);
  return {
    event_time: '2026-01-15T09:30:00.000Z',
    event_type: definition.type,
    current_context: {
      event_id: 'evt_4mQ7vN2xR8kP1sT6wY3zAb',
      tenant_id: 'acme',
      subject,
      sequence: subject === null ? null : 7,
      source: test ? 'test' : 'host',
      request: { ip: '203.0.113.7', user_agent: 'Mozilla/5.0 (X11; Linux x86_64)', request_id: 'req-5f2a9c' },
      actor: management ? { id: 'usr_9a8b7c6d', type: 'admin', username: 'ops' } : { id: 'usr_2f9c1e7a', type: 'user', username: 'jdoe' },
      client: management ? null : { id: 'portal-web', name: 'Customer portal' },
    },
    data,
  };
}
