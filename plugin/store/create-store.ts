import type mongoose from 'mongoose';
import type pg from 'pg';
import type { StorageOptions } from '../options.js';
import type { RepeatLimitedLog } from '../repeat-limited-log.js';
import { MongoStore } from './mongo/mongo-store.js';
import { PostgresStore } from './postgres/postgres-store.js';
import type { WebhookStore } from './store-port.js';

/** Picks the adapter the options name; the only place that knows both exist. */
export function createStore(storage: StorageOptions, log: RepeatLimitedLog, connectTimeoutMs: number): WebhookStore {
  if ('store' in storage) return storage.store;
  // Connection errors nobody awaits are logged here: a dropped connection must never end the host.
  const onConnectionError = (error: unknown, where: string) =>
    log('warn', `Database connection error (${where}); reconnecting`, { error: String(error) });
  if ('postgres' in storage) {
    const { pool, connectionString, tablePrefix } = storage.postgres;
    // A hook call waits for a row lock no longer than for a connection: hookTimeoutMs.
    return new PostgresStore({
      pool: pool as pg.Pool | undefined, connectionString, tablePrefix, onConnectionError, connectTimeoutMs, lockTimeoutMs: connectTimeoutMs,
    });
  }
  return new MongoStore({
    connection: storage.mongo.connection as mongoose.Connection, collectionPrefix: storage.mongo.collectionPrefix, onConnectionError,
  });
}
