import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AttemptOutcome, BacklogSummary } from '../store/store-port.js';
import { BacklogSnapshot } from './backlog-snapshot.js';

/** Every outcome an attempt can end with (the delivery log's classes; `discarded` is no attempt). */
export const ATTEMPT_OUTCOMES: readonly AttemptOutcome[] = Object.freeze([
  'success', 'http_error', 'timeout', 'dns', 'connection_refused', 'tls', 'blocked', 'network', 'webhook_unavailable',
]);

/** States of the webhooks gauge; `circuit_open` overlaps the others (it is this process's view). */
export const WEBHOOK_STATES = Object.freeze(['enabled', 'failing', 'disabled', 'circuit_open'] as const);

/** Seconds; an attempt is bounded by delivery.timeoutMs (default 15 s). */
const ATTEMPT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Seconds; spans the first try (milliseconds) to the last default retry (about a day). */
const LATENCY_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1_800, 7_200, 36_000, 86_400];
/** The store figures of a scrape are reused this long (several gauges, several scrapers). */
const SNAPSHOT_MAX_AGE_MS = 5_000;
/** Longest a scrape waits for the store. Below Prometheus' default scrape timeout (10 s). */
const SNAPSHOT_TIMEOUT_MS = 2_000;

export interface DeliveryMetricsOptions {
  /** Where the metrics are registered: the host's, or one of this instance's own. */
  registry: Registry;
  /** Put before every metric name. */
  prefix: string;
  /** Adds a `webhook_id` label to the attempts counter and the pending gauges. */
  perWebhookLabels: boolean;
  /** The store's backlog and webhook counts (WebhookStore.summarizeBacklog). */
  readBacklog: () => Promise<BacklogSummary>;
  /** Webhooks whose circuit is open or half-open in this process now. */
  openCircuits: () => number;
  clock: () => Date;
  /** Told when a scrape could not read the store. */
  onStoreError: (error: unknown) => void;
}

/**
 * The plugin's Prometheus metrics: owns the metric objects and offers the few calls the
 * recorder and the pump make (each one a counter or histogram update, nothing awaited). The
 * store-backed gauges are computed when scraped (see backlog-snapshot.ts), so the hot paths
 * never touch the database for metrics.
 *
 * Labels stay bounded: event types come from the catalogue (the recorder refuses others),
 * outcomes are a closed set, and per-webhook labels exist only when the host asks for them.
 */
export class DeliveryMetrics {
  private readonly events: Counter<'event_type'>;
  private readonly attempts: Counter<string>;
  private readonly attemptDuration: Histogram<'outcome'>;
  private readonly latency: Histogram<string>;

  constructor(private readonly options: DeliveryMetricsOptions) {
    const { prefix, registry, perWebhookLabels } = options;
    const registers = [registry];
    const webhookLabel = perWebhookLabels ? ['webhook_id'] : [];
    const snapshot = new BacklogSnapshot({
      read: options.readBacklog, maxAgeMs: SNAPSHOT_MAX_AGE_MS, timeoutMs: SNAPSHOT_TIMEOUT_MS,
      onError: (error) => {
        storeErrors.inc();
        options.onStoreError(error);
      },
    });
    const storeErrors = new Counter({
      name: `${prefix}metrics_store_errors_total`,
      help: 'Scrapes whose store figures (pending deliveries, webhooks by state) could not be read in time; those gauges then have no samples',
      registers,
    });
    this.events = new Counter({
      name: `${prefix}events_recorded_total`, help: 'Events recorded (durable), by event type', labelNames: ['event_type'], registers,
    });
    this.attempts = new Counter({
      name: `${prefix}delivery_attempts_total`, help: 'Delivery attempts written to the delivery log, by outcome class',
      labelNames: ['outcome', ...webhookLabel], registers,
    });
    this.attemptDuration = new Histogram({
      name: `${prefix}attempt_duration_seconds`, help: 'Duration of one delivery attempt (the HTTP request), by outcome class',
      labelNames: ['outcome'], buckets: ATTEMPT_BUCKETS, registers,
    });
    this.latency = new Histogram({
      name: `${prefix}delivery_latency_seconds`,
      help: 'From the event being recorded (delivery enqueued) to the receiver accepting it, retries included; successful deliveries only',
      buckets: LATENCY_BUCKETS, registers,
    });
    new Gauge({
      name: `${prefix}deliveries_pending`, help: 'Pending deliveries of enabled webhooks (due now or waiting for a retry)',
      labelNames: webhookLabel, registers,
      async collect() {
        const summary = await snapshot.get();
        this.reset();
        if (!summary) return;
        if (perWebhookLabels) for (const p of summary.pending) this.set({ webhook_id: p.webhookId }, p.count);
        else this.set(summary.pending.reduce((n, p) => n + p.count, 0));
      },
    });
    const clock = options.clock;
    new Gauge({
      name: `${prefix}oldest_pending_delivery_age_seconds`,
      help: 'Age of the oldest pending delivery of an enabled webhook (0 when none is pending)',
      labelNames: webhookLabel, registers,
      async collect() {
        const summary = await snapshot.get();
        this.reset();
        if (!summary) return;
        const now = clock().getTime();
        const age = (at: Date) => Math.max(0, (now - at.getTime()) / 1000);
        if (perWebhookLabels) {
          for (const p of summary.pending) this.set({ webhook_id: p.webhookId }, age(p.oldestCreatedAt));
        } else {
          const oldest = Math.min(...summary.pending.map((p) => p.oldestCreatedAt.getTime()));
          this.set(Number.isFinite(oldest) ? age(new Date(oldest)) : 0);
        }
      },
    });
    new Gauge({
      name: `${prefix}webhooks`,
      help: 'Webhooks by state: enabled (healthy), failing (enabled, in a failing run), disabled; circuit_open: webhooks this process is not sending to for a cool-down',
      labelNames: ['state'], registers,
      async collect() {
        const summary = await snapshot.get();
        this.reset();
        if (summary) for (const [state, n] of Object.entries(summary.webhooks)) this.set({ state }, n);
        this.set({ state: 'circuit_open' }, options.openCircuits());
      },
    });
    // Every outcome shows from the first scrape, so rate() and alerts work before it first happens.
    if (!perWebhookLabels) for (const outcome of ATTEMPT_OUTCOMES) this.attempts.inc({ outcome }, 0);
  }

  get registry(): Registry {
    return this.options.registry;
  }

  /** An event was recorded for the first time (not an idempotent repeat). */
  eventRecorded(type: string): void {
    this.events.inc({ event_type: type });
  }

  /** A worker's attempt ended and goes to the delivery log; `enqueuedAt` is its delivery's creation. */
  attemptFinished(outcome: AttemptOutcome, durationMs: number, enqueuedAt: Date, webhookId: string): void {
    this.attempts.inc(this.options.perWebhookLabels ? { outcome, webhook_id: webhookId } : { outcome });
    this.attemptDuration.observe({ outcome }, durationMs / 1000);
    if (outcome === 'success') this.latency.observe(Math.max(0, (this.options.clock().getTime() - enqueuedAt.getTime()) / 1000));
  }
}
