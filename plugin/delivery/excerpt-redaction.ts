/**
 * A receiver's answer is kept (an excerpt) in the delivery log and shown by test sends. An
 * echo server answers with the request it got - the webhook's API key, authorization value and
 * custom headers included - so before an excerpt is stored or returned, every secret value of
 * the webhook is replaced by {@link REDACTED}: raw, and as a JSON string would escape it.
 */
import { SECRET_KEY_PREFIX, SECRET_PREFIX } from '../security/signing-keys.js';
import type { WebhookSecrets } from '../webhooks/webhook-secrets.js';

export const REDACTED = '[redacted]';

/**
 * Values shorter than this are not looked for: a custom header such as `x-version: 2` is no
 * secret, and replacing every "2" would make excerpts unreadable. Credentials are far longer.
 */
export const MIN_REDACTED_LENGTH = 4;

/** Every secret value a webhook holds: receiver credentials and signing keys (expired ones too). */
export function secretValuesOf(secrets: WebhookSecrets): string[] {
  const values: string[] = [];
  if (secrets.apiKey) values.push(secrets.apiKey.value);
  if (secrets.authorization) {
    values.push(secrets.authorization);
    // "Bearer <token>", "Basic <base64>": the credential alone, as a receiver may echo it.
    const credential = /^\S+\s+(.+)$/.exec(secrets.authorization)?.[1];
    if (credential) values.push(credential);
  }
  values.push(...Object.values(secrets.headers));
  for (const { secret } of secrets.signing) {
    values.push(secret);
    for (const prefix of [SECRET_PREFIX, SECRET_KEY_PREFIX]) if (secret.startsWith(prefix)) values.push(secret.slice(prefix.length));
  }
  return values;
}

/** The forms a value can take in a response body: raw, JSON-escaped, and with `/` escaped too (as PHP does). */
function formsOf(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  return [value, json, json.replaceAll('/', '\\/')];
}

/**
 * `excerpt` with every occurrence of every value in `secrets` replaced by {@link REDACTED}.
 * The excerpt is cut at a byte limit, so one that ends with the start of a secret has that
 * start replaced too.
 */
export function redactExcerpt(excerpt: string | null, secrets: readonly string[]): string | null {
  if (!excerpt) return excerpt;
  const forms = [...new Set(secrets.filter((s) => s.length >= MIN_REDACTED_LENGTH).flatMap(formsOf))]
    // Longest first, so a value that contains another is replaced whole.
    .sort((a, b) => b.length - a.length);
  let redacted = excerpt;
  for (const form of forms) redacted = redacted.replaceAll(form, REDACTED);
  for (const form of forms) {
    for (let length = form.length - 1; length >= MIN_REDACTED_LENGTH; length -= 1) {
      if (redacted.endsWith(form.slice(0, length))) {
        redacted = redacted.slice(0, redacted.length - length) + REDACTED;
        break;
      }
    }
  }
  return redacted;
}
