/**
 * `npm run chaos`: runs each fault of issue #9 against the real parts (the plugin in a host
 * child process, embedded PostgreSQL, receivers and a DNS server on 127.0.0.1), prints a
 * summary and writes RELIABILITY.md (machine, method, figures, targets). Bounded in time;
 * every scenario cleans up after itself, failed or not.
 *
 * Scenarios (`CHAOS_ONLY=<name>[,<name>]` runs only those):
 *   baseline     0. no fault: the healthy endpoint alone at 300 events/s (the reference for d-f)
 *   pg-restart   a. PostgreSQL stopped and started again under load
 *   terminate    b. every plugin connection terminated, a few times, under load
 *   sigkill      c. the worker killed with SIGKILL mid-delivery, a new process started
 *   black-hole   d. a black-hole endpoint beside a healthy one, 300 events/s
 *   5xx          e. a 5xx endpoint beside a healthy one, 300 events/s
 *   slow-dns     f. slow DNS for one endpoint beside a healthy one, 300 events/s
 *   order        g. per-subject ordering: 10,000 events on 200 subjects, 2 worker processes, 20 % of requests failing
 */
import { rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startEmbeddedPostgres, type RunningPostgres } from '../../dev/embedded-postgres.js';
import { machineCpu, now, sleep, waitForQuiet, withTimeout, type Machine } from '../measure.js';
import { consoleSummary, markdown } from './report.js';
import type { ScenarioEnv, ScenarioReport } from './scenario-kit.js';
import { FULL as BASELINE, runBaseline } from './scenarios/baseline.js';
import { FULL as BLACK_HOLE, runBlackHole } from './scenarios/black-hole.js';
import { FULL as FAILING, runFailingEndpoint } from './scenarios/failing-endpoint.js';
import { FULL as PG_RESTART, runPgRestart } from './scenarios/pg-restart.js';
import { FULL as SLOW_DNS, runSlowDns } from './scenarios/slow-dns.js';
import { FULL as ORDER, runPerSubjectOrder } from './scenarios/per-subject-order.js';
import { FULL as TERMINATE, runTerminateConnections } from './scenarios/terminate-connections.js';
import { FULL as SIGKILL, runWorkerSigkill } from './scenarios/worker-sigkill.js';

const SCENARIOS: Array<{ name: string; title: string; run: (env: ScenarioEnv) => Promise<{ report: ScenarioReport }> }> = [
  { name: 'baseline', title: '0. Baseline: the healthy endpoint alone (no fault)', run: (env) => runBaseline(BASELINE, env) },
  { name: 'pg-restart', title: 'a. PostgreSQL restarted under load', run: (env) => runPgRestart(PG_RESTART, env) },
  { name: 'terminate', title: 'b. Every plugin connection terminated', run: (env) => runTerminateConnections(TERMINATE, env) },
  { name: 'sigkill', title: 'c. Worker killed with SIGKILL mid-delivery', run: (env) => runWorkerSigkill(SIGKILL, env) },
  { name: 'black-hole', title: 'd. Black-hole endpoint beside a healthy one', run: (env) => runBlackHole(BLACK_HOLE, env) },
  { name: '5xx', title: 'e. 5xx endpoint beside a healthy one', run: (env) => runFailingEndpoint(FAILING, env) },
  { name: 'slow-dns', title: 'f. Slow DNS for one endpoint', run: (env) => runSlowDns(SLOW_DNS, env) },
  { name: 'order', title: 'g. Per-subject ordering across worker processes', run: (env) => runPerSubjectOrder(ORDER, env) },
];
const WATCHDOG_MS = 25 * 60_000;
/** Other processes using more than this many cores make the figures noisy (as in bench/run.ts). */
const NOISY_CORES = 0.5;

const T0 = now();
const log = (message: string) => process.stderr.write(`[chaos +${((now() - T0) / 1000).toFixed(1)}s] ${message}\n`);

