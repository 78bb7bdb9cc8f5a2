/**
 * Scale-out scenario of `npm run bench`: one backlog drained by N worker processes at once.
 *
 * The backlog (E events x W webhooks, the events about `subjects` users) is recorded once, by an
 * instance with `runWorker: false`, into a template database, with its webhooks then disabled;
 * every run drains an identical copy of it (`CREATE DATABASE ... TEMPLATE`), so runs differ only
 * in the number of processes. Each worker is a real child process (bench/scale-out-worker.ts)
 * running a plugin instance with the worker, all on the same PostgreSQL database, all delivering
 * to the bench's receiver process.
 *
 * The workers are started and warmed up first, on a small backlog of their own (another
 * webhook): a worker process lives for days, and its start-up (module loading, connections,
 * compiling hot code) is not what scale-out is about. Then the clock starts, the backlog's
 * webhooks are enabled and a NOTIFY wakes the workers - exactly what a web node's hook call
 * does - and the clock stops at the last receipt. Duplicates are counted at the receiver by
 * `webhook-id`, over the warm-up and the drain.
 *
 * Runs go in the order 1, 2, 4, 4, 2, 1 processes (ABBA, so a machine that drifts over the
 * scenario charges each count alike), then once per count with every webhook set to
 * `ordering: 'per_subject'` for the cost of ordering.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { RunningPostgres } from '../dev/embedded-postgres.js';
import { createWebhooksPlugin, PostgresStore } from '../plugin/index.js';
import { fmt, machineCpu, now, postgresCpuSeconds, sleep, withTimeout } from './measure.js';
import type { ReceiverProcess } from './receiver.js';
import type { ScaleOutStoreActivity, ScaleOutWorkerConfig, ScaleOutWorkerCpu, ScaleOutWorkerMessage } from './scale-out-worker.js';

export interface ScaleOutConfig {
  events: number;
  webhooks: number;
  subjects: number;
  processCounts: number[];
  /** Rounds of the unordered runs (each round runs every count; odd rounds in reverse). */
  rounds: number;
  /**
   * Plugins to compare, each run for every step of the plan: this tree's (`pluginEntry` absent)
   * and, for a before/after in one run, another checkout's `plugin/index.ts`.
   */
  variants: Array<{ label: string; pluginEntry?: string }>;
  /** Then one run per count with every webhook set to `ordering: 'per_subject'`. */
  perSubject: boolean;
  /**
   * Deliveries each worker process sends (to another webhook) after start() and before the
   * clock starts: V8 compiles a process's hot code only after it has run for a while, and a
   * process of N that had drained a smaller share would start the clock colder.
   */
  warmUpPerProcess: number;
}

export interface ScaleOutDeps {
  pgServer: RunningPostgres;
  postmasterPid: number | null;
  receiver: ReceiverProcess;
  log: (line: string) => void;
}

export type Ordering = 'none' | 'per_subject';

export interface ScaleOutRun {
  variant: string;
  processes: number;
  ordering: Ordering;
  deliveries: number;
  /** Deliveries ÷ (last receipt − the moment the children were told to start). */
  deliveriesPerSecond: number;
  received: number;
  duplicates: number;
  /** Per-subject runs: deliveries to one webhook about one subject that started before the one before them had ended. */
  orderViolations: number | null;
  /** CPU in cores over the drain: each worker process, all of them, PostgreSQL, the receiver, everything else. */
  workerCores: number[];
  postgresCores: number | null;
  receiverCores: number;
  otherCores: number;
  /** Context switches of all worker processes over the drain, per delivery. */
  switchesPerDelivery: { voluntary: number; involuntary: number };
  /** The warm-up backlog's deliveries ÷ (its last receipt − the call to start()): the drain of cold processes. */
  coldPerSecond: number;
  /** How long the processes' start() took, together (not part of the drain). */
  startMs: number;
  warnings: number;
  errors: number;
  firstProblem: string | null;
  /** Each process's claims and result writes. */
  activity: ScaleOutStoreActivity[];
}

export interface ScaleOutResult {
  config: ScaleOutConfig;
  runs: ScaleOutRun[];
  /** Whether the store's claims held back later deliveries about a subject (null: not probed). */
  orderingInClaims: boolean | null;
}

const TENANT = 'bench';
const WORKER_SCRIPT = fileURLToPath(new URL('./scale-out-worker.ts', import.meta.url));
const DRAIN_TIMEOUT_MS = 180_000;

