/**
 * PostgreSQL for chaos scenarios, through `dev/embedded-postgres.ts`: a server that can be
 * stopped and started again on the same port and data directory (what a restart or a
 * failover looks like to the plugin's pool), and the backend-killer an idle-connection
 * reaper or a failover amounts to.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, startEmbeddedPostgres, type RunningPostgres } from '../../dev/embedded-postgres.js';

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Where a scenario that needs no server of its own gets its database. */
export interface DatabaseProvider {
  /** Creates an empty database and returns its connection string. */
  createDatabase(name: string): Promise<string>;
}

/** A server with a fixed port and a persistent data directory, so it can be stopped and started again. */
export class RestartablePostgres implements DatabaseProvider {
  private server: RunningPostgres | null = null;

  private constructor(readonly dataDir: string, readonly port: number) {}

  static async start(): Promise<RestartablePostgres> {
    const dataDir = mkdtempSync(join(tmpdir(), 'webhooks-chaos-pg-'));
    const port = await freePort();
    const pgServer = new RestartablePostgres(dataDir, port);
    try {
      await pgServer.startServer();
    } catch (error) {
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
    return pgServer;
  }

  get running(): boolean {
    return this.server !== null;
  }

  /** The postmaster's pid, from its lock file. */
  get postmasterPid(): number | null {
    try {
      return Number(readFileSync(join(this.dataDir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]) || null;
    } catch {
      return null;
    }
  }

  url(database = 'postgres'): string {
    return `postgresql://postgres:postgres@127.0.0.1:${this.port}/${database}`;
  }

  async createDatabase(name: string): Promise<string> {
    if (!this.server) throw new Error('PostgreSQL is not running');
    return this.server.createDatabase(name);
  }

  /** Fast shutdown (SIGINT): every client gets 57P01 and its socket closes; resolves once the server exited. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    await server?.stop();
  }

  /**
   * Starts the server again on the same port and data. Resolves with the moment a new client
   * could first connect (polled every 20 ms from the call), which is what "PostgreSQL
   * accepts connections again" means to the plugin.
   */
  async start(): Promise<{ acceptingAt: number }> {
    let acceptingAt: number | null = null;
    let polling = true;
    const poll = (async () => {
      while (polling && acceptingAt === null) {
        const client = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 1_000 });
        client.on('error', () => undefined);
        try {
          await client.connect();
          acceptingAt = now();
        } catch {
          await sleep(20);
        } finally {
          await client.end().catch(() => undefined);
        }
      }
    })();
    try {
      await this.startServer();
      const deadline = now() + 10_000;
      while (acceptingAt === null && now() < deadline) await sleep(5);
    } finally {
      polling = false;
      await poll;
    }
    if (acceptingAt === null) throw new Error('PostgreSQL started but accepted no connection within 10 s');
    return { acceptingAt };
  }

  /** Stops the server if it runs and deletes its data directory. */
  async dispose(): Promise<void> {
    await this.stop().catch(() => undefined);
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private async startServer(): Promise<void> {
    this.server = await startEmbeddedPostgres({ dataDir: this.dataDir, port: this.port, persistent: true });
  }
}

/** The database name in a connection string. */
export function databaseName(connectionString: string): string {
  return decodeURIComponent(new URL(connectionString).pathname.slice(1));
}

/**
 * Terminates every backend connected to the connection string's database except the one
 * asking; returns how many it terminated.
 */
export async function terminateBackends(connectionString: string): Promise<number> {
  const client = new pg.Client({ connectionString });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query(
      'SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [databaseName(connectionString)],
    );
    return rows[0].n as number;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs one query on a fresh connection (the harness keeps no pool a fault could break). */
export async function queryOnce<R extends pg.QueryResultRow = pg.QueryResultRow>(connectionString: string, sql: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}
