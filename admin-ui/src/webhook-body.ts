import type { DeliveryOrdering, SignatureScheme, Webhook, WebhookInput } from './api-types.js';
import { isOtherOrigin, type EnteredCredentials } from './credential-origin.js';
import { normalizeSelection } from './event-selection.js';
import { emptyErrors, type FieldErrors } from './field-errors.js';

export const DEFAULT_API_KEY_HEADER = 'x-api-key';
/** The API's bounds for `rate_limit_per_second` (it checks them again). */
export const MAX_RATE_LIMIT = 10_000;
const RATE_LIMIT_ERROR = `Enter a whole number from 1 to ${MAX_RATE_LIMIT.toLocaleString('en-US')}, or leave it empty for no limit`;

/** Everything the webhook form holds, as typed. */
export interface WebhookFormState extends EnteredCredentials {
  name: string;
  description: string;
  url: string;
  enabled: boolean;
  /** The rate limit field as typed; empty for no limit. */
  rateLimit: string;
  /** The number field holds text that is no number (its value then reads as empty). */
  rateLimitBadInput: boolean;
  events: string[];
  apiKeyHeader: string;
  signatureScheme: SignatureScheme;
  ordering: DeliveryOrdering;
}

/** The body to send, and what the form found wrong before sending anything. */
export interface BuiltBody {
  body: WebhookInput;
  errors: FieldErrors;
  /** Errors of custom header rows, by `#<row key>`. */
  rowErrors: Record<string, string>;
}

/**
 * The custom headers to send: on create every row; on an update only what changed, merged by
 * the API into the stored headers (a new value sets a header, null removes it, a stored row
 * left with an empty value keeps its value). Null when nothing changed.
 */
function headerChanges(form: WebhookFormState, webhook: Webhook | null, rowErrors: Record<string, string>): Record<string, string | null> | null {
  const changes: Record<string, string | null> = {};
  const kept = new Set<string>();
  const seen = new Set<string>();
  for (const row of form.headerRows) {
    const name = row.name.trim();
    if (!name && !row.value) continue;
    const error = (message: string) => { rowErrors[`#${row.key}`] = message; };
    if (!name) { error('Enter the header name'); continue; }
    if (seen.has(name.toLowerCase())) { error('This header is listed twice'); continue; }
    seen.add(name.toLowerCase());
    if (row.value) changes[name] = row.value;
    else if (row.stored !== null && name === row.stored) kept.add(name.toLowerCase());
    else error(row.stored !== null ? 'Enter the value again to store it under the new name' : 'Enter a value for this header');
  }
  // Stored headers no row keeps or replaces any more are removed (names are case-insensitive).
  for (const name of Object.keys(webhook?.headers ?? {})) {
    if (!kept.has(name.toLowerCase()) && !Object.keys(changes).some((n) => n.toLowerCase() === name.toLowerCase())) changes[name] = null;
  }
  return Object.keys(changes).length > 0 ? changes : null;
}

/**
 * The body the form sends, after checking what the API cannot check for us (masked values).
 * On an update the API keeps stored secret values it is not sent again, so `api_key` may carry
 * only a new `header`, and `headers` only the names that changed (null for a removed one) -
 * except across origins, where a stored value is never kept (credential-origin.ts).
 */
export function buildWebhookBody(form: WebhookFormState, webhook: Webhook | null): BuiltBody {
  const errors = emptyErrors();
  const rowErrors: Record<string, string> = {};
  const w = webhook;
  const body: WebhookInput = {};
  const name = form.name.trim();
  const description = form.description.trim();
  const url = form.url.trim();
  const events = normalizeSelection(form.events);
  if (!name) errors.fields.name = 'Enter a name for the webhook';
  if (!url) errors.fields.url = 'Enter the URL the webhook sends its requests to';
  if (events.length === 0) errors.fields.events = 'Choose at least one event';
  if (!w || name !== w.name) body.name = name;
  if (w ? description !== w.description : description) body.description = description;
  if (!w || url !== w.url) body.url = url;
  if (!w || events.join('\n') !== normalizeSelection(w.events).join('\n')) body.events = events;
  if (!w) body.notification_type = 'REST';
  if (!w || form.enabled !== w.enabled) body.enabled = form.enabled;
  // HMAC is the API's default: a create leaves it out unless Ed25519 is chosen.
  if (w ? form.signatureScheme !== w.signature_scheme : form.signatureScheme !== 'hmac-sha256') body.signature_scheme = form.signatureScheme;
  // Any order is the API's default, left out on create.
  if (w ? form.ordering !== w.ordering : form.ordering !== 'none') body.ordering = form.ordering;
  const rate = form.rateLimit.trim();
  if (form.rateLimitBadInput || (rate && !(/^\d{1,5}$/.test(rate) && Number(rate) >= 1 && Number(rate) <= MAX_RATE_LIMIT))) {
    errors.fields.rate_limit_per_second = RATE_LIMIT_ERROR;
  } else {
    // Empty means no limit: left out on create (the default), null on an update that clears it.
    const limit = rate ? Number(rate) : null;
    if (w ? limit !== w.rate_limit_per_second : limit !== null) body.rate_limit_per_second = limit;
  }

  // An empty header field means the default header. With a key stored, the API keeps its value
  // when only the header is sent, and keeps its header when only the value is.
  const header = form.apiKeyHeader.trim();
  const stored = w?.api_key ?? null;
  const newHeader = stored ? ((header || DEFAULT_API_KEY_HEADER) !== stored.header ? header || DEFAULT_API_KEY_HEADER : undefined) : header || undefined;
  if (form.removeApiKey) {
    body.api_key = null;
  } else if (form.apiKeyValue) {
    body.api_key = { ...(newHeader ? { header: newHeader } : {}), value: form.apiKeyValue };
  } else if (stored && newHeader && w && isOtherOrigin(w.url, url)) {
    errors.fields['api_key.value'] = 'Enter the API key again: a stored key is not sent to a new host';
  } else if (stored && newHeader) {
    body.api_key = { header: newHeader };
  } else if (!stored && header) {
    errors.fields['api_key.value'] = 'Enter the API key, or clear its header name';
  }
  if (form.removeAuthorization) body.authorization = null;
  else if (form.authorization) body.authorization = form.authorization;

  const headers = headerChanges(form, w, rowErrors);
  if (headers) body.headers = headers;
  return { body, errors, rowErrors };
}
