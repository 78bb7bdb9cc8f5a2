import { WebhooksError } from '../errors.js';
import { sealedKeyId, type SecretBox } from '../security/secret-box.js';
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

/** What opening a webhook's secrets gave: the secrets, or why they cannot be read (an operator-facing sentence). */
export type OpenedSecrets = { secrets: WebhookSecrets; error: null } | { secrets: null; error: string };

/**
 * Opens the secrets, or says why they cannot be read and what to do, without throwing: one
 * webhook sealed under a key that is no longer configured must not fail a whole list.
 */
export function tryOpenSecrets(box: SecretBox, webhookId: string, sealed: string): OpenedSecrets {
  try {
    return { secrets: openSecrets(box, webhookId, sealed), error: null };
  } catch {
    return { secrets: null, error: unreadableSecretsMessage(box, sealed) };
  }
}

const REMEDY = 'rotate its secret (which replaces the signing key and clears the receiver credentials) and re-enter the credentials';

/** Why a sealed value does not open with `box`, and the two ways out. */
export function unreadableSecretsMessage(box: SecretBox, sealed: string): string {
  const keyId = sealedKeyId(sealed);
  if (keyId === null) return `Its stored secrets are in an unknown format: ${REMEDY}.`;
  if (!box.hasKey(keyId)) {
    return `Its stored secrets were encrypted with key "${keyId}", which is not in encryptionKeys: add that key back to `
      + `encryptionKeys (after the new one), or ${REMEDY}.`;
  }
  return `Its stored secrets do not decrypt with the configured key "${keyId}" (the key under that id changed, or the stored value `
    + `is damaged): configure the original key under that id, or ${REMEDY}.`;
}

/** A change that needs the stored secrets of a webhook whose secrets cannot be read (409). */
export class SecretsUnreadableError extends WebhooksError {
  constructor(reason: string) {
    super('secret_unreadable', `This change needs the webhook's stored secrets, which cannot be read. ${reason}`, { status: 409 });
  }
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
