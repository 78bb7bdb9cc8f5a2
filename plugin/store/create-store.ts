import type mongoose from 'mongoose';
import type pg from 'pg';
import type { StorageOptions } from '../options.js';
import { MongoStore } from './mongo/mongo-store.js';
import { PostgresStore } from './postgres/postgres-store.js';
import type { WebhookStore } from './store-port.js';

/** Picks the adapter the options name; the only place that knows both exist. */
export function createStore(storage: StorageOptions): WebhookStore {
  if ('store' in storage) return storage.store;
  if ('postgres' in storage) {
    const { pool, connectionString, tablePrefix } = storage.postgres;
    return new PostgresStore({ pool: pool as pg.Pool | undefined, connectionString, tablePrefix });
  }
  return new MongoStore({ connection: storage.mongo.connection as mongoose.Connection, collectionPrefix: storage.mongo.collectionPrefix });
}