interface Child {
  process: ChildProcess;
  next: (type: ScaleOutWorkerMessage['type'], timeoutMs?: number) => Promise<ScaleOutWorkerMessage>;
}

function forkWorker(config: ScaleOutWorkerConfig): Child {
  const child = fork(WORKER_SCRIPT, [], {
    // BENCH_SCALE_CPU_PROF=<dir>: each worker writes a V8 CPU profile there (for finding where its time goes).
    // BENCH_SCALE_NODE_FLAGS: more Node/V8 flags for the workers (e.g. to try GC settings).
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_SCALE_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), ...(process.env.BENCH_SCALE_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SCALE_CPU_PROF}`] : [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, SCALE_OUT_WORKER: JSON.stringify(config) },
  });
  const inbox: ScaleOutWorkerMessage[] = [];
  const waiting: Array<{ resolve: (message: ScaleOutWorkerMessage) => void; reject: (error: Error) => void }> = [];
  let exited: Error | null = null;
  child.on('message', (message: ScaleOutWorkerMessage) => {
    const waiter = waiting.shift();
    if (waiter) waiter.resolve(message);
    else inbox.push(message);
  });
  child.on('exit', (code, signal) => {
    exited = new Error(`worker ${config.workerName} exited (${signal ?? `code ${code}`})`);
    for (const waiter of waiting.splice(0)) waiter.reject(exited);
  });
  const next = async (type: ScaleOutWorkerMessage['type'], timeoutMs = 60_000): Promise<ScaleOutWorkerMessage> => {
    const message = await withTimeout(new Promise<ScaleOutWorkerMessage>((resolve, reject) => {
      const queued = inbox.shift();
      if (queued) return resolve(queued);
      if (exited) return reject(exited);
      waiting.push({ resolve, reject });
    }), timeoutMs, `worker ${config.workerName} answering "${type}"`);
    if (message.type === 'failed') throw new Error(`worker ${config.workerName}: ${message.error}`);
    if (message.type !== type) throw new Error(`worker ${config.workerName} said "${message.type}" where "${type}" was expected`);
    return message;
  };
  return { process: child, next };
}

async function cpuOf(children: Child[]): Promise<ScaleOutWorkerCpu[]> {
  return Promise.all(children.map(async (c) => {
    c.process.send({ cmd: 'cpu' });
    return (await c.next('cpu')) as Extract<ScaleOutWorkerMessage, { type: 'cpu' }>;
  }));
}

/** Names of the webhooks in the template: the measured ones (enabled at the start of a drain) and the warm-up one. */
const MEASURED = (i: number) => `scale-${i}`;
const WARM_UP = 'warm-up';

/**
 * Records the backlog once, into a database the runs copy: `events` USER_LOGIN events for the
 * measured webhooks, which are then disabled (claims skip disabled webhooks, so the backlog
 * waits, untouched, until a drain enables them), and USER_LOGOUT events (warmUpPerProcess for each of the most processes) for one
 * warm-up webhook that stays enabled.
 */
async function recordTemplate(deps: ScaleOutDeps, config: ScaleOutConfig, key: { id: string; key: string }): Promise<string> {
  const { events: E, webhooks: W, subjects } = config;
  const warmUpEvents = config.warmUpPerProcess * Math.max(...config.processCounts);
  const db = await deps.pgServer.createDatabase('bench_scale_template');
  deps.log(`scale-out: recording ${E} events about ${subjects} users for ${W} webhooks (${E * W} deliveries), and ${warmUpEvents} ` +
    'warm-up deliveries, into a template database');
  const recorder = createWebhooksPlugin({
    storage: { postgres: { connectionString: db } }, encryptionKeys: [key], runWorker: false,
    egress: { allow: ['127.0.0.0/8'], privateResponseBodies: true },
    logger: { info: () => undefined, warn: (m) => deps.log(`scale-out recorder warn: ${m}`), error: (m) => deps.log(`scale-out recorder error: ${m}`) },
  });
  await recorder.start();
  try {
    const ctx = recorder.context({ tenantId: TENANT }, 'default');
    for (let i = 0; i < W; i += 1) {
      await recorder.webhooks.create({ name: MEASURED(i), url: `${deps.receiver.url}/hook/${MEASURED(i)}`, events: ['USER_LOGIN'] }, ctx);
    }
    await recorder.webhooks.create({ name: WARM_UP, url: `${deps.receiver.url}/hook/${WARM_UP}`, events: ['USER_LOGOUT'] }, ctx);
    const user = (n: number) => ({ _id: `6650f1c2a4b3${String(n % subjects).padStart(12, '0')}`, username: `user${n % subjects}` });
    const calls = [
      ...Array.from({ length: E }, (_, n) => () => recorder.hooks.userLogin({ user: user(n), strategy: 'local' }, { tenantId: TENANT, request: { requestId: `scale-${n}` } })),
      ...Array.from({ length: warmUpEvents }, (_, n) => () => recorder.hooks.userLogout({ user: user(n) }, { tenantId: TENANT })),
    ];
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < calls.length) await calls[next++]();
    }));
      } finally {
    await recorder.stop();
  }
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    await client.query(`UPDATE "webhook_webhooks" SET enabled = false WHERE name <> $1`, [WARM_UP]);
  } finally {
    await client.end();
  }
  // Agenda's tables too, as on any database a worker has run on before.
  const store = new PostgresStore({ connectionString: db });
  try {
    const agenda = store.createAgendaBackend();
    await agenda.connect();
    await agenda.disconnect();
  } finally {
    await store.close();
  }
  return db;
}

export async function measureScaleOut(deps: ScaleOutDeps, config: ScaleOutConfig): Promise<ScaleOutResult> {
  const key = { id: 'scale-1', key: randomBytes(32).toString('base64') };
  const template = await recordTemplate(deps, config, key);
  const admin = new pg.Client({ connectionString: deps.pgServer.url });
  await admin.connect();
  const copy = async (name: string) => {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE bench_scale_template`);
    const url = new URL(template);
    url.pathname = `/${name}`;
    return url.toString();
  };
  const drop = (name: string) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
  const plan: Array<{ processes: number; ordering: Ordering }> = [];
  for (let round = 0; round < config.rounds; round += 1) {
    const counts = round % 2 === 0 ? config.processCounts : [...config.processCounts].reverse();
    for (const processes of counts) plan.push({ processes, ordering: 'none' });
  }
  if (config.perSubject) for (const processes of config.processCounts) plan.push({ processes, ordering: 'per_subject' });
  const runs: ScaleOutRun[] = [];
  let orderingInClaims: boolean | null = null;
  try {
    if (config.perSubject) {
      orderingInClaims = await probeOrderingInClaims(await copy('bench_scale_probe')).finally(() => drop('bench_scale_probe'));
      if (!orderingInClaims) deps.log('scale-out: claims do not hold back later deliveries about a subject yet: per-subject ordering is not in place');
    }
    for (const [i, step] of plan.entries()) {
      const name = `bench_scale_${i + 1}`;
      // A baseline is compared on the unordered drains only (it may predate per-subject ordering).
      for (const variant of step.ordering === 'none' ? config.variants : config.variants.slice(0, 1)) {
        try {
          runs.push(await drainWith(deps, config, await copy(name), key, step.processes, step.ordering, variant));
        } finally {
          await drop(name);
        }
      }
    }
  } finally {
    await drop('bench_scale_template');
    await admin.end();
  }
  return { config, runs, orderingInClaims };
}

