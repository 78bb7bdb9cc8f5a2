/**
 * What every chaos scenario shares: a resource list that is released in reverse order even
 * when the scenario fails or runs out of time, the host-child configuration, and the shape of
 * a scenario's report (method, figures, targets) that `run.ts` prints and writes.
 */
import { randomBytes } from 'node:crypto';
import { fmt, withTimeout } from '../measure.js';
import type { LedgerAudit } from './delivery-ledger.js';
import type { CrashReport, HostProcess } from './host-handle.js';
import type { HostConfig } from './host-protocol.js';
import type { DatabaseProvider } from './postgres-control.js';

export const TENANT = 'chaos';
/** Tenant of the untimed warm-up load (bad-neighbour scenarios): never part of a scenario's books. */
export const WARM_UP_TENANT = 'chaos-warm-up';
/** Loopback receivers must be admitted by the egress guard. */
export const EGRESS_ALLOW = ['127.0.0.0/8', '::1/128'];

/**
 * Retry settings for the short versions in `npm test`, as in test/support/plugin-fixture.ts
 * (FAST_DELIVERY): retries in milliseconds instead of hours.
 */
export const FAST_DELIVERY = { retryScheduleMs: [0, 50, 100], jitter: 0, pollIntervalMs: 50, timeoutMs: 2_000, leaseMs: 5_000 };

export interface ScenarioEnv {
  /** Databases for scenarios that need no server of their own. */
  databases: DatabaseProvider;
  log: (message: string) => void;
}

export interface Figure {
  label: string;
  value: string;
}

export interface TargetCheck {
  label: string;
  target: string;
  value: string;
  met: boolean;
}

export interface ScenarioReport {
  key: string;
  title: string;
  status: 'ran' | 'not supported yet' | 'failed to run';
  /** Markdown lines saying what was done. */
  method: string[];
  figures: Figure[];
  targets: TargetCheck[];
  crashes: CrashReport[];
  notes: string[];
  durationMs: number;
}

/** Things to release when the scenario ends, last acquired first. */
export class Resources {
  private readonly releases: Array<{ what: string; release: () => Promise<unknown> }> = [];

  constructor(private readonly log: (message: string) => void) {}

  defer(what: string, release: () => Promise<unknown>): void {
    this.releases.push({ what, release });
  }

  async releaseAll(): Promise<void> {
    while (this.releases.length > 0) {
      const { what, release } = this.releases.pop()!;
      try {
        await withTimeout(release(), 45_000, `releasing ${what}`);
      } catch (error) {
        this.log(`cleanup: ${what}: ${String(error)}`);
      }
    }
  }
}

/**
 * Runs `body` with a resource list, at most `maxMs`; releases everything afterwards whatever
 * happened (which also unblocks a body still waiting on a child or a server).
 */
export async function bounded<T>(name: string, maxMs: number, log: (message: string) => void, body: (resources: Resources) => Promise<T>): Promise<T> {
  const resources = new Resources(log);
  const running = body(resources);
  running.catch(() => undefined);
  try {
    return await withTimeout(running, maxMs, `scenario ${name}`);
  } finally {
    await resources.releaseAll();
  }
}

/** One encryption key per run; every host of a scenario must share it. */
export const ENCRYPTION_KEY = { id: 'chaos-1', key: randomBytes(32).toString('base64') };

export function hostConfig(connectionString: string, workerName: string, options: Record<string, unknown>, extra: Partial<HostConfig> = {}): HostConfig {
  const { egress, ...rest } = options as { egress?: Record<string, unknown> };
  return {
    connectionString,
    encryptionKey: ENCRYPTION_KEY,
    workerName,
    options: { ...rest, egress: { allow: EGRESS_ALLOW, ...egress } },
    ...extra,
  };
}

/** Registers a host so it is stopped (SIGKILL if stop() hangs) when the scenario ends. */
export function track(resources: Resources, host: HostProcess): HostProcess {
  resources.defer(`host ${host.name}`, () => host.stop());
  return host;
}

export const ms = (value: number | null | undefined, digits = 0): string =>
  value === null || value === undefined || Number.isNaN(value) ? 'n/a' : `${fmt(value, digits)} ms`;

export const counts = (record: Record<string, number>): string => {
  const entries = Object.entries(record);
  return entries.length === 0 ? 'none' : entries.map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
};