const only = process.env.CHAOS_ONLY ? process.env.CHAOS_ONLY.split(',').map((s) => s.trim()).filter(Boolean) : null;
const unknown = (only ?? []).filter((name) => !SCENARIOS.some((s) => s.name === name));
if (unknown.length > 0) {
  process.stderr.write(`CHAOS_ONLY: unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}\n`);
  process.exit(2);
}
const selected = SCENARIOS.filter((s) => !only || only.includes(s.name));

const shared: { server?: RunningPostgres; dataDir?: string } = {};
let databaseCounter = 0;

/** One server for the scenarios that need no server of their own, started on first use. */
async function sharedDatabase(name: string): Promise<string> {
  if (!shared.server) {
    shared.dataDir = mkdtempSync(join(os.tmpdir(), 'webhooks-chaos-shared-pg-'));
    shared.server = await withTimeout(startEmbeddedPostgres({ dataDir: shared.dataDir }), 60_000, 'starting PostgreSQL');
  }
  databaseCounter += 1;
  return shared.server.createDatabase(`${name.slice(0, 40)}_${databaseCounter}`);
}

async function postgresVersion(): Promise<string> {
  const url = await sharedDatabase('chaos_version');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return String((await client.query('SELECT version()')).rows[0].version).split(' on ')[0];
  } finally {
    await client.end();
  }
}

async function cleanup(): Promise<void> {
  if (shared.server) await withTimeout(shared.server.stop(), 30_000, 'stopping PostgreSQL').catch((e: unknown) => log(`cleanup: ${String(e)}`));
  if (shared.dataDir) rmSync(shared.dataDir, { recursive: true, force: true });
  shared.server = undefined;
  shared.dataDir = undefined;
}

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    log(`watchdog: the chaos run took more than ${WATCHDOG_MS / 60_000} minutes; giving up`);
    void cleanup().finally(() => process.exit(3));
  }, WATCHDOG_MS);
  watchdog.unref();
  const cpus = os.cpus();
  const machine: Machine = {
    cpu: (cpus[0]?.model ?? 'unknown').trim(), cores: cpus.length, memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} (${os.arch()})`, node: process.version, postgres: await postgresVersion(),
    date: new Date().toISOString(), loadAverage: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
  log(`machine: ${machine.cpu} × ${machine.cores}, load average ${machine.loadAverage}; scenarios: ${selected.map((s) => s.name).join(', ')}`);
  const env: ScenarioEnv = { databases: { createDatabase: sharedDatabase }, log };
  const reports: ScenarioReport[] = [];
  await waitForQuiet(Number(process.env.CHAOS_QUIET_WAIT_S ?? 60), NOISY_CORES, log);
  for (const scenario of selected) {
    log(`--- ${scenario.title}`);
    const started = now();
    const cpu0 = machineCpu();
    const loadAtStart = os.loadavg()[0].toFixed(2);
    try {
      const { report } = await scenario.run(env);
      const cpu1 = machineCpu();
      const busyCores = ((cpu1.busy - cpu0.busy) / Math.max(1, cpu1.total - cpu0.total)) * cpus.length;
      report.figures.push({
        label: 'Machine during the scenario (everything: host, PostgreSQL, harness, other processes)',
        value: `${busyCores.toFixed(2)} of ${cpus.length} cores busy on average; 1-minute load average at its start ${loadAtStart}`,
      });
      reports.push(report);
    } catch (error) {
      log(`${scenario.name} failed to run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      reports.push({
        key: scenario.name, title: scenario.title, status: 'failed to run', method: [],
        figures: [{ label: 'Error', value: (error instanceof Error ? error.message : String(error)).slice(0, 2_000) }],
        targets: [], crashes: [], notes: [], durationMs: now() - started,
      });
    }
  }
  process.stdout.write(consoleSummary(machine, reports));
  const file = fileURLToPath(new URL('../../RELIABILITY.md', import.meta.url));
  writeFileSync(file, markdown(machine, reports, only));
  log(`wrote ${file}`);
  clearTimeout(watchdog);
}


let exitCode = 0;
try {
  await main();
} catch (error) {
  exitCode = 1;
  log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  await cleanup();
  log('done');
}
process.exit(exitCode);
