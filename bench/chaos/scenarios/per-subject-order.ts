/**
 * Scenario g (issue 12): per-subject ordering under failures, across worker processes. A
 * webhook with `ordering: "per_subject"` gets events about a fixed set of users (`USER_MODIFIED`,
 * each user's events numbered 1, 2, ... by the store), recorded by a web node (the harness's
 * own plugin, `runWorker: false`) while two host child processes deliver them from the same
 * PostgreSQL database, to a receiver that answers a fifth of all requests 500. Every receipt
 * about a user must carry a sequence no lower than one that user's receipts already carried (a
 * repeat of the same one after a lost answer is allowed); the run reports how long the whole
 * set took to arrive.
 */
import { createWebhooksPlugin, type WebhooksPlugin } from '../../../plugin/index.js';
import { fmt } from '../../measure.js';
import { TABLE_PREFIX } from '../delivery-ledger.js';
import { HostProcess, type CrashReport } from '../host-handle.js';
import { orderAudit, OrderReceiver, type OrderAudit } from '../order-receiver.js';
import { queryOnce } from '../postgres-control.js';
import {
  bounded, crashesOf, EGRESS_ALLOW, ENCRYPTION_KEY, hostConfig, hostFigures, ms, TENANT, track,
  type ScenarioEnv, type ScenarioReport,
} from '../scenario-kit.js';

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface OrderProfile {
  events: number;
  subjects: number;
  workers: number;
  /** Share of requests the receiver answers 500. */
  failRatio: number;
  /** Hook calls the web node keeps in flight while recording. */
  recordConcurrency: number;
  /** How long after the last event was recorded everything may take to arrive. */
  graceMs: number;
  maxMs: number;
  /** The worker processes' plugin options. */
  options: Record<string, unknown>;
}

/**
 * Retries in milliseconds, and enough of them that no delivery fails finally by chance (0.2^9):
 * then every receipt of sequence n must come after n - 1 was answered 200.
 */
const SHORT_RETRIES = { retryScheduleMs: [0, 50, 100, 200, 400, 800, 1_600, 3_200, 6_400], jitter: 0.2, pollIntervalMs: 100, timeoutMs: 5_000, leaseMs: 10_000 };

/** The target: 10,000 events on 200 subjects, a fifth of requests failing, 2 worker processes. */
export const FULL: OrderProfile = {
  events: 10_000, subjects: 200, workers: 2, failRatio: 0.2, recordConcurrency: 16, graceMs: 240_000, maxMs: 420_000,
  options: { delivery: SHORT_RETRIES },
};
export const QUICK: OrderProfile = {
  events: 1_000, subjects: 50, workers: 2, failRatio: 0.2, recordConcurrency: 8, graceMs: 45_000, maxMs: 90_000,
  options: { delivery: SHORT_RETRIES },
};

export interface OrderResult {
  report: ScenarioReport;
  crashes: CrashReport[];
  audit: OrderAudit;
  /** The webhook's deliveries by status at the end. */
  storeStatus: Record<string, number>;
  /** From the first hook call until every delivery had succeeded or failed; null if the grace ran out. */
  drainedMs: number | null;
}

