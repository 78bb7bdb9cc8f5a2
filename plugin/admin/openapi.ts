/**
 * The OpenAPI 3.1 description of the admin API (and, under `webhooks`, of what receivers get:
 * openapi-webhooks.ts). A test checks that every route the router
 * serves is described here and nothing else is, and that the document is valid OpenAPI.
 */
import { EventCatalogue } from '../events/catalogue.js';
import { buildWebhooksSection } from './openapi-webhooks.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });
const ok = (description: string, schema: object) => ({ description, content: json(schema) });
const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [String(s), { $ref: `#/components/responses/Error${s}` }]));
const idParam = (what: string) => ({ name: 'id', in: 'path', required: true, description: `${what} id`, schema: { type: 'string' } });
const base = errors(401, 403);

const OUTCOMES = ['success', 'http_error', 'timeout', 'dns', 'connection_refused', 'tls', 'blocked', 'network', 'webhook_unavailable'];
/** How a delivery last ended: an attempt's outcome, or `discarded` by an operator while it waited. */
const DELIVERY_OUTCOMES = [...OUTCOMES, 'discarded'];
const RATE_LIMIT_HELP = 'Most requests per second to this webhook, counted per worker process (with N processes running workers, '
  + 'the receiver may get up to N times this); null for no limit';
const ORDERING_HELP = '`none`: deliveries go out in any order. `per_subject`: a delivery about a subject (`current_context.subject`: a user, '
  + 'a role...) is sent only once the previous one about it to this webhook has succeeded or finally failed; different subjects go in '
  + 'parallel, and deliveries without a subject are never held back. Holds across worker processes and crashes.';
/** A webhook as the reads (GET) return it: with its health, which create and update responses leave out. */
const webhookRead = { allOf: [ref('Webhook'), { type: 'object', required: ['health'] }] };

const secretMasked = { type: 'string', description: 'Masked: never returned in full', examples: ['****abcd'] };
const SIGNATURE_SCHEMES = ['hmac-sha256', 'ed25519'];
const publicKey = {
  type: ['string', 'null'], pattern: '^whpk_', examples: ['whpk_OS1cSa2k3OKhwCWNBqcEBsZbOS+6sDVTGAm8mYrnjT4='],
  description: 'Ed25519 webhooks: the `whpk_<base64>` public key receivers verify `v1a` signatures with (not secret). Null for HMAC webhooks.',
};
const CREDENTIALS_ORIGIN_HELP = 'Credentials are bound to the URL\'s origin (scheme, host, port): a PATCH that moves `url` to another origin clears the stored '
  + '`api_key`, `authorization` and `headers` it does not send again (the answer lists them in `cleared_credentials`), and `api_key: { "header" }` '
  + 'alone then answers 400 at `api_key.value` (the value must be sent again).';

/**
 * @param catalogue the event types to describe in the `webhooks` section (what receivers get).
 *   Default: the built-in catalogue.
 */
