import type { WebhookView } from './webhook-view.js';

/** What stands in for the path and query of a URL in audit events. */
export const URL_MASK = '****';

/**
 * A webhook URL as audit events show it: the origin, with the path and query replaced.
 *
 * Audit events go to every webhook subscribed to `WEBHOOK_*` or `*`, and for Slack-style
 * incoming webhooks (`https://hooks.slack.com/services/T…/B…/<token>`) the path or query *is*
 * the credential. The origin stays, so an auditor still sees where events go. The result is
 * still a valid absolute URL (`https://hooks.slack.com/****`), so consumers that parse the field
 * as a URL, or check it against a `format: uri` schema, keep working. User name and password
 * are not part of the origin, so they go too. The admin API still shows the tenant's own
 * admins the full URL.
 */
export function maskUrlForAudit(url: string): string {
  try {
    const { origin } = new URL(url);
    if (origin !== 'null') return `${origin}/${URL_MASK}`;
  } catch {
    // Not a URL (stored before validation got stricter): nothing of it can be shown safely.
  }
  return URL_MASK;
}

/**
 * The webhook as WEBHOOK_CREATED / _UPDATED / _DELETED carry it: no secret value, not even
 * masked (the audit trail must not become a way to read secrets), and the URL masked.
 */
export function toAuditWebhook(webhook: WebhookView): Record<string, unknown> {
  // secrets_readable / secret_error are an operator's repair notice, not part of the audit
  // payload schema; a scheme nobody can read is left out rather than sent as null.
  const { api_key: apiKey, authorization, headers, url, secrets_readable: _readable, secret_error: _error, signature_scheme: scheme, ...rest } = webhook;
  return {
    ...rest,
    ...(scheme !== null ? { signature_scheme: scheme } : {}),
    url: maskUrlForAudit(url),
    api_key_header: apiKey?.header ?? null,
    has_authorization: authorization !== null,
    header_names: Object.keys(headers),
  };
}
