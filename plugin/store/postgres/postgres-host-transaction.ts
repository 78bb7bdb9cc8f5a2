import type pg from 'pg';
import { ForeignTransactionError } from '../../errors.js';
import type { HostTransaction } from '../store-port.js';
import type { PostgresTables } from './postgres-tables.js';

/** The part of a `pg` Client the outbox uses. */
interface HostClient {
  query: pg.ClientBase['query'];
  /** pg >= 8.12: 'I' idle, 'T' in a transaction, 'E' in a failed transaction, null before connecting. */
  getTransactionStatus?: () => string | null;
}

/**
 * Checks that a host's `context.transaction` can carry the plugin's writes: a `pg` client, inside
 * BEGIN, connected to the very database (and schema) of the plugin's tables. What makes a
 * database "the same" is read through the client itself - the cluster's system identifier, the
 * database name and the oid its search path gives the events table - and compared with what the
 * store's own pool sees. The check never fails a statement (an error would abort the host's
 * transaction), and its answer is kept per client: a pg client is one connection for its life.
 */
export class HostTransactionCheck {
  private readonly verified = new WeakMap<object, true>();
  private own: Promise<string> | null = null;

  constructor(private readonly db: PostgresTables) {}

  async clientOf(transaction: HostTransaction): Promise<HostClient> {
    const client = transaction as Partial<HostClient>;
    if (typeof client.query !== 'function') {
      throw new ForeignTransactionError('the PostgreSQL store takes a pg Client (or a pooled client) inside BEGIN');
    }
    const status = typeof client.getTransactionStatus === 'function' ? client.getTransactionStatus() : 'T';
    if (status === 'E') throw new ForeignTransactionError('the transaction has already failed; roll it back');
    if (status !== 'T') throw new ForeignTransactionError('the client is not inside a transaction (call BEGIN first)');
    if (this.verified.has(client)) return client as HostClient;
    const [theirs, ours] = await Promise.all([this.identity(client as HostClient), this.ownIdentity()]);
    if (theirs !== ours) {
      throw new ForeignTransactionError('the client is connected to another database (or schema) than the plugin\'s store');
    }
    this.verified.set(client, true);
    return client as HostClient;
  }

  private ownIdentity(): Promise<string> {
    this.own ??= this.identity(this.db.pool).catch((error: unknown) => {
      this.own = null;
      throw error;
    });
    return this.own;
  }

  private async identity(client: Pick<HostClient, 'query'>): Promise<string> {
    const { rows } = await client.query(
      `SELECT s.system_identifier::text || '/' || current_database() || '/' || coalesce(to_regclass($1)::oid::text, '-') AS id
       FROM pg_control_system() s`, [this.db.table('events')]);
    return rows[0].id as string;
  }
}