export function buildOpenApiDocument(catalogue: EventCatalogue = new EventCatalogue()) {
  const events = buildWebhooksSection(catalogue);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Identity webhooks admin API',
      version: '1.0.0',
      description: 'Manage webhooks, read the delivery log, send tests and redeliver. Every route is scoped to the caller\'s tenant. '
        + 'Cookie-authenticated unsafe requests must send the x-csrf-token header from GET /csrf-token.',
    },
    components: {
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'connect.sid', description: 'The host\'s session cookie' },
        bearer: { type: 'http', scheme: 'bearer', description: 'A token the host\'s Passport bearer strategy accepts' },
      },
      schemas: {
        Error: {
          type: 'object', required: ['error'],
          properties: {
            error: {
              type: 'object', required: ['code', 'message', 'details'],
              properties: {
                code: { type: 'string' }, message: { type: 'string' },
                details: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
              },
            },
          },
        },
        EventType: {
          type: 'object', required: ['type', 'category', 'description', 'built_in', 'schema', 'example'],
          properties: {
            type: { type: 'string' }, category: { type: 'string' }, description: { type: 'string' }, built_in: { type: 'boolean' },
            schema: {
              type: ['object', 'null'],
              description: 'JSON Schema (2020-12) of the event\'s `data`, self-contained (shared parts under `$defs`); only its fields are sent. '
                + 'Null for a host type registered without a schema.',
            },
            example: { type: 'object', description: 'An example body of this type (the whole envelope)' },
          },
        },
        WebhookInput: {
          type: 'object', additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100 },
            description: { type: 'string', maxLength: 500 },
            url: { type: 'string', format: 'uri', maxLength: 2048 },
            events: { type: 'array', minItems: 1, maxItems: 200, items: { type: 'string', description: 'An event type, a PREFIX_* pattern or *' } },
            notification_type: { type: 'string', enum: ['REST'] },
            api_key: {
              type: ['object', 'null'], minProperties: 1, properties: { header: { type: 'string', default: 'x-api-key' }, value: { type: 'string', writeOnly: true } },
              description: 'The API key sent in `header` with every request; null removes it. On create, `value` is required. On PATCH, '
                + '`{ "header" }` alone moves the stored value to a new header name (400 at `api_key.value` if no API key is stored yet), '
                + '`{ "value" }` alone keeps the stored header name.',
            },
            authorization: { type: ['string', 'null'], writeOnly: true, description: 'Sent as the Authorization header' },
            headers: {
              type: 'object', additionalProperties: { type: ['string', 'null'], writeOnly: true },
              description: 'Custom headers sent with every request; names are case-insensitive. On create, the headers to store (string values, at most 20). '
                + 'On PATCH, merged into the stored headers: a string sets that header, null removes it, names not mentioned keep their stored values; '
                + 'at most 20 may be stored after the merge.',
            },
            enabled: { type: 'boolean', default: true },
            rate_limit_per_second: {
              type: ['integer', 'null'], minimum: 1, maximum: 10_000, default: null,
              description: `${RATE_LIMIT_HELP}. On PATCH, null removes the limit.`,
            },
            ordering: { type: 'string', enum: ['none', 'per_subject'], default: 'none', description: ORDERING_HELP },
            signature_scheme: {
              type: 'string', enum: SIGNATURE_SCHEMES, default: 'hmac-sha256',
              description: 'How requests are signed (Standard Webhooks): `hmac-sha256` gives `v1` signatures with a shared `whsec_` secret, `ed25519` '
                + 'gives `v1a` signatures receivers verify with the webhook\'s `public_key`. On PATCH, another scheme makes new key material; the '
                + 'current key keeps signing for the overlap window (a header may then carry `v1` and `v1a` entries).',
            },
          },
          description: CREDENTIALS_ORIGIN_HELP,
        },
        Webhook: {
          type: 'object',
          required: [
            'id', 'name', 'description', 'url', 'events', 'notification_type', 'api_key', 'authorization', 'headers', 'enabled',
            'rate_limit_per_second', 'ordering', 'signature_scheme', 'public_key', 'status', 'created_at', 'updated_at', 'secrets_readable', 'secret_error',
          ],
          properties: {
            id: { type: 'string' }, name: { type: 'string' }, description: { type: 'string' }, url: { type: 'string' },
            events: { type: 'array', items: { type: 'string' } }, notification_type: { type: 'string', enum: ['REST'] },
            api_key: { type: ['object', 'null'], properties: { header: { type: 'string' }, value: secretMasked } },
            authorization: { oneOf: [secretMasked, { type: 'null' }] },
            headers: { type: 'object', additionalProperties: secretMasked },
            signature_scheme: { type: ['string', 'null'], enum: [...SIGNATURE_SCHEMES, null], description: 'Null while `secrets_readable` is false' },
            public_key: publicKey,
            enabled: { type: 'boolean' },
            secrets_readable: {
              type: 'boolean',
              description: 'False when the stored secrets cannot be decrypted with the configured encryption keys (sealed under a key that was '
                + 'removed): `api_key`, `authorization`, `headers`, `signature_scheme` and `public_key` then show as null/empty and deliveries fail. '
                + 'Restore the key in `encryptionKeys`, or rotate the secret (a fresh hmac-sha256 key; the credentials are cleared) and re-enter '
                + 'the credentials. Until then a PATCH that sets a credential or `signature_scheme`, or moves the URL to another origin, answers '
                + '409 `secret_unreadable`; other fields, delete and rotate work.',
            },
            secret_error: { type: ['string', 'null'], description: 'Why the secrets cannot be read (naming the key id they were sealed with) and what to do; null when they can' },
            rate_limit_per_second: { type: ['integer', 'null'], minimum: 1, maximum: 10_000, description: RATE_LIMIT_HELP },
            ordering: { type: 'string', enum: ['none', 'per_subject'], description: ORDERING_HELP },
            status: {
              type: 'object',
              properties: {
                state: { type: 'string', enum: ['enabled', 'disabled'] }, reason: { type: ['string', 'null'] },
                disabled_at: { type: ['string', 'null'], format: 'date-time' }, failing_since: { type: ['string', 'null'], format: 'date-time' },
              },
            },
            created_at: { type: 'string', format: 'date-time' }, updated_at: { type: 'string', format: 'date-time' },
            health: ref('WebhookHealth'),
          },
        },
        WebhookHealth: {
          type: 'object', required: ['last_delivery', 'recent', 'waiting'],
          description: 'How the webhook has been doing. Returned by GET /webhooks and GET /webhooks/{id} only.',
          properties: {
            last_delivery: {
              type: ['object', 'null'], required: ['status', 'status_code', 'outcome', 'at'],
              description: 'The delivery attempted most recently, however long ago; null when none was ever attempted',
              properties: {
                status: { type: 'string', enum: ['pending', 'succeeded', 'failed'], description: 'Its status now (pending while it is being retried)' },
                status_code: { type: ['integer', 'null'] }, outcome: { type: ['string', 'null'], enum: [...DELIVERY_OUTCOMES, null] },
                at: { type: 'string', format: 'date-time', description: 'When it was last attempted' },
              },
            },
            recent: {
              type: 'object', required: ['since', 'succeeded', 'failed', 'pending', 'success_rate'],
              description: 'The deliveries created since `since` (24 hours ago), counted by their status now',
              properties: {
                since: { type: 'string', format: 'date-time' },
                succeeded: { type: 'integer', minimum: 0 }, failed: { type: 'integer', minimum: 0 }, pending: { type: 'integer', minimum: 0 },
                success_rate: { type: ['number', 'null'], minimum: 0, maximum: 1, description: 'succeeded / (succeeded + failed); null when none has finished' },
              },
            },
            waiting: {
              type: 'integer', minimum: 0,
              description: 'Every delivery still to be sent (pending), however old. A disabled webhook\'s deliveries wait, unsent, until it is '
                + 'enabled again; POST /webhooks/{id}/discard-pending discards them.',
            },
          },
        },
        Attempt: {
          type: 'object',
          properties: {
            id: { type: 'string' }, attempt_number: { type: 'integer' }, started_at: { type: 'string', format: 'date-time' },
            duration_ms: { type: 'integer' },
            outcome: { type: 'string', enum: OUTCOMES },
            status_code: { type: ['integer', 'null'] }, request_headers: { type: 'object', additionalProperties: { type: 'string' } },
            response_excerpt: { type: ['string', 'null'] }, error: { type: ['string', 'null'] },
          },
        },
        Delivery: {
          type: 'object',
          properties: {
            id: { type: 'string', description: 'Also the webhook-id header: stable across retries' }, webhook_id: { type: 'string' },
            event_id: { type: 'string' }, event_type: { type: 'string' },
            subject: { type: ['string', 'null'], description: 'What the event is about (current_context.subject)' },
            sequence: { type: ['integer', 'null'], description: 'The event\'s number among its subject\'s (current_context.sequence)' },
            status: { type: 'string', enum: ['pending', 'succeeded', 'failed'] },
            attempt_count: { type: 'integer' }, next_attempt_at: { type: ['string', 'null'], format: 'date-time' },
            last_attempt_at: { type: ['string', 'null'], format: 'date-time' }, last_status_code: { type: ['integer', 'null'] },
            last_outcome: { type: ['string', 'null'], enum: [...DELIVERY_OUTCOMES, null] }, created_at: { type: 'string', format: 'date-time' },
            attempts: { type: 'array', items: ref('Attempt') },
          },
        },
        ...events.schemas,
        TestResult: {
          type: 'object',
          properties: {
            delivery_id: { type: 'string' }, success: { type: 'boolean' }, outcome: { type: 'string' }, status_code: { type: ['integer', 'null'] },
            duration_ms: { type: 'integer' }, response_excerpt: { type: ['string', 'null'] },
            response_note: { type: ['string', 'null'], description: 'Why response_excerpt is null although the receiver answered (a body from a private address is not shown)' },
            error: { type: ['string', 'null'] },
          },
        },
      },
      responses: Object.fromEntries([400, 401, 403, 404, 409, 429].map((s) => [`Error${s}`, { description: `Error ${s}`, content: json(ref('Error')) }])),
    },
    security: [{ session: [] }, { bearer: [] }],
    /** What the plugin POSTs to receivers, one entry per event type (openapi-webhooks.ts). */
    webhooks: events.webhooks,
    paths: {
      '/openapi.json': { get: { summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3.1 document' } } } },
      '/csrf-token': { get: { summary: 'A CSRF token for cookie-authenticated writes', responses: { 200: ok('Token', { type: 'object', properties: { token: { type: 'string' }, header: { type: 'string' } } }), ...base } } },
      '/event-types': {
        get: {
          summary: 'The event catalogue',
          responses: { 200: ok('Catalogue', { type: 'object', properties: { event_types: { type: 'array', items: ref('EventType') }, categories: { type: 'array', items: { type: 'string' } } } }), ...base },
        },
      },
      '/webhooks': {
        get: { summary: 'List webhooks with their health', responses: { 200: ok('Webhooks', { type: 'object', properties: { webhooks: { type: 'array', items: webhookRead } } }), ...base } },
        post: {
          summary: 'Create a webhook; an HMAC webhook\'s response carries its signing secret, once',
          requestBody: { required: true, content: json({ allOf: [ref('WebhookInput')], required: ['name', 'url', 'events'] }) },
          responses: {
            201: ok('Created', { allOf: [ref('Webhook'), { type: 'object', properties: {
              secret: { type: 'string', pattern: '^whsec_', description: 'hmac-sha256 only: the whsec_ secret, shown only here. Ed25519 webhooks get none: receivers use `public_key`.' },
            } }] }),
            ...errors(400, 401, 403, 429),
          },
        },
      },
      '/webhooks/{id}': {
        parameters: [idParam('Webhook')],
        get: { summary: 'One webhook with its health', responses: { 200: ok('Webhook', webhookRead), ...errors(401, 403, 404) } },
        patch: {
          summary: 'Change fields of a webhook', description: CREDENTIALS_ORIGIN_HELP, requestBody: { required: true, content: json(ref('WebhookInput')) },
          responses: {
            200: ok('Updated', { allOf: [ref('Webhook'), { type: 'object', properties: {
              cleared_credentials: {
                type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: ['api_key', 'authorization', 'headers'] },
                description: 'The stored credentials this update cleared because `url` moved to another origin; absent when none was',
              },
              secret: { type: 'string', pattern: '^whsec_', description: 'The new whsec_ secret when the update switched `signature_scheme` to hmac-sha256; shown only here' },
            } }] }),
            ...errors(400, 401, 403, 404, 409, 429),
          },
        },
        delete: { summary: 'Delete a webhook with its delivery log', responses: { 204: { description: 'Deleted' }, ...errors(401, 403, 404, 429) } },
      },
      '/webhooks/{id}/rotate-secret': {
        parameters: [idParam('Webhook')],
        post: {
          summary: 'New signing key; the one it replaces keeps signing for the overlap window, older ones stop',
          description: 'At most two keys sign at once. An HMAC webhook gets a new `secret` (shown only here); an Ed25519 webhook a new key pair, '
            + 'whose `public_key` is returned (its secret key never is).',
          responses: {
            200: ok('New key', {
              type: 'object', required: ['signature_scheme', 'public_key', 'previous_expires_at'],
              properties: {
                signature_scheme: { type: 'string', enum: SIGNATURE_SCHEMES },
                secret: { type: 'string', pattern: '^whsec_', description: 'hmac-sha256 only' },
                public_key: publicKey,
                previous_expires_at: { type: 'string', format: 'date-time' },
              },
            }),
            ...errors(401, 403, 404, 409, 429),
          },
        },
      },
      '/webhooks/{id}/test': {
        parameters: [idParam('Webhook')],
        post: { summary: 'Send a WEBHOOK_TEST event now and report the outcome', responses: { 200: ok('Outcome', ref('TestResult')), ...errors(401, 403, 404, 429) } },
      },
      '/webhooks/{id}/deliveries': {
        parameters: [
          idParam('Webhook'),
          { name: 'status', in: 'query', schema: { type: 'string', enum: ['pending', 'succeeded', 'failed'] } },
          { name: 'event_type', in: 'query', schema: { type: 'string' } },
          { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'next_cursor of the previous page' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
        ],
        get: {
          summary: 'The delivery log, newest first',
          responses: { 200: ok('Page', { type: 'object', properties: { deliveries: { type: 'array', items: ref('Delivery') }, next_cursor: { type: ['string', 'null'] } } }), ...errors(400, 401, 403, 404) },
        },
      },
      '/webhooks/{id}/discard-pending': {
        parameters: [idParam('Webhook')],
        post: {
          summary: 'Discard every waiting delivery of a webhook',
          description: 'Marks each pending delivery of the webhook that is not being sent right now failed, with last_outcome `discarded`: '
            + 'it is never sent unless someone resends it. Meant for the backlog a disabled webhook holds, which is otherwise sent when '
            + 'it is enabled again. Takes an empty body.',
          responses: { 200: ok('Discarded', { type: 'object', required: ['discarded'], properties: { discarded: { type: 'integer', minimum: 0 } } }), ...errors(400, 401, 403, 404, 429) },
        },
      },
      '/webhooks/{id}/recover': {
        parameters: [idParam('Webhook')],
        post: {
          summary: 'Re-enqueue every failed delivery created since a time',
          requestBody: { required: true, content: json({ type: 'object', required: ['since'], properties: { since: { type: 'string', format: 'date-time' } } }) },
          responses: { 202: ok('Requeued', { type: 'object', properties: { requeued: { type: 'integer' } } }), ...errors(400, 401, 403, 404, 429) },
        },
      },
      '/deliveries/{id}': {
        parameters: [idParam('Delivery')],
        get: { summary: 'One delivery with its attempts and body', responses: { 200: ok('Delivery', { allOf: [ref('Delivery'), { type: 'object', properties: { body: { type: ['object', 'null'] } } }] }), ...errors(401, 403, 404) } },
      },
      '/deliveries/{id}/retry': {
        parameters: [idParam('Delivery')],
        post: {
          summary: 'Send one delivery again now',
          description: 'Answers 409 with code `delivery_in_flight` while an attempt of the delivery is being sent: '
            + 'it is not sent twice, and that attempt\'s result appears in the delivery log shortly.',
          responses: { 202: ok('Queued', { type: 'object', properties: { status: { type: 'string' } } }), ...errors(401, 403, 404, 409, 429) },
        },
      },
    },
  };
}
