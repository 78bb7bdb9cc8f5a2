import type pg from 'pg';
import type { BacklogSummary } from '../store-port.js';

/**
 * WebhookStore.summarizeBacklog for PostgreSQL (see the port); `webhooks` and `deliveries` are
 * quoted table names. One statement: the pending side reads only the `deliveries_webhook_due`
 * partial index (status = 'pending'), per enabled webhook; the webhook counts scan the small
 * webhooks table.
 */
export async function summarizeBacklog(pool: pg.Pool, webhooks: string, deliveries: string): Promise<BacklogSummary> {
  const { rows } = await pool.query(
    `SELECT 'pending' AS kind, d.webhook_id, count(*)::int AS n, min(d.created_at) AS oldest, 0 AS failing, 0 AS disabled
     FROM ${deliveries} d JOIN ${webhooks} w ON w.id = d.webhook_id AND w.enabled
     WHERE d.status = 'pending' GROUP BY d.webhook_id
     UNION ALL
     SELECT 'webhooks', NULL, count(*) FILTER (WHERE enabled AND failing_since IS NULL)::int, NULL,
            count(*) FILTER (WHERE enabled AND failing_since IS NOT NULL)::int, count(*) FILTER (WHERE NOT enabled)::int
     FROM ${webhooks}`);
  const summary: BacklogSummary = { pending: [], webhooks: { enabled: 0, failing: 0, disabled: 0 } };
  for (const r of rows) {
    if (r.kind === 'pending') summary.pending.push({ webhookId: r.webhook_id, count: r.n, oldestCreatedAt: r.oldest });
    else summary.webhooks = { enabled: r.n, failing: Number(r.failing), disabled: Number(r.disabled) };
  }
  return summary;
}