/** The figures every scenario reports about hook calls and deliveries. */
export function ledgerFigures(ledger: LedgerAudit): Figure[] {
  const figures: Figure[] = [
    { label: 'Hook calls accepted / rejected', value: `${fmt(ledger.accepted)} / ${fmt(ledger.rejected)}${ledger.rejected > 0 ? ` (${counts(ledger.rejectedBy)})` : ''}` },
    { label: 'Accepted events lost (never reached a healthy endpoint in the grace period)', value: fmt(ledger.lost) },
  ];
  for (const e of ledger.endpoints) {
    if (e.lost > 0) {
      const why = Object.entries(e.lostBecause).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
      figures.push({ label: `  ${e.name}: why they are missing (store)`, value: why });
    }
    figures.push({ label: `  ${e.name}: delivered / duplicate receipts`, value: `${fmt(e.delivered)} / ${fmt(e.duplicates)}` });
    if (e.receivedButNotSucceeded > 0) {
      figures.push({ label: `  ${e.name}: received, but the store does not show them succeeded`, value: fmt(e.receivedButNotSucceeded) });
    }
    figures.push({ label: `  ${e.name}: enqueue-to-receipt p50 / p99 / max`, value: `${ms(e.p50, 1)} / ${ms(e.p99, 1)} / ${ms(e.max, 1)}` });
  }
  if (ledger.acceptedMissingFromStore > 0) figures.push({ label: 'Accepted events with no row in the store', value: fmt(ledger.acceptedMissingFromStore) });
  if (ledger.recordedUnacknowledged > 0) {
    figures.push({
      label: 'Events stored although no host reported them accepted (rejected late, or in flight at a kill)',
      value: `${fmt(ledger.recordedUnacknowledged)} (${fmt(ledger.recordedUnacknowledgedUndelivered)} of them not delivered)`,
    });
  }
  return figures;
}

/** Latency of one phase of a run, as a figure. */
export function phaseFigure(label: string, stats: { count: number; p50: number; p99: number }): Figure {
  return { label, value: stats.count === 0 ? 'no events' : `${ms(stats.p50, 1)} / ${ms(stats.p99, 1)} (${fmt(stats.count)} events)` };
}

/** Crash and plugin-log figures for the hosts a scenario ran. */
export function hostFigures(hosts: readonly HostProcess[]): Figure[] {
  const crashes = hosts.filter((h) => h.crash !== null);
  const figures: Figure[] = [
    { label: 'Host crashes', value: crashes.length === 0 ? '0' : `${crashes.length} (${crashes.map((h) => `${h.name}: code ${h.crash!.code}, signal ${h.crash!.signal}`).join('; ')})` },
  ];
  const dropped = [...new Set(hosts.flatMap((h) => h.dropped))];
  if (dropped.length > 0) figures.push({ label: 'Options the plugin does not know yet (ran with its defaults)', value: dropped.join(', ') });
  const logCounts: Record<string, number> = {};
  for (const h of hosts) {
    if (h.stopSummary) for (const [k, v] of Object.entries(h.stopSummary.logCounts)) logCounts[k] = (logCounts[k] ?? 0) + v;
    else for (const l of h.logs) logCounts[`${l.level}: ${l.message}`] = (logCounts[`${l.level}: ${l.message}`] ?? 0) + 1;
  }
  const lines = Object.entries(logCounts).sort((a, b) => b[1] - a[1]).slice(0, 6);
  if (lines.length > 0) figures.push({ label: 'Plugin log (count: line)', value: lines.map(([k, v]) => `${v}× ${k}`).join('; ') });
  const stops = hosts.filter((h) => h.stopSummary).map((h) => `${h.name} ${ms(h.stopSummary!.stopMs)}`);
  if (stops.length > 0) figures.push({ label: 'plugin.stop() took', value: stops.join(', ') });
  return figures;
}

export function crashesOf(hosts: readonly HostProcess[]): CrashReport[] {
  return hosts.map((h) => h.crash).filter((c): c is CrashReport => c !== null);
}

/** Starts a supervisor-style replacement when `host` crashed, so durability can still be judged. */
export async function replaceIfCrashed(
  host: HostProcess,
  start: () => Promise<HostProcess>,
  notes: string[],
): Promise<HostProcess | null> {
  if (host.alive || !host.crash) return null;
  notes.push(`Host ${host.name} crashed (code ${host.crash.code}, signal ${host.crash.signal}); a replacement host was started, as a supervisor would, so that lost events can still be told from late ones.`);
  return start();
}
