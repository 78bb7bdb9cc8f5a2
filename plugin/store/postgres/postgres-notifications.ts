import type pg from 'pg';
import { PostgresBackend, PostgresNotificationChannel } from '@agendajs/postgres-backend';
import type { AgendaBackend } from 'agenda';
import { withNotificationChannel } from '../agenda-backend-with-channel.js';

/**
 * The PostgreSQL store's LISTEN/NOTIFY side: Agenda's backend with a notification channel
 * that survives outages, and the channel that wakes workers for deliveries other processes
 * recorded. Both hold a dedicated connection that a restart or pg_terminate_backend can cut,
 * so both handle its errors and reconnect by themselves.
 */

export function createPostgresAgendaBackend(
  pool: pg.Pool, prefix: string, onConnectionError: (error: unknown, where: string) => void, schemaLockId: number,
): AgendaBackend {
  const channelName = `${prefix}agenda_jobs`;
  // Agenda's own LISTEN channel, built here rather than by PostgresBackend because the
  // backend's gives up after 10 reconnection attempts (about 80 s: any longer outage would
  // leave it dead for good) and emits 'error' on an EventEmitter nobody listens to, which
  // crashed the host when its connection was terminated. This one retries for ever, once a
  // second: Agenda's connect() resets the attempt count, so the delay never grows past the
  // first, which is therefore set to what a retry interval should be.
  const channel = new PostgresNotificationChannel({
    pool,
    channelName,
    reconnect: { enabled: true, maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs: 1_000, maxDelayMs: 2_000 },
  });
  channel.on('error', (error: unknown) => onConnectionError(error, 'Agenda notification channel'));
  const backend = new PostgresBackend({
    pool,
    tableName: `${prefix}agenda_jobs`,
    logTableName: `${prefix}agenda_logs`,
    channelName,
    disableNotifications: true,
  });
  return withNotificationChannel(backend, channel, () => underSchemaLock(pool, schemaLockId, () => backend.connect()));
}

/**
 * Runs `work` holding the store's schema lock (a session advisory lock on a connection of its
 * own). Agenda's backend creates its tables, indexes, function and trigger on connect with
 * statements that race when several worker processes start at once (on a fresh database
 * `CREATE TABLE IF NOT EXISTS` fails with a duplicate pg_type key; `CREATE OR REPLACE FUNCTION`
 * and the trigger's drop-and-create conflict on any database), and Agenda calls connect() from
 * its constructor without catching, so the loser's rejection ended its process.
 */
async function underSchemaLock<T>(pool: pg.Pool, lockId: number, work: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failed = false;
  try {
    // Wait for a process that is creating the tables however long it takes (the store's pool
    // bounds lock waits by lock_timeout; RESET restores that on this pooled connection).
    await client.query('SET lock_timeout = 0');
    await client.query('SELECT pg_advisory_lock($1)', [lockId]);
    try {
      return await work();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [lockId]);
      await client.query('RESET lock_timeout');
    }
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // After a failure the connection may still hold the lock: close it rather than pool it.
    client.release(failed || undefined);
  }
}

/**
 * Calls `onWork` whenever a process announces recorded deliveries on `channel` (NOTIFY): see
 * WebhookStore.listenForNewWork.
 */
export async function listenForNewWork(
  pool: pg.Pool, channel: string, onWork: () => void, onError: (error: unknown) => void,
): Promise<() => Promise<void>> {
  let closed = false;
  let client: pg.PoolClient | null = null;
  let retry: NodeJS.Timeout | null = null;
  let failures = 0;
  const notified = () => onWork();
  // A dedicated connection holds the LISTEN. If it breaks, it is destroyed (never handed back
  // to a pool the host may share) and listening resumes with backoff; polling covers the gap.
  const listen = async (): Promise<void> => {
    retry = null;
    if (closed) return;
    let next: pg.PoolClient | null = null;
    try {
      next = await pool.connect();
      const current = next;
      current.on('notification', notified);
      current.on('error', (error) => {
        if (client !== current) return; // already released: a late error from a dead socket
        client = null;
        onError(error);
        release(current);
        schedule();
      });
      await current.query(`LISTEN "${channel}"`);
      failures = 0;
      if (closed) return void release(current);
      client = current;
    } catch (error) {
      onError(error);
      if (next) release(next);
      schedule();
    }
  };
  const release = (c: pg.PoolClient) => {
    c.removeAllListeners('notification');
    c.removeAllListeners('error');
    c.on('error', () => undefined); // a destroyed connection may still report its socket's end
    c.release(true);
  };
  const schedule = () => {
    if (closed || retry) return;
    failures += 1;
    // At most 2 s apart: the channel is back within seconds of the database (polling covers the gap).
    retry = setTimeout(() => void listen(), Math.min(2_000, 100 * 2 ** Math.min(failures, 5)));
  };
  await listen();
  return async () => {
    closed = true;
    if (retry) clearTimeout(retry);
    const current = client;
    client = null;
    if (current) release(current);
  };
}