export async function runPerSubjectOrder(profile: OrderProfile, env: ScenarioEnv): Promise<OrderResult> {
  const startedAt = now();
  const log = (m: string) => env.log(`order: ${m}`);
  const hosts: HostProcess[] = [];
  return bounded('per-subject-order', profile.maxMs, env.log, async (resources) => {
    const db = await env.databases.createDatabase(`chaos_order_${process.pid}_${Date.now()}`);
    const receiver = await OrderReceiver.start({ failRatio: profile.failRatio });
    resources.defer('receiver', () => receiver.close());
    const web = await startWebNode(db);
    resources.defer('web node', () => web.stop());
    const { webhook } = await web.webhooks.create(
      { name: 'ordered', url: `${receiver.url}/ordered`, events: ['USER_MODIFIED'], ordering: 'per_subject' },
      web.context({ tenantId: TENANT }, 'default'),
    );
    // Started side by side (each compiles the plugin on start); every one that started is stopped at the end.
    const started = await Promise.allSettled(Array.from({ length: profile.workers },
      (_, i) => HostProcess.startOrThrow(`worker-${i + 1}`, hostConfig(db, `chaos-order-${i + 1}`, profile.options))));
    for (const s of started) if (s.status === 'fulfilled') hosts.push(track(resources, s.value));
    for (const s of started) if (s.status === 'rejected') throw s.reason;

    log(`${profile.events} events on ${profile.subjects} subjects, ${profile.workers} worker processes, ${profile.failRatio * 100} % of requests answered 500`);
    const recordStart = now();
    const perSubject = await recordEvents(web, profile);
    const recordedMs = now() - recordStart;
    log(`recorded in ${ms(recordedMs)}; waiting for every delivery to finish`);
    const drainedAt = await drained(db, webhook.id, profile.events, recordStart + recordedMs + profile.graceMs);
    const drainedMs = drainedAt === null ? null : drainedAt - recordStart;
    const storeStatus = await statusCounts(db, webhook.id);
    const audit = orderAudit(receiver.receipts, perSubject);
    log(`drained in ${drainedMs === null ? 'n/a' : ms(drainedMs)}; ${audit.outOfOrder} receipts out of order, ${audit.receipts} receipts`);
    for (const host of hosts) await host.stop();
    const crashes = crashesOf(hosts);
    const delivered = storeStatus.succeeded ?? 0;

    const report: ScenarioReport = {
      key: 'order',
      title: 'g. Per-subject ordering across worker processes',
      status: 'ran',
      method: [
        `One webhook with \`ordering: "per_subject"\` subscribed to \`USER_MODIFIED\`; its receiver answers ${profile.failRatio * 100} % of requests 500 (seeded, at random) and records each request's \`current_context.subject\` and \`.sequence\` in arrival order.`,
        `${fmt(profile.events)} \`userModified\` hook calls about ${profile.subjects} users in turn (each user's events numbered 1, 2, ... by the store), recorded by a web node in the harness (\`runWorker: false\`, ${profile.recordConcurrency} calls in flight) while ${profile.workers} host processes deliver from the same database (options: ${JSON.stringify(profile.options)}).`,
        'Out of order = a receipt about a user with a lower sequence than one that user\'s receipts already carried; a repeat of the same sequence (a retry, or an answer the plugin never got) is allowed. Time = first hook call until the store shows every delivery finished.',
      ],
      figures: [
        ...hostFigures(hosts),
        { label: 'Recording the events took', value: `${ms(recordedMs)} (${fmt(profile.events / (recordedMs / 1_000))} events/s)` },
        { label: 'First hook call → every delivery finished', value: drainedMs === null ? `not within the ${ms(profile.graceMs)} grace` : `${ms(drainedMs)} (${fmt(delivered / (drainedMs / 1_000))} deliveries/s)` },
        { label: 'Last hook call → every delivery finished (how far delivery lagged behind)', value: drainedMs === null ? 'n/a' : ms(drainedMs - recordedMs) },
        { label: 'Deliveries in the store by status', value: Object.entries(storeStatus).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') || 'none' },
        { label: 'Requests received / answered 500 on purpose', value: `${fmt(audit.receipts)} / ${fmt(audit.failedOnPurpose)}` },
        { label: 'Receipts of sequence n before n − 1 was answered 200', value: fmt(audit.aheadOfPrevious) },
        { label: 'Repeats of a sequence already answered 200 (at least once)', value: fmt(audit.repeatsAfterSuccess) },
        { label: 'Subjects that got every one of their events', value: `${audit.subjectsComplete} of ${audit.subjects}` },
      ],
      targets: [
        { label: 'Host crashes', target: '0', value: String(crashes.length), met: crashes.length === 0 },
        {
          label: 'Out-of-order receipts per subject', target: '0',
          value: audit.outOfOrder === 0 ? '0' : `${audit.outOfOrder} (${audit.examples.join('; ')})`, met: audit.outOfOrder === 0,
        },
        {
          label: 'Events delivered', target: fmt(profile.events), value: `${fmt(delivered)}, ${audit.subjectsComplete} of ${audit.subjects} subjects complete`,
          met: delivered === profile.events && audit.subjectsComplete === audit.subjects,
        },
      ],
      crashes,
      notes: [],
      durationMs: now() - startedAt,
    };
    return { report, crashes, audit, storeStatus, drainedMs };
  });
}

/** The harness's own plugin, recording only: a web node as a host would run one. */
async function startWebNode(db: string): Promise<WebhooksPlugin> {
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const plugin = createWebhooksPlugin({
    storage: { postgres: { connectionString: db } }, encryptionKeys: [ENCRYPTION_KEY], runWorker: false,
    egress: { allow: EGRESS_ALLOW }, logger: quiet, workerName: 'chaos-order-web',
  });
  await plugin.start();
  return plugin;
}

/** Records the events, users in turn, a few calls in flight; returns how many each subject got. */
async function recordEvents(web: WebhooksPlugin, profile: OrderProfile): Promise<Map<string, number>> {
  const perSubject = new Map<string, number>();
  let next = 0;
  const lane = async () => {
    while (next < profile.events) {
      const n = next;
      next += 1;
      const id = `order-user-${String(n % profile.subjects).padStart(4, '0')}`;
      const result = await web.hooks.userModified({ user: { id, username: id } }, { tenantId: TENANT });
      if (result.subject) perSubject.set(result.subject, Math.max(perSubject.get(result.subject) ?? 0, result.sequence ?? 0));
    }
  };
  await Promise.all(Array.from({ length: profile.recordConcurrency }, lane));
  return perSubject;
}

/** Waits until the webhook has `count` deliveries and none pending; when that was, or null past `deadline`. */
async function drained(db: string, webhookId: string, count: number, deadline: number): Promise<number | null> {
  while (now() < deadline) {
    const status = await statusCounts(db, webhookId);
    const total = Object.values(status).reduce((a, b) => a + b, 0);
    if (total >= count && !status.pending) return now();
    await sleep(100);
  }
  return null;
}

async function statusCounts(db: string, webhookId: string): Promise<Record<string, number>> {
  const rows = await queryOnce<{ status: string; n: number }>(db,
    `SELECT status, count(*)::int AS n FROM "${TABLE_PREFIX}deliveries" WHERE webhook_id = $1 GROUP BY status ORDER BY status`, [webhookId]);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}
