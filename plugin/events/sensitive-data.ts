/**
 * Scrubs free-form event data a host passes to `emit()`. The typed hooks map users through
 * the allow-list in `user-mapper.ts`; here the data shape is the host's, so:
 * - keys that name credentials are removed at any depth (matched by word, so `apiToken`,
 *   `password_hash` and `backupCodes` go while `token_type`... also goes, erring on the safe side,
 *   and `footprint` or `session_id` stay);
 * - any `user` / `target_user` object goes through the user allow-list;
 * - objects that are not plain data (mongoose documents, class instances) are reduced to
 *   their JSON form first, so internals such as `$__` or `_doc` never leave the host.
 */
import type { UserMapper } from './user-mapper.js';

const SENSITIVE_WORDS = new Set([
  'password', 'passwd', 'pwd', 'passphrase', 'secret', 'secrets', 'token', 'tokens', 'hash', 'hashed', 'salt',
  'otp', 'totp', 'hotp', 'pin', 'recovery', 'credential', 'credentials', 'cookie', 'cookies', 'authorization',
  'apikey', 'privatekey', 'mfasecret', 'seed',
]);
/** Two-word names whose words alone are harmless. */
const SENSITIVE_PAIRS = new Set(['api key', 'private key', 'backup code', 'backup codes', 'client secret', 'mfa seed']);

/** Splits `apiToken`, `api_token`, `API-TOKEN` and `apitoken` alike into lower-case words. */
function wordsOf(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

export function isSensitiveKey(key: string): boolean {
  const words = wordsOf(key);
  if (words.some((w) => SENSITIVE_WORDS.has(w))) return true;
  if (SENSITIVE_WORDS.has(words.join(''))) return true;
  return words.some((w, i) => i > 0 && SENSITIVE_PAIRS.has(`${words[i - 1]} ${w}`));
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function scrubEventData(data: unknown, mapUser: UserMapper, depth = 0): unknown {
  if (depth > 20) return undefined;
  if (Array.isArray(data)) return data.map((item) => scrubEventData(item, mapUser, depth + 1));
  if (data instanceof Date) return data.toISOString();
  if (data === null || typeof data !== 'object') return typeof data === 'function' || typeof data === 'symbol' ? undefined : data;
  if (!isPlainObject(data)) {
    const json = (data as { toJSON?: () => unknown }).toJSON;
    const plain = typeof json === 'function' ? json.call(data) : { ...data };
    return scrubEventData(plain === data ? { ...data } : plain, mapUser, depth + 1);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (key.startsWith('$') || isSensitiveKey(key)) continue;
    if ((key === 'user' || key === 'target_user') && value && typeof value === 'object' && !Array.isArray(value)) {
      out[key] = mapUser(value as Record<string, unknown>);
      continue;
    }
    out[key] = scrubEventData(value, mapUser, depth + 1);
  }
  return out;
}
