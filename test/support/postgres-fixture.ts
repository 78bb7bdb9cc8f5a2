import { startEmbeddedPostgres, type RunningPostgres } from '../../dev/embedded-postgres.js';

/**
 * One PostgreSQL server for the whole mocha run, started on first use; each suite gets its own
 * database so suites never see each other's rows. Stopped by the root hook in `global-hooks.ts`.
 */
let server: Promise<RunningPostgres> | undefined;
let counter = 0;

export async function freshPostgresDatabase(): Promise<string> {
  // Test data need not survive an OS crash: without fsync, the hundreds of databases the suites
  // create make no slow checkpoints, and stopping the server at the end stays quick on a busy machine.
  server ??= startEmbeddedPostgres({ settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } });
  const running = await server;
  counter += 1;
  return running.createDatabase(`test_${process.pid}_${counter}`);
}

export async function stopPostgres(): Promise<void> {
  if (!server) return;
  const running = await server;
  server = undefined;
  await running.stop();
}
