/**
 * Recognises string values that ARE credentials, whatever field they sit in: a field name
 * can be harmless (`display_name`, `reason`, `description`) while its value is a JWT, an
 * `otpauth://` URL carrying a TOTP secret or a password-reset link with its token. Such a
 * value is never sent (see payload-shaper.ts): the value is dropped, the event still goes,
 * because a user-controlled field (a display name set to a JWT) must not be able to suppress
 * that user's events.
 *
 * The checks look for each shape anywhere inside the string, not only as the whole value,
 * so "failed for Bearer abc..." is refused as well. Each is a structural test (a JWT header
 * must decode to JSON naming an `alg`, Basic credentials must decode to `user:pass`), which
 * keeps ordinary text ("Basic plan", "token expired") out of the net.
 */
import { isSensitiveKey } from './credential-names.js';

/** What kind of credential a refused value looked like; logged, never the value itself. */
export type CredentialKind =
  | 'otpauth-url'
  | 'jwt'
  | 'private-key'
  | 'url-with-credential'
  | 'capability-url'
  | 'authorization-header'
  | 'webhook-secret'
  | 'password-hash'
  | 'provider-token'
  | 'credential-assignment';

/** Query, fragment or assignment names whose value is a credential (besides any name the key-word list flags). */
const CREDENTIAL_PARAMS = new Set([
  'token', 'access_token', 'id_token', 'refresh_token', 'code', 'secret', 'key', 'sig', 'signature', 'password', 'pass',
  'passwd', 'pwd', 'pw', 'otp', 'auth', 'apikey', 'api_key', 'client_secret', 'jwt', 'ticket', 'assertion', 'samlresponse',
  'samlart', 'session', 'sessionid', 'session_id', 'sid', 'x-amz-signature', 'x-amz-credential', 'x-amz-security-token',
  'x-goog-signature', 'x-goog-credential', 'awsaccesskeyid', 'hash', 'hmac',
]);

/** Path words of links that grant something to whoever holds them (reset, verify, invite, magic login...). */
const CAPABILITY_PATH = /reset|recover|verif|confirm|activat|invit|magic|login|signin|sign-in|token|password|passwd|unsubscribe|auth|otp|mfa|2fa/i;

function isCredentialParam(name: string): boolean {
  const lower = name.toLowerCase();
  return CREDENTIAL_PARAMS.has(lower) || isSensitiveKey(name);
}

