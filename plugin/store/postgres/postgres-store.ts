import pg from 'pg';
import type { AgendaBackend } from 'agenda';
import type {
  AttemptCompletion, AttemptRecord, ClaimOptions, ClaimedDelivery, DeliveryRelease, RequeueResult, WebhookStore,
} from '../store-port.js';
import { ComposedStore } from '../composed-store.js';
import { PostgresDeliveryLog } from './postgres-delivery-log.js';
import { PostgresDeliveryQueue } from './postgres-delivery-queue.js';
import { PostgresEvents } from './postgres-events.js';
import { createPostgresAgendaBackend, listenForNewWork } from './postgres-notifications.js';
import { postgresSchema } from './postgres-schema.js';
import { PostgresTables } from './postgres-tables.js';
import { PostgresWebhooks } from './postgres-webhooks.js';

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
  /**
   * Longest wait for a row lock by a statement on a pool the store owns (PostgreSQL's
   * `lock_timeout`), in ms. Default 5000. A host's transaction holds the numbering of each
   * subject it wrote an event about until it ends; without this bound, every other event about
   * that subject would wait for it, each holding a pooled connection, until the pool ran dry
   * and every tenant's events failed. A host that passes its own pool should set it there.
   */
  lockTimeoutMs?: number;
}

/** Arbitrary constant: serialises concurrent `init()` calls from several processes. */
const SCHEMA_LOCK_ID = 7_401_532;

/**
 * The PostgreSQL store: the pool and the schema here, each part of the port in its own file
 * (webhooks, events, the delivery queue, the delivery log), all on one set of prefixed tables.
 */
export class PostgresStore extends ComposedStore implements WebhookStore {
  readonly kind = 'postgres';
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly db: PostgresTables;
  private readonly onConnectionError: (error: unknown, where: string) => void;
  private readonly queue: PostgresDeliveryQueue;

  constructor(options: PostgresStoreOptions) {
    super();
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
        options: `-c lock_timeout=${Math.max(1, Math.round(options.lockTimeoutMs ?? 5_000))}`,
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
    this.db = new PostgresTables(this.pool, options.tablePrefix ?? 'webhook_');
    this.webhooks = new PostgresWebhooks(this.db);
    this.events = new PostgresEvents(this.db);
    this.queue = new PostgresDeliveryQueue(this.db);
    this.log = new PostgresDeliveryLog(this.db);
  }

  async init(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Another process may hold the schema lock while it creates the schema: wait for it.
      await client.query('SET LOCAL lock_timeout = 0');
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_ID]);
      await client.query(postgresSchema(this.db.prefix));
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
    return createPostgresAgendaBackend(this.pool, this.db.prefix, this.onConnectionError, SCHEMA_LOCK_ID);
  }

  listenForNewWork(onWork: () => void, onError: (error: unknown) => void): Promise<() => Promise<void>> {
    return listenForNewWork(this.pool, this.db.workChannel, onWork, onError);
  }

  // The delivery queue (postgres-delivery-queue.ts)
  claimDueDeliveries(options: ClaimOptions): Promise<ClaimedDelivery[]> { return this.queue.claimDueDeliveries(options); }
  releaseDeliveries(releases: readonly DeliveryRelease[]): Promise<void> { return this.queue.releaseDeliveries(releases); }
  releaseClaim(owner: string, leaseUntil: Date, now: Date): Promise<number> { return this.queue.releaseClaim(owner, leaseUntil, now); }
  nextDueAt(): Promise<Date | null> { return this.queue.nextDueAt(); }
  completeAttempts(completions: readonly AttemptCompletion[]): Promise<void> { return this.queue.completeAttempts(completions); }
  insertAttempt(attempt: AttemptRecord): Promise<void> { return this.queue.insertAttempt(attempt); }
  requeueDelivery(tenantId: string, id: string, now: Date): Promise<RequeueResult> { return this.queue.requeueDelivery(tenantId, id, now); }
  discardPendingDeliveries(tenantId: string, webhookId: string, now: Date): Promise<number> {
    return this.queue.discardPendingDeliveries(tenantId, webhookId, now);
  }
  requeueFailedSince(tenantId: string, webhookId: string, since: Date, now: Date): Promise<number> {
    return this.queue.requeueFailedSince(tenantId, webhookId, since, now);
  }
}
