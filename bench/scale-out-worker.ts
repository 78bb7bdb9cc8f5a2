/**
 * One worker process of the scale-out scenario (bench/scale-out.ts): a plugin instance with the
 * delivery worker, on the database the parent names, exactly as a host process would run it.
 * Forked with `--import tsx` and an IPC channel; configured by the JSON in SCALE_OUT_WORKER.
 *
 * It builds the plugin and says `ready` (module loading and construction are not what is
 * measured), calls `start()` when told to, and on `stop` stops the plugin and reports its CPU
 * time and log counts. It never outlives the parent.
 */
import { pathToFileURL } from 'node:url';
import type { WebhooksPlugin } from '../plugin/index.js';

export interface ScaleOutWorkerConfig {
  connectionString: string;
  encryptionKey: { id: string; key: string };
  workerName: string;
  egressAllow: string[];
  /** The plugin to run: the path of another checkout's `plugin/index.ts` (a baseline), or this tree's when absent. */
  pluginEntry?: string;
}

export type ScaleOutWorkerCommand = { cmd: 'start' } | { cmd: 'cpu' } | { cmd: 'stop' };

export interface ScaleOutWorkerCpu {
  /** CPU time of this process so far (user + system), microseconds. */
  cpuMicros: number;
  /** Context switches so far: the process went to sleep (voluntary) or was preempted (involuntary). */
  voluntarySwitches: number;
  involuntarySwitches: number;
}

export type ScaleOutWorkerMessage =
  | { type: 'ready' }
  | { type: 'started'; at: number }
  | ({ type: 'cpu' } & ScaleOutWorkerCpu)
  | ({ type: 'stopped'; warnings: number; errors: number; firstProblem: string | null; activity: ScaleOutStoreActivity } & ScaleOutWorkerCpu)
  | { type: 'failed'; error: string };

const now = (): number => performance.timeOrigin + performance.now();
const send = (message: ScaleOutWorkerMessage): void => {
  if (process.connected) process.send?.(message);
};
// The parent went away: never outlive it.
process.on('disconnect', () => process.exit(0));

const config = JSON.parse(process.env.SCALE_OUT_WORKER ?? 'null') as ScaleOutWorkerConfig | null;
if (!config) throw new Error('SCALE_OUT_WORKER is not set');

const problems = { warnings: 0, errors: 0, first: null as string | null };
const note = (level: string, message: string, fields?: Record<string, unknown>) => {
  problems.first ??= `${level}: ${message} ${JSON.stringify(fields ?? {}).slice(0, 300)}`;
};
const cpu = (): ScaleOutWorkerCpu => {
  const usage = process.resourceUsage();
  return { cpuMicros: usage.userCPUTime + usage.systemCPUTime, voluntarySwitches: usage.voluntaryContextSwitches, involuntarySwitches: usage.involuntaryContextSwitches };
};

const { createWebhooksPlugin } = (await import(config.pluginEntry ? pathToFileURL(config.pluginEntry).href : '../plugin/index.js')) as
  typeof import('../plugin/index.js');
const plugin: WebhooksPlugin = createWebhooksPlugin({
  storage: { postgres: { connectionString: config.connectionString } },
  encryptionKeys: [config.encryptionKey],
  workerName: config.workerName,
  // The receiver is on loopback and stands in for a public one.
  egress: { allow: config.egressAllow, privateResponseBodies: true },
  logger: {
    info: () => undefined,
    warn: (message, fields) => {
      problems.warnings += 1;
      note('warn', message, fields);
    },
    error: (message, fields) => {
      problems.errors += 1;
      note('error', message, fields);
    },
  },
});

/**
 * What this process asked of the store while it drained (wrapped on the live instance, no plugin
 * code changed): claims (how many, how many came back empty, rows, time) and result writes.
 */
export interface ScaleOutStoreActivity {
  claims: number;
  emptyClaims: number;
  claimedRows: number;
  claimMs: number;
  maxClaimMs: number;
  writes: number;
  writeMs: number;
  /** Connections the store's pool opened (a new PostgreSQL backend each). */
  connectionsOpened: number;
  /** First and last claim that returned rows, ms since the plugin started. */
  firstRowsAtMs: number | null;
  lastRowsAtMs: number | null;
}
const activity: ScaleOutStoreActivity = {
  claims: 0, emptyClaims: 0, claimedRows: 0, claimMs: 0, maxClaimMs: 0, writes: 0, writeMs: 0, connectionsOpened: 0, firstRowsAtMs: null, lastRowsAtMs: null,
};
let startedAt = 0;
{
  const store = plugin.store;
  const claim = store.claimDueDeliveries.bind(store);
  store.claimDueDeliveries = async (options) => {
    const t0 = now();
    const rows = await claim(options);
    const ms = now() - t0;
    activity.claims += 1;
    activity.claimMs += ms;
    activity.maxClaimMs = Math.max(activity.maxClaimMs, ms);
    activity.claimedRows += rows.length;
    if (rows.length === 0) activity.emptyClaims += 1;
    else {
      activity.firstRowsAtMs ??= t0 - startedAt;
      activity.lastRowsAtMs = t0 - startedAt;
    }
    return rows;
  };
  // The store's own pool (private: reached from outside, for counting only).
  (store as unknown as { pool?: { on(event: 'connect', listener: () => void): void } }).pool?.on('connect', () => {
    activity.connectionsOpened += 1;
  });
  const complete = store.completeAttempts.bind(store);
  store.completeAttempts = async (completions) => {
    const t0 = now();
    try {
      return await complete(completions);
    } finally {
      activity.writes += 1;
      activity.writeMs += now() - t0;
    }
  };
}

process.on('message', (message: ScaleOutWorkerCommand) => {
  void (async () => {
    try {
      switch (message.cmd) {
        case 'start':
          startedAt = now();
          await plugin.start();
          send({ type: 'started', at: now() });
          break;
        case 'cpu':
          send({ type: 'cpu', ...cpu() });
          break;
        case 'stop':
          await plugin.stop();
          send({ type: 'stopped', ...cpu(), warnings: problems.warnings, errors: problems.errors, firstProblem: problems.first, activity });
          process.disconnect();
          break;
      }
    } catch (error) {
      send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  })();
});

send({ type: 'ready' });
