/**
 * Standard Webhooks signing (https://www.standardwebhooks.com/).
 *
 * Every delivery carries `webhook-id`, `webhook-timestamp` and `webhook-signature`. The signed
 * content is `${id}.${timestamp}.${body}`, signed with every active key of the webhook:
 * - a `whsec_<base64>` secret gives a `v1` entry, an HMAC-SHA256 keyed with the decoded bytes;
 * - a `whsk_<base64>` secret key gives a `v1a` entry, an Ed25519 signature that receivers
 *   verify with the matching `whpk_` public key (the scheme the spec prefers: a receiver
 *   holds nothing that could sign).
 * Signing the timestamp lets receivers reject replays, which a plain HMAC of the body
 * (Logto's scheme) cannot do. Key formats and generation live in security/signing-keys.ts.
 */
import { createHmac, sign as signBytes } from 'node:crypto';
import {
  BASE64, InvalidSecretError, MAX_SECRET_BYTES, MIN_SECRET_BYTES, SECRET_KEY_PREFIX, SECRET_PREFIX, parseSecretKey,
} from '../security/signing-keys.js';

// Callers that sign catch this error by its class; it is defined with the key formats.
export { InvalidSecretError };

/** The three Standard Webhooks request headers. */
export interface SignatureHeaders {
  /** Message id; identical on every retry so the receiver can deduplicate. */
  'webhook-id': string;
  /** Unix seconds of this attempt, as a decimal string. */
  'webhook-timestamp': string;
  /** Space-separated `v1,<base64>` / `v1a,<base64>` entries, one per key. */
  'webhook-signature': string;
}

/**
 * Decodes a `whsec_<base64>` secret into its key bytes.
 *
 * @throws {InvalidSecretError} naming the problem: missing prefix, malformed base64, or a
 *   decoded length outside 24..64 bytes. The message never echoes the secret itself.
 */
export function parseSecret(secret: string): Buffer {
  if (typeof secret !== 'string' || !secret.startsWith(SECRET_PREFIX)) {
    throw new InvalidSecretError(`secret must start with "${SECRET_PREFIX}"`);
  }
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (encoded.length === 0 || !BASE64.test(encoded)) {
    throw new InvalidSecretError(
      `secret after "${SECRET_PREFIX}" must be standard base64 (A-Z a-z 0-9 + /, padded with =)`,
    );
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_SECRET_BYTES) {
    throw new InvalidSecretError(
      `secret decodes to ${key.length} bytes; at least ${MIN_SECRET_BYTES} are required`,
    );
  }
  if (key.length > MAX_SECRET_BYTES) {
    throw new InvalidSecretError(
      `secret decodes to ${key.length} bytes; at most ${MAX_SECRET_BYTES} are allowed`,
    );
  }
  return key;
}

/**
 * Signs one message with every given secret.
 *
 * Several secrets are how rotation works: while an old secret is still valid the header
 * carries one signature per secret, and a receiver holding either one verifies.
 *
 * @param secrets `whsec_` secrets (`v1` entries) and `whsk_` secret keys (`v1a` entries), at least one.
 * @param msgId The `webhook-id`.
 * @param timestamp Unix seconds of this attempt (an integer).
 * @param body The exact bytes sent as the request body, as a string.
 * @returns e.g. `v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1a,...`
 */
export function sign(
  secrets: readonly string[],
  msgId: string,
  timestamp: number,
  body: string,
): string {
  if (secrets.length === 0) {
    throw new InvalidSecretError('at least one secret is required to sign a message');
  }
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new RangeError(`timestamp must be whole, non-negative Unix seconds, got ${timestamp}`);
  }
  const content = Buffer.from(`${msgId}.${timestamp}.${body}`, 'utf8');
  return secrets
    .map((secret) => (typeof secret === 'string' && secret.startsWith(SECRET_KEY_PREFIX)
      // Ed25519 hashes the message itself: no digest algorithm is named (null).
      ? `v1a,${signBytes(null, content, parseSecretKey(secret)).toString('base64')}`
      : `v1,${createHmac('sha256', parseSecret(secret)).update(content).digest('base64')}`))
    .join(' ');
}

/**
 * Builds the three Standard Webhooks headers for one delivery attempt.
 *
 * @param secrets `whsec_` secrets and `whsk_` secret keys, at least one (one signature each).
 * @param msgId Message id, stable across retries.
 * @param timestampSeconds Unix seconds of this attempt; a fresh value per attempt keeps
 *   retries inside the receiver's 5-minute tolerance.
 * @param body The exact request body.
 */
export function signatureHeaders(
  secrets: readonly string[],
  msgId: string,
  timestampSeconds: number,
  body: string,
): SignatureHeaders {
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': sign(secrets, msgId, timestampSeconds, body),
  };
}
