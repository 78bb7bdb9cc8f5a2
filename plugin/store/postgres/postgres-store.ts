import pg from 'pg';
import type { AgendaBackend } from 'agenda';
import type {
  AttemptCompletion,
  AttemptRecord,
  ClaimOptions,
  ClaimedDelivery,
  DeliveryQuery,
  DeliveryRecord,
  DeliveryRelease,
  BacklogSummary,
  DeliverySummary,
  EventRecord,
  PruneResult,
  RecordEventOptions,
  RecordEventResult,
  RequeueResult,
  WebhookPatch,
  WebhookRecord,
  WebhookStore,
} from '../store-port.js';
import { summarizeDeliveries } from './postgres-delivery-summary.js';
import { summarizeBacklog } from './postgres-backlog-summary.js';
import { createPostgresAgendaBackend, listenForNewWork } from './postgres-notifications.js';
import { postgresSchema } from './postgres-schema.js';
import { toAttempt, toDelivery, toEvent, toWebhook } from './postgres-rows.js';

export interface PostgresStoreOptions {
  /** A pool the host owns (left open on close), or a connection string for a pool the store owns. */
  pool?: pg.Pool;
  connectionString?: string;
  /** Prefix of every table the plugin creates, Agenda's included. Default `webhook_`. */
  tablePrefix?: string;
  /**
   * Told about connection errors that no query is waiting for (a backend terminated while
   * idle, a server restart): logged, never thrown, so they cannot crash the host.
   */
  onConnectionError?: (error: unknown, where: string) => void;
  /** Longest wait for a connection from a pool the store owns, in ms. Default 5000. */
  connectTimeoutMs?: number;
}

const WEBHOOK_COLUMNS: Record<keyof Omit<WebhookPatch, 'updatedAt'>, string> = {
  name: 'name',
  description: 'description',
  url: 'url',
  events: 'events',
  secrets: 'secrets',
  enabled: 'enabled',
  disabledReason: 'disabled_reason',
  disabledAt: 'disabled_at',
  failingSince: 'failing_since',
  rateLimitPerSecond: 'rate_limit_per_second',
};

/** Arbitrary constant: serialises concurrent `init()` calls from several processes. */
const SCHEMA_LOCK_ID = 7_401_532;

export class PostgresStore implements WebhookStore {
  readonly kind = 'postgres';
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly prefix: string;
  private readonly onConnectionError: (error: unknown, where: string) => void;

  constructor(options: PostgresStoreOptions) {
    if (options.pool) {
      this.pool = options.pool;
      this.ownsPool = false;
    } else if (options.connectionString) {
      this.pool = new pg.Pool({
        connectionString: options.connectionString,
        max: 10,
        // Never wait forever for a connection while the server is gone; notice a dead peer
        // (failover, cut network) through TCP keepalive rather than at the next query.
        connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
        keepAlive: true,
        // A server that stops answering mid-query (frozen, partitioned) must not hold a
        // connection for ever: no statement of the plugin's takes anywhere near this long.
        query_timeout: 60_000,
      });
      this.ownsPool = true;
    } else {
      throw new Error('PostgresStore needs a pool or a connectionString');
    }
    this.onConnectionError = options.onConnectionError ?? (() => undefined);
    // An idle pooled client whose backend dies (pg_terminate_backend, a restart, an idle-
    // connection killer) makes the pool emit 'error'; with no listener that is an uncaught
    // exception that ends the host. The pool drops the broken client by itself. A host's own
    // pool gets this listener too: the plugin's clients live in it.
    this.pool.on('error', (error) => this.onConnectionError(error, 'idle pooled connection'));
    this.prefix = options.tablePrefix ?? 'webhook_';
    if (!/^[a-z_][a-z0-9_]{0,30}$/.test(this.prefix)) throw new Error(`Invalid table prefix "${this.prefix}"`);
  }

  /** NOTIFY channel announcing newly recorded deliveries (see listenForNewWork). */
  private get workChannel(): string {
    return `${this.prefix}new_work`;
  }

  private table(name: string): string {
    return `"${this.prefix}${name}"`;
  }

