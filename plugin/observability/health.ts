import type { WebhookStore } from '../store/store-port.js';

/** What `plugin.health()` answers. */
export interface PluginHealth {
  /**
   * `down`: the store did not answer (nothing can be recorded or delivered); `degraded`: the
   * store answers but this process should deliver and its worker is not running; `ok` otherwise.
   * An endpoint that fails (an open circuit) is the receiver's trouble, not the plugin's: it
   * shows in `circuitsOpen`, not in `status`.
   */
  status: 'ok' | 'degraded' | 'down';
  /** `latencyMs`: how long the backlog query took; null when it did not answer in time. */
  store: { reachable: boolean; latencyMs: number | null; error?: string };
  /** `running`: this process's delivery worker is started (false on a web-only node, `runWorker: false`). */
  worker: { running: boolean };
  /** Pending deliveries of enabled webhooks, all tenants; null counts when the store did not answer. */
  backlog: { pending: number | null; oldestPendingAgeMs: number | null };
  /** Webhooks whose circuit this process holds open (or half-open) now. */
  circuitsOpen: number;
}

export interface HealthDeps {
  store: Pick<WebhookStore, 'summarizeBacklog'>;
  /** Whether this process is meant to deliver (`runWorker`). */
  workerExpected: boolean;
  workerRunning: () => boolean;
  circuitsOpen: () => number;
  clock: () => Date;
  /** Longest the store may take to answer before it counts as unreachable (options.hookTimeoutMs). */
  timeoutMs: number;
}

class HealthTimeoutError extends Error {
  constructor(ms: number) {
    super(`The store did not answer within ${ms} ms`);
  }
}

/**
 * One health check: a single backlog query against the store, under a deadline, so a database
 * that accepts connections and never answers makes the check say "unreachable" within
 * `timeoutMs` instead of hanging the probe that asked (a readiness probe that hangs is killed
 * by its orchestrator and tells nobody why).
 */
export async function checkHealth(deps: HealthDeps): Promise<PluginHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HealthTimeoutError(deps.timeoutMs)), deps.timeoutMs);
  });
  const query = deps.store.summarizeBacklog();
  query.catch(() => undefined);
  const worker = { running: deps.workerRunning() };
  const circuitsOpen = deps.circuitsOpen();
  try {
    const summary = await Promise.race([query, expired]);
    const latencyMs = Math.round(performance.now() - started);
    const pending = summary.pending.reduce((n, p) => n + p.count, 0);
    const oldest = summary.pending.reduce<number | null>((min, p) => {
      const at = new Date(p.oldestCreatedAt).getTime();
      return min === null || at < min ? at : min;
    }, null);
    const oldestPendingAgeMs = oldest === null ? null : Math.max(0, deps.clock().getTime() - oldest);
    return {
      status: deps.workerExpected && !worker.running ? 'degraded' : 'ok',
      store: { reachable: true, latencyMs },
      worker,
      backlog: { pending, oldestPendingAgeMs },
      circuitsOpen,
    };
  } catch (error) {
    // The message only (a driver's error names host and port, never a password); no stack.
    return {
      status: 'down',
      store: { reachable: false, latencyMs: null, error: error instanceof Error ? error.message : String(error) },
      worker,
      backlog: { pending: null, oldestPendingAgeMs: null },
      circuitsOpen,
    };
  } finally {
    clearTimeout(timer);
  }
}
