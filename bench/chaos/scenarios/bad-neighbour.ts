/**
 * The flow scenarios d, e and f share: a healthy endpoint and a bad one (black hole, 5xx,
 * slow DNS), both webhooks subscribed to `*`, hook calls at a steady rate. The healthy
 * endpoint must get every event, quickly, whatever the bad one does.
 */
import { fmt } from '../../measure.js';
import { audit, settle, webhookActivity, type EndpointAudit, type LedgerAudit } from '../delivery-ledger.js';
import { HostProcess, type CrashReport } from '../host-handle.js';
import { RecordingReceiver } from '../receivers.js';
import {
  bounded, counts, crashesOf, hostConfig, hostFigures, ledgerFigures, ms, TENANT, track, WARM_UP_TENANT,
  type Figure, type Resources, type ScenarioEnv, type ScenarioReport,
} from '../scenario-kit.js';

const now = (): number => performance.timeOrigin + performance.now();

export interface NeighbourProfile {
  rate: number;
  seconds: number;
  /** How long after the load the healthy endpoint may take to get everything. */
  graceMs: number;
  maxMs: number;
  options: Record<string, unknown>;
  optional?: Record<string, unknown>;
}

/** Issue #9: the healthy endpoint's enqueue-to-receipt p99 beside a black hole, at 300 events/s. */
export const HEALTHY_P99_TARGET_MS = 250;

export interface BadEndpointSetup {
  /** URL of the bad webhook; null for none (the baseline). */
  badUrl: string | null;
  /** URL of the healthy webhook (default: the healthy receiver's own URL). */
  healthyUrl?: string;
  /** Options the scenario cannot run without (dotted path → value), e.g. a DNS server. */
  required?: Record<string, unknown>;
  /** What the bad endpoint saw, for the report. */
  figures(): Figure[];
}

export interface NeighbourSpec {
  key: string;
  title: string;
  /** What the bad endpoint is, for the method section; empty for none. */
  badDescription: string;
  /** Starts the bad endpoint (registering its cleanup); gets the healthy receiver's port. */
  setup(resources: Resources, healthy: RecordingReceiver): Promise<BadEndpointSetup>;
}

export interface NeighbourResult {
  report: ScenarioReport;
  /** False when the plugin rejected an option the scenario needs (the feature is not there yet). */
  supported: boolean;
  crashes: CrashReport[];
  ledger: LedgerAudit | null;
  healthy: EndpointAudit | null;
  /** The bad webhook's deliveries by status and attempts by outcome, from the store. */
  bad: { status: Record<string, number>; attempts: number; outcomes: Record<string, number> } | null;
}

/** Receipts in each second after `start`, up to the last one (at most 120 seconds shown). */
function perSecond(receiver: RecordingReceiver, start: number): string {
  const buckets: number[] = [];
  for (const r of receiver.receipts) {
    const second = Math.floor((r.receivedAt - start) / 1_000);
    if (second < 0) continue;
    while (buckets.length <= second) buckets.push(0);
    buckets[second] += 1;
  }
  return buckets.length === 0 ? 'none' : `${buckets.slice(0, 120).join(' ')}${buckets.length > 120 ? ' …' : ''}`;
}

