/**
 * Scenario a: PostgreSQL restarted under load. The server is stopped (fast shutdown: every
 * connection is terminated) while hook calls flow, stays down for a few seconds, and starts
 * again on the same port and data. The host must survive, hook calls during the outage must
 * reject promptly, nothing accepted may be lost, and delivery must resume soon after the
 * database accepts connections again.
 */
import { percentile, fmt } from '../../measure.js';
import { audit, latencyOf, settle, type LedgerAudit } from '../delivery-ledger.js';
import { HostProcess, type CrashReport } from '../host-handle.js';
import type { HookCall } from '../host-protocol.js';
import { RestartablePostgres } from '../postgres-control.js';
import { RecordingReceiver } from '../receivers.js';
import {
  bounded, crashesOf, FAST_DELIVERY, hostConfig, hostFigures, ledgerFigures, ms, phaseFigure, replaceIfCrashed, TENANT, track,
  type ScenarioEnv, type ScenarioReport,
} from '../scenario-kit.js';

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface PgRestartProfile {
  /** Hook calls per second, for the whole run. */
  rate: number;
  beforeS: number;
  outageS: number;
  afterS: number;
  graceMs: number;
  maxMs: number;
  /** Plugin options (delivery, …). */
  options: Record<string, unknown>;
  optional?: Record<string, unknown>;
}

export const FULL: PgRestartProfile = { rate: 100, beforeS: 3, outageS: 3, afterS: 6, graceMs: 30_000, maxMs: 180_000, options: {} };
export const QUICK: PgRestartProfile = {
  rate: 40, beforeS: 1, outageS: 1, afterS: 1.5, graceMs: 20_000, maxMs: 90_000, options: { delivery: FAST_DELIVERY },
};
/** Delivery must resume this soon after PostgreSQL accepts connections again (issue #9). */
export const RESUME_TARGET_MS = 5_000;

export interface OutageCalls {
  /** Calls started while the database was down (from the stop request until it accepted connections). */
  calls: number;
  rejected: number;
  accepted: number;
  /** Calls (any time) that had not settled when the load ended plus 30 s. */
  unsettled: number;
  /** Duration of each settled call started during the outage, whatever its outcome. */
  durations: number[];
  p50: number;
  p99: number;
  max: number;
}

export interface PgRestartResult {
  report: ScenarioReport;
  crashes: CrashReport[];
  ledger: LedgerAudit;
  outage: OutageCalls;
  /** Events accepted after the database came back (the "new" ones). */
  acceptedAfterRestart: number;
  /** From "accepts connections again" to the first receipt of an event accepted after that. */
  resumeMs: number | null;
  documentedHookTimeoutMs: number | null;
}

