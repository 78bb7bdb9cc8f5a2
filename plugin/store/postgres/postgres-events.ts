import type pg from 'pg';
import type { EventLog, EventRecord, DeliveryRecord, RecordEventOptions, RecordEventResult } from '../store-port.js';
import { SEQUENCE_PLACEHOLDER } from '../store-port.js';
import { HostTransactionCheck } from './postgres-host-transaction.js';
import { toEvent } from './postgres-rows.js';
import type { PostgresTables } from './postgres-tables.js';

/** The pool, or a host's client inside its transaction. */
type Queryable = Pick<pg.ClientBase, 'query'>;

/** The events table, with the deliveries each event fans out to and the per-subject sequences. */
export class PostgresEvents implements Omit<EventLog, 'listenForNewWork'> {
  private readonly transactions: HostTransactionCheck;

  constructor(private readonly db: PostgresTables) {
    this.transactions = new HostTransactionCheck(db);
  }

  async recordEvent(event: EventRecord, deliveries: readonly DeliveryRecord[], options: RecordEventOptions = {}): Promise<RecordEventResult> {
    // On the host's client inside its transaction (the outbox: nothing exists unless it commits),
    // with the tables named by schema; else on the pool, where one statement is one transaction.
    if (options.transaction) {
      return this.transactions.run(options.transaction, ({ client, schema }) =>
        this.write(client, (name) => `${schema}.${this.db.table(name)}`, event, deliveries, options));
    }
    return this.write(this.db.pool, (name) => this.db.table(name), event, deliveries, options);
  }

  /** The event, its deliveries and its sequence number, written by one statement in one round trip. */
  private async write(run: Queryable, t: (name: string) => string, event: EventRecord, deliveries: readonly DeliveryRecord[],
    options: RecordEventOptions): Promise<RecordEventResult> {
    const first = deliveries[0];
    const { rows } = await run.query(
      // seq: the subject's next number, taken only for an event not recorded yet (a repeated
      // idempotency key must not use up a number). Its row stays locked until the transaction
      // commits, so two events about one subject commit in the order of their numbers, and a
      // worker that sees number n+1 sees n too.
      `WITH seq AS (
         INSERT INTO ${t('subject_sequences')} AS s (tenant_id, subject, last_sequence)
         SELECT $2, $17, 1 WHERE $17::text IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM ${t('events')} e WHERE e.id = $1 OR (e.tenant_id = $2 AND e.idempotency_key = $5))
         ON CONFLICT (tenant_id, subject) DO UPDATE SET last_sequence = s.last_sequence + 1
         RETURNING last_sequence),
       num AS (SELECT (SELECT last_sequence FROM seq) AS n, strpos($4, $18) AS at),
       ev AS (
         INSERT INTO ${t('events')} (id, tenant_id, type, body, idempotency_key, created_at, expires_at, trace_parent, trace_state,
           subject, sequence)
         SELECT $1, $2, $3,
           CASE WHEN num.n IS NULL OR num.at = 0 THEN $4 ELSE overlay($4 placing '"sequence":' || num.n from num.at for length($18)) END,
           $5, $6, $7, $15, $16, $17, num.n
         FROM num ON CONFLICT DO NOTHING RETURNING id, sequence),
       dl AS (
         INSERT INTO ${t('deliveries')} (id, tenant_id, webhook_id, event_id, event_type, subject, sequence, status, attempts,
           next_attempt_at, lease_owner, lease_expires_at, created_at, updated_at, expires_at)
         SELECT d.id, $2, d.webhook_id, $1, $3, $17, (SELECT sequence FROM ev), 'pending', 0, d.next_attempt_at, d.lease_owner,
           d.lease_expires_at, $6, $6, $8
         FROM unnest($9::text[], $10::text[], $11::timestamptz[], $12::text[], $13::timestamptz[])
           AS d(id, webhook_id, next_attempt_at, lease_owner, lease_expires_at)
         WHERE EXISTS (SELECT 1 FROM ev)
         RETURNING 1),
       -- Delivered on commit (the host's, in a transaction), so a listening worker never sees
       -- the notice before the rows.
       nt AS (SELECT pg_notify('${this.db.workChannel}', '') WHERE $14 AND EXISTS (SELECT 1 FROM dl))
       SELECT (SELECT count(*) FROM ev)::int AS inserted, (SELECT count(*) FROM dl)::int AS deliveries,
              (SELECT count(*) FROM nt)::int AS notified, (SELECT sequence FROM ev) AS sequence,
              (SELECT last_sequence FROM seq) AS taken`,
      [event.id, event.tenantId, event.type, event.body, event.idempotencyKey, event.createdAt, event.expiresAt,
        first?.expiresAt ?? event.expiresAt,
        deliveries.map((d) => d.id), deliveries.map((d) => d.webhookId), deliveries.map((d) => d.nextAttemptAt),
        deliveries.map((d) => d.leaseOwner), deliveries.map((d) => d.leaseExpiresAt), options.announce === true,
        event.traceParent ?? null, event.traceState ?? null, event.subject, SEQUENCE_PLACEHOLDER],
    );
    if (rows[0].inserted === 1) {
      return { eventId: event.id, created: true, deliveryCount: rows[0].deliveries, sequence: toSequence(rows[0].sequence) };
    }
    // A repeat of the idempotency key that raced the first call took a number before its insert
    // found the conflict: give it back unless a later event has taken the next one meanwhile, so
    // a gap keeps meaning an event the receiver did not get.
    if (rows[0].taken !== null) {
      await run.query(
        `UPDATE ${t('subject_sequences')} SET last_sequence = last_sequence - 1 WHERE tenant_id = $1 AND subject = $2 AND last_sequence = $3`,
        [event.tenantId, event.subject, rows[0].taken]);
    }
    const existing = await run.query(
      `SELECT e.id, e.sequence, (SELECT count(*) FROM ${t('deliveries')} d WHERE d.event_id = e.id)::int AS n
       FROM ${t('events')} e
       WHERE e.id = $1 OR (e.tenant_id = $2 AND e.idempotency_key = $3) LIMIT 1`,
      [event.id, event.tenantId, event.idempotencyKey]);
    const found = existing.rows[0];
    return { eventId: found?.id ?? event.id, created: false, deliveryCount: found?.n ?? 0, sequence: toSequence(found?.sequence) };
  }

  async findEvent(tenantId: string, id: string): Promise<EventRecord | null> {
    const { rows } = await this.db.pool.query(`SELECT * FROM ${this.db.table('events')} WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return rows[0] ? toEvent(rows[0]) : null;
  }

  /** Events and deliveries commit in one statement here, so there is never anything to finish. */
  async completeInterruptedWork(): Promise<number> {
    return 0;
  }
}

/** A bigint column arrives as a string from pg. */
function toSequence(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}
