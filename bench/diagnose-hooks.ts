/**
 * `npx tsx bench/diagnose-hooks.ts`: where the time of one `await plugin.hooks.userLogin(...)`
 * goes, at a steady rate. Not part of `npm run bench`; it instruments the plugin from outside
 * (wrapping the store's methods and its pool's `connect` on the live instance — no plugin code
 * changes) and compares with bare PostgreSQL round trips on the same server.
 *
 * Per hook call it splits: before the first store call (argument/context validation with Joi,
 * user mapping, envelope, ids), `listEnabledWebhooks` (pool wait + query), between the two store
 * calls, `recordEvent` (pool wait + query + commit), after it (kick of the worker, resolve).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { startEmbeddedPostgres } from '../dev/embedded-postgres.js';
import { createWebhooksPlugin, PostgresStore, type WebhooksPlugin } from '../plugin/index.js';
import type { DeliveryRecord, EventRecord } from '../plugin/store/store-port.js';
import { fmt, now, percentile, sleep } from './measure.js';
import { ReceiverProcess } from './receiver.js';

const RATE = Number(process.env.DIAG_RATE ?? 300);
const SECONDS = Number(process.env.DIAG_SECONDS ?? 5);
const log = (message: string) => process.stderr.write(`[diagnose] ${message}\n`);

interface Sample {
  start: number;
  listStart?: number;
  listEnd?: number;
  listPoolWait?: number;
  recordStart?: number;
  recordEnd?: number;
  recordPoolWait?: number;
  end?: number;
}

/** The sample of the hook call whose code is running (carried across awaits). */
const als = new AsyncLocalStorage<{ sample: Sample; phase: 'list' | 'record' | null }>();

/** Wraps the live store so each hook call's two store calls are timed (pool wait separately). */
function instrument(plugin: WebhooksPlugin): void {
  const store = plugin.store as any;
  const pool = store.pool as any;
  const originalConnect = pool.connect.bind(pool);
  pool.connect = (cb?: (err: Error | undefined, client: unknown, release: unknown) => void) => {
    const state = als.getStore();
    const asked = now();
    if (!cb) return originalConnect();
    return originalConnect((err: Error | undefined, client: unknown, release: unknown) => {
      if (state?.phase === 'list') state.sample.listPoolWait = now() - asked;
      if (state?.phase === 'record') state.sample.recordPoolWait = now() - asked;
      cb(err, client, release);
    });
  };
  for (const [method, phase, startKey, endKey] of [
    ['listEnabledWebhooks', 'list', 'listStart', 'listEnd'],
    ['recordEvent', 'record', 'recordStart', 'recordEnd'],
  ] as const) {
    const original = store[method].bind(store);
    store[method] = async (...args: unknown[]) => {
      const state = als.getStore();
      if (!state) return original(...args);
      state.sample[startKey] = now();
      try {
        return await als.run({ sample: state.sample, phase }, () => original(...args));
      } finally {
        state.sample[endKey] = now();
      }
    };
  }
}