export async function runPgRestart(profile: PgRestartProfile, env: ScenarioEnv): Promise<PgRestartResult> {
  const startedAt = now();
  const log = (m: string) => env.log(`pg-restart: ${m}`);
  const notes: string[] = [];
  const hosts: HostProcess[] = [];
  return bounded('pg-restart', profile.maxMs, env.log, async (resources) => {
    const pgServer = await RestartablePostgres.start();
    resources.defer('PostgreSQL', () => pgServer.dispose());
    const db = await pgServer.createDatabase('chaos_restart');
    const receiver = await RecordingReceiver.start();
    resources.defer('receiver', () => receiver.close());
    const config = hostConfig(db, 'chaos-host', profile.options, { optional: profile.optional });
    const host = track(resources, await HostProcess.startOrThrow('host', config));
    hosts.push(host);
    const { webhookId } = await host.createWebhook(TENANT, 'healthy', `${receiver.url}/hook`);

    // Ended afterS after the database is back, however long stopping and starting took.
    log(`${profile.rate} hook calls/s; PostgreSQL (port ${pgServer.port}) stops after ${profile.beforeS} s for ${profile.outageS} s; the load goes on ${profile.afterS} s after it is back`);
    const loadStart = now();
    const loading = host.load(TENANT, profile.rate, profile.beforeS + profile.outageS + profile.afterS + 60);
    loading.catch(() => undefined);
    await sleep(profile.beforeS * 1_000);
    const stopAt = now();
    await pgServer.stop();
    const stoppedAt = now();
    log(`PostgreSQL stopped in ${fmt(stoppedAt - stopAt)} ms`);
    await sleep(profile.outageS * 1_000);
    const restartAt = now();
    const { acceptingAt } = await pgServer.start();
    log(`PostgreSQL accepts connections again ${fmt(acceptingAt - restartAt)} ms after the start call (outage ${fmt(acceptingAt - stopAt)} ms)`);
    await sleep(Math.max(0, acceptingAt + profile.afterS * 1_000 - now()));
    await host.endLoad().catch(() => undefined);
    const loadSeconds = (now() - loadStart) / 1_000;
    const summary = await loading.catch(() => null);
    const unsettled = summary?.unsettled ?? 0;

    const replacement = await replaceIfCrashed(host, async () => {
      const h = track(resources, await HostProcess.startOrThrow('replacement', { ...config, workerName: 'chaos-replacement' }));
      hosts.push(h);
      return h;
    }, notes);
    if (replacement) log('the host crashed; a replacement host delivers what is left');

    const calls: HookCall[] = hosts.flatMap((h) => h.calls);
    const healthy = [{ name: 'healthy endpoint', webhookId, receiver }];
    const settledIn = await settle(db, healthy, calls, profile.graceMs);
    log(settledIn === null ? `not everything was delivered within the ${profile.graceMs} ms grace period` : `everything delivered ${fmt(settledIn)} ms after the load ended`);
    const ledger = await audit(db, TENANT, healthy, calls);

    const inOutage = calls.filter((c) => c.startedAt >= stopAt && c.startedAt < acceptingAt && c.endedAt !== null);
    const durations = inOutage.map((c) => c.endedAt! - c.startedAt);
    const outage: OutageCalls = {
      calls: inOutage.length + unsettled, rejected: inOutage.filter((c) => c.error).length, accepted: inOutage.filter((c) => c.eventId).length,
      unsettled, durations, p50: percentile(durations, 50), p99: percentile(durations, 99), max: percentile(durations, 100),
    };
    const after = calls.filter((c) => c.eventId && c.startedAt >= acceptingAt);
    const firstNew = Math.min(...after.map((c) => receiver.firstReceipt.get(c.eventId!) ?? Number.POSITIVE_INFINITY));
    const resumeMs = Number.isFinite(firstNew) ? firstNew - acceptingAt : null;
    const firstAny = Math.min(...receiver.receipts.filter((r) => r.receivedAt >= acceptingAt).map((r) => r.receivedAt));
    const firstAcceptedAfter = Math.min(...after.map((c) => c.endedAt!));
    const documented = host.documentedHookTimeoutMs;

    await host.stop();
    await replacement?.stop();
    const crashes = crashesOf(hosts);
    const rejectedOutage = inOutage.filter((c) => c.error).map((c) => c.endedAt! - c.startedAt);
    const report: ScenarioReport = {
      key: 'pg-restart',
      title: 'a. PostgreSQL restarted under load',
      status: 'ran',
      method: [
        `Host child process with the plugin (options: ${JSON.stringify(profile.options)}), one healthy webhook subscribed to \`*\` on a receiver on 127.0.0.1.`,
        `\`userLogin\` hook calls at ${profile.rate}/s, open loop, for ${loadSeconds.toFixed(1)} s in all (until ${profile.afterS} s after PostgreSQL is back). After ${profile.beforeS} s the embedded PostgreSQL (fixed port, persistent data directory) is stopped with a fast shutdown (SIGINT: every connection terminated), left down ${profile.outageS} s, and started again on the same port and data.`,
        '"Accepts connections again" = the first moment a new client connects (polled every 20 ms). Resume time = from then to the first receipt of an event accepted after it.',
        `Then up to ${profile.graceMs / 1_000} s grace until the store has no pending delivery and the receiver has every accepted event.`,
      ],
      figures: [
        ...hostFigures(hosts),
        { label: 'Outage (stop request → accepting connections)', value: `${ms(acceptingAt - stopAt)} (stop took ${ms(stoppedAt - stopAt)}, start ${ms(acceptingAt - restartAt)})` },
        { label: 'Hook calls started during the outage: rejected / accepted / never settled', value: `${outage.rejected} / ${outage.accepted} / ${outage.unsettled}` },
        { label: 'Their duration p50 / p99 / max (all outcomes)', value: `${ms(outage.p50, 1)} / ${ms(outage.p99, 1)} / ${ms(outage.max, 1)}` },
        { label: 'Rejected ones only, p99', value: ms(percentile(rejectedOutage, 99), 1) },
        { label: 'Documented hook timeout (`hookTimeoutMs` default)', value: documented === null ? 'none (the plugin has no hookTimeoutMs yet)' : ms(documented) },
        { label: 'Accepting again → first hook call accepted', value: Number.isFinite(firstAcceptedAfter) ? ms(firstAcceptedAfter - acceptingAt) : 'never' },
        { label: 'Accepting again → first delivery of any event', value: Number.isFinite(firstAny) ? ms(firstAny - acceptingAt) : 'never' },
        { label: 'Accepting again → first delivery of an event accepted after it', value: resumeMs === null ? 'never' : ms(resumeMs) },
        phaseFigure('Enqueue-to-receipt p50 / p99 of events accepted before the stop', latencyOf(calls.filter((c) => c.startedAt < stopAt), receiver)),
        phaseFigure('… of events accepted from 2 s after PostgreSQL was back (recovered?)', latencyOf(calls.filter((c) => c.startedAt >= acceptingAt + 2_000), receiver)),
        { label: 'Everything delivered after the load ended', value: settledIn === null ? `no (grace ${ms(profile.graceMs)} ran out)` : ms(settledIn) },
        ...ledgerFigures(ledger),
      ],
      targets: [
        { label: 'Host crashes', target: '0', value: String(crashes.length), met: crashes.length === 0 },
        { label: 'Accepted events lost', target: '0', value: String(ledger.lost), met: ledger.lost === 0 },
        { label: 'Delivery resumes after PostgreSQL accepts connections', target: `≤ ${RESUME_TARGET_MS / 1_000} s`, value: resumeMs === null ? 'never' : ms(resumeMs), met: resumeMs !== null && resumeMs <= RESUME_TARGET_MS },
        {
          label: 'Hook calls during the outage settle within the documented timeout (p99)',
          target: documented === null ? 'a documented hookTimeoutMs' : `≤ ${ms(documented)}`,
          value: `p99 ${ms(outage.p99, 1)}${outage.unsettled > 0 ? `, ${outage.unsettled} never settled` : ''}`,
          met: documented !== null && outage.unsettled === 0 && (outage.durations.length === 0 || outage.p99 <= documented),
        },
      ],
      crashes,
      notes,
      durationMs: now() - startedAt,
    };
    const result: PgRestartResult = { report, crashes, ledger, outage, acceptedAfterRestart: after.length, resumeMs, documentedHookTimeoutMs: documented };
    return result;
  });
}
