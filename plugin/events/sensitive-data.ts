/**
 * The fallback for event data whose shape nobody declared: a host type registered in
 * `customEventTypes` without a `schema`. Every other type is shaped by its schema
 * (payload-schemas/payload-shaper.ts), where only declared fields leave. Here the shape is
 * the host's, so the rules are a deny-list, which can only err on the side of dropping:
 * - keys that name credentials are removed at any depth (payload-schemas/credential-names.ts:
 *   `apiToken`, `password_hash`, `backupCodes`, `twoFactorKey`, `mfa.key` go; `session_id`,
 *   `api_key_header` or `footprint` stay);
 * - string values that are credentials (JWTs, otpauth:// URLs, reset links with their token,
 *   PEM private keys...) are removed wherever they are, as values and as keys
 *   (payload-schemas/credential-values.ts);
 * - user objects go through the user allow-list: any `user` / `target_user` object, and any
 *   object that looks like a user (an id field plus an email, username, password or mfa field)
 *   wherever it is: `before`, `after`, `users[]`, `user_list`...;
 * - objects that are not plain data (mongoose documents, class instances) are reduced to
 *   their JSON form first, so internals such as `$__` or `_doc` never leave the host.
 */
import { isSensitiveKey } from './payload-schemas/credential-names.js';
import { plainArray } from './plain-array.js';
import { credentialKindOf } from './payload-schemas/credential-values.js';
import { USER_ID_FIELDS, type UserMapper } from './user-mapper.js';

export { isSensitiveKey } from './payload-schemas/credential-names.js';

/** Told about every value left out, with its path (`users[].password`) and why; never the value. */
export type DropReporter = (path: string, reason: string) => void;

/** Keys that, beside an id, make an object a user. */
const USER_MARKERS = ['email', 'username', 'userName', 'user_name', 'password', 'passwordHash', 'password_hash', 'hashedPassword', 'mfa'];

const MAX_DEPTH = 20;

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** An object with a user id and anything only a user account carries. */
export function looksLikeUser(value: Record<string, unknown>): boolean {
  const has = (key: string) => Object.prototype.hasOwnProperty.call(value, key) && value[key] !== undefined && value[key] !== null && value[key] !== '';
  return USER_ID_FIELDS.some(has) && USER_MARKERS.some(has);
}

/** A mapper's answer, or nothing when a host's replacement mapper returned no object. */
function mapped(mapUser: UserMapper, user: Record<string, unknown>): Record<string, unknown> {
  const out = mapUser(user) as unknown;
  return out !== null && typeof out === 'object' && !Array.isArray(out) ? (out as Record<string, unknown>) : {};
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

export function scrubEventData(data: unknown, mapUser: UserMapper, onDrop: DropReporter = () => undefined, path = '', depth = 0): unknown {
  if (depth > MAX_DEPTH) {
    onDrop(path, 'nested too deep');
    return undefined;
  }
  if (Array.isArray(data)) {
    return plainArray(data, (item) => scrubEventData(item, mapUser, onDrop, `${path}[]`, depth + 1), undefined);
  }
  if (data instanceof Date) return Number.isNaN(data.getTime()) ? undefined : data.toISOString();
  if (typeof data === 'string') {
    const kind = credentialKindOf(data);
    if (kind) onDrop(path, `credential-shaped value (${kind})`);
    return kind ? undefined : data;
  }
  if (typeof data === 'number') return Number.isFinite(data) ? data : undefined;
  if (data === null || typeof data !== 'object') return typeof data === 'boolean' || data === null ? data : undefined;
  if (!isPlainObject(data)) {
    const json = (data as { toJSON?: () => unknown }).toJSON;
    const plain = typeof json === 'function' ? json.call(data) : { ...data };
    return scrubEventData(plain === data ? { ...data } : plain, mapUser, onDrop, path, depth + 1);
  }
  const record = data as Record<string, unknown>;
  // Mapped first (the mapper reads mongoose documents itself), then scrubbed like any object:
  // a replacement mapper's output gets the same checks. The mapped object is not looked at
  // as a user again, or it would be mapped for ever.
  if (depth > 0 && looksLikeUser(record)) return scrubFields(mapped(mapUser, record), mapUser, onDrop, path, depth);
  return scrubFields(record, mapUser, onDrop, path, depth);
}

function scrubFields(record: Record<string, unknown>, mapUser: UserMapper, onDrop: DropReporter, path: string, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    const at = join(path, key);
    if (key.startsWith('$')) continue;
    if (isSensitiveKey(key)) {
      onDrop(at, 'field name names a credential');
      continue;
    }
    const keyKind = credentialKindOf(key);
    if (keyKind) {
      onDrop(join(path, '<key>'), `credential-shaped key (${keyKind})`);
      continue;
    }
    const scrubbed = (key === 'user' || key === 'target_user') && value && typeof value === 'object' && !Array.isArray(value)
      ? scrubFields(mapped(mapUser, value as Record<string, unknown>), mapUser, onDrop, at, depth + 1)
      : scrubEventData(value, mapUser, onDrop, at, depth + 1);
    if (scrubbed !== undefined) out[key] = scrubbed;
  }
  return out;
}
