/**
 * Receiver credentials (API key, authorization value, custom headers) are bound to the origin
 * of the URL they were entered for: scheme, host and port.
 *
 * They are write-only, so an edit that only changes the URL used to keep them, and a test send
 * to the new URL then handed all three to whoever controls it (an echo server hands them back).
 * A URL change within the same origin (another path) keeps them; a change of origin clears
 * every one the same update does not send again, and says which (`cleared_credentials`).
 * Partial updates that lean on a stored value then fail clearly (see applyApiKeyUpdate).
 */
import { applyApiKeyUpdate, applyHeadersUpdate, type WebhookUpdate } from './webhook-input.js';
import type { WebhookSecrets } from './webhook-secrets.js';

/** A kind of receiver credential a change of origin can clear, named as the API names the field. */
export type ClearedCredential = 'api_key' | 'authorization' | 'headers';

type Credentials = Pick<WebhookSecrets, 'apiKey' | 'authorization' | 'headers'>;

/**
 * The origin of a URL: WHATWG's `URL.origin` lower-cases the scheme and host and drops the
 * default port, so `HTTPS://Example.com:443/a` and `https://example.com/b` share one. User
 * name and password are not part of it. A string that is no URL stands for itself.
 */
export function originOf(url: string): string {
  try {
    const origin = new URL(url).origin;
    // Non-special schemes have the opaque origin "null": compare those by their whole text.
    return origin === 'null' ? url : origin;
  } catch {
    return url;
  }
}

/** True when `next` points at another origin than `stored`. */
export function originChanged(stored: string, next: string | undefined): boolean {
  return next !== undefined && originOf(next) !== originOf(stored);
}

/**
 * The credentials after an update (see {@link WebhookUpdate}), and which stored ones it
 * cleared because the URL moved to another origin (only kinds that were stored and are not
 * sent again; a credential the update removes with null is not "cleared").
 */
export function applyCredentialUpdate(
  stored: Credentials,
  update: Pick<WebhookUpdate, 'api_key' | 'authorization' | 'headers'>,
  newOrigin: boolean,
): { credentials: Credentials; cleared: ClearedCredential[] } {
  if (!newOrigin) {
    return {
      credentials: {
        apiKey: update.api_key !== undefined ? applyApiKeyUpdate(stored.apiKey, update.api_key) : stored.apiKey,
        authorization: update.authorization !== undefined ? update.authorization : stored.authorization,
        headers: update.headers !== undefined ? applyHeadersUpdate(stored.headers, update.headers) : stored.headers,
      },
      cleared: [],
    };
  }
  const cleared: ClearedCredential[] = [];
  let apiKey: Credentials['apiKey'] = null;
  if (update.api_key !== undefined) {
    // The header name is no secret and may be kept; the value must come with this update.
    apiKey = applyApiKeyUpdate(stored.apiKey ? { header: stored.apiKey.header } : null, update.api_key);
  } else if (stored.apiKey) {
    cleared.push('api_key');
  }
  if (update.authorization === undefined && stored.authorization) cleared.push('authorization');
  const authorization = update.authorization ?? null;
  const mentioned = new Set(Object.keys(update.headers ?? {}).map((name) => name.toLowerCase()));
  if (Object.keys(stored.headers).some((name) => !mentioned.has(name.toLowerCase()))) cleared.push('headers');
  // Merged into nothing: only the headers this update sets are stored.
  const headers = applyHeadersUpdate({}, update.headers ?? {});
  return { credentials: { apiKey, authorization, headers }, cleared };
}
