/**
 * What the chaos parent and its host child (`host-process.ts`) say to each other over the IPC
 * channel. Times are `performance.timeOrigin + performance.now()` (wall-clock ms with
 * sub-ms resolution), comparable between the processes.
 */

/** How the parent configures a host child (passed as JSON in CHAOS_HOST_CONFIG). */
export interface HostConfig {
  connectionString: string;
  encryptionKey: { id: string; key: string };
  /** The plugin's `workerName`; lease owners start with it, so the store shows whose work is left. */
  workerName: string;
  runWorker?: boolean;
  /** Plugin options merged over the ones the host sets itself (storage, keys, logger, workerName). */
  options: Record<string, unknown>;
  /**
   * Options the plugin under test may not know yet, by dotted path (`delivery.maxInFlightPerWebhook`).
   * Rejected as unknown, they are dropped and reported instead of failing the start.
   */
  optional?: Record<string, unknown>;
  /** Optional paths the scenario cannot run without: if one is rejected the host answers `unsupported`. */
  required?: string[];
}

/** One hook call as the host saw it. */
export interface HookCall {
  /** Which host made it (the parent fills this in). */
  host?: string;
  seq: number;
  startedAt: number;
  /** Null while it has not settled (reported only by `loadDone.unsettled`). */
  endedAt: number | null;
  eventId: string | null;
  error: { name: string; code: string | null; message: string } | null;
}

export type HostCommand =
  | { id: number; cmd: 'createWebhook'; tenantId: string; name: string; url: string; events: string[] }
  /** Calls `userLogin` `rate` times a second for `seconds`, open loop; replies once all settled or `settleMs` passed. */
  | { id: number; cmd: 'load'; tenantId: string; rate: number; seconds: number; settleMs: number }
  /** Ends a running load early (it then settles and replies as usual). */
  | { id: number; cmd: 'endLoad' }
  | { id: number; cmd: 'stop'; timeoutMs: number };

export interface LoadSummary {
  fired: number;
  settled: number;
  /** Calls still pending `settleMs` after the last one was fired. */
  unsettled: number;
  /** How late the pacing timer fired at worst (the host's event loop was busy), ms. */
  maxPacingLagMs: number;
}

export interface StopSummary {
  stopMs: number;
  /** Plugin log lines by level and message, counted. */
  logCounts: Record<string, number>;
}

export type HostMessage =
  | { type: 'ready'; pid: number; dropped: string[]; documentedHookTimeoutMs: number | null }
  | { type: 'unsupported'; paths: string[]; message: string }
  | { type: 'fatal'; error: string }
  | { type: 'calls'; calls: HookCall[] }
  | { type: 'log'; level: 'warn' | 'error'; message: string; fields: string }
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: string };

/** Marks the uncaught error a host child writes to stderr before it dies. */
export const CRASH_MARKER = 'CHAOS-HOST-CRASH';
/** Ends that block (Node's own dump of the error follows it). */
export const CRASH_END_MARKER = 'CHAOS-HOST-STACK-END';
