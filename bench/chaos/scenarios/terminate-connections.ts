/**
 * Scenario b: every plugin connection terminated, a few times, under load
 * (`pg_terminate_backend` on every backend of the plugin's database: what a failover or an
 * idle-connection reaper does; each client gets 57P01 and its socket closes). The host must
 * survive, nothing accepted may be lost, and delivery must go on.
 */
import { fmt } from '../../measure.js';
import { audit, latencyOf, settle, type LedgerAudit } from '../delivery-ledger.js';
import { HostProcess, type CrashReport } from '../host-handle.js';
import { terminateBackends } from '../postgres-control.js';
import { RecordingReceiver } from '../receivers.js';
import {
  bounded, crashesOf, FAST_DELIVERY, hostConfig, hostFigures, ledgerFigures, ms, phaseFigure, replaceIfCrashed, TENANT, track,
  type ScenarioEnv, type ScenarioReport,
} from '../scenario-kit.js';

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface TerminateProfile {
  rate: number;
  seconds: number;
  /** Seconds into the load at which every connection is terminated. */
  terminateAtS: number[];
  graceMs: number;
  maxMs: number;
  options: Record<string, unknown>;
  optional?: Record<string, unknown>;
}

export const FULL: TerminateProfile = { rate: 100, seconds: 10, terminateAtS: [2, 4, 6, 8], graceMs: 30_000, maxMs: 120_000, options: {} };
export const QUICK: TerminateProfile = {
  rate: 40, seconds: 2.5, terminateAtS: [0.8, 1.6], graceMs: 20_000, maxMs: 60_000, options: { delivery: FAST_DELIVERY },
};

export interface TerminateResult {
  report: ScenarioReport;
  crashes: CrashReport[];
  ledger: LedgerAudit;
  /** Backends terminated in each round. */
  terminated: number[];
  /** Events accepted after the last round, and how many of them were delivered. */
  acceptedAfterLast: number;
  /** From the last round to the first receipt of an event accepted after it. */
  resumeMs: number | null;
}

export async function runTerminateConnections(profile: TerminateProfile, env: ScenarioEnv): Promise<TerminateResult> {
  const startedAt = now();
  const log = (m: string) => env.log(`terminate: ${m}`);
  const notes: string[] = [];
  const hosts: HostProcess[] = [];
  return bounded('terminate-connections', profile.maxMs, env.log, async (resources) => {
    const db = await env.databases.createDatabase(`chaos_terminate_${process.pid}_${Date.now()}`);
    const receiver = await RecordingReceiver.start();
    resources.defer('receiver', () => receiver.close());
    const config = hostConfig(db, 'chaos-host', profile.options, { optional: profile.optional });
    const host = track(resources, await HostProcess.startOrThrow('host', config));
    hosts.push(host);
    const { webhookId } = await host.createWebhook(TENANT, 'healthy', `${receiver.url}/hook`);

    log(`${profile.rate} hook calls/s for ${profile.seconds} s; every connection terminated at ${profile.terminateAtS.join(', ')} s`);
    const loadStart = now();
    const loading = host.load(TENANT, profile.rate, profile.seconds);
    loading.catch(() => undefined);
    const terminated: number[] = [];
    let firstRoundAt: number | null = null;
    let lastRoundAt = loadStart;
    for (const at of profile.terminateAtS) {
      await sleep(Math.max(0, loadStart + at * 1_000 - now()));
      lastRoundAt = now();
      firstRoundAt ??= lastRoundAt;
      const n = await terminateBackends(db);
      terminated.push(n);
      log(`terminated ${n} backends`);
    }
    await loading.catch(() => null);

    const replacement = await replaceIfCrashed(host, async () => {
      const h = track(resources, await HostProcess.startOrThrow('replacement', { ...config, workerName: 'chaos-replacement' }));
      hosts.push(h);
      return h;
    }, notes);

    const calls = hosts.flatMap((h) => h.calls);
    const healthy = [{ name: 'healthy endpoint', webhookId, receiver }];
    const settledIn = await settle(db, healthy, calls, profile.graceMs);
    const ledger = await audit(db, TENANT, healthy, calls);
    const after = calls.filter((c) => c.eventId && c.startedAt >= lastRoundAt);
    const firstNew = Math.min(...after.map((c) => receiver.firstReceipt.get(c.eventId!) ?? Number.POSITIVE_INFINITY));
    const resumeMs = Number.isFinite(firstNew) ? firstNew - lastRoundAt : null;

    await host.stop();
    await replacement?.stop();
    const crashes = crashesOf(hosts);
    const report: ScenarioReport = {
      key: 'terminate',
      title: 'b. Every plugin connection terminated',
      status: 'ran',
      method: [
        `Host child process with the plugin (options: ${JSON.stringify(profile.options)}), one healthy webhook subscribed to \`*\`.`,
        `\`userLogin\` at ${profile.rate}/s for ${profile.seconds} s; at ${profile.terminateAtS.join(', ')} s into the load, \`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = <the plugin's database> AND pid <> pg_backend_pid()\` (the pool's connections, Agenda's, the LISTEN connection).`,
        `Then up to ${profile.graceMs / 1_000} s grace until the store has no pending delivery and the receiver has every accepted event.`,
      ],
      figures: [
        ...hostFigures(hosts),
        { label: 'Backends terminated per round', value: terminated.join(', ') },
        { label: 'Last round → first delivery of an event accepted after it', value: resumeMs === null ? 'never' : ms(resumeMs) },
        phaseFigure('Enqueue-to-receipt p50 / p99 of events accepted before the first round', latencyOf(calls.filter((c) => c.startedAt < (firstRoundAt ?? Number.POSITIVE_INFINITY)), receiver)),
        phaseFigure('… of events accepted from 1 s after the last round (recovered?)', latencyOf(calls.filter((c) => c.startedAt >= lastRoundAt + 1_000), receiver)),
        { label: 'Everything delivered after the load ended', value: settledIn === null ? `no (grace ${ms(profile.graceMs)} ran out)` : ms(settledIn) },
        ...ledgerFigures(ledger),
      ],
      targets: [
        { label: 'Host crashes', target: '0', value: String(crashes.length), met: crashes.length === 0 },
        { label: 'Accepted events lost', target: '0', value: String(ledger.lost), met: ledger.lost === 0 },
        { label: 'Delivery continues after the last round', target: 'events accepted after it delivered', value: `${fmt(after.filter((c) => receiver.firstReceipt.has(c.eventId!)).length)} of ${fmt(after.length)}`, met: after.length > 0 && after.every((c) => receiver.firstReceipt.has(c.eventId!)) },
      ],
      crashes,
      notes,
      durationMs: now() - startedAt,
    };
    return { report, crashes, ledger, terminated, acceptedAfterLast: after.length, resumeMs };
  });
}
