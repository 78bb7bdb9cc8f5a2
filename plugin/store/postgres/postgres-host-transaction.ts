import type pg from 'pg';
import { ForeignTransactionError } from '../../errors.js';
import type { HostTransaction } from '../store-port.js';
import type { PostgresTables } from './postgres-tables.js';

/** The part of a `pg` Client the outbox uses. */
export interface HostClient {
  query: pg.ClientBase['query'];
  /** pg >= 8.12: 'I' idle, 'T' in a transaction, 'E' in a failed transaction, null before connecting. */
  getTransactionStatus?: () => string | null;
}

/** A host's client checked for the outbox, and the schema that holds the plugin's tables. */
export interface CheckedClient {
  client: HostClient;
  /** Quoted name of the schema of the plugin's tables: statements on the host's client name it, whatever its search_path. */
  schema: string;
}

const SAVEPOINT = 'webhooks_outbox';
/** What PostgreSQL answers a statement outside a transaction block, and inside a failed one. */
const REFUSALS: Record<string, string> = {
  '25P01': 'the client is not inside a transaction (call BEGIN first)',
  '25P02': 'the transaction has already failed; roll it back',
};

/**
 * Lets the plugin write inside a host's `context.transaction`: a `pg` client inside BEGIN,
 * connected to the very database of the plugin's tables.
 *
 * - Which database: the cluster's system identifier and the database name, read through the
 *   client and compared with what the store's own pool sees (kept per client: a pg client is one
 *   connection for its life). The tables are then named with their schema, so a search_path the
 *   host sets later cannot send the writes elsewhere.
 * - Inside a transaction: each write runs under a SAVEPOINT, which PostgreSQL itself refuses
 *   outside a transaction block, whatever the object claims to be (a pool, a wrapper).
 * - The host's transaction survives the plugin's failures: a write that fails is rolled back to
 *   its savepoint, so the host's own work stays and its COMMIT still commits it.
 * - One write at a time per client: concurrent hook calls on one client would interleave their
 *   savepoints, and rolling one back could undo the other's write.
 */
export class HostTransactionCheck {
  private readonly verified = new WeakMap<object, true>();
  private readonly queues = new WeakMap<object, Promise<unknown>>();
  private own: Promise<{ id: string; schema: string }> | null = null;

  constructor(private readonly db: PostgresTables) {}

  /** Runs `write` in the host's transaction, under a savepoint; see the class comment. */
  async run<T>(transaction: HostTransaction, write: (checked: CheckedClient) => Promise<T>): Promise<T> {
    const client = transaction as Partial<HostClient>;
    if (typeof client.query !== 'function') {
      throw new ForeignTransactionError('the PostgreSQL store takes a pg Client (or a pooled client) inside BEGIN');
    }
    const status = typeof client.getTransactionStatus === 'function' ? client.getTransactionStatus() : 'T';
    if (status === 'E') throw new ForeignTransactionError('the transaction has already failed; roll it back');
    if (status !== 'T') throw new ForeignTransactionError('the client is not inside a transaction (call BEGIN first)');
    const previous = this.queues.get(client) ?? Promise.resolve();
    const mine = previous.catch(() => undefined).then(() => this.underSavepoint(client as HostClient, write));
    this.queues.set(client, mine);
    return mine;
  }

  private async underSavepoint<T>(client: HostClient, write: (checked: CheckedClient) => Promise<T>): Promise<T> {
    let schema: string;
    try {
      schema = await this.check(client);
      await client.query(`SAVEPOINT ${SAVEPOINT}`);
    } catch (error) {
      // (getTransactionStatus() can lag: pg may reject a failed query before it reads the
      // server's new transaction status, so the server's own answer decides.)
      const refusal = REFUSALS[(error as { code?: string }).code ?? ''];
      if (refusal) throw new ForeignTransactionError(refusal);
      throw error;
    }
    try {
      const result = await write({ client, schema });
      await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
      return result;
    } catch (error) {
      await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`).catch(() => undefined);
      await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`).catch(() => undefined);
      throw error;
    }
  }

  /** The quoted schema of the plugin's tables, once the client is known to be on the plugin's database. */
  private async check(client: HostClient): Promise<string> {
    const ours = await this.ownIdentity();
    if (!this.verified.has(client)) {
      // Read-only and never failing (an error would abort the host's transaction).
      const theirs = await this.databaseOf(client);
      if (theirs !== ours.id) throw new ForeignTransactionError('the client is connected to another database than the plugin\'s store');
      this.verified.set(client, true);
    }
    return ours.schema;
  }

  private ownIdentity(): Promise<{ id: string; schema: string }> {
    this.own ??= (async () => {
      const { rows } = await this.db.pool.query(
        `SELECT n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`,
        [this.db.table('events')]);
      if (!rows[0]) throw new Error('The plugin\'s tables do not exist yet: start() the plugin before passing transactions');
      return { id: await this.databaseOf(this.db.pool), schema: `"${String(rows[0].schema).replace(/"/g, '""')}"` };
    })().catch((error: unknown) => {
      this.own = null;
      throw error;
    });
    return this.own;
  }

  private async databaseOf(client: Pick<HostClient, 'query'>): Promise<string> {
    const { rows } = await client.query(
      `SELECT s.system_identifier::text || '/' || current_database() AS id FROM pg_control_system() s`);
    return rows[0].id as string;
  }
}