let seq = 0;
function login(plugin: WebhooksPlugin): Promise<unknown> {
  seq += 1;
  return plugin.hooks.userLogin(
    {
      user: { _id: `u-${seq}`, username: `user${seq}`, email: `user${seq}@example.com`, emailVerified: true, firstName: 'Jane', lastName: 'Doe',
        phone: '+48123456789', groups: ['staff', 'vpn-users'], isAdmin: false, createdAt: new Date('2025-03-04T05:06:07Z') },
      strategy: 'local', mfa: true,
    },
    { tenantId: 'bench', request: { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', requestId: `req-${seq}` },
      client: { id: 'portal', name: 'Customer portal' } },
  );
}

/** Open-loop calls at `rate`/s for `seconds`. */
async function paced(rate: number, seconds: number, call: () => Promise<unknown>): Promise<void> {
  const interval = 1_000 / rate;
  const total = Math.round(rate * seconds);
  const start = now();
  const running: Promise<unknown>[] = [];
  for (let sent = 0; sent < total;) {
    const due = Math.min(total, Math.floor((now() - start) / interval) + 1);
    while (sent < due) {
      running.push(call().catch((error: unknown) => log(`call failed: ${String(error)}`)));
      sent += 1;
    }
    await sleep(Math.max(0, start + sent * interval - now()));
  }
  await Promise.all(running);
}

/** Counts every statement that goes through the instance's pool, by kind, with its time (pool wait included). */
function accountQueries(plugin: WebhooksPlugin): { stop: () => string } {
  const pool = (plugin.store as any).pool as any;
  const originalQuery = pool.query.bind(pool);
  const byKind = new Map<string, { count: number; ms: number }>();
  const kindOf = (sql: string) => {
    const flat = sql.replace(/\s+/g, ' ').trim();
    if (/^(NOTIFY|LISTEN)/.test(flat)) return flat.split(' ')[0] + ' ' + (flat.includes('_state') ? '(state channel)' : '(job channel)');
    const table = /"(webhook_[a-z_]+)"/.exec(flat)?.[1] ?? '?';
    const verb = /^WITH/.test(flat) ? `WITH…${/\b(UPDATE|INSERT|DELETE)\b/.exec(flat.slice(flat.indexOf(')')))?.[1] ?? 'SELECT'}` : flat.split(' ')[0];
    return `${verb} ${table}`;
  };
  pool.query = (text: unknown, ...rest: unknown[]) => {
    const sql = typeof text === 'string' ? text : String((text as { text?: string })?.text ?? '?');
    const started = now();
    const result = originalQuery(text, ...rest);
    const done = () => {
      const kind = kindOf(sql);
      const entry = byKind.get(kind) ?? { count: 0, ms: 0 };
      entry.count += 1;
      entry.ms += now() - started;
      byKind.set(kind, entry);
    };
    if (result && typeof result.then === 'function') result.then(done, done);
    return result;
  };
  let promiseConnects = 0;
  const originalConnect = pool.connect;
  pool.connect = function (this: unknown, ...args: unknown[]) {
    if (args.length === 0) promiseConnects += 1;
    return originalConnect.apply(pool, args);
  };
  const occupancy: number[] = [];
  const waiting: number[] = [];
  const sampler = setInterval(() => {
    occupancy.push(pool.totalCount - pool.idleCount);
    waiting.push(pool.waitingCount);
  }, 2);
  const t0 = now();
  return {
    stop: () => {
      clearInterval(sampler);
      pool.query = originalQuery;
      pool.connect = originalConnect;
      const seconds = (now() - t0) / 1_000;
      const rows = [...byKind.entries()].sort((a, b) => b[1].ms - a[1].ms)
        .map(([kind, { count, ms }]) => `  ${kind.padEnd(44)} ${fmt(count / seconds, 1).padStart(8)}/s  mean ${fmt(ms / count, 2).padStart(6)} ms  busy ${fmt(ms / 1_000 / seconds, 2)} conn`);
      return [
        `pool statements by kind (pool.query; time includes pool wait), plus ${promiseConnects} explicit pool.connect() checkouts:`,
        ...rows,
        `pool checked-out connections (max 10): mean ${fmt(occupancy.reduce((a, b) => a + b, 0) / Math.max(1, occupancy.length), 1)}, ` +
          `at 10: ${fmt((occupancy.filter((o) => o >= 10).length / Math.max(1, occupancy.length)) * 100, 1)} % of samples; ` +
          `callers waiting: mean ${fmt(waiting.reduce((a, b) => a + b, 0) / Math.max(1, waiting.length), 1)}, max ${Math.max(0, ...waiting)}`,
      ].join('\n');
    },
  };
}

function summary(label: string, values: number[]): string {
  return `${label.padEnd(44)} p50 ${fmt(percentile(values, 50), 2).padStart(7)}  p90 ${fmt(percentile(values, 90), 2).padStart(7)}  p99 ${fmt(percentile(values, 99), 2).padStart(7)}  max ${fmt(percentile(values, 100), 2).padStart(7)} ms`;
}

interface RunOutcome {
  label: string;
  whole: number[];
}

async function hookRun(label: string, plugin: WebhooksPlugin, verbose: boolean): Promise<RunOutcome> {
  instrument(plugin);
  const accounting = accountQueries(plugin);
  const samples: Sample[] = [];
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  await paced(RATE, SECONDS, () => {
    const sample: Sample = { start: now() };
    samples.push(sample);
    return als.run({ sample, phase: null }, () => login(plugin)).finally(() => { sample.end = now(); });
  });
  loop.disable();
  const queries = accounting.stop();
  const cpu = process.cpuUsage(cpu0);
  const ok = samples.filter((s) => s.end !== undefined && s.listStart !== undefined && s.recordEnd !== undefined);
  const whole = ok.map((s) => s.end! - s.start);
  if (verbose) {
    const lines = [
      summary('whole hook call', whole),
      summary('  before first store call (Joi, mapping)', ok.map((s) => s.listStart! - s.start)),
      summary('  listEnabledWebhooks (total)', ok.map((s) => s.listEnd! - s.listStart!)),
      summary('    of which pool wait', ok.map((s) => s.listPoolWait ?? 0)),
      summary('  between store calls', ok.map((s) => s.recordStart! - s.listEnd!)),
      summary('  recordEvent (total)', ok.map((s) => s.recordEnd! - s.recordStart!)),
      summary('    of which pool wait', ok.map((s) => s.recordPoolWait ?? 0)),
      summary('  after recordEvent (kick, resolve)', ok.map((s) => s.end! - s.recordEnd!)),
      `event-loop delay (1 ms resolution)           p50 ${fmt(loop.percentile(50) / 1e6, 2).padStart(7)}  p99 ${fmt(loop.percentile(99) / 1e6, 2).padStart(7)}  max ${fmt(loop.max / 1e6, 2).padStart(7)} ms`,
      `this process: ${((cpu.user + cpu.system) / 1e3 / (now() - t0)).toFixed(2)} cores; ${ok.length}/${samples.length} calls instrumented`,
    ];
    process.stdout.write(`\n== ${label} (${RATE}/s × ${SECONDS} s)\n${lines.join('\n')}\n${queries}\n`);
  }
  return { label, whole };
}

/** The plugin's two store calls, made directly on a PostgresStore (no hooks, Joi or worker). */
async function storeRun(label: string, store: PostgresStore): Promise<RunOutcome> {
  const whole: number[] = [];
  const body = JSON.stringify({ event_time: new Date().toISOString(), event_type: 'USER_LOGIN', pad: 'x'.repeat(560) });
  await paced(RATE, SECONDS, async () => {
    const a = now();
    const at = new Date();
    const webhooks = await store.listEnabledWebhooks('bench');
    const event: EventRecord = {
      id: `evt_${randomBytes(16).toString('base64url')}`, tenantId: 'bench', type: 'USER_LOGIN', body, idempotencyKey: null, subject: null,
      createdAt: at, expiresAt: new Date(at.getTime() + 86_400_000),
    };
    const deliveries: DeliveryRecord[] = webhooks.map((w) => ({
      id: `msg_${randomBytes(16).toString('base64url')}`, tenantId: 'bench', webhookId: w.id, eventId: event.id, eventType: 'USER_LOGIN', subject: null, sequence: null,
      status: 'pending', attempts: 0, nextAttemptAt: at, leaseOwner: null, leaseExpiresAt: null, lastAttemptAt: null, lastStatusCode: null,
      lastOutcome: null, createdAt: at, updatedAt: at, expiresAt: event.expiresAt,
    }));
    await store.recordEvent(event, deliveries);
    whole.push(now() - a);
  });
  return { label, whole };
}

/** A SELECT and a one-row INSERT on a bare pool: the floor any two-round-trip hook call stands on. */
async function bareRun(label: string, url: string): Promise<RunOutcome> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  await pool.query('CREATE TABLE IF NOT EXISTS diag_events (id text PRIMARY KEY, body text NOT NULL, created_at timestamptz NOT NULL)');
  const whole: number[] = [];
  const body = 'x'.repeat(660);
  await paced(RATE, SECONDS, async () => {
    const a = now();
    await pool.query('SELECT * FROM "webhook_webhooks" WHERE tenant_id = $1 AND enabled ORDER BY created_at, id', ['bench']);
    await pool.query('INSERT INTO diag_events (id, body, created_at) VALUES ($1, $2, now())', [randomBytes(12).toString('hex'), body]);
    whole.push(now() - a);
  });
  await pool.end();
  return { label, whole };
}