  async init(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_ID]);
      await client.query(postgresSchema(this.prefix));
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  createAgendaBackend(): AgendaBackend {
    return createPostgresAgendaBackend(this.pool, this.prefix, this.onConnectionError);
  }

  async insertWebhook(w: WebhookRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.table('webhooks')} (id, tenant_id, name, description, url, events, notification_type, secrets,
        enabled, disabled_reason, disabled_at, failing_since, rate_limit_per_second, created_at, updated_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)`,
      [w.id, w.tenantId, w.name, w.description, w.url, JSON.stringify(w.events), w.notificationType, w.secrets,
        w.enabled, w.disabledReason, w.disabledAt, w.failingSince, w.rateLimitPerSecond, w.createdAt, w.updatedAt],
    );
  }

  async findWebhook(tenantId: string, id: string): Promise<WebhookRecord | null> {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.table('webhooks')} WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return rows[0] ? toWebhook(rows[0]) : null;
  }

  async listWebhooks(tenantId: string): Promise<WebhookRecord[]> {
    const { rows } = await this.pool.query(
      `SELECT * FROM ${this.table('webhooks')} WHERE tenant_id = $1 ORDER BY created_at, id`, [tenantId]);
    return rows.map(toWebhook);
  }

  async listEnabledWebhooks(tenantId: string): Promise<WebhookRecord[]> {
    const { rows } = await this.pool.query(
      `SELECT * FROM ${this.table('webhooks')} WHERE tenant_id = $1 AND enabled ORDER BY created_at, id`, [tenantId]);
    return rows.map(toWebhook);
  }

  async listAllWebhooks(afterId: string | null, limit: number): Promise<WebhookRecord[]> {
    // COLLATE "C": byte order, the same order JavaScript string comparison and MongoDB use.
    const { rows } = await this.pool.query(
      `SELECT * FROM ${this.table('webhooks')} WHERE $1::text IS NULL OR id COLLATE "C" > $1 ORDER BY id COLLATE "C" LIMIT $2`,
      [afterId, limit]);
    return rows.map(toWebhook);
  }

  async findWebhooksByIds(ids: readonly string[]): Promise<WebhookRecord[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query(`SELECT * FROM ${this.table('webhooks')} WHERE id = ANY($1)`, [ids]);
    return rows.map(toWebhook);
  }

  async updateWebhook(tenantId: string, id: string, patch: WebhookPatch, expectedUpdatedAt?: Date): Promise<WebhookRecord | null> {
    const sets = ['updated_at = $3'];
    const values: unknown[] = [tenantId, id, patch.updatedAt];
    for (const [field, column] of Object.entries(WEBHOOK_COLUMNS)) {
      const value = patch[field as keyof typeof WEBHOOK_COLUMNS];
      if (value === undefined) continue;
      values.push(field === 'events' ? JSON.stringify(value) : value);
      sets.push(`${column} = $${values.length}`);
    }
    let guard = '';
    if (expectedUpdatedAt) {
      values.push(expectedUpdatedAt);
      guard = ` AND updated_at = $${values.length}`;
    }
    const { rows } = await this.pool.query(
      `UPDATE ${this.table('webhooks')} SET ${sets.join(', ')} WHERE tenant_id = $1 AND id = $2${guard} RETURNING *`, values);
    return rows[0] ? toWebhook(rows[0]) : null;
  }

  async deleteWebhook(tenantId: string, id: string): Promise<boolean> {
    // One statement, so a crash cannot leave deliveries pointing at a webhook that is gone.
    const { rows } = await this.pool.query(
      `WITH w AS (DELETE FROM ${this.table('webhooks')} WHERE tenant_id = $1 AND id = $2 RETURNING id),
            d AS (DELETE FROM ${this.table('deliveries')} WHERE webhook_id IN (SELECT id FROM w)),
            a AS (DELETE FROM ${this.table('attempts')} WHERE webhook_id IN (SELECT id FROM w))
       SELECT count(*)::int AS n FROM w`, [tenantId, id]);
    return rows[0].n > 0;
  }

  async markWebhooksFailing(ids: readonly string[], since: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.query(
      `UPDATE ${this.table('webhooks')} SET failing_since = $2 WHERE id = ANY($1) AND failing_since IS NULL`, [ids, since]);
  }

  async markWebhooksHealthy(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.query(
      `UPDATE ${this.table('webhooks')} SET failing_since = NULL WHERE id = ANY($1) AND failing_since IS NOT NULL`, [ids]);
  }

  async recordEvent(event: EventRecord, deliveries: readonly DeliveryRecord[], options: RecordEventOptions = {}): Promise<RecordEventResult> {
    // One statement is one transaction: the event and its deliveries commit together, in a
    // single round trip. ON CONFLICT DO NOTHING makes a repeated idempotency key (or a retry
    // of the same ids) write nothing.
    const first = deliveries[0];
    const { rows } = await this.pool.query(
      `WITH ev AS (
         INSERT INTO ${this.table('events')} (id, tenant_id, type, body, idempotency_key, created_at, expires_at, trace_parent, trace_state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $15, $16) ON CONFLICT DO NOTHING RETURNING id),
       dl AS (
         INSERT INTO ${this.table('deliveries')} (id, tenant_id, webhook_id, event_id, event_type, status, attempts,
           next_attempt_at, lease_owner, lease_expires_at, created_at, updated_at, expires_at)
         SELECT d.id, $2, d.webhook_id, $1, $3, 'pending', 0, d.next_attempt_at, d.lease_owner, d.lease_expires_at, $6, $6, $8
         FROM unnest($9::text[], $10::text[], $11::timestamptz[], $12::text[], $13::timestamptz[])
           AS d(id, webhook_id, next_attempt_at, lease_owner, lease_expires_at)
         WHERE EXISTS (SELECT 1 FROM ev)
         RETURNING 1),
       -- Delivered on commit, so a listening worker never sees the notice before the rows.
       nt AS (SELECT pg_notify('${this.workChannel}', '') WHERE $14 AND EXISTS (SELECT 1 FROM dl))
       SELECT (SELECT count(*) FROM ev)::int AS inserted, (SELECT count(*) FROM dl)::int AS deliveries,
              (SELECT count(*) FROM nt)::int AS notified`,
      [event.id, event.tenantId, event.type, event.body, event.idempotencyKey, event.createdAt, event.expiresAt,
        first?.expiresAt ?? event.expiresAt,
        deliveries.map((d) => d.id), deliveries.map((d) => d.webhookId), deliveries.map((d) => d.nextAttemptAt),
        deliveries.map((d) => d.leaseOwner), deliveries.map((d) => d.leaseExpiresAt), options.announce === true,
        event.traceParent ?? null, event.traceState ?? null],
    );
    if (rows[0].inserted === 1) return { eventId: event.id, created: true, deliveryCount: rows[0].deliveries };
    const existing = await this.pool.query(
      `SELECT e.id, (SELECT count(*) FROM ${this.table('deliveries')} d WHERE d.event_id = e.id)::int AS n
       FROM ${this.table('events')} e
       WHERE e.id = $1 OR (e.tenant_id = $2 AND e.idempotency_key = $3) LIMIT 1`,
      [event.id, event.tenantId, event.idempotencyKey]);
    return { eventId: existing.rows[0]?.id ?? event.id, created: false, deliveryCount: existing.rows[0]?.n ?? 0 };
  }

  async findEvent(tenantId: string, id: string): Promise<EventRecord | null> {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.table('events')} WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return rows[0] ? toEvent(rows[0]) : null;
  }

  listenForNewWork(onWork: () => void, onError: (error: unknown) => void): Promise<() => Promise<void>> {
    return listenForNewWork(this.pool, this.workChannel, onWork, onError);
  }

  /** Events and deliveries commit in one statement here, so there is never anything to finish. */
  async completeInterruptedWork(): Promise<number> {
    return 0;
  }

  async claimDueDeliveries({ now, limit, leaseMs, owner, perWebhookLimit, webhookLimits }: ClaimOptions): Promise<ClaimedDelivery[]> {
    // Per enabled webhook (a LATERAL probe of its own due index), at most its limit of its
    // oldest due deliveries; then the claim takes them round-robin (every webhook's first,
    // then every webhook's second, ...) up to `limit`. A claim pushes next_attempt_at past the
    // lease: the row leaves the due set for everyone else, and comes back by itself if this
    // worker dies before writing a result. SKIP LOCKED lets concurrent workers take disjoint
    // batches without waiting on each other.
    const leaseUntil = new Date(now.getTime() + leaseMs);
    const limits = [...(webhookLimits ?? new Map<string, number>())];
    const { rows } = await this.pool.query(
      `WITH limits AS (SELECT * FROM unnest($5::text[], $6::int[]) AS l(webhook_id, room)),
       hooks AS (
         SELECT w.id, coalesce(l.room, $7) AS room FROM ${this.table('webhooks')} w
         LEFT JOIN limits l ON l.webhook_id = w.id
         WHERE w.enabled AND coalesce(l.room, $7) > 0),
       due AS (
         SELECT x.id, x.next_attempt_at, row_number() OVER (PARTITION BY x.webhook_id ORDER BY x.next_attempt_at) AS turn
         FROM hooks h CROSS JOIN LATERAL (
           SELECT d.id, d.webhook_id, d.next_attempt_at FROM ${this.table('deliveries')} d
           WHERE d.webhook_id = h.id AND d.status = 'pending' AND d.next_attempt_at <= $1
           -- Ordered as deliveries_webhook_due is (webhook_id is fixed here, so the order is the
           -- same): else the planner may walk the global due index and step over every other
           -- webhook's due backlog (a black hole's grows by the second) on every claim.
           ORDER BY d.webhook_id, d.next_attempt_at LIMIT h.room FOR UPDATE SKIP LOCKED) x),
       taken AS (SELECT id, next_attempt_at, turn FROM due ORDER BY turn, next_attempt_at LIMIT $2)
       UPDATE ${this.table('deliveries')} d
       SET lease_owner = $3, lease_expires_at = $4, next_attempt_at = $4, updated_at = $1
       FROM taken, ${this.table('events')} e
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
    await this.pool.query(
      `UPDATE ${this.table('deliveries')} d
       SET next_attempt_at = r.next_attempt_at, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
       FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS r(id, owner, next_attempt_at)
       WHERE d.id = r.id AND d.lease_owner = r.owner AND d.status = 'pending'`,
      [releases.map((r) => r.id), releases.map((r) => r.owner), releases.map((r) => r.nextAttemptAt)]);
  }

  async releaseClaim(owner: string, leaseUntil: Date, now: Date): Promise<number> {
    // A claim sets next_attempt_at to its lease end: the due index finds its rows directly.
    const { rowCount } = await this.pool.query(
      `UPDATE ${this.table('deliveries')}
       SET next_attempt_at = $3, lease_owner = NULL, lease_expires_at = NULL, updated_at = $3
       WHERE status = 'pending' AND next_attempt_at = $2 AND lease_owner = $1`,
      [owner, leaseUntil, now]);
    return rowCount ?? 0;
  }

  async nextDueAt(): Promise<Date | null> {
    // One probe per enabled webhook: a disabled webhook's backlog is never read.
    const { rows } = await this.pool.query(
      `SELECT min(x.at) AS at FROM ${this.table('webhooks')} w CROSS JOIN LATERAL (
         SELECT d.next_attempt_at AS at FROM ${this.table('deliveries')} d
         WHERE d.webhook_id = w.id AND d.status = 'pending' ORDER BY d.webhook_id, d.next_attempt_at LIMIT 1) x
       WHERE w.enabled`);
    return rows[0].at ?? null;
  }

  async completeAttempts(completions: readonly AttemptCompletion[]): Promise<void> {
    if (completions.length === 0) return;
    // Attempts are stored whatever happened to the lease (the request was sent); the delivery
    // only moves on for the worker that still owns it.
    await this.pool.query(
      `WITH c AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
           id text, delivery_id text, tenant_id text, webhook_id text, attempt_number int, started_at timestamptz,
           duration_ms int, outcome text, status_code int, request_headers jsonb, response_excerpt text,
           error_message text, expires_at timestamptz, owner text, status text, next_attempt_at timestamptz)),
       a AS (
         INSERT INTO ${this.table('attempts')} (id, delivery_id, tenant_id, webhook_id, attempt_number, started_at,
           duration_ms, outcome, status_code, request_headers, response_excerpt, error_message, expires_at)
         SELECT id, delivery_id, tenant_id, webhook_id, attempt_number, started_at, duration_ms, outcome, status_code,
           request_headers, response_excerpt, error_message, expires_at FROM c
         ON CONFLICT DO NOTHING)
       UPDATE ${this.table('deliveries')} d
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
    await this.pool.query(
      `INSERT INTO ${this.table('attempts')} (id, delivery_id, tenant_id, webhook_id, attempt_number, started_at,
         duration_ms, outcome, status_code, request_headers, response_excerpt, error_message, expires_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
      [a.id, a.deliveryId, a.tenantId, a.webhookId, a.attemptNumber, a.startedAt, Math.round(a.durationMs), a.outcome,
        a.statusCode, JSON.stringify(a.requestHeaders), a.responseExcerpt, a.errorMessage, a.expiresAt]);
  }

  async findDelivery(tenantId: string, id: string): Promise<DeliveryRecord | null> {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.table('deliveries')} WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return rows[0] ? toDelivery(rows[0]) : null;
  }

  async listDeliveries(tenantId: string, webhookId: string, query: DeliveryQuery): Promise<DeliveryRecord[]> {
    const where = ['tenant_id = $1', 'webhook_id = $2'];
    const values: unknown[] = [tenantId, webhookId];
    if (query.status) {
      values.push(query.status);
      where.push(`status = $${values.length}`);
    }
    if (query.eventType) {
      values.push(query.eventType);
      where.push(`event_type = $${values.length}`);
    }
    if (query.before) {
      values.push(query.before.createdAt, query.before.id);
      where.push(`(created_at, id) < ($${values.length - 1}, $${values.length})`);
    }
    values.push(query.limit);
    const { rows } = await this.pool.query(
      `SELECT * FROM ${this.table('deliveries')} WHERE ${where.join(' AND ')}
       ORDER BY created_at DESC, id DESC LIMIT $${values.length}`, values);
    return rows.map(toDelivery);
  }

  async listAttempts(tenantId: string, deliveryId: string): Promise<AttemptRecord[]> {
    const { rows } = await this.pool.query(
      `SELECT * FROM ${this.table('attempts')} WHERE tenant_id = $1 AND delivery_id = $2 ORDER BY started_at, attempt_number`,
      [tenantId, deliveryId]);
    return rows.map(toAttempt);
  }

  async listAttemptsFor(tenantId: string, deliveryIds: readonly string[]): Promise<AttemptRecord[]> {
    if (deliveryIds.length === 0) return [];
    const { rows } = await this.pool.query(
      `SELECT * FROM ${this.table('attempts')} WHERE tenant_id = $1 AND delivery_id = ANY($2)
       ORDER BY delivery_id, started_at, attempt_number`,
      [tenantId, [...deliveryIds]]);
    return rows.map(toAttempt);
  }

  summarizeDeliveries(tenantId: string, webhookIds: readonly string[], since: Date): Promise<Map<string, DeliverySummary>> {
    return summarizeDeliveries(this.pool, this.table('deliveries'), tenantId, webhookIds, since);
  }

  summarizeBacklog(): Promise<BacklogSummary> {
    return summarizeBacklog(this.pool, this.table('webhooks'), this.table('deliveries'));
  }

  async requeueDelivery(tenantId: string, id: string, now: Date): Promise<RequeueResult> {
    // The in-flight check and the update are one statement, so no claim can slip between them.
    const { rows } = await this.pool.query(
      `WITH target AS (SELECT id, status = 'pending' AND lease_expires_at > $3 AS in_flight
                       FROM ${this.table('deliveries')} WHERE tenant_id = $1 AND id = $2),
       upd AS (
         UPDATE ${this.table('deliveries')} d
         SET status = 'pending', next_attempt_at = $3, lease_owner = NULL, lease_expires_at = NULL, updated_at = $3
         FROM target WHERE d.id = target.id AND NOT target.in_flight RETURNING d.id)
       SELECT (SELECT in_flight FROM target) AS in_flight, (SELECT count(*) FROM upd)::int AS updated`,
      [tenantId, id, now]);
    if (rows[0].in_flight === null) return 'not_found';
    return rows[0].updated > 0 ? 'requeued' : 'in_flight';
  }

  async discardPendingDeliveries(tenantId: string, webhookId: string, now: Date): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE ${this.table('deliveries')}
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
    const { rowCount } = await this.pool.query(
      `UPDATE ${this.table('deliveries')}
       SET status = 'pending', next_attempt_at = $4, lease_owner = NULL, lease_expires_at = NULL, updated_at = $4
       WHERE tenant_id = $1 AND webhook_id = $2 AND status = 'failed' AND created_at >= $3`,
      [tenantId, webhookId, since, now]);
    return rowCount ?? 0;
  }

  async pruneExpired(now: Date): Promise<PruneResult> {
    const attempts = await this.pool.query(`DELETE FROM ${this.table('attempts')} WHERE expires_at < $1`, [now]);
    const deliveries = await this.pool.query(
      `DELETE FROM ${this.table('deliveries')} WHERE expires_at < $1 AND (status <> 'pending'
         OR webhook_id IN (SELECT id FROM ${this.table('webhooks')} WHERE NOT enabled))`, [now]);
    const events = await this.pool.query(
      `DELETE FROM ${this.table('events')} e WHERE e.expires_at < $1
       AND NOT EXISTS (SELECT 1 FROM ${this.table('deliveries')} d WHERE d.event_id = e.id)`, [now]);
    return { events: events.rowCount ?? 0, deliveries: deliveries.rowCount ?? 0, attempts: attempts.rowCount ?? 0 };
  }
}