/**
 * Whether the store's claim honours `ordering: 'per_subject'`: with every measured webhook set
 * to it, one claim that may take everything due takes at most one delivery per (webhook,
 * subject). Run on a throw-away copy of the backlog.
 */
async function probeOrderingInClaims(db: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  const store = new PostgresStore({ connectionString: db });
  try {
    await client.query(`UPDATE "webhook_webhooks" SET ordering = 'per_subject', enabled = true WHERE name <> $1`, [WARM_UP]);
    await client.query(`UPDATE "webhook_webhooks" SET enabled = false WHERE name = $1`, [WARM_UP]);
    const claimed = await store.claimDueDeliveries({
      now: new Date(), limit: 1_000_000, leaseMs: 60_000, owner: 'probe', perWebhookLimit: 1_000_000, webhookLimits: new Map(),
    });
    const heads = new Set(claimed.map(({ delivery }) => `${delivery.webhookId} ${delivery.subject}`));
    return claimed.length > 0 && claimed.length === heads.size;
  } finally {
    await store.close();
    await client.end();
  }
}

async function drainWith(deps: ScaleOutDeps, config: ScaleOutConfig, db: string, key: { id: string; key: string },
  processes: number, ordering: Ordering, variant: ScaleOutConfig['variants'][number]): Promise<ScaleOutRun> {
  const total = config.events * config.webhooks;
  const pool = new pg.Pool({ connectionString: db, max: 1 });
  // DROP DATABASE ... WITH (FORCE) ends whatever connection is left; that is expected here.
  pool.on('error', () => undefined);
  const pendingOf = async (which: 'warm-up' | 'all') => (await pool.query(
    `SELECT count(*)::int AS n FROM "webhook_deliveries" d JOIN "webhook_webhooks" w ON w.id = d.webhook_id
     WHERE d.status = 'pending' AND ($1 OR w.name = $2)`, [which === 'all', WARM_UP])).rows[0].n as number;
  const untilNothingPending = async (which: 'warm-up' | 'all') => {
    const deadline = now() + 30_000;
    while ((await pendingOf(which)) > 0 && now() < deadline) await sleep(50);
  };
  const children: Child[] = [];
  try {
    // The template has the warm-up backlog for the most processes: keep this run's share of it.
    const warmUpEvents = config.warmUpPerProcess * processes;
    await pool.query(`DELETE FROM "webhook_deliveries" WHERE id IN (
      SELECT d.id FROM "webhook_deliveries" d JOIN "webhook_webhooks" w ON w.id = d.webhook_id WHERE w.name = $1 ORDER BY d.id OFFSET $2)`,
    [WARM_UP, warmUpEvents]);
    if (ordering === 'per_subject') await pool.query(`UPDATE "webhook_webhooks" SET ordering = 'per_subject' WHERE name <> $1`, [WARM_UP]);
    await deps.receiver.reset();
    for (let i = 0; i < processes; i += 1) {
      children.push(forkWorker({ connectionString: db, encryptionKey: key, workerName: `scale-${processes}-${i}`, egressAllow: ['127.0.0.0/8'],
        pluginEntry: variant.pluginEntry }));
    }
    await Promise.all(children.map((c) => c.next('ready')));
    // Started and warmed up (connections open, code compiled) on the warm-up backlog.
    const startedAt = now();
    // One after the other: a baseline from before the schema lock in Agenda's connect (see
    // postgres-notifications.ts) failed with "tuple concurrently updated" when started together.
    for (const c of children) {
      c.process.send({ cmd: 'start' });
      await c.next('started');
    }
    const startMs = now() - startedAt;
    const warmUpDone = await deps.receiver.waitFor(warmUpEvents, DRAIN_TIMEOUT_MS);
    // Cold processes from start() on: how the issue first measured scale-out.
    const coldPerSecond = warmUpEvents / ((warmUpDone.reachedAt - startedAt) / 1_000);
    await untilNothingPending('warm-up');
    await sleep(300);
    const warmUp = await deps.receiver.stats();
    await deps.receiver.reset();

    const cpu0 = await cpuOf(children);
    const machine0 = machineCpu();
    const pg0 = postgresCpuSeconds(deps.postmasterPid);
    const receiver0 = (await deps.receiver.stats()).cpuMicros;
    const self0 = process.cpuUsage();
    const start = now();
    // What a web node's hook call does when it records work: the rows become claimable, and a
    // NOTIFY wakes every listening worker.
    await pool.query(`UPDATE "webhook_webhooks" SET enabled = true WHERE name <> $1`, [WARM_UP]);
    await pool.query(`SELECT pg_notify('webhook_new_work', '')`);
    const { reachedAt } = await deps.receiver.waitFor(total, DRAIN_TIMEOUT_MS);
    const cpu1 = await cpuOf(children);
    const wallS = (now() - start) / 1_000;
    const machine1 = machineCpu();
    const pg1 = postgresCpuSeconds(deps.postmasterPid);
    const receiverCores = ((await deps.receiver.stats()).cpuMicros - receiver0) / 1e6 / wallS;
    const selfCores = (({ user, system }) => (user + system) / 1e6 / wallS)(process.cpuUsage(self0));
    const workerCores = cpu1.map((c, i) => (c.cpuMicros - cpu0[i].cpuMicros) / 1e6 / wallS);
    const switches = cpu1.reduce((sum, c, i) => ({
      voluntary: sum.voluntary + c.voluntarySwitches - cpu0[i].voluntarySwitches,
      involuntary: sum.involuntary + c.involuntarySwitches - cpu0[i].involuntarySwitches,
    }), { voluntary: 0, involuntary: 0 });
    const postgresCores = pg0 !== null && pg1 !== null ? (pg1 - pg0) / wallS : null;
    const machineCores = ((machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total)) * os.cpus().length;
    const otherCores = Math.max(0, machineCores - selfCores - receiverCores - (postgresCores ?? 0) - workerCores.reduce((a, b) => a + b, 0));

    // Every result written back, so nothing is left leased when the workers stop.
    await untilNothingPending('all');
    let warnings = 0;
    let errors = 0;
    let firstProblem: string | null = null;
    const activity: ScaleOutStoreActivity[] = [];
    for (const c of children) c.process.send({ cmd: 'stop' });
    for (const c of children) {
      const stopped = (await c.next('stopped', 30_000)) as Extract<ScaleOutWorkerMessage, { type: 'stopped' }>;
      warnings += stopped.warnings;
      errors += stopped.errors;
      firstProblem ??= stopped.firstProblem;
      activity.push(stopped.activity);
    }
    // Counted after the workers stopped: a duplicate sent after the last first receipt counts too.
    const stats = await deps.receiver.stats();
    const orderViolations = ordering === 'per_subject' ? await countOrderViolations(pool) : null;
    const run: ScaleOutRun = {
      variant: variant.label, processes, ordering, deliveries: total, deliveriesPerSecond: total / ((reachedAt - start) / 1_000), received: stats.hookRequests,
      duplicates: stats.hookRequests - stats.uniqueWebhookIds + (warmUp.hookRequests - warmUp.uniqueWebhookIds), orderViolations,
      workerCores, postgresCores, receiverCores, otherCores, startMs, coldPerSecond,
      switchesPerDelivery: { voluntary: switches.voluntary / total, involuntary: switches.involuntary / total }, warnings, errors, firstProblem, activity,
    };
    deps.log(`scale-out${config.variants.length > 1 ? ` [${variant.label}]` : ''}: ${processes} process(es), ordering ${ordering}: ${fmt(run.deliveriesPerSecond)} deliveries/s, ` +
      `${run.duplicates} duplicates${orderViolations === null ? '' : `, ${orderViolations} out of order`}; start() ${fmt(startMs)} ms, ` +
      `cold (warm-up from start()) ${fmt(coldPerSecond)}/s; CPU cores: workers ` +
      `${workerCores.map((c) => c.toFixed(2)).join(' + ')}, postgres ${postgresCores?.toFixed(2) ?? 'n/a'}, receiver ${receiverCores.toFixed(2)}, ` +
      `other ${otherCores.toFixed(2)}; context switches per delivery ${(switches.voluntary / total).toFixed(2)} + ` +
      `${(switches.involuntary / total).toFixed(2)} preempted; claims (empty) rows ms-mean: ${activity.map((a) => `${a.claims} (${a.emptyClaims}) ${a.claimedRows} ` +
        `${fmt(a.claimMs / Math.max(1, a.claims), 1)} conn ${a.connectionsOpened}`).join(' | ')}; plugin log ${warnings} warnings, ${errors} errors${firstProblem ? ` (first: ${firstProblem})` : ''}`);
    return run;
  } finally {
    // They exit by themselves once stopped (writing their CPU profiles, if asked); the rest are killed.
    await Promise.all(children.map((c) => (c.process.exitCode !== null || c.process.signalCode !== null ? undefined
      : withTimeout(new Promise((resolve) => c.process.once('exit', resolve)), 5_000, 'worker exit').catch(() => c.process.kill('SIGKILL')))));
    await pool.end();
  }
}