async function main(): Promise<void> {
  const rounds = Number(process.env.DIAG_ROUNDS ?? 3);
  const dataDir = mkdtempSync(join(os.tmpdir(), 'webhooks-diag-pg-'));
  const server = await startEmbeddedPostgres({ dataDir });
  const receiver = await ReceiverProcess.start();
  const live = new Set<WebhooksPlugin>();
  const key = { id: 'diag', key: randomBytes(32).toString('base64') };
  const logger = { info: () => undefined, warn: (m: string) => log(`warn ${m}`), error: (m: string) => log(`error ${m}`) };
  let dbCounter = 0;
  /** A fresh database with one webhook (USER_LOGIN → the receiver), so no configuration sees another's backlog. */
  const freshDb = async () => {
    dbCounter += 1;
    const db = await server.createDatabase(`diag_${dbCounter}`);
    const setup = createWebhooksPlugin({ storage: { postgres: { connectionString: db } }, encryptionKeys: [key], egress: { allow: ['127.0.0.0/8'] }, runWorker: false, logger });
    await setup.start();
    await setup.webhooks.create({ name: 'diag', url: `${receiver.url}/hook/0`, events: ['USER_LOGIN'] }, setup.context({ tenantId: 'bench' }, 'default'));
    await setup.stop();
    return db;
  };
  const start = async (options: { db: string; runWorker: boolean; pool?: pg.Pool }) => {
    const p = createWebhooksPlugin({
      storage: { postgres: options.pool ? { pool: options.pool } : { connectionString: options.db } }, encryptionKeys: [key],
      egress: { allow: ['127.0.0.0/8'] }, runWorker: options.runWorker, logger,
    });
    live.add(p);
    await p.start();
    await paced(100, 1, () => login(p)); // untimed warm-up
    return p;
  };
  const stop = async (p: WebhooksPlugin) => {
    live.delete(p);
    await p.stop();
  };
  const results = new Map<string, Array<{ p50: number; p99: number }>>();
  const keep = (outcome: RunOutcome) => {
    const list = results.get(outcome.label) ?? [];
    list.push({ p50: percentile(outcome.whole, 50), p99: percentile(outcome.whole, 99) });
    results.set(outcome.label, list);
    log(`${outcome.label}: p50 ${fmt(percentile(outcome.whole, 50), 2)} ms, p99 ${fmt(percentile(outcome.whole, 99), 2)} ms`);
  };
  try {
    for (let round = 1; round <= rounds; round += 1) {
      log(`round ${round} of ${rounds}`);
      const verbose = round === 1;
      {
        const p = await start({ db: await freshDb(), runWorker: true });
        keep(await hookRun('A. plugin, worker in the same instance (as in npm run bench)', p, verbose));
        await stop(p);
      }
      {
        const p = await start({ db: await freshDb(), runWorker: false });
        keep(await hookRun('B. plugin, runWorker: false (nothing else in the process)', p, verbose));
        await stop(p);
      }
      {
        const db = await freshDb();
        const worker = await start({ db, runWorker: true });
        const web = await start({ db, runWorker: false });
        keep(await hookRun('C. plugin, hooks on a runWorker:false instance + a worker instance, same process', web, verbose));
        await stop(web);
        await stop(worker);
      }
      {
        const db = await freshDb();
        const pool = new pg.Pool({ connectionString: db, max: 10, options: '-c synchronous_commit=off' });
        const p = await start({ db, runWorker: true, pool });
        keep(await hookRun('D. as A, but synchronous_commit=off (no WAL flush wait; NOT durable)', p, verbose));
        await stop(p);
        await pool.end();
      }
      {
        const db = await freshDb();
        const pool = new pg.Pool({ connectionString: db, max: 10 });
        const store = new PostgresStore({ pool });
        keep(await storeRun('E. PostgresStore.listEnabledWebhooks + recordEvent called directly', store));
        await pool.end();
        keep(await bareRun('F. bare pg.Pool: SELECT webhooks + one-row INSERT', db));
      }
    }
    const lines = [...results.entries()].map(([label, list]) =>
      `${label.padEnd(88)} p50 ${list.map((r) => fmt(r.p50, 2)).join(' / ').padEnd(20)}  p99 ${list.map((r) => fmt(r.p99, 2)).join(' / ')}`);
    process.stdout.write(`\n== Summary: ${RATE} calls/s × ${SECONDS} s per run, ${rounds} rounds (one figure per round), ms\n${lines.join('\n')}\n`);
    process.stdout.write(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  } finally {
    for (const p of live) await p.stop().catch(() => undefined);
    await receiver.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
