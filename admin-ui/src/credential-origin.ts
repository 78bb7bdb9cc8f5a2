import type { ClearedCredential, Webhook } from './api-types.js';
import type { HeaderRow } from './headers-editor.js';

/**
 * The API binds a webhook's stored credentials (API key, authorization value, custom headers)
 * to the origin of its URL: saving a URL with another scheme, host or port clears those not
 * entered again, so the new host never gets them. The form warns before saving, and the tab
 * says afterwards what was cleared.
 */

/** The URL's origin as the API compares it (scheme, host, port; case and default ports normalised); null if it is no URL yet. */
export function originOf(url: string): string | null {
  try {
    const origin = new URL(url.trim()).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}

/** True when `next` is a URL on another origin than the stored `current` one. */
export function isOtherOrigin(current: string, next: string): boolean {
  const a = originOf(current);
  const b = originOf(next);
  return a !== null && b !== null && a !== b;
}

/** What the form holds of the credentials: values typed in, and what is marked for removal. */
export interface EnteredCredentials {
  apiKeyValue: string;
  removeApiKey: boolean;
  authorization: string;
  removeAuthorization: boolean;
  headerRows: readonly HeaderRow[];
}

/**
 * The stored credentials that saving `url` would clear: stored, not marked for removal and not
 * entered again. Empty when the URL stays on the webhook's origin.
 */
export function credentialsToClear(webhook: Webhook | null, url: string, entered: EnteredCredentials): ClearedCredential[] {
  if (!webhook || !isOtherOrigin(webhook.url, url)) return [];
  const lost: ClearedCredential[] = [];
  if (webhook.api_key && !entered.removeApiKey && !entered.apiKeyValue) lost.push('api_key');
  if (webhook.authorization && !entered.removeAuthorization && !entered.authorization) lost.push('authorization');
  if (entered.headerRows.some((row) => row.stored !== null && row.name.trim() === row.stored && !row.value)) lost.push('headers');
  return lost;
}

const NAMES: Record<ClearedCredential, string> = { api_key: 'API key', authorization: 'authorization', headers: 'custom headers' };

/** "the stored API key, authorization and custom headers" for the kinds given. */
export function describeCredentials(kinds: readonly ClearedCredential[]): string {
  const names = kinds.map((k) => NAMES[k]);
  const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : names[0] ?? '';
  return `the stored ${list}`;
}

/** One credential ("it") or several, or the custom headers ("them"). */
const singular = (kinds: readonly ClearedCredential[]) => kinds.length === 1 && kinds[0] !== 'headers';

/** The warning the form shows before a save that would clear `kinds`. */
export function originChangeNotice(kinds: readonly ClearedCredential[]): string {
  const them = singular(kinds) ? 'it' : 'them';
  return `Changing the host clears ${describeCredentials(kinds)} — enter ${them} again to keep ${them}.`;
}

/** What the tab says after a save that cleared `kinds`. */
export function clearedNotice(kinds: readonly ClearedCredential[]): string {
  const [them, were] = singular(kinds) ? ['it', 'was'] : ['them', 'were'];
  return `The URL's host changed, so ${describeCredentials(kinds)} ${were} cleared and the new host does not get ${them}. `
    + `Edit the webhook to enter ${them} again.`;
}
