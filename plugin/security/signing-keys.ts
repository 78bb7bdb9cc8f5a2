/**
 * Signing key material in the Standard Webhooks formats (https://www.standardwebhooks.com/):
 *
 * | scheme        | signature | what the plugin keeps (sealed)            | what receivers get                 |
 * | ------------- | --------- | ----------------------------------------- | ---------------------------------- |
 * | `hmac-sha256` | `v1`      | `whsec_<base64>`: 24..64 random bytes      | the same `whsec_` secret, shown once |
 * | `ed25519`     | `v1a`     | `whsk_<base64>`: 32-byte seed, 32-byte public key | `whpk_<base64>`: the 32-byte public key |
 *
 * The prefix tells the scheme, so a list of signing keys can mix both (a header may carry `v1`
 * and `v1a` entries while a webhook switches scheme). The secret key is the 64-byte
 * seed-and-public-key form libsodium and Svix use: the public key is read straight out of it,
 * and nobody ever needs it in another form because it never leaves the plugin.
 *
 * Key generation lives here, beside the secret box, because it is a security rule that both
 * webhook management (which makes keys) and the sender (which signs) depend on.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { WebhooksError } from '../errors.js';

/** How a webhook signs its requests. */
export type SignatureScheme = 'hmac-sha256' | 'ed25519';
export const SIGNATURE_SCHEMES: readonly SignatureScheme[] = ['hmac-sha256', 'ed25519'];
/** What a webhook signs with unless it asks for another scheme. */
export const DEFAULT_SIGNATURE_SCHEME: SignatureScheme = 'hmac-sha256';

/** Prefix that marks a Standard Webhooks HMAC secret; receivers' libraries strip it. */
export const SECRET_PREFIX = 'whsec_';
/** Prefix of an Ed25519 secret (signing) key. */
export const SECRET_KEY_PREFIX = 'whsk_';
/** Prefix of an Ed25519 public (verifying) key. */
export const PUBLIC_KEY_PREFIX = 'whpk_';

/** Fewest decoded HMAC secret bytes accepted (the Standard Webhooks minimum). */
export const MIN_SECRET_BYTES = 24;
/** Most decoded HMAC secret bytes accepted (the Standard Webhooks maximum). */
export const MAX_SECRET_BYTES = 64;

const ED25519_KEY_BYTES = 32;

// Strict standard base64 with correct padding. Buffer.from(..., 'base64') silently skips
// characters it does not understand, so without this check a typo would become a
// different, weaker key instead of an error.
export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Thrown when a webhook secret or key is not in its Standard Webhooks format. */
export class InvalidSecretError extends WebhooksError {
  constructor(message: string) {
    super('invalid_secret', message, { status: 400, details: [{ path: 'secret', message }] });
  }
}

/**
 * Creates a new random HMAC secret.
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

/** An Ed25519 key pair in the Standard Webhooks serialisation. */
export interface SigningKeyPair {
  /** `whsk_<base64 of seed and public key>`: kept sealed, never shown. */
  secretKey: string;
  /** `whpk_<base64 of the 32-byte public key>`: what receivers verify with. */
  publicKey: string;
}

/** Creates a new Ed25519 key pair (node:crypto; the seed comes from the system's CSPRNG). */
export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d!, 'base64url');
  const publicKey = Buffer.from(jwk.x!, 'base64url');
  return {
    secretKey: SECRET_KEY_PREFIX + Buffer.concat([seed, publicKey]).toString('base64'),
    publicKey: PUBLIC_KEY_PREFIX + publicKey.toString('base64'),
  };
}

/** New key material for `scheme`: the secret that signs, and the public key (null for HMAC). */
export function generateSigningKey(scheme: SignatureScheme): { secret: string; publicKey: string | null } {
  if (scheme === 'ed25519') {
    const pair = generateSigningKeyPair();
    return { secret: pair.secretKey, publicKey: pair.publicKey };
  }
  return { secret: generateSecret(), publicKey: null };
}

/** Which scheme a stored signing secret belongs to, from its prefix. */
export function schemeOfSecret(secret: string): SignatureScheme {
  return secret.startsWith(SECRET_KEY_PREFIX) ? 'ed25519' : 'hmac-sha256';
}

/** The seed and public key bytes of a `whsk_` secret key; throws {@link InvalidSecretError}, never echoing the key. */
function decodeSecretKey(secretKey: string): { seed: Buffer; publicKey: Buffer } {
  if (typeof secretKey !== 'string' || !secretKey.startsWith(SECRET_KEY_PREFIX)) {
    throw new InvalidSecretError(`secret key must start with "${SECRET_KEY_PREFIX}"`);
  }
  const encoded = secretKey.slice(SECRET_KEY_PREFIX.length);
  if (encoded.length === 0 || !BASE64.test(encoded)) {
    throw new InvalidSecretError(`secret key after "${SECRET_KEY_PREFIX}" must be standard base64`);
  }
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length !== 2 * ED25519_KEY_BYTES) {
    throw new InvalidSecretError(`secret key decodes to ${bytes.length} bytes; an Ed25519 secret key has ${2 * ED25519_KEY_BYTES}`);
  }
  return { seed: bytes.subarray(0, ED25519_KEY_BYTES), publicKey: bytes.subarray(ED25519_KEY_BYTES) };
}

/** The `whpk_` public key that belongs to a `whsk_` secret key. */
export function publicKeyOf(secretKey: string): string {
  return PUBLIC_KEY_PREFIX + decodeSecretKey(secretKey).publicKey.toString('base64');
}

/** A node:crypto private key for signing with a `whsk_` secret key. */
export function parseSecretKey(secretKey: string): KeyObject {
  const { seed, publicKey } = decodeSecretKey(secretKey);
  return createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x: publicKey.toString('base64url') },
    format: 'jwk',
  });
}
