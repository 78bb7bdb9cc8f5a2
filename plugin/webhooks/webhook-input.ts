import Joi from 'joi';
import { ValidationError } from '../errors.js';
import type { EventCatalogue } from '../events/catalogue.js';
import { isValidSelector } from '../events/event-selector.js';
import { SIGNATURE_SCHEMES, type SignatureScheme } from '../security/signing-keys.js';
import type { WebhookOrdering } from '../store/store-port.js';
import { joiDetails } from '../validation-details.js';

/**
 * The shape of a webhook as callers write it on create (snake_case, like the envelope and the
 * admin API). Secret values are write-only: they come in here and only ever go out masked.
 */
export interface WebhookInput {
  name: string;
  description?: string;
  url: string;
  events: string[];
  notification_type?: 'REST';
  api_key?: { header?: string; value: string } | null;
  authorization?: string | null;
  headers?: Record<string, string>;
  enabled?: boolean;
  /**
   * Most requests per second to this webhook, per worker process (each process that runs a
   * worker keeps its own count); 1 to {@link MAX_RATE_LIMIT_PER_SECOND}. Null or absent: no
   * limit. On update, null removes the limit.
   */
  rate_limit_per_second?: number | null;
  /**
   * How requests are signed: `hmac-sha256` (default; `v1` signatures with a shared `whsec_`
   * secret) or `ed25519` (`v1a` signatures that receivers verify with a `whpk_` public key).
   * On update, a different scheme makes new key material; the current key keeps signing
   * through the overlap.
   */
  signature_scheme?: SignatureScheme;
  /**
   * `none` (default): deliveries go out in any order. `per_subject`: a delivery about a subject
   * (a user, a role...) is sent only once the previous one about it to this webhook has
   * succeeded or finally failed; different subjects still go in parallel.
   */
  ordering?: WebhookOrdering;
}

/** The values of {@link WebhookInput.ordering}. */
export const WEBHOOK_ORDERINGS: readonly WebhookOrdering[] = ['none', 'per_subject'];

/**
 * What an update (PATCH) accepts: any field of {@link WebhookInput}. Fields left out keep their
 * stored values, and so do secret values the caller does not send again (reads only ever show
 * them masked, so nobody should have to retype them to change something else):
 *
 * - `api_key`: `{ header, value }` sets both; `{ header }` alone moves the stored value to a
 *   new header name (a `value` is required when no API key is stored yet); `{ value }` alone
 *   replaces the value and keeps the stored header name; `null` removes the API key.
 * - `authorization`: a string sets it, `null` removes it.
 * - `headers`: merged into the stored custom headers, like a JSON merge patch (RFC 7396): a name
 *   with a string sets that header, a name with `null` removes it (nothing happens if it is not
 *   stored), names not mentioned are kept. Names match case-insensitively, as HTTP header names
 *   do. At most {@link MAX_CUSTOM_HEADERS} headers may be stored after the merge.
 *
 * Credentials are bound to the URL's origin (scheme, host and port): an update that moves the
 * URL to another origin clears the stored API key, authorization value and custom headers it
 * does not send again, since whoever controls the new origin would otherwise receive them
 * (see credential-origin.ts). Signing secrets are kept: receivers never get them.
 */
export interface WebhookUpdate extends Partial<Omit<WebhookInput, 'api_key' | 'headers'>> {
  api_key?: { header?: string; value?: string } | null;
  headers?: Record<string, string | null>;
}

/** Header names the plugin sets itself; custom headers may never replace them. */
export const RESERVED_HEADERS = new Set([
  'host', 'content-type', 'content-length', 'transfer-encoding', 'connection', 'user-agent',
  'webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-webhook-event', 'authorization', 'traceparent', 'tracestate',
]);

export const DEFAULT_API_KEY_HEADER = 'x-api-key';
export const MAX_CUSTOM_HEADERS = 20;
export const MAX_RATE_LIMIT_PER_SECOND = 10_000;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;
// Text fields are shown in the tab, logs and audit events, and PostgreSQL cannot store U+0000 at
// all (a NUL in a name answered 500): control characters are refused where they have no use.
const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f-\u009f]*$/;
const NO_CONTROL_CHARACTERS_BUT_LINES = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$/;
// Header values may not carry CR/LF (header injection) or other control characters.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]{0,2000}$/;