/**
 * Per (webhook, subject), in sequence order: deliveries whose first attempt started before the
 * previous delivery's last attempt had ended. 0 when per-subject ordering held.
 */
async function countOrderViolations(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query(`
    WITH per_delivery AS (
      SELECT d.webhook_id, d.subject, d.sequence, min(a.started_at) AS first_start,
             max(a.started_at + a.duration_ms * interval '1 millisecond') AS last_end
      FROM "webhook_deliveries" d JOIN "webhook_attempts" a ON a.delivery_id = d.id
      WHERE d.subject IS NOT NULL GROUP BY d.webhook_id, d.subject, d.sequence),
    ordered AS (
      SELECT first_start, lag(last_end) OVER (PARTITION BY webhook_id, subject ORDER BY sequence) AS previous_end FROM per_delivery)
    SELECT count(*)::int AS n FROM ordered WHERE first_start < previous_end - interval '1 millisecond'`);
  return rows[0].n as number;
}

/** Mean deliveries/s of the runs of `variant` (default: the first) with `processes` processes and `ordering`. */
export function meanRate(result: ScaleOutResult, processes: number, ordering: Ordering, variant = result.config.variants[0].label): number {
  const rates = result.runs.filter((r) => r.variant === variant && r.processes === processes && r.ordering === ordering).map((r) => r.deliveriesPerSecond);
  return rates.reduce((a, b) => a + b, 0) / rates.length;
}
