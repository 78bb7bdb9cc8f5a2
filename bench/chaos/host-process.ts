/**
 * The host under chaos: a child process that runs the plugin the way an identity server does
 * (`createWebhooksPlugin` + `start()`, then hook calls from its request handlers), so that a
 * fault that kills the plugin kills this process and not the harness that measures it.
 *
 * Forked by `host-handle.ts` with `--import tsx` and an IPC channel; configured by the JSON in
 * CHAOS_HOST_CONFIG (see {@link HostConfig}); commands and reports are in `host-protocol.ts`.
 * It installs no handler that would keep it alive after an uncaught error: a crash here is
 * what a host would suffer. It only writes the error to stderr first (`uncaughtExceptionMonitor`).
 */
import { writeSync } from 'node:fs';
import * as pluginOptions from '../../plugin/options.js';
import { createWebhooksPlugin, InvalidOptionsError, type WebhooksPlugin, type WebhooksPluginOptions } from '../../plugin/index.js';
import { CRASH_END_MARKER, CRASH_MARKER, type HookCall, type HostCommand, type HostConfig, type HostMessage, type LoadSummary, type StopSummary } from './host-protocol.js';

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

process.on('uncaughtExceptionMonitor', (error, origin) => {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  writeSync(2, `\n${CRASH_MARKER} (${origin}) at ${new Date().toISOString()}:\n${text}\n${describeCause(error)}${CRASH_END_MARKER}\n`);
});
// The parent went away: never outlive it.
process.on('disconnect', () => process.exit(0));

function describeCause(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (!cause) return '';
  return `caused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}\n`;
}

const send = (message: HostMessage): void => {
  if (process.connected) process.send?.(message);
};

const config = JSON.parse(process.env.CHAOS_HOST_CONFIG ?? 'null') as HostConfig | null;
if (!config) throw new Error('CHAOS_HOST_CONFIG is not set');

// ---------------------------------------------------------------------------------------------
// Options: required ones, then the optional ones the plugin accepts

const logCounts = new Map<string, number>();
const logger = {
  info: () => undefined,
  warn: (message: string, fields?: Record<string, unknown>) => forwardLog('warn', message, fields),
  error: (message: string, fields?: Record<string, unknown>) => forwardLog('error', message, fields),
};

