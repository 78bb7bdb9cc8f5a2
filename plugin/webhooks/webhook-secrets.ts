import type { SecretBox } from '../security/secret-box.js';
import {
  DEFAULT_SIGNATURE_SCHEME, SECRET_KEY_PREFIX, generateSigningKey, publicKeyOf, type SignatureScheme,
} from '../security/signing-keys.js';

/**
 * Everything secret about a webhook, kept together in one encrypted field: the signing
 * secrets (newest first; the one a rotation replaced signs until it expires) and the receiver
 * credentials the seeds ask for (cidaas API key, Defguard/WireGuard Portal authorization value,
 * FerrisKey custom headers).
 */
export interface WebhookSecrets {
  /**
   * How new signing keys are made (and so what the newest one is). Blobs sealed before
   * Ed25519 existed carry none: they are read as HMAC.
   */
  scheme: SignatureScheme;
  /** `whsec_` HMAC secrets and `whsk_` Ed25519 secret keys (the prefix tells which), newest first. */
  signing: Array<{ secret: string; expiresAt: string | null }>;
  apiKey: { header: string; value: string } | null;
  authorization: string | null;
  headers: Record<string, string>;
}

/**
 * At most this many keys sign one request: the newest and the one it replaced, through the
 * overlap. Without a cap every rotation inside the overlap window added a signature (120
 * rotations in a minute made a 5.8 KB header); a receiver only ever holds one of the last two.
 */
export const MAX_SIGNING_KEYS = 2;

export function sealSecrets(box: SecretBox, webhookId: string, secrets: WebhookSecrets): string {
  return box.encrypt(JSON.stringify(secrets), webhookId);
}

export function openSecrets(box: SecretBox, webhookId: string, sealed: string): WebhookSecrets {
  const stored = JSON.parse(box.decrypt(sealed, webhookId)) as Omit<WebhookSecrets, 'scheme'> & { scheme?: SignatureScheme };
  return { ...stored, scheme: stored.scheme ?? DEFAULT_SIGNATURE_SCHEME };
}

function isActive(key: { expiresAt: string | null }, now: Date): boolean {
  return key.expiresAt === null || Date.parse(key.expiresAt) > now.getTime();
}

/**
 * Signing secrets still valid at `now`, newest first, at most {@link MAX_SIGNING_KEYS}: blobs
 * stored before the cap may hold more, and those stop signing here at once.
 */
export function activeSigningSecrets(secrets: WebhookSecrets, now: Date): string[] {
  return secrets.signing.filter((s) => isActive(s, now)).slice(0, MAX_SIGNING_KEYS).map((s) => s.secret);
}

/** The `whpk_` key receivers verify with; null when the newest key is an HMAC secret. */
export function currentPublicKey(secrets: WebhookSecrets): string | null {
  const newest = secrets.signing[0]?.secret;
  return newest?.startsWith(SECRET_KEY_PREFIX) ? publicKeyOf(newest) : null;
}

/** What {@link withNewSigningKey} made. */
export interface NewSigningKey {
  secrets: WebhookSecrets;
  /** The new `whsec_` secret for HMAC (shown once); null for Ed25519, whose secret key is never shown. */
  secret: string | null;
  /** The new `whpk_` public key for Ed25519; null for HMAC. */
  publicKey: string | null;
  /** When the key it replaced stops signing. */
  previousExpiresAt: string;
}

/**
 * A new signing key of `scheme` (a rotation, or a switch of scheme). The new key signs at once;
 * the key it replaced keeps signing until `now + overlapMs` (or its own earlier expiry), so
 * receivers can switch without missing a request. Anything older stops at once.
 */
export function withNewSigningKey(secrets: WebhookSecrets, scheme: SignatureScheme, now: Date, overlapMs: number): NewSigningKey {
  const key = generateSigningKey(scheme);
  const overlapEnd = new Date(now.getTime() + overlapMs).toISOString();
  const replaced = secrets.signing.find((s) => isActive(s, now));
  const previousExpiresAt = replaced?.expiresAt && Date.parse(replaced.expiresAt) < Date.parse(overlapEnd) ? replaced.expiresAt : overlapEnd;
  const signing: WebhookSecrets['signing'] = [{ secret: key.secret, expiresAt: null }];
  if (replaced) signing.push({ secret: replaced.secret, expiresAt: previousExpiresAt });
  return {
    secrets: { ...secrets, scheme, signing },
    secret: scheme === 'hmac-sha256' ? key.secret : null,
    publicKey: key.publicKey,
    previousExpiresAt,
  };
}
