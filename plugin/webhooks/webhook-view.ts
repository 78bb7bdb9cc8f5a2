import type { SignatureScheme } from '../security/signing-keys.js';
import type { WebhookOrdering, WebhookRecord } from '../store/store-port.js';
import type { ClearedCredential } from './credential-origin.js';
import { currentPublicKey, type WebhookSecrets } from './webhook-secrets.js';

/** A secret as reads show it: never in full; the last four characters only when it is long. */
export function maskSecret(value: string): string {
  return value.length >= 16 ? `****${value.slice(-4)}` : '****';
}

/** The webhook as the admin API and audit events show it (snake_case, secrets masked). */
export interface WebhookView {
  id: string;
  name: string;
  description: string;
  url: string;
  events: string[];
  notification_type: 'REST';
  api_key: { header: string; value: string } | null;
  authorization: string | null;
  headers: Record<string, string>;
  /** `hmac-sha256` (`v1` signatures) or `ed25519` (`v1a`); null while `secrets_readable` is false (the scheme is sealed with them). */
  signature_scheme: SignatureScheme | null;
  /** The `whpk_` key receivers verify `v1a` signatures with; null for HMAC webhooks. Not secret. */
  public_key: string | null;
  enabled: boolean;
  /** Most requests per second, per worker process; null for no limit. */
  rate_limit_per_second: number | null;
  /** `per_subject`: deliveries about one subject go out one at a time, in order; `none`: in any order. */
  ordering: WebhookOrdering;
  status: { state: 'enabled' | 'disabled'; reason: string | null; disabled_at: string | null; failing_since: string | null };
  created_at: string;
  updated_at: string;
  /**
   * False when the stored secrets cannot be decrypted with the configured encryption keys
   * (sealed under a key that was removed): credentials then show as null/empty and
   * `secret_error` says what to do. Deliveries to it fail until the key is restored or the
   * secret is rotated.
   */
  secrets_readable: boolean;
  /** Why the secrets cannot be read and what to do; null when they can. */
  secret_error: string | null;
}

/** What an update answers: the webhook, what a change of origin cleared, and a new HMAC secret (shown once). */
export type UpdatedWebhook = WebhookView & {
  /** Credentials cleared because the URL moved to another origin; absent when none was. */
  cleared_credentials?: ClearedCredential[];
  /** The new `whsec_` secret, when the update switched the webhook to HMAC. */
  secret?: string;
};

/** What a rotation answers: the new secret (HMAC) or the new public key (Ed25519), and when the previous key stops signing. */
export type RotatedSigningKey =
  | { signature_scheme: 'hmac-sha256'; secret: string; public_key: null; previous_expires_at: string }
  | { signature_scheme: 'ed25519'; secret?: never; public_key: string; previous_expires_at: string };

/**
 * The view of a webhook; `secrets` null with `secretError` when they cannot be decrypted, so
 * the rest of the webhook is still shown.
 */
export function toWebhookView(record: WebhookRecord, secrets: WebhookSecrets | null, secretError: string | null = null): WebhookView {
  return {
    id: record.id,
    name: record.name,
    description: record.description,
    url: record.url,
    events: record.events,
    notification_type: record.notificationType,
    api_key: secrets?.apiKey ? { header: secrets.apiKey.header, value: maskSecret(secrets.apiKey.value) } : null,
    authorization: secrets?.authorization ? maskSecret(secrets.authorization) : null,
    headers: secrets ? Object.fromEntries(Object.entries(secrets.headers).map(([k, v]) => [k, maskSecret(v)])) : {},
    signature_scheme: secrets?.scheme ?? null,
    public_key: secrets ? currentPublicKey(secrets) : null,
    enabled: record.enabled,
    rate_limit_per_second: record.rateLimitPerSecond,
    ordering: record.ordering,
    status: {
      state: record.enabled ? 'enabled' : 'disabled',
      reason: record.disabledReason,
      disabled_at: record.disabledAt?.toISOString() ?? null,
      failing_since: record.failingSince?.toISOString() ?? null,
    },
    created_at: record.createdAt.toISOString(),
    updated_at: record.updatedAt.toISOString(),
    secrets_readable: secrets !== null,
    secret_error: secrets !== null ? null : (secretError ?? 'Its stored secrets cannot be decrypted with the configured encryption keys.'),
  };
}
