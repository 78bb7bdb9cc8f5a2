import type { WebhookRecord } from '../store/store-port.js';
import type { WebhookSecrets } from './webhook-secrets.js';

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
  enabled: boolean;
  /** Most requests per second, per worker process; null for no limit. */
  rate_limit_per_second: number | null;
  status: { state: 'enabled' | 'disabled'; reason: string | null; disabled_at: string | null; failing_since: string | null };
  created_at: string;
  updated_at: string;
}

export function toWebhookView(record: WebhookRecord, secrets: WebhookSecrets): WebhookView {
  return {
    id: record.id,
    name: record.name,
    description: record.description,
    url: record.url,
    events: record.events,
    notification_type: record.notificationType,
    api_key: secrets.apiKey ? { header: secrets.apiKey.header, value: maskSecret(secrets.apiKey.value) } : null,
    authorization: secrets.authorization ? maskSecret(secrets.authorization) : null,
    headers: Object.fromEntries(Object.entries(secrets.headers).map(([k, v]) => [k, maskSecret(v)])),
    enabled: record.enabled,
    rate_limit_per_second: record.rateLimitPerSecond,
    status: {
      state: record.enabled ? 'enabled' : 'disabled',
      reason: record.disabledReason,
      disabled_at: record.disabledAt?.toISOString() ?? null,
      failing_since: record.failingSince?.toISOString() ?? null,
    },
    created_at: record.createdAt.toISOString(),
    updated_at: record.updatedAt.toISOString(),
  };
}
