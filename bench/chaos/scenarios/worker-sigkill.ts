/**
 * Scenario c: the worker killed with SIGKILL mid-delivery (requests in flight, hook calls in
 * flight, results not yet written back), then a new host process started on the same
 * database. Nothing accepted may be lost; duplicates are expected (at least once) and counted.
 */
import { fmt } from '../../measure.js';
import { audit, settle, TABLE_PREFIX, type LedgerAudit } from '../delivery-ledger.js';
import { HostProcess, type CrashReport } from '../host-handle.js';
import { queryOnce } from '../postgres-control.js';
import { RecordingReceiver } from '../receivers.js';
import {
  bounded, crashesOf, FAST_DELIVERY, hostConfig, hostFigures, ledgerFigures, ms, TENANT, track,
  type ScenarioEnv, type ScenarioReport,
} from '../scenario-kit.js';

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface SigkillProfile {
  rate: number;
  seconds: number;
  /** Seconds into the load at which the host is killed. */
  killAtS: number;
  /** The receiver answers this late, so requests are in flight at the kill. */
  receiverDelayMs: number;
  /** Must cover the dead worker's leases (delivery.leaseMs) plus the redelivery. */
  graceMs: number;
  maxMs: number;
  options: Record<string, unknown>;
  optional?: Record<string, unknown>;
}

/** Default options: the dead worker's leases (leaseMs 60 s) must expire before anyone resends. */
export const FULL: SigkillProfile = { rate: 100, seconds: 5, killAtS: 3, receiverDelayMs: 250, graceMs: 100_000, maxMs: 180_000, options: {} };
export const QUICK: SigkillProfile = {
  rate: 40, seconds: 2, killAtS: 1.2, receiverDelayMs: 300, graceMs: 25_000, maxMs: 60_000,
  options: { delivery: { ...FAST_DELIVERY, leaseMs: 2_500 } },
};

export interface SigkillResult {
  report: ScenarioReport;
  crashes: CrashReport[];
  ledger: LedgerAudit;
  /** What the store showed right after the kill. */
  atKill: { pending: number; leasedByDeadWorker: number; succeeded: number };
  /** From the kill until every delivery had succeeded and been received; null if the grace ran out. */
  recoveredMs: number | null;
}

export async function runWorkerSigkill(profile: SigkillProfile, env: ScenarioEnv): Promise<SigkillResult> {
  const startedAt = now();
  const log = (m: string) => env.log(`sigkill: ${m}`);
  const notes: string[] = [];
  const hosts: HostProcess[] = [];
  return bounded('worker-sigkill', profile.maxMs, env.log, async (resources) => {
    const db = await env.databases.createDatabase(`chaos_sigkill_${process.pid}_${Date.now()}`);
    const receiver = await RecordingReceiver.start({ delayMs: profile.receiverDelayMs });
    resources.defer('receiver', () => receiver.close());
    const config = hostConfig(db, 'chaos-doomed', profile.options, { optional: profile.optional });
    const doomed = track(resources, await HostProcess.startOrThrow('doomed', config));
    hosts.push(doomed);
    const { webhookId } = await doomed.createWebhook(TENANT, 'healthy', `${receiver.url}/hook`);

    log(`${profile.rate} hook calls/s for ${profile.seconds} s; receiver answers after ${profile.receiverDelayMs} ms; SIGKILL at ${profile.killAtS} s`);
    const loadStart = now();
    const loading = doomed.load(TENANT, profile.rate, profile.seconds);
    loading.catch(() => undefined);
    await sleep(Math.max(0, loadStart + profile.killAtS * 1_000 - now()));
    const killAt = now();
    await doomed.kill('SIGKILL');
    const [snapshot] = await queryOnce<{ pending: number; leased: number; succeeded: number }>(db,
      `SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending,
              count(*) FILTER (WHERE status = 'pending' AND lease_owner LIKE 'chaos-doomed%')::int AS leased,
              count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded
       FROM "${TABLE_PREFIX}deliveries" WHERE webhook_id = $1`, [webhookId]);
    const atKill = { pending: snapshot.pending, leasedByDeadWorker: snapshot.leased, succeeded: snapshot.succeeded };
    log(`killed; the store shows ${atKill.pending} pending (${atKill.leasedByDeadWorker} leased by the dead worker), ${atKill.succeeded} succeeded; ${doomed.calls.length} hook calls reported`);

    const replacementStart = now();
    const replacement = track(resources, await HostProcess.startOrThrow('replacement', { ...config, workerName: 'chaos-replacement' }));
    hosts.push(replacement);
    const replacementReady = now();

    const calls = hosts.flatMap((h) => h.calls);
    const healthy = [{ name: 'healthy endpoint', webhookId, receiver }];
    const settledIn = await settle(db, healthy, calls, profile.graceMs);
    const recoveredMs = settledIn === null ? null : now() - killAt;
    // Everything the dead host stored must be delivered too, reported or not.
    const ledger = await audit(db, TENANT, healthy, calls);
    await replacement.stop();
    const crashes = crashesOf(hosts);
    const leaseMs = (profile.options as { delivery?: { leaseMs?: number } }).delivery?.leaseMs ?? 60_000;
    const report: ScenarioReport = {
      key: 'sigkill',
      title: 'c. Worker killed with SIGKILL mid-delivery',
      status: 'ran',
      method: [
        `Host child process with the plugin (options: ${JSON.stringify(profile.options)}), one webhook subscribed to \`*\` on a receiver that answers after ${profile.receiverDelayMs} ms (so requests are in flight).`,
        `\`userLogin\` at ${profile.rate}/s; ${profile.killAtS} s in, the host gets SIGKILL (hook calls, requests and result writes in flight). A new host process (same database, same key) is started at once, without load.`,
        `Accepted = reported by the killed host before it died; events it stored without reporting are checked too. Up to ${profile.graceMs / 1_000} s grace (the dead worker's leases last ${leaseMs / 1_000} s).`,
      ],
      figures: [
        ...hostFigures(hosts),
        { label: 'Store at the kill: pending (leased by the dead worker) / succeeded', value: `${atKill.pending} (${atKill.leasedByDeadWorker}) / ${atKill.succeeded}` },
        { label: 'Replacement host started in', value: ms(replacementReady - replacementStart) },
        { label: 'Kill → every delivery succeeded and received', value: recoveredMs === null ? `not within the ${ms(profile.graceMs)} grace` : ms(recoveredMs) },
        { label: 'Duplicate receipts (at least once)', value: `${fmt(ledger.duplicates)} (${fmt(receiver.receipts.length)} receipts of ${fmt(receiver.webhookIds.size)} deliveries)` },
        ...ledgerFigures(ledger),
      ],
      targets: [
        { label: 'Host crashes (the replacement; the SIGKILL is the fault)', target: '0', value: String(crashes.length), met: crashes.length === 0 },
        { label: 'Accepted events lost', target: '0', value: String(ledger.lost), met: ledger.lost === 0 },
        { label: 'Events stored by the dead host and never delivered', target: '0', value: String(ledger.recordedUnacknowledgedUndelivered), met: ledger.recordedUnacknowledgedUndelivered === 0 },
      ],
      crashes,
      notes,
      durationMs: now() - startedAt,
    };
    return { report, crashes, ledger, atKill, recoveredMs };
  });
}
