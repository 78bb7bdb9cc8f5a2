import type {
  AttemptCompletion, AttemptRecord, ClaimOptions, ClaimedDelivery, DeliveryQueue, DeliveryRelease, RequeueResult,
} from '../store-port.js';
import { toDelivery } from './postgres-rows.js';
import { heldBackByEarlier, nextDueOfWebhook } from './postgres-subject-order.js';
import type { PostgresTables } from './postgres-tables.js';

/**
 * The delivery queue in PostgreSQL: the `deliveries` rows with status 'pending' are the queue,
 * found through the partial indexes `deliveries_due` and `deliveries_webhook_due`.
 */
export class PostgresDeliveryQueue implements DeliveryQueue {
  constructor(private readonly db: PostgresTables) {}

  async claimDueDeliveries({ now, limit, leaseMs, owner, perWebhookLimit, webhookLimits }: ClaimOptions): Promise<ClaimedDelivery[]> {
    // Per enabled webhook (a LATERAL probe of its own due index), at most its limit of its
    // oldest due deliveries; then the claim takes them round-robin (every webhook's first,
    // then every webhook's second, ...) up to `limit`. A claim pushes next_attempt_at past the
    // lease: the row leaves the due set for everyone else, and comes back by itself if this
    // worker dies before writing a result. SKIP LOCKED lets concurrent workers take disjoint
    // batches without waiting on each other. A webhook with per-subject ordering passes over
    // deliveries held back behind an earlier one about their subject (postgres-subject-order.ts).
    const leaseUntil = new Date(now.getTime() + leaseMs);
    const limits = [...(webhookLimits ?? new Map<string, number>())];
    const { rows } = await this.db.pool.query(
      `WITH limits AS (SELECT * FROM unnest($5::text[], $6::int[]) AS l(webhook_id, room)),
       hooks AS (
         SELECT w.id, w.ordering, coalesce(l.room, $7) AS room FROM ${this.db.table('webhooks')} w
         LEFT JOIN limits l ON l.webhook_id = w.id
         WHERE w.enabled AND coalesce(l.room, $7) > 0),
       due AS (
         SELECT x.id, x.next_attempt_at, row_number() OVER (PARTITION BY x.webhook_id ORDER BY x.next_attempt_at) AS turn
         FROM hooks h CROSS JOIN LATERAL (
           SELECT d.id, d.webhook_id, d.next_attempt_at FROM ${this.db.table('deliveries')} d
           WHERE d.webhook_id = h.id AND d.status = 'pending' AND d.next_attempt_at <= $1
             AND NOT (h.ordering = 'per_subject' AND ${heldBackByEarlier(this.db.table('deliveries'))})
           -- Ordered as deliveries_webhook_due is (webhook_id is fixed here, so the order is the
           -- same): else the planner may walk the global due index and step over every other
           -- webhook's due backlog (a black hole's grows by the second) on every claim.
           ORDER BY d.webhook_id, d.next_attempt_at LIMIT h.room FOR UPDATE SKIP LOCKED) x),
       taken AS (SELECT id, next_attempt_at, turn FROM due ORDER BY turn, next_attempt_at LIMIT $2)
       UPDATE ${this.db.table('deliveries')} d
       SET lease_owner = $3, lease_expires_at = $4, next_attempt_at = $4, updated_at = $1
       FROM taken, ${this.db.table('events')} e
       WHERE d.id = taken.id AND e.id = d.event_id
       RETURNING d.*, e.body AS event_body, e.trace_parent AS event_trace_parent, e.trace_state AS event_trace_state, taken.turn, taken.next_attempt_at AS due_at`,
      [now, limit, owner, leaseUntil, limits.map(([id]) => id), limits.map(([, room]) => Math.max(0, room)),
        Math.max(0, perWebhookLimit ?? limit)]);
    rows.sort((a, b) => Number(a.turn) - Number(b.turn) || a.due_at.getTime() - b.due_at.getTime());
    return rows.map((row) => ({
      delivery: toDelivery(row), body: row.event_body as string,
      traceParent: row.event_trace_parent ?? null, traceState: row.event_trace_state ?? null,
    }));
  }

  async releaseDeliveries(releases: readonly DeliveryRelease[]): Promise<void> {
    if (releases.length === 0) return;
    await this.db.pool.query(
      `UPDATE ${this.db.table('deliveries')} d
       SET next_attempt_at = r.next_attempt_at, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
       FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS r(id, owner, next_attempt_at)
       WHERE d.id = r.id AND d.lease_owner = r.owner AND d.status = 'pending'`,
      [releases.map((r) => r.id), releases.map((r) => r.owner), releases.map((r) => r.nextAttemptAt)]);
  }

  async releaseClaim(owner: string, leaseUntil: Date, now: Date): Promise<number> {
    // A claim sets next_attempt_at to its lease end: the due index finds its rows directly.
    const { rowCount } = await this.db.pool.query(
      `UPDATE ${this.db.table('deliveries')}
       SET next_attempt_at = $3, lease_owner = NULL, lease_expires_at = NULL, updated_at = $3
       WHERE status = 'pending' AND next_attempt_at = $2 AND lease_owner = $1`,
      [owner, leaseUntil, now]);
    return rowCount ?? 0;
  }

