import type pg from 'pg';
import type { DeliverySummary } from '../store-port.js';

/** WebhookStore.summarizeDeliveries for PostgreSQL (see the port); `deliveries` is the quoted table name. */
/**
 * One statement: the counts are a GROUP BY over the `since` range of `deliveries_log`; the
 * last attempted delivery is one probe per webhook (LATERAL ... LIMIT 1) into
 * `deliveries_last_attempt`. (DISTINCT ON would read every attempted delivery the webhooks
 * still have, however far back retention goes, to keep one row each.)
 */
export async function summarizeDeliveries(
  pool: pg.Pool, deliveries: string, tenantId: string, webhookIds: readonly string[], since: Date,
): Promise<Map<string, DeliverySummary>> {
  const summaries = new Map<string, DeliverySummary>();
  if (webhookIds.length === 0) return summaries;
  const { rows } = await pool.query(
    `WITH ids AS (SELECT DISTINCT unnest($2::text[]) AS webhook_id),
     counts AS (
       SELECT webhook_id,
              count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
              count(*) FILTER (WHERE status = 'failed')::int AS failed,
              count(*) FILTER (WHERE status = 'pending')::int AS pending
       FROM ${deliveries}
       WHERE tenant_id = $1 AND webhook_id = ANY($2) AND created_at >= $3
       GROUP BY webhook_id),
     waiting AS (
       SELECT webhook_id, count(*)::int AS n FROM ${deliveries}
       WHERE tenant_id = $1 AND webhook_id = ANY($2) AND status = 'pending' GROUP BY webhook_id)
     SELECT ids.webhook_id, coalesce(c.succeeded, 0) AS succeeded, coalesce(c.failed, 0) AS failed,
            coalesce(c.pending, 0) AS pending, coalesce(wt.n, 0) AS waiting, l.status AS last_status, l.last_status_code, l.last_outcome, l.last_attempt_at
     FROM ids
     LEFT JOIN counts c ON c.webhook_id = ids.webhook_id
     LEFT JOIN waiting wt ON wt.webhook_id = ids.webhook_id
     LEFT JOIN LATERAL (
       SELECT d.status, d.last_status_code, d.last_outcome, d.last_attempt_at
       FROM ${deliveries} d
       WHERE d.tenant_id = $1 AND d.webhook_id = ids.webhook_id AND d.last_attempt_at IS NOT NULL
       ORDER BY d.last_attempt_at DESC, d.id DESC
       LIMIT 1) l ON true`,
    [tenantId, [...webhookIds], since]);
  for (const r of rows) {
    summaries.set(r.webhook_id, {
      succeeded: r.succeeded, failed: r.failed, pending: r.pending, waiting: r.waiting,
      last: r.last_attempt_at
        ? { status: r.last_status, statusCode: r.last_status_code, outcome: r.last_outcome, at: r.last_attempt_at }
        : null,
    });
  }
  return summaries;
}