/** `true` when `text` is base64url (no padding) that decodes to a JSON object with a string `alg`. */
function isJwtHeader(segment: string): boolean {
  try {
    const header = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
    return typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

// A JWT header is a JSON object, so its base64url starts with "e" ('{'), then "y" or "w".
const JWT_CANDIDATE = /(?<![A-Za-z0-9_-])(e[wy][A-Za-z0-9_-]{2,})\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const PEM_LABEL = /-----BEGIN ([A-Z0-9 ]+)-----/g;
const URL_CANDIDATE = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
const AUTH_SCHEME = /\b(?:bearer|token)\s+([A-Za-z0-9\-._~+/]{16,}=*)/gi;
const BASIC_AUTH = /\bbasic\s+([A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])/gi;
const DIGEST_AUTH = /\bdigest\s+\S*?(?:username|response|nonce)\s*=/i;
const WEBHOOK_SECRET = /\bwh(?:sec|sk)_[A-Za-z0-9+/=_-]{16,}/;
const PASSWORD_HASH = /\$(?:2[abxy]?|[1567]|y|gy|argon2(?:id|i|d)|scrypt|pbkdf2[a-z0-9_-]*|sha(?:256|512)?)\$[^\s"]{8,}|\b(?:scrypt|pbkdf2_sha\d+|bcrypt(?:_sha256)?|argon2(?:id|i|d)?)\$[^\s"]{8,}/i;
const PROVIDER_TOKEN = new RegExp([
  'gh[pousr]_[A-Za-z0-9]{30,}', 'github_pat_[A-Za-z0-9_]{22,}', 'xox[abposr]-[A-Za-z0-9-]{10,}', '[sr]k_(?:live|test)_[A-Za-z0-9]{16,}',
  '(?:AKIA|ASIA)[0-9A-Z]{16}', 'AIza[0-9A-Za-z_-]{35}', 'glpat-[A-Za-z0-9_-]{20,}', 'npm_[A-Za-z0-9]{36}', 'SG\\.[A-Za-z0-9_-]{16,}\\.[A-Za-z0-9_-]{16,}',
].map((p) => `\\b${p}`).join('|'));
const ASSIGNMENT = /([A-Za-z][A-Za-z0-9_-]{1,40})=([^\s&"']{4,})/g;

function hasJwt(value: string): boolean {
  for (const match of value.matchAll(JWT_CANDIDATE)) if (isJwtHeader(match[1]!)) return true;
  return false;
}

function hasPrivateKey(value: string): boolean {
  // Public keys and certificates are not credentials (a webhook's ed25519 public key is
  // published on purpose); every other "... KEY" block is.
  for (const match of value.matchAll(PEM_LABEL)) if (/KEY/.test(match[1]!) && !/PUBLIC KEY/.test(match[1]!)) return true;
  return false;
}

function urlKind(value: string): CredentialKind | null {
  if (!value.includes('://')) return null;
  for (const [candidate] of value.matchAll(URL_CANDIDATE)) {
    if (/^otpauth(?:-migration)?:/i.test(candidate)) return 'otpauth-url';
    let url: URL;
    try {
      url = new URL(candidate);
    } catch {
      continue;
    }
    if (url.password !== '') return 'url-with-credential';
    const fragment = new URLSearchParams(url.hash.slice(1));
    for (const params of [url.searchParams, fragment]) {
      for (const [name, paramValue] of params) if (paramValue !== '' && isCredentialParam(name)) return 'url-with-credential';
    }
    // A token in the path (https://id.example.com/reset-password/Zk3q...): a long segment of
    // mixed letters and digits in a link whose path says what it grants.
    const segments = url.pathname.split('/').filter(Boolean);
    if (CAPABILITY_PATH.test(url.pathname)
      && segments.some((s) => s.length >= 16 && /^[A-Za-z0-9_.~-]+$/.test(s) && /[0-9]/.test(s) && /[A-Za-z]/.test(s))) {
      return 'capability-url';
    }
  }
  return null;
}

function hasAuthorizationValue(value: string): boolean {
  for (const match of value.matchAll(AUTH_SCHEME)) {
    const token = match[1]!;
    // Prose has words after "token" too ("token internationalization"); a credential has
    // digits or punctuation in it, or is longer than any word.
    if (token.length >= 32 || (/[A-Za-z]/.test(token) && /[0-9\-._~+/=]/.test(token))) return true;
  }
  for (const match of value.matchAll(BASIC_AUTH)) {
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    if (/^[\x20-\x7e]+:[\x20-\x7e]*$/.test(decoded)) return true;
  }
  return DIGEST_AUTH.test(value);
}

function hasCredentialAssignment(value: string): boolean {
  if (!value.includes('=')) return false;
  for (const match of value.matchAll(ASSIGNMENT)) if (isCredentialParam(match[1]!)) return true;
  return false;
}

/**
 * The kind of credential `value` contains, or null for an ordinary string. Checked:
 * otpauth:// URLs, JWTs (and JWEs), PEM private keys, URLs with a password or a token-like
 * query or fragment parameter, reset/verify/invite links with a token in the path,
 * Bearer/Token/Basic/Digest authorization values, Standard Webhooks secrets (whsec_/whsk_),
 * password hashes (bcrypt, argon2, scrypt, pbkdf2, crypt) and well-known provider token
 * formats (GitHub, Slack, Stripe, AWS, Google, GitLab, npm, SendGrid), and `name=value`
 * pairs whose name is a credential's (`password=...`).
 */
export function credentialKindOf(value: string): CredentialKind | null {
  if (value.length < 8) return null;
  const url = urlKind(value);
  if (url) return url;
  if (value.includes('.') && hasJwt(value)) return 'jwt';
  if (value.includes('-----BEGIN') && hasPrivateKey(value)) return 'private-key';
  if (WEBHOOK_SECRET.test(value)) return 'webhook-secret';
  if (hasAuthorizationValue(value)) return 'authorization-header';
  if (value.includes('$') && PASSWORD_HASH.test(value)) return 'password-hash';
  if (PROVIDER_TOKEN.test(value)) return 'provider-token';
  if (hasCredentialAssignment(value)) return 'credential-assignment';
  return null;
}