  async nextDueAt(): Promise<Date | null> {
    // One probe per enabled webhook: a disabled webhook's backlog is never read. Deliveries held
    // back by per-subject ordering do not count (see nextDueOfWebhook).
    const { rows } = await this.db.pool.query(
      `SELECT min(${nextDueOfWebhook(this.db.table('deliveries'))}) AS at FROM ${this.db.table('webhooks')} w WHERE w.enabled`);
    return rows[0].at ?? null;
  }

  async completeAttempts(completions: readonly AttemptCompletion[]): Promise<void> {
    if (completions.length === 0) return;
    // Attempts are stored whatever happened to the lease (the request was sent); the delivery
    // only moves on for the worker that still owns it.
    await this.db.pool.query(
      `WITH c AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
           id text, delivery_id text, tenant_id text, webhook_id text, attempt_number int, started_at timestamptz,
           duration_ms int, outcome text, status_code int, request_headers jsonb, response_excerpt text,
           error_message text, expires_at timestamptz, owner text, status text, next_attempt_at timestamptz)),
       a AS (
         INSERT INTO ${this.db.table('attempts')} (id, delivery_id, tenant_id, webhook_id, attempt_number, started_at,
           duration_ms, outcome, status_code, request_headers, response_excerpt, error_message, expires_at)
         SELECT id, delivery_id, tenant_id, webhook_id, attempt_number, started_at, duration_ms, outcome, status_code,
           request_headers, response_excerpt, error_message, expires_at FROM c
         ON CONFLICT DO NOTHING)
       UPDATE ${this.db.table('deliveries')} d
       SET status = c.status, attempts = c.attempt_number, next_attempt_at = c.next_attempt_at,
           lease_owner = NULL, lease_expires_at = NULL, last_attempt_at = c.started_at,
           last_status_code = c.status_code, last_outcome = c.outcome, updated_at = now()
       FROM c WHERE d.id = c.delivery_id AND d.lease_owner = c.owner`,
      [JSON.stringify(completions.map(({ attempt: a, owner, status, nextAttemptAt }) => ({
        id: a.id, delivery_id: a.deliveryId, tenant_id: a.tenantId, webhook_id: a.webhookId,
        attempt_number: a.attemptNumber, started_at: a.startedAt, duration_ms: Math.round(a.durationMs),
        outcome: a.outcome, status_code: a.statusCode, request_headers: a.requestHeaders,
        response_excerpt: a.responseExcerpt, error_message: a.errorMessage, expires_at: a.expiresAt,
        owner, status, next_attempt_at: nextAttemptAt,
      })))]);
  }

  async insertAttempt(a: AttemptRecord): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO ${this.db.table('attempts')} (id, delivery_id, tenant_id, webhook_id, attempt_number, started_at,
         duration_ms, outcome, status_code, request_headers, response_excerpt, error_message, expires_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
      [a.id, a.deliveryId, a.tenantId, a.webhookId, a.attemptNumber, a.startedAt, Math.round(a.durationMs), a.outcome,
        a.statusCode, JSON.stringify(a.requestHeaders), a.responseExcerpt, a.errorMessage, a.expiresAt]);
  }

  async requeueDelivery(tenantId: string, id: string, now: Date): Promise<RequeueResult> {
    // The in-flight check and the update are one statement, so no claim can slip between them.
    // (coalesce: a delivery waiting for its retry has no lease, and `> NULL` is null, not false.)
    const { rows } = await this.db.pool.query(
      `WITH target AS (SELECT id, coalesce(status = 'pending' AND lease_expires_at > $3, false) AS in_flight
                       FROM ${this.db.table('deliveries')} WHERE tenant_id = $1 AND id = $2),
       upd AS (
         UPDATE ${this.db.table('deliveries')} d
         SET status = 'pending', next_attempt_at = $3, lease_owner = NULL, lease_expires_at = NULL, updated_at = $3
         FROM target WHERE d.id = target.id AND NOT target.in_flight RETURNING d.id)
       SELECT (SELECT in_flight FROM target) AS in_flight, (SELECT count(*) FROM upd)::int AS updated`,
      [tenantId, id, now]);
    if (rows[0].in_flight === null) return 'not_found';
    return rows[0].updated > 0 ? 'requeued' : 'in_flight';
  }

  async discardPendingDeliveries(tenantId: string, webhookId: string, now: Date): Promise<number> {
    const { rowCount } = await this.db.pool.query(
      `UPDATE ${this.db.table('deliveries')}
       -- The lease goes too: a worker whose lease ran out may report late, and its completion
       -- (matched on lease_owner) must not bring a discarded delivery back.
       SET status = 'failed', next_attempt_at = NULL, last_outcome = 'discarded', lease_owner = NULL, lease_expires_at = NULL,
           updated_at = $3
       WHERE tenant_id = $1 AND webhook_id = $2 AND status = 'pending'
         AND (lease_expires_at IS NULL OR lease_expires_at <= $3)`,
      [tenantId, webhookId, now]);
    return rowCount ?? 0;
  }

  async requeueFailedSince(tenantId: string, webhookId: string, since: Date, now: Date): Promise<number> {
    const { rowCount } = await this.db.pool.query(
      `UPDATE ${this.db.table('deliveries')}
       SET status = 'pending', next_attempt_at = $4, lease_owner = NULL, lease_expires_at = NULL, updated_at = $4
       WHERE tenant_id = $1 AND webhook_id = $2 AND status = 'failed' AND created_at >= $3`,
      [tenantId, webhookId, since, now]);
    return rowCount ?? 0;
  }
}
