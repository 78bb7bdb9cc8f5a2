import type { SecretBox } from '../security/secret-box.js';

/**
 * Everything secret about a webhook, kept together in one encrypted field: the signing
 * secrets (newest first; older ones sign until they expire) and the receiver credentials
 * the seeds ask for (cidaas API key, Defguard/WireGuard Portal authorization value,
 * FerrisKey custom headers).
 */
export interface WebhookSecrets {
  signing: Array<{ secret: string; expiresAt: string | null }>;
  apiKey: { header: string; value: string } | null;
  authorization: string | null;
  headers: Record<string, string>;
}

export function sealSecrets(box: SecretBox, webhookId: string, secrets: WebhookSecrets): string {
  return box.encrypt(JSON.stringify(secrets), webhookId);
}

export function openSecrets(box: SecretBox, webhookId: string, sealed: string): WebhookSecrets {
  return JSON.parse(box.decrypt(sealed, webhookId)) as WebhookSecrets;
}

/** Signing secrets still valid at `now`, newest first. */
export function activeSigningSecrets(secrets: WebhookSecrets, now: Date): string[] {
  return secrets.signing.filter((s) => s.expiresAt === null || Date.parse(s.expiresAt) > now.getTime()).map((s) => s.secret);
}