export async function runBadNeighbour(spec: NeighbourSpec, profile: NeighbourProfile, env: ScenarioEnv): Promise<NeighbourResult> {
  const startedAt = now();
  const log = (m: string) => env.log(`${spec.key}: ${m}`);
  const hosts: HostProcess[] = [];
  const notes: string[] = [];
  const method = [
    `Host child process with the plugin (options: ${JSON.stringify(profile.options)}${profile.optional ? `, if the plugin knows them: ${JSON.stringify(profile.optional)}` : ''}).`,
    spec.badDescription
      ? `Two webhooks subscribed to \`*\`: a healthy receiver on 127.0.0.1 answering 200 at once, and ${spec.badDescription}.`
      : 'One webhook subscribed to `*`: a healthy receiver on 127.0.0.1 answering 200 at once.',
    `\`userLogin\` at ${profile.rate}/s, open loop, for ${profile.seconds} s (after one untimed second at that rate in another tenant, to the healthy receiver only); then up to ${profile.graceMs / 1_000} s grace for the healthy endpoint to have every accepted event (checked against the store).`,
    'Latency = receipt time at the healthy receiver − the event\'s `event_time` (set when the plugin recorded it).',
  ];
  return bounded(spec.key, profile.maxMs, env.log, async (resources) => {
    const db = await env.databases.createDatabase(`chaos_${spec.key.replace(/\W/g, '_')}_${process.pid}_${Date.now()}`);
    const receiver = await RecordingReceiver.start();
    resources.defer('healthy receiver', () => receiver.close());
    const bad = await spec.setup(resources, receiver);
    const config = hostConfig(db, 'chaos-host', profile.options, {
      optional: { ...profile.optional, ...bad.required },
      required: Object.keys(bad.required ?? {}),
    });
    const started = await HostProcess.start('host', config);
    if (started.kind === 'unsupported') {
      log(`not supported yet: the plugin rejects ${started.paths.join(', ')}`);
      return {
        report: {
          key: spec.key, title: spec.title, status: 'not supported yet', method,
          figures: [{ label: 'Options the plugin rejected', value: `${started.paths.join(', ')} (${started.message})` }],
          targets: [], crashes: [], notes, durationMs: now() - startedAt,
        },
        supported: false, crashes: [], ledger: null, healthy: null, bad: null,
      };
    }
    const host = track(resources, started.host);
    hosts.push(host);
    const healthyHook = await host.createWebhook(TENANT, 'healthy', bad.healthyUrl ?? `${receiver.url}/hook`);
    const badHook = bad.badUrl === null ? null : await host.createWebhook(TENANT, 'bad', bad.badUrl);

    // One untimed second first, as npm run bench does, so JIT warm-up and connection set-up
    // are not measured: in a tenant of its own, so its events stay out of the books below.
    await host.createWebhook(WARM_UP_TENANT, 'warm-up', bad.healthyUrl ?? `${receiver.url}/hook`);
    await host.load(WARM_UP_TENANT, profile.rate, 1).catch(() => null);
    host.calls.length = 0;

    log(`${profile.rate} hook calls/s for ${profile.seconds} s`);
    const loadStart = now();
    const summary = await host.load(TENANT, profile.rate, profile.seconds).catch((error: unknown) => {
      notes.push(`The load ended early: ${String(error).split('\n')[0]}`);
      return null;
    });
    const calls = hosts.flatMap((h) => h.calls);
    const healthyEndpoints = [{ name: 'healthy endpoint', webhookId: healthyHook.webhookId, receiver }];
    const settledIn = await settle(db, healthyEndpoints, calls, profile.graceMs);
    log(settledIn === null ? `the healthy endpoint did not get everything within ${profile.graceMs} ms` : `the healthy endpoint had everything ${fmt(settledIn)} ms after the load`);
    const ledger = await audit(db, TENANT, healthyEndpoints, calls);
    const badActivity = badHook ? await webhookActivity(db, badHook.webhookId) : null;
    await host.stop();
    const crashes = crashesOf(hosts);
    const healthy = ledger.endpoints[0];
    const report: ScenarioReport = {
      key: spec.key, title: spec.title, status: 'ran', method,
      figures: [
        ...hostFigures(hosts),
        ...(summary ? [{ label: 'Hook-call pacing: worst lag of the host\'s timer', value: ms(summary.maxPacingLagMs, 1) }] : []),
        { label: 'Healthy endpoint: receipts per second from the start of the load', value: perSecond(receiver, loadStart) },
        { label: 'Healthy endpoint had everything after the load ended', value: settledIn === null ? `no (grace ${ms(profile.graceMs)} ran out)` : ms(settledIn) },
        ...ledgerFigures(ledger),
        ...bad.figures(),
        ...(badActivity ? [
          { label: 'Bad webhook in the store: deliveries by status', value: counts(badActivity.status) },
          { label: 'Bad webhook in the store: attempts by outcome', value: `${fmt(badActivity.attempts)} (${counts(badActivity.outcomes)})` },
        ] : []),
      ],
      targets: [
        { label: 'Host crashes', target: '0', value: String(crashes.length), met: crashes.length === 0 },
        { label: 'Accepted events lost (healthy endpoint)', target: '0', value: String(ledger.lost), met: ledger.lost === 0 },
        {
          label: `Healthy endpoint enqueue-to-receipt p99 at ${profile.rate}/s`, target: `≤ ${HEALTHY_P99_TARGET_MS} ms`,
          value: ms(healthy.p99, 1), met: healthy.p99 <= HEALTHY_P99_TARGET_MS,
        },
      ],
      crashes, notes, durationMs: now() - startedAt,
    };
    return { report, supported: true, crashes, ledger, healthy, bad: badActivity };
  });
}