function schema(catalogue: EventCatalogue, creating: boolean) {
  const headerName = Joi.string().pattern(HEADER_NAME).message('{{#label}} must be a valid HTTP header name');
  const headerValue = Joi.string().pattern(HEADER_VALUE).message('{{#label}} must be printable text without line breaks');
  const events = Joi.array()
    .items(Joi.string().max(100).custom((value, helpers) => (isValidSelector(value, catalogue) ? value : helpers.error('any.invalid')))
      .messages({ 'any.invalid': '{{#label}} is not a known event type, a PREFIX_* pattern or *' }))
    .min(1).max(200).unique();
  const required = <T extends Joi.Schema>(s: T) => (creating ? s.required() : s);
  const apiKeyValue = headerValue.min(1);
  const apiKey = Joi.object({
    header: headerName.custom((value, helpers) => (RESERVED_HEADERS.has(value.toLowerCase()) ? helpers.error('any.invalid') : value))
      .messages({ 'any.invalid': '{{#label}} is a header the plugin sets itself' }),
    // On update a missing value keeps the stored one (checked against what is stored by the service).
    value: creating ? apiKeyValue.required() : apiKeyValue,
  }).allow(null);
  const customHeaderValue = creating
    ? headerValue.messages({ 'string.base': '{{#label}} must be a string (null removes a header only when updating a webhook)' })
    : headerValue.allow(null).messages({ 'string.base': '{{#label}} must be a string, or null to remove the header' });
  const headers = Joi.object()
    .pattern(headerName.custom((value, helpers) => (RESERVED_HEADERS.has(value.toLowerCase()) ? helpers.error('any.invalid') : value))
      .messages({ 'any.invalid': '{{#label}} is a header the plugin sets itself and cannot be overridden' }), customHeaderValue)
    // An update may remove every stored header and add as many new ones; the merged total is checked after the merge.
    .max(creating ? MAX_CUSTOM_HEADERS : 2 * MAX_CUSTOM_HEADERS)
    .custom((map: Record<string, unknown>, helpers) => {
      const seen = new Set<string>();
      for (const name of Object.keys(map)) {
        if (seen.has(name.toLowerCase())) {
          return helpers.error('object.sameHeader', {}, { ...helpers.state, path: [...(helpers.state.path ?? []), name] } as typeof helpers.state);
        }
        seen.add(name.toLowerCase());
      }
      return map;
    })
    .messages({ 'object.sameHeader': '{{#label}} names the same header as another entry (header names are case-insensitive)' });
  return Joi.object({
    name: required(Joi.string().trim().min(1).max(100).pattern(NO_CONTROL_CHARACTERS).message('{{#label}} must not contain control characters')),
    description: Joi.string().trim().allow('').max(500).pattern(NO_CONTROL_CHARACTERS_BUT_LINES).message('{{#label}} must not contain control characters other than line breaks and tabs'),
    url: required(Joi.string().max(2048).pattern(NO_CONTROL_CHARACTERS).message('{{#label}} must not contain control characters')),
    events: required(events),
    notification_type: Joi.string().valid('REST'),
    api_key: creating ? apiKey : apiKey.or('header', 'value').messages({ 'object.missing': '{{#label}} must name a header, a value or both (or be null to remove the API key)' }),
    authorization: headerValue.min(1).allow(null),
    headers,
    enabled: Joi.boolean(),
    signature_scheme: Joi.string().valid(...SIGNATURE_SCHEMES),
    ordering: Joi.any().valid(...WEBHOOK_ORDERINGS),
    // strict: a JSON number, not "5"; an integer, since a worker counts whole requests.
    rate_limit_per_second: Joi.number().strict().integer().min(1).max(MAX_RATE_LIMIT_PER_SECOND).allow(null)
      .messages({ '*': `{{#label}} must be a whole number from 1 to ${MAX_RATE_LIMIT_PER_SECOND}, or null for no limit` }),
  }).min(creating ? 0 : 1).required().messages({ 'object.min': 'the update names no field', 'any.required': 'a JSON object body is required' });
}

export function validateWebhookInput(input: unknown, catalogue: EventCatalogue, creating: true): WebhookInput;
export function validateWebhookInput(input: unknown, catalogue: EventCatalogue, creating: false): WebhookUpdate;
export function validateWebhookInput(input: unknown, catalogue: EventCatalogue, creating: boolean): WebhookInput | WebhookUpdate {
  const { value, error } = schema(catalogue, creating).validate(input, { abortEarly: false, stripUnknown: false });
  if (error) {
    throw new ValidationError(`Invalid webhook: ${error.details.map((d) => d.message).join('; ')}`,
      joiDetails(error));
  }
  return value as WebhookInput | WebhookUpdate;
}

/** One problem with an update that only shows against what is stored. */
function invalid(path: string, message: string): ValidationError {
  return new ValidationError(`Invalid webhook: ${message}`, [{ path, message }]);
}

/**
 * The API key after an update's `api_key` (see {@link WebhookUpdate}). A stored key without a
 * `value` is one whose value may not be kept: the URL moved to another origin.
 */
export function applyApiKeyUpdate(
  stored: { header: string; value?: string } | null,
  update: NonNullable<WebhookUpdate['api_key']> | null,
): { header: string; value: string } | null {
  if (update === null) return null;
  const value = update.value ?? stored?.value;
  if (value === undefined) {
    throw invalid('api_key.value', stored
      ? '"api_key.value" must be sent again: the URL\'s origin (scheme, host or port) changed, and a stored API key is never sent to another origin'
      : '"api_key.value" is required: no API key is stored yet whose value could be kept');
  }
  return { header: update.header ?? stored?.header ?? DEFAULT_API_KEY_HEADER, value };
}

/** The custom headers after an update's `headers`, merged into the stored ones (see {@link WebhookUpdate}). */
export function applyHeadersUpdate(stored: Record<string, string>, update: Record<string, string | null>): Record<string, string> {
  // Header names are case-insensitive: a change to `X-Tenant` applies to a stored `x-tenant`
  // (a new spelling replaces the stored one, in its place). Entries, not assignments, so that
  // no header name can reach a prototype.
  const changes = new Map(Object.entries(update).map(([name, value]) => [name.toLowerCase(), { name, value }]));
  const applied = new Set<string>();
  const merged: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(stored)) {
    const key = name.toLowerCase();
    const change = changes.get(key);
    if (!change) merged.push([name, value]);
    else if (change.value !== null && !applied.has(key)) merged.push([change.name, change.value]);
    applied.add(key);
  }
  for (const [key, change] of changes) if (!applied.has(key) && change.value !== null) merged.push([change.name, change.value]);
  if (merged.length > MAX_CUSTOM_HEADERS) {
    throw invalid('headers', `"headers" would hold ${merged.length} headers after the update; at most ${MAX_CUSTOM_HEADERS} are allowed (remove some with null)`);
  }
  return Object.fromEntries(merged);
}