/** Every line is counted; the first three of each message reach the parent in full. */
function forwardLog(level: 'warn' | 'error', message: string, fields?: Record<string, unknown>): void {
  const key = `${level}: ${message}`;
  const count = (logCounts.get(key) ?? 0) + 1;
  logCounts.set(key, count);
  if (count <= 3) send({ type: 'log', level, message, fields: JSON.stringify(fields ?? {}).slice(0, 500) });
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

function buildOptions(optional: Record<string, unknown>): WebhooksPluginOptions {
  const options: Record<string, unknown> = structuredClone(config!.options);
  for (const [path, value] of Object.entries(optional)) setPath(options, path, value);
  return {
    ...(options as Partial<WebhooksPluginOptions>),
    storage: { postgres: { connectionString: config!.connectionString } },
    encryptionKeys: [config!.encryptionKey],
    workerName: config!.workerName,
    runWorker: config!.runWorker ?? true,
    logger,
  };
}

/**
 * Builds the plugin, dropping optional options the plugin rejects as unknown ("not allowed").
 * Returns null (after telling the parent) when a required one is among them.
 */
function createPlugin(): { plugin: WebhooksPlugin; dropped: string[] } | null {
  const optional = { ...(config!.optional ?? {}) };
  const dropped: string[] = [];
  for (;;) {
    try {
      return { plugin: createWebhooksPlugin(buildOptions(optional)), dropped };
    } catch (error) {
      if (!(error instanceof InvalidOptionsError)) throw error;
      const unknownOptional = error.details
        .map((d) => d.path)
        .filter((path) => Object.keys(optional).some((o) => path === o || path.startsWith(`${o}.`) || o.startsWith(`${path}.`)));
      if (unknownOptional.length === 0 || unknownOptional.length < error.details.length) throw error;
      for (const path of Object.keys(optional)) {
        if (unknownOptional.some((p) => p === path || p.startsWith(`${path}.`) || path.startsWith(`${p}.`))) {
          delete optional[path];
          dropped.push(path);
        }
      }
      const missingRequired = dropped.filter((path) => config!.required?.includes(path));
      if (missingRequired.length > 0) {
        send({ type: 'unsupported', paths: missingRequired, message: error.message });
        return null;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Hook calls

let unreported: HookCall[] = [];
const flushCalls = () => {
  if (unreported.length === 0) return;
  send({ type: 'calls', calls: unreported });
  unreported = [];
};
// Often, so that a host killed with SIGKILL has told the parent about nearly every call it finished.
setInterval(flushCalls, 50).unref();

let seq = 0;
let endRequested = false;
function loginCall(plugin: WebhooksPlugin, tenantId: string): Promise<void> {
  seq += 1;
  const n = seq;
  const call: HookCall = { seq: n, startedAt: now(), endedAt: null, eventId: null, error: null };
  return plugin.hooks
    .userLogin(
      {
        user: {
          _id: `chaos-user-${String(n).padStart(8, '0')}`, username: `user${n}`, email: `user${n}@example.com`, emailVerified: true,
          firstName: 'Jane', lastName: 'Doe', groups: ['staff'], isAdmin: false, passwordHash: '$2b$10$never-sent',
        },
        strategy: 'local',
      },
      { tenantId, request: { ip: '203.0.113.7', userAgent: 'chaos/1.0', requestId: `req-${n}` } },
    )
    .then(
      (result) => {
        call.endedAt = now();
        call.eventId = result.event_id;
      },
      (error: unknown) => {
        call.endedAt = now();
        const e = error as { name?: string; code?: unknown; message?: string };
        call.error = { name: String(e?.name ?? 'Error'), code: typeof e?.code === 'string' ? e.code : null, message: String(e?.message ?? error).slice(0, 300) };
      },
    )
    .finally(() => unreported.push(call));
}

async function load(plugin: WebhooksPlugin, command: Extract<HostCommand, { cmd: 'load' }>): Promise<LoadSummary> {
  const interval = 1_000 / command.rate;
  const total = Math.round(command.rate * command.seconds);
  const running = new Set<Promise<void>>();
  const start = now();
  let fired = 0;
  let maxPacingLagMs = 0;
  endRequested = false;
  while (fired < total && !endRequested) {
    const due = Math.min(total, Math.floor((now() - start) / interval) + 1);
    while (fired < due) {
      maxPacingLagMs = Math.max(maxPacingLagMs, now() - (start + fired * interval));
      const p = loginCall(plugin, command.tenantId);
      running.add(p);
      void p.finally(() => running.delete(p));
      fired += 1;
    }
    await sleep(Math.max(0, start + fired * interval - now()));
  }
  const deadline = now() + command.settleMs;
  while (running.size > 0 && now() < deadline) await sleep(20);
  flushCalls();
  return { fired, settled: fired - running.size, unsettled: running.size, maxPacingLagMs };
}

// ---------------------------------------------------------------------------------------------
// Main

const created = createPlugin();
if (!created) {
  await sleep(50);
  process.exit(0);
}
const { plugin, dropped } = created;
try {
  await plugin.start();
} catch (error) {
  send({ type: 'fatal', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  await sleep(50);
  process.exit(2);
}
const documented = (pluginOptions as Record<string, unknown>).DEFAULT_HOOK_TIMEOUT_MS;
send({ type: 'ready', pid: process.pid, dropped, documentedHookTimeoutMs: typeof documented === 'number' ? documented : null });

process.on('message', (command: HostCommand) => {
  void handle(command).then(
    (result) => send({ type: 'reply', id: command.id, ok: true, result }),
    (error: unknown) => send({ type: 'reply', id: command.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});

async function handle(command: HostCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'createWebhook': {
      const { webhook, secret } = await plugin.webhooks.create(
        { name: command.name, url: command.url, events: command.events },
        plugin.context({ tenantId: command.tenantId }, 'default'),
      );
      return { webhookId: webhook.id, secret };
    }
    case 'load':
      return load(plugin, command);
    case 'endLoad':
      endRequested = true;
      return null;
    case 'stop': {
      const started = now();
      const timer = setTimeout(() => {
        writeSync(2, `plugin.stop() did not finish within ${command.timeoutMs} ms\n`);
        process.exit(4);
      }, command.timeoutMs);
      await plugin.stop();
      clearTimeout(timer);
      flushCalls();
      const summary: StopSummary = { stopMs: now() - started, logCounts: Object.fromEntries(logCounts) };
      // Exit once the reply is out; the pg pool is closed, so nothing else should hold the loop.
      setTimeout(() => process.exit(0), 100).unref();
      return summary;
    }
  }
}
