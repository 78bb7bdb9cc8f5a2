/**
 * Standard Webhooks signing (https://www.standardwebhooks.com/).
 *
 * Every delivery carries `webhook-id`, `webhook-timestamp` and `webhook-signature`. The
 * signature is an HMAC-SHA256 over `${id}.${timestamp}.${body}` keyed with the decoded
 * bytes of a `whsec_<base64>` secret. Signing the timestamp lets receivers reject replays,
 * which a plain HMAC of the body (Logto's scheme) cannot do.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { WebhooksError } from '../errors.js';

/** Prefix that marks a Standard Webhooks secret; receivers' libraries strip it. */
export const SECRET_PREFIX = 'whsec_';

/** Fewest decoded secret bytes accepted (the Standard Webhooks minimum). */
export const MIN_SECRET_BYTES = 24;

/** Most decoded secret bytes accepted (the Standard Webhooks maximum). */
export const MAX_SECRET_BYTES = 64;

// Strict standard base64 with correct padding. Buffer.from(..., 'base64') silently skips
// characters it does not understand, so without this check a typo would become a
// different, weaker key instead of an error.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Thrown when a webhook secret is not a usable `whsec_<base64>` string. */
export class InvalidSecretError extends WebhooksError {
  constructor(message: string) {
    super('invalid_secret', message, { status: 400, details: [{ path: 'secret', message }] });
  }
}

/** The three Standard Webhooks request headers. */
export interface SignatureHeaders {
  /** Message id; identical on every retry so the receiver can deduplicate. */
  'webhook-id': string;
  /** Unix seconds of this attempt, as a decimal string. */
  'webhook-timestamp': string;
  /** Space-separated `v1,<base64>` entries, one per secret. */
  'webhook-signature': string;
}

/**
 * Creates a new random secret.
 *
 * @param bytes Number of random bytes, 24..64. Default 32 (SHA-256's output size, so the
 *   key is as strong as the MAC).
 * @returns `whsec_` followed by the standard base64 of the bytes.
 */
export function generateSecret(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) {
    throw new RangeError(
      `secret length must be an integer from ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes, got ${bytes}`,
    );
  }
  return SECRET_PREFIX + randomBytes(bytes).toString('base64');
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
 * @param secrets `whsec_` secrets, at least one.
 * @param msgId The `webhook-id`.
 * @param timestamp Unix seconds of this attempt (an integer).
 * @param body The exact bytes sent as the request body, as a string.
 * @returns e.g. `v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,...`
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
  const content = `${msgId}.${timestamp}.${body}`;
  return secrets
    .map((secret) => `v1,${createHmac('sha256', parseSecret(secret)).update(content, 'utf8').digest('base64')}`)
    .join(' ');
}

/**
 * Builds the three Standard Webhooks headers for one delivery attempt.
 *
 * @param secrets `whsec_` secrets, at least one (one signature each).
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
