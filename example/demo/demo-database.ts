import { statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import mongoose from 'mongoose';
import pg from 'pg';
import { recoverOrphanedCluster, startEmbeddedPostgres, freePort, type RunningPostgres } from '../../dev/embedded-postgres.js';
import type { HostAppOptions } from '../host-app.js';
import type { HostLogger } from '../host-logger.js';
import { MongooseUserRepository } from '../users/mongoose-user-repository.js';
import { PostgresUserRepository } from '../users/postgres-user-repository.js';
import type { UserRepository } from '../users/user-repository.js';
import type { DemoConfig } from './demo-config.js';
import { saveDemoState, type DemoState } from './demo-state.js';

/** The database the demo's directory and the plugin share. */
export interface DemoDatabase {
  /** For the start-up banner, e.g. `embedded PostgreSQL 18 (.data/postgres, port 5433)`. */
  label: string;
  /** Identifies the database without credentials, for per-database demo state. */
  key: string;
  users: UserRepository;
  database: HostAppOptions['database'];
  close(): Promise<void>;
}

const DEMO_DATABASE = 'identity_demo';

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePromise(true)));
  });
}

/**
 * As root, embedded-postgres runs PostgreSQL as the `postgres` OS user, which must be able
 * to walk down to the cluster. A home directory such as /root (0700) stops it with a bare
 * "Permission denied" from initdb; this says which directory and what to do instead.
 */
function assertReachableByPostgresUser(dir: string): void {
  if (process.getuid?.() !== 0) return;
  for (let current = resolve(dir); ; current = dirname(current)) {
    let mode: number;
    try {
      mode = statSync(current).mode;
    } catch {
      if (current === dirname(current)) return;
      continue; // not created yet
    }
    if ((mode & 0o001) === 0) {
      throw new Error(`Running as root, embedded PostgreSQL runs as the "postgres" user, which cannot enter ${current} (mode ${(mode & 0o777).toString(8)}). `
        + 'Run the demo as a normal user, set DEMO_DATA_DIR to a directory it can reach (e.g. /var/tmp/webhooks-demo), or set DATABASE_URL.');
    }
    if (current === dirname(current)) return;
  }
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

async function openEmbedded(config: DemoConfig, state: DemoState, logger: HostLogger, requestedPort?: number): Promise<DemoDatabase> {
  const parent = join(config.dataDir, 'postgres');
  assertReachableByPostgresUser(parent);
  // Stop a PostgreSQL a killed demo left running before looking at its port: the instance
  // lock (taken by the caller) guarantees no live demo owns it.
  await recoverOrphanedCluster(join(parent, 'data'), (message) => logger.warn(message));
  // The port is kept in the demo state so every restart finds the same cluster where the
  // last one left it; only the first start picks one.
  const port = requestedPort ?? state.postgresPort ?? (await freePort());
  if (!(await portIsFree(port))) {
    throw new Error(`Port ${port} for the demo's PostgreSQL (kept in ${join(config.dataDir, 'demo-state.json')}) is taken by another program; free it, or set DEMO_PG_PORT to another port`);
  }
  if (state.postgresPort !== port) {
    state.postgresPort = port;
    saveDemoState(config.dataDir, state);
  }
  let server: RunningPostgres;
  try {
    server = await startEmbeddedPostgres({ dataDir: parent, persistent: true, port, createPostgresUser: true });
  } catch (error) {
    throw new Error(`${(error as Error).message}\nIf the data folder is damaged, npm run demo:reset starts the demo afresh.`);
  }
  await ensureDatabase(server.url, DEMO_DATABASE);
  const pool = watched(new pg.Pool({ connectionString: server.url.replace(/\/postgres$/, `/${DEMO_DATABASE}`), max: 20 }), logger);
  return {
    label: `embedded PostgreSQL (${parent}, port ${port})`,
    key: 'embedded-postgres',
    users: new PostgresUserRepository(pool),
    database: { postgres: pool },
    async close() {
      await pool.end();
      await server.stop();
    },
  };
}

/**
 * A pool whose idle connections can die (the server restarts, Ctrl-C reaches PostgreSQL
 * before this process, an idle-connection killer) must have an 'error' listener, or the
 * error is an uncaught exception that ends the server. The pool replaces the client itself.
 */
function watched(pool: pg.Pool, logger: HostLogger): pg.Pool {
  pool.on('error', (error) => logger.warn('database connection lost; the pool reconnects on next use', { error: String(error) }));
  return pool;
}

/** PostgreSQL from npm by default, an existing PostgreSQL with DATABASE_URL, MongoDB with MONGODB_URI. */
export async function openDemoDatabase(config: DemoConfig, state: DemoState, logger: HostLogger): Promise<DemoDatabase> {
  const choice = config.database;
  if (choice.kind === 'embedded-postgres') return openEmbedded(config, state, logger, choice.port);
  if (choice.kind === 'postgres') {
    const pool = watched(new pg.Pool({ connectionString: choice.url, max: 20 }), logger);
    await pool.query('SELECT 1');
    const where = new URL(choice.url);
    return {
      label: `PostgreSQL at ${where.host}${where.pathname}`,
      key: `postgres:${where.host}${where.pathname}`,
      users: new PostgresUserRepository(pool),
      database: { postgres: pool },
      close: () => pool.end(),
    };
  }
  const connection = await mongoose.createConnection(choice.uri, { serverSelectionTimeoutMS: 10_000 }).asPromise();
  // Hosts and database name without the credentials (a replica-set list is not one URL host).
  const where = choice.uri.replace(/^mongodb(\+srv)?:\/\/([^@/]*@)?/, '').replace(/\?.*$/, '');
  return {
    label: `MongoDB at ${where}`,
    key: `mongo:${where}`,
    users: new MongooseUserRepository(connection),
    database: { mongoose: connection },
    close: () => connection.close(),
  };
}
