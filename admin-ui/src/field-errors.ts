import type { ApiError } from './api-client.js';

/** The form fields an API validation error can point at. */
export type FieldKey =
  | 'name' | 'description' | 'url' | 'events' | 'notification_type' | 'api_key.header' | 'api_key.value'
  | 'authorization' | 'headers' | 'enabled' | 'rate_limit_per_second' | 'signature_scheme' | 'ordering';

export interface FieldErrors {
  /** Errors by field. */
  fields: Partial<Record<FieldKey, string>>;
  /** Errors by custom header name (lower-cased), from `headers.<name>` paths. */
  headers: Record<string, string>;
  /** Errors that name no field this form shows. */
  general: string[];
}

export const FIELD_LABELS: Record<FieldKey, string> = {
  name: 'Webhook name',
  description: 'Description',
  url: 'URL',
  events: 'Events',
  notification_type: 'Notification type',
  'api_key.header': 'API key header',
  'api_key.value': 'API key',
  authorization: 'Authorization value',
  headers: 'Custom headers',
  enabled: 'Enabled',
  rate_limit_per_second: 'Rate limit',
  signature_scheme: 'Signature scheme',
  ordering: 'Delivery order',
};

export function emptyErrors(): FieldErrors {
  return { fields: {}, headers: {}, general: [] };
}

export function hasErrors(errors: FieldErrors): boolean {
  return Object.keys(errors.fields).length > 0 || Object.keys(errors.headers).length > 0 || errors.general.length > 0;
}

/** Joi says `"events[0]" is not ...`; the label is shown next to the field already. */
function tidy(message: string, subject?: string): string {
  const rest = message.replace(/^"[^"]*"\s*/, '').trim();
  const sentence = rest ? rest[0].toUpperCase() + rest.slice(1) : message;
  return subject ? `${subject}: ${sentence.replace(/^[A-Z]/, (c) => c.toLowerCase())}` : sentence;
}

const URL_REASONS: Record<string, string> = {
  unparseable: 'Enter a full URL, such as https://example.com/webhooks',
  unsupported_scheme: 'The URL must start with https:// or http://',
  https_required: 'The URL must start with https://',
  credentials_in_url: 'Remove the user name and password from the URL; use custom headers or the authorization value instead',
  forbidden_address: 'This address is in a private or reserved range that webhooks may not call',
  localhost: 'The URL points to this server; webhooks may not call it',
};

/**
 * Maps an API validation error to the fields of the form: `url` to URL, `events.0` to the
 * events picker (naming the selector), `api_key.value` to the API key, `headers.<name>` to
 * that header's row, and anything else to a general message.
 */
export function mapApiErrors(error: ApiError, sentEvents: readonly string[] = []): FieldErrors {
  const out = emptyErrors();
  const details = error.details.length > 0 ? error.details : [{ path: '', message: error.message }];
  for (const { path, message } of details) {
    const [head, ...rest] = path.split('.');
    if (head === 'url') {
      // invalid_url errors carry a reason code as the detail and a sentence as the message.
      out.fields.url = error.code === 'invalid_url' ? (URL_REASONS[message] ?? error.message) : tidy(message);
    } else if (head === 'events') {
      const selector = rest.length > 0 ? sentEvents[Number(rest[0])] : undefined;
      const text = tidy(message, selector);
      out.fields.events = out.fields.events ? `${out.fields.events} ${text}` : text;
    } else if (head === 'api_key') {
      out.fields[rest[0] === 'header' ? 'api_key.header' : 'api_key.value'] = tidy(message);
    } else if (head === 'headers' && rest.length > 0) {
      out.headers[rest.join('.').toLowerCase()] = tidy(message);
    } else if (head && head in FIELD_LABELS) {
      out.fields[head as FieldKey] = tidy(message);
    } else {
      out.general.push(path && head !== 'body' ? `${path}: ${tidy(message)}` : error.details.length > 0 ? tidy(message) : message);
    }
  }
  return out;
}
