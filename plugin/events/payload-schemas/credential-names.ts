/**
 * Field names that name credentials. Used where no schema says which fields may leave: the
 * fallback scrubber for host types registered without a schema (sensitive-data.ts), query
 * parameters of URLs (credential-values.ts) and the mongoose binding's changed-field names.
 *
 * Names are split into words (`apiToken`, `api_token`, `API-TOKEN` alike) and matched by
 * whole word, so `footprint`, `session_id` or `spinner` stay. Three rules:
 * - words that always name a credential, wherever they stand (`password`, `token`, `jwt`...);
 * - nouns that name one only when they end the name: `key` and `code` (`signingKey`,
 *   `twoFactorKey`, `backupCode`), unless a qualifier says otherwise (`zipCode`, `sortKey`),
 *   and not when more words follow (`api_key_header`, `key_id`: a header name, an id), except
 *   words for a value's form (`key_value`, `code_hex`);
 * - pairs whose words are harmless alone (`api key`, `private key`, `reset link`), under the
 *   same end-of-name rule.
 */
const SENSITIVE_WORDS = new Set([
  'password', 'passwords', 'passwd', 'pwd', 'pw', 'pword', 'passphrase', 'passcode', 'passcodes', 'secret', 'secrets',
  'token', 'tokens', 'jwt', 'jwts', 'bearer', 'hash', 'hashed', 'salt', 'otp', 'totp', 'hotp', 'otpauth', 'pin', 'recovery',
  'credential', 'credentials', 'cookie', 'cookies', 'authorization', 'apikey', 'privatekey', 'mfasecret', 'seed',
  'signature', 'sig', 'assertion', 'cvv', 'cvc', 'twofactorkey', 'signingkey', 'secretkey', 'accesskey', 'sessionkey',
  'encryptionkey', 'masterkey', 'authkey', 'authcode', 'otpcode', 'mfacode',
]);

/** Nouns that name a credential only as the last word of a name. */
const TRAILING_NOUNS = new Set(['key', 'keys', 'code', 'codes']);

/** Words after a trailing noun that still describe the credential itself, not something about it. */
const VALUE_FORM_WORDS = new Set(['value', 'values', 'raw', 'plain', 'plaintext', 'text', 'string', 'b64', 'base64', 'hex', 'pem', 'der', 'material', 'bytes']);

/** Qualifiers that make `... key` / `... code` an ordinary field. */
const HARMLESS_QUALIFIERS: Record<string, ReadonlySet<string>> = {
  key: new Set([
    'public', 'primary', 'foreign', 'sort', 'partition', 'cache', 'idempotency', 'lookup', 'map', 'routing', 'shard', 'row',
    'composite', 'natural', 'hot', 'i18n', 'translation', 'message', 'object', 'dedup', 'dedupe', 'group', 'index', 'item',
    'entry', 'react', 'list', 'unique', 'search', 'storage', 's3',
  ]),
  code: new Set([
    'zip', 'postal', 'post', 'country', 'currency', 'language', 'lang', 'locale', 'status', 'error', 'err', 'response', 'area',
    'phone', 'dial', 'calling', 'region', 'state', 'iso', 'color', 'colour', 'http', 'exit', 'reason', 'product', 'item', 'sku',
    'tax', 'airport', 'bank', 'swift', 'branch', 'source', 'event', 'type', 'category', 'class', 'department', 'dept', 'unit',
    'site', 'station', 'hs', 'naics', 'sic', 'result', 'return', 'short', 'iata', 'icao', 'subdivision', 'timezone',
  ]),
};
HARMLESS_QUALIFIERS.keys = HARMLESS_QUALIFIERS.key!;
HARMLESS_QUALIFIERS.codes = HARMLESS_QUALIFIERS.code!;

/** Two-word names whose words alone are harmless. */
const SENSITIVE_PAIRS = new Set([
  'api key', 'private key', 'secret key', 'backup code', 'backup codes', 'client secret', 'mfa seed', 'reset link',
  'reset url', 'reset uri', 'magic link', 'login link', 'login url', 'signin link', 'verification link', 'verification url',
  'verify link', 'verify url', 'confirmation link', 'confirmation url', 'activation link', 'activation url', 'invite link',
  'invite url', 'invitation link', 'invitation url', 'session key', 'client assertion',
]);

/** Splits `apiToken`, `api_token`, `API-TOKEN` and `apitoken` alike into lower-case words. */
export function wordsOf(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Whether the words from `index` on are only words for a value's form (or none). */
function endsAt(words: readonly string[], index: number): boolean {
  return words.slice(index + 1).every((w) => VALUE_FORM_WORDS.has(w));
}

/** Whether a field called `key` holds a credential, by its name alone. */
export function isSensitiveKey(key: string): boolean {
  const words = wordsOf(key);
  if (words.some((w) => SENSITIVE_WORDS.has(w))) return true;
  if (SENSITIVE_WORDS.has(words.join(''))) return true;
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i]!;
    if (!endsAt(words, i)) continue;
    if (i > 0 && SENSITIVE_PAIRS.has(`${words[i - 1]} ${word}`)) return true;
    if (TRAILING_NOUNS.has(word) && !(i > 0 && HARMLESS_QUALIFIERS[word]!.has(words[i - 1]!))) return true;
  }
  return false;
}
