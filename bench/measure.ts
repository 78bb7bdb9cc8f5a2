import { readdirSync, readFileSync } from 'node:fs';
import os, { cpus } from 'node:os';

/** Wall-clock ms with sub-ms resolution; the receiver process uses the same expression. */
export const now = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Nearest-rank percentile of unsorted values (`Infinity` stands for "never arrived"). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export function fmt(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return value > 0 ? '∞' : 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** CPU seconds used by a PostgreSQL server: the postmaster (with its exited children) and its live children. Linux only. */
export function postgresCpuSeconds(postmasterPid: number | null): number | null {
  if (postmasterPid === null) return null;
  const TICKS = 100; // USER_HZ; 100 on every Linux build that matters
  try {
    let ticks = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue;
      }
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(entry);
      const ppid = Number(fields[1]);
      if (pid === postmasterPid) ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
      else if (ppid === postmasterPid) ticks += Number(fields[11]) + Number(fields[12]);
    }
    return ticks / TICKS;
  } catch {
    return null;
  }
}

export interface CpuSnapshot {
  at: number;
  machineBusyMs: number;
  machineTotalMs: number;
  selfMicros: number;
  receiverMicros: number;
  postgresSeconds: number | null;
}

export function machineCpu(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const t = cpu.times;
    const all = t.user + t.nice + t.sys + t.idle + t.irq;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}

/** CPU use between two snapshots, in cores (1.0 = one core fully busy). */
export interface CpuSplit {
  machineCores: number;
  benchCores: number;
  receiverCores: number;
  postgresCores: number | null;
  /** Everything else on the machine (other processes, the kernel): not part of the benchmark. */
  otherCores: number;
}

export function cpuSplit(a: CpuSnapshot, b: CpuSnapshot): CpuSplit {
  const wallS = (b.at - a.at) / 1000;
  const cores = cpus().length;
  const totalDelta = b.machineTotalMs - a.machineTotalMs;
  const machineCores = totalDelta > 0 ? ((b.machineBusyMs - a.machineBusyMs) / totalDelta) * cores : Number.NaN;
  const benchCores = (b.selfMicros - a.selfMicros) / 1e6 / wallS;
  const receiverCores = (b.receiverMicros - a.receiverMicros) / 1e6 / wallS;
  const postgresCores = a.postgresSeconds !== null && b.postgresSeconds !== null ? (b.postgresSeconds - a.postgresSeconds) / wallS : null;
  const otherCores = Math.max(0, machineCores - benchCores - receiverCores - (postgresCores ?? 0));
  return { machineCores, benchCores, receiverCores, postgresCores, otherCores };
}

export function describeCpu(split: CpuSplit): string {
  const pg = split.postgresCores === null ? 'n/a' : split.postgresCores.toFixed(2);
  return `CPU cores: bench process ${split.benchCores.toFixed(2)}, receiver ${split.receiverCores.toFixed(2)}, postgres ${pg}, ` +
    `other load ${split.otherCores.toFixed(2)} (machine ${split.machineCores.toFixed(2)} of ${cpus().length})`;
}

/** The machine a benchmark or chaos run ran on, for the results file. */
export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  date: string;
  loadAverage: string;
}

/** The machine as a Markdown table for a results file; `postgresNote` says how PostgreSQL was run. */
export function machineTable(machine: Machine, postgresNote: string): string {
  return [
    '| | |',
    '| --- | --- |',
    `| CPU | ${machine.cpu} × ${machine.cores} |`,
    `| Memory | ${machine.memoryGiB} GiB |`,
    `| OS | ${machine.os} |`,
    `| Node.js | ${machine.node} |`,
    `| PostgreSQL | ${machine.postgres} (${postgresNote}) |`,
    `| Date | ${machine.date} |`,
    `| Load average at start | ${machine.loadAverage} |`,
  ].join('\n');
}

/**
 * Waits (at most `seconds`) until processes outside the run use less than `noisyCores` for 2 s,
 * so figures describe the plugin rather than whatever else the machine is doing.
 */
export async function waitForQuiet(seconds: number, noisyCores: number, log: (line: string) => void): Promise<void> {
  const deadline = now() + seconds * 1_000;
  for (;;) {
    const a = machineCpu();
    await sleep(2_000);
    const b = machineCpu();
    const busyCores = ((b.busy - a.busy) / Math.max(1, b.total - a.total)) * os.cpus().length;
    if (busyCores < noisyCores) return;
    if (now() > deadline) {
      log(`other processes still use ${busyCores.toFixed(2)} cores; starting anyway (figures will be noisy)`);
      return;
    }
    log(`waiting for a quieter machine: other processes use ${busyCores.toFixed(2)} cores`);
  }
}
