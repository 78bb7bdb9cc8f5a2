import { setMaxListeners } from 'node:events';
import { newId } from '../ids.js';
import type { Logger, DeliveryOptions } from '../options.js';
import type { SecretBox } from '../security/secret-box.js';
import type { ClaimedDelivery, WebhookRecord, WebhookStore } from '../store/store-port.js';
import { openSecrets, type WebhookSecrets } from '../webhooks/webhook-secrets.js';
import { buildDeliveryRequest } from './delivery-request.js';
import { redactExcerpt, secretValuesOf } from './excerpt-redaction.js';
import type { HttpSender, SendResult } from './http-sender.js';
import type { EndpointGate } from './endpoint-gate.js';
import { decideNextStep } from './next-step.js';
import { failedAttemptLog } from './failed-attempt-log.js';
import type { OperationalSignal } from './operational-events.js';
import { ResultWriter, type PendingResult } from './result-writer.js';
import { WebhookHealthKeeper } from './webhook-health-keeper.js';
import { attemptTraceHeaders } from '../observability/trace-context.js';
import { traceAttempt, traceClaim } from '../observability/tracing.js';
import type { DeliveryMetrics } from '../observability/delivery-metrics.js';

export interface DeliveryPumpDeps {
  store: WebhookStore;
  box: SecretBox;
  sender: HttpSender;
  options: DeliveryOptions;
  logger: Logger;
  clock: () => Date;
  random: () => number;
  /** This process's lease owner name. */
  owner: string;
  /** Told when the pump disables a webhook (410 Gone, failing too long), so fan-out stops at once. */
  onWebhookDisabled: (id: string) => void;
  /** Per-webhook in-flight caps, circuit breakers and rate limits. */
  gate: EndpointGate;
  /** Told of operational events (webhook disabled or failing, delivery exhausted); must not block. */
  onOperationalSignal?: (signal: OperationalSignal) => void;
  /** Counts and times the attempts written to the delivery log; absent when metrics are off. */
  metrics?: Pick<DeliveryMetrics, 'attemptFinished'>;
}

interface ResolvedWebhook {
  record: WebhookRecord;
  /** Null when the stored secrets cannot be decrypted with the configured keys. */
  secrets: WebhookSecrets | null;
  fetchedAt: number;
}

/** What one attempt ends as, before it is written back. */
export interface AttemptReport extends PendingResult {
  result: SendResult;
  /** The request was aborted by shutdown: the delivery goes back unsent instead. */
  abandoned?: boolean;
  /** The event the delivery carries (for DELIVERY_EXHAUSTED). */
  event: { id: string; type: string };
  /**
   * The delivery is its subject's head under per-subject ordering: once its result is final,
   * the next delivery about the subject may go (see {@link DeliveryPump} `afterWrite`).
   */
  holdsBackItsSubject?: boolean;
}

/** Webhook settings are re-read this often, so edits and disables reach a busy pump quickly. */
const WEBHOOK_CACHE_MS = 2_000;
/** New events wait this long for others to share their claim (see pokeSoon). */
const COALESCE_CLAIMS_MS = 5;
/**
 * How long stop() lets requests in flight finish before aborting them. A receiver that hangs
 * would otherwise hold the host's shutdown for the whole request timeout; an aborted
 * delivery is handed back unsent and goes out again (it may have been received: at least once).
 */
const DRAIN_GRACE_MS = 5_000;

/**
 * True when some webhook got every delivery the claim allowed it, or was allowed none (at its
 * cap, circuit open): more of its work may be due.
 */
function tookAllowance(claimed: readonly ClaimedDelivery[], limits: ReadonlyMap<string, number>, perWebhook: number): boolean {
  if ([...limits.values()].some((room) => room <= 0)) return true;
  const taken = new Map<string, number>();
  for (const { delivery } of claimed) taken.set(delivery.webhookId, (taken.get(delivery.webhookId) ?? 0) + 1);
  return [...taken].some(([id, n]) => n >= (limits.get(id) ?? perWebhook));
}

/**
 * The delivery engine inside the Agenda job: claims due deliveries in batches (one database
 * round trip per batch, not per delivery), keeps up to `concurrency` requests in flight,
 * and writes results back in bulk. A slow receiver holds one slot, never the whole batch, and at most
 * `maxInFlightPerWebhook` of them (see endpoint-gate.ts).
 */
export class DeliveryPump {
  private inFlight = 0;
  private claiming = false;
  private claimAgain = false;
  private draining = false;
  private stopped = false;
  /** The last claim may have left due work behind: it was full, or some webhook took all it was allowed. */
  private moreMayBeDue = false;
  private claimFailing = false;
  private readonly shutdown = new AbortController();
  private readonly writer: ResultWriter<AttemptReport>;
  private pokeTimer: NodeJS.Timeout | null = null;
  private idleWaiters: Array<() => void> = [];
  private readonly webhooks = new Map<string, ResolvedWebhook>();
  private claims = 0;
  /** One WARN line per failing webhook per 30 s (failed-attempt-log.ts). */
  private readonly logFailedAttempt: ReturnType<typeof failedAttemptLog>;
  private readonly health: WebhookHealthKeeper;

  constructor(private readonly deps: DeliveryPumpDeps) {
    // Every request in flight listens on the shutdown signal (up to `concurrency` at once):
    // without this, Node warns of a listener leak past 10.
    setMaxListeners(0, this.shutdown.signal);
    this.logFailedAttempt = failedAttemptLog(deps.logger);
    this.health = new WebhookHealthKeeper({
      store: deps.store, clock: deps.clock, logger: deps.logger, options: deps.options,
      cachedRecord: (id) => this.webhooks.get(id)?.record,
      forget: (id) => this.webhooks.delete(id),
      onWebhookDisabled: deps.onWebhookDisabled,
      onOperationalSignal: deps.onOperationalSignal,
    });
    this.writer = new ResultWriter<AttemptReport>({
      store: deps.store, logger: deps.logger, clock: deps.clock, batchSize: deps.options.batchSize,
      afterWrite: (reports) => {
        // A final result of a subject's head lets the next delivery about it go: claim now,
        // not at the next poll (a chain of n events would otherwise take n polls). The claim
        // costs nothing when everything due is still held back.
        if (reports.some((r) => r.holdsBackItsSubject && r.completion.status !== 'pending')) this.poke();
        return this.health.afterWrite(reports);
      },
      onSettled: () => this.settleIfIdle(),
    });
  }

  get active(): boolean {
    return this.inFlight > 0 || this.claiming || this.pokeTimer !== null || this.writer.busy;
  }

  /**
   * One Agenda job's turn: claims and sends until nothing more is due, or hands over after
   * `maxRunMs` (the pump itself keeps going). Resolves true when it handed over with work
   * possibly left.
   */
  async run(maxRunMs: number): Promise<boolean> {
    if (this.stopped) return false;
    let timer: NodeJS.Timeout | undefined;
    // At the hand-over the job ends but the pump does not stop: requests in flight go on, and
    // the pump keeps claiming. Waiting for them here would stall every delivery behind the
    // slowest request in flight (up to timeoutMs) once per hand-over.
    const handOver = new Promise<true>((resolve) => {
      timer = setTimeout(() => resolve(true), maxRunMs);
    });
    try {
      this.poke();
      const timedOut = await Promise.race([this.idle().then(() => false), handOver]);
      return timedOut && this.moreMayBeDue;
    } finally {
      clearTimeout(timer);
    }
  }

  /** New work may be due: claim now if there is room. Safe to call at any time. */
  poke(): void {
    if (this.draining) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    void this.fill();
  }

  /**
   * New events were recorded: claim a few milliseconds from now, so the events of a busy
   * moment share one claim instead of costing a database round trip each (measured: at 300
   * events/s, claims per event were half of the plugin's statements, and they slowed the
   * hook calls sharing the pool). The delay is small against the latency budget.
   */
  pokeSoon(): void {
    if (this.pokeTimer || this.draining) return;
    this.pokeTimer = setTimeout(() => {
      this.pokeTimer = null;
      this.poke();
      this.settleIfIdle();
    }, COALESCE_CLAIMS_MS);
  }

  /** Stops claiming and resolves once every in-flight attempt is written back. */
  async drain(): Promise<void> {
    this.stopped = true;
    this.draining = true;
    if (this.pokeTimer) {
      clearTimeout(this.pokeTimer);
      this.pokeTimer = null;
      // The cancelled claim may have been all that kept a run() waiting: release it too.
      this.settleIfIdle();
    }
    this.writer.stop();
    const abort = setTimeout(() => this.shutdown.abort(), DRAIN_GRACE_MS);
    try {
      await this.idle();
    } finally {
      clearTimeout(abort);
    }
  }

  private idle(): Promise<void> {
    if (!this.active) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private settleIfIdle(): void {
    if (this.active) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private async fill(): Promise<void> {
    this.claiming = true;
    let lastClaim: { owner: string; leaseUntil: Date } | null = null;
    try {
      const { concurrency, batchSize, leaseMs } = this.deps.options;
      do {
        this.claimAgain = false;
        for (;;) {
          const room = concurrency - this.inFlight;
          const limit = Math.min(batchSize, room);
          // Claim only when a useful batch fits, so claims stay few and large under load. Slots
          // held by webhooks that may take no more (at their cap, circuit open) do not count
          // against the batch: else a few slow receivers would stop claims for everyone.
          const now = this.deps.clock();
          const webhookLimits = this.deps.gate.claimLimits(now.getTime());
          const usable = concurrency - this.deps.gate.heldByBlocked(webhookLimits);
          if (this.draining || limit <= 0 || (room < Math.min(batchSize, usable) / 2 && this.inFlight > 0)) break;
          // A lease name per claim, not per process: if an operator requeues a delivery while
          // its attempt is still running, the late result of the old claim cannot overwrite the
          // new claim's state.
          this.claims += 1;
          const owner = `${this.deps.owner}#${this.claims}`;
          lastClaim = { owner, leaseUntil: new Date(now.getTime() + leaseMs) };
          const perWebhookLimit = this.deps.gate.defaultClaimLimit();
          const claimed = await traceClaim(limit, () => this.deps.store.claimDueDeliveries({ now, limit, leaseMs, owner, perWebhookLimit, webhookLimits }));
          if (this.claimFailing) this.deps.logger.info('Claiming deliveries works again');
          this.claimFailing = false;
          this.moreMayBeDue = claimed.length === limit || tookAllowance(claimed, webhookLimits, perWebhookLimit);
          if (claimed.length > 0) await this.start(claimed);
          if (claimed.length < limit) break;
        }
      } while (this.claimAgain && !this.draining);
    } catch (error) {
      // The claim may have committed with its answer lost (a connection dropped mid-way): give
      // its deliveries back now rather than when the lease ends. The next poll claims again.
      // Logged once per outage, not once per poll.
      this.releaseLostClaim(lastClaim);
      if (!this.claimFailing) this.deps.logger.error('Claiming deliveries failed; retrying at every poll until the store answers', { error: String(error) });
      this.claimFailing = true;
    } finally {
      this.claiming = false;
      this.settleIfIdle();
    }
  }

  private async start(batch: ClaimedDelivery[]): Promise<void> {
    const webhooks = await this.resolveWebhooks(batch.map((c) => c.delivery.webhookId), { refreshDisabled: true });
    for (const claimed of batch) {
      const { delivery } = claimed;
      const webhook = webhooks.get(delivery.webhookId);
      const now = this.deps.clock();
      if (webhook && !webhook.record.enabled) {
        // Disabled after the claim: the delivery waits (unsent, attempts unchanged) for the
        // webhook to be enabled again. Claims skip disabled webhooks, so it is not taken again.
        this.release(delivery, now, this.deps.options.pollIntervalMs);
        continue;
      }
      if (webhook?.secrets) {
        const admission = this.deps.gate.admit(delivery.webhookId, webhook.record.rateLimitPerSecond, now.getTime());
        if (!admission.admitted) {
          this.release(delivery, now, admission.retryInMs);
          continue;
        }
      }
      this.inFlight += 1;
      void this.attempt(claimed, webhook)
        .then((report) => {
          if (report.abandoned) {
            this.release(delivery, this.deps.clock(), 0);
            // No verdict on the endpoint: an outcome the breaker neither counts nor closes on.
            return 'webhook_unavailable' as const;
          }
          this.writer.add(report);
          this.deps.metrics?.attemptFinished(report.result.outcome, report.result.durationMs, delivery.createdAt, delivery.webhookId);
          if (report.result.outcome !== 'success') {
            const { attempt } = report.completion;
            this.logFailedAttempt({ webhookId: attempt.webhookId, tenantId: attempt.tenantId, deliveryId: attempt.deliveryId,
              outcome: attempt.outcome, statusCode: attempt.statusCode, attempt: attempt.attemptNumber });
          }
          return report.result.outcome;
        }, (error: unknown) => {
          // attempt() catches what it expects; anything else must not wedge the pump. The
          // lease brings the delivery back.
          this.deps.logger.error('A delivery attempt failed unexpectedly', { deliveryId: delivery.id, error: String(error) });
          return 'network' as const;
        })
        .then((outcome) => {
          if (!webhook?.secrets) return;
          if (this.deps.gate.finished(delivery.webhookId, outcome, this.deps.clock().getTime())) {
            this.deps.logger.warn('Circuit opened: the webhook stops getting requests for a cool-down, then one probe', {
              webhookId: delivery.webhookId, tenantId: delivery.tenantId, outcome,
            });
          }
        })
        .finally(() => {
          this.inFlight -= 1;
          // Claim again only when the last claim may have left work behind, and only once the
          // pump and this webhook are at most half busy: claims stay few and large. Otherwise new
          // work arrives by kick or sweep, and claiming after every completion would double the
          // database load for nothing.
          if (this.moreMayBeDue && this.inFlight <= this.deps.options.concurrency / 2
            && this.deps.gate.inFlightOf(delivery.webhookId) <= this.deps.gate.maxInFlight / 2) this.poke();
          this.settleIfIdle();
        });
    }
  }

  /**
   * Releases what a failed claim may hold, retrying (the store may still be down) until its
   * lease would have ended anyway.
   */
  private releaseLostClaim(claim: { owner: string; leaseUntil: Date } | null, delayMs = 0): void {
    if (!claim || this.stopped) return;
    setTimeout(() => {
      this.deps.store.releaseClaim(claim.owner, claim.leaseUntil, this.deps.clock()).catch(() => {
        const next = Math.min(2_000, Math.max(250, delayMs * 2));
        if (this.deps.clock().getTime() + next < claim.leaseUntil.getTime()) this.releaseLostClaim(claim, next);
      });
    }, delayMs).unref();
  }

  /** Hands a claimed delivery back unsent, due again after `delayMs`; written with the next results. */
  private release(delivery: ClaimedDelivery['delivery'], now: Date, delayMs: number): void {
    this.writer.release({ id: delivery.id, owner: delivery.leaseOwner ?? this.deps.owner, nextAttemptAt: new Date(now.getTime() + delayMs) });
  }

  /** One attempt of one delivery; never rejects. Also used for test sends. */
  async attempt(claimed: ClaimedDelivery, webhook: ResolvedWebhook | undefined): Promise<AttemptReport> {
    const { delivery } = claimed;
    const stored = claimed.traceParent ? { traceparent: claimed.traceParent, tracestate: claimed.traceState ?? null } : null;
    return traceAttempt({ webhookId: delivery.webhookId, deliveryId: delivery.id, eventType: delivery.eventType, attempt: delivery.attempts + 1 },
      stored, (span) => this.attemptInSpan(claimed, webhook, attemptTraceHeaders(stored, span.spanContext())));
  }

  private async attemptInSpan(claimed: ClaimedDelivery, webhook: ResolvedWebhook | undefined, traceHeaders: Record<string, string>): Promise<AttemptReport> {
    const { delivery, body } = claimed;
    const now = this.deps.clock();
    const attemptNumber = delivery.attempts + 1;
    let result: SendResult;
    let loggedHeaders: Record<string, string> = {};
    if (!webhook || !webhook.secrets) {
      result = {
        outcome: 'webhook_unavailable', statusCode: null, durationMs: 0, responseExcerpt: null,
        errorMessage: !webhook ? 'The webhook was deleted'
          : 'The webhook\'s stored secrets cannot be decrypted with the configured encryption keys',
      };
    } else {
      try {
        const request = buildDeliveryRequest({ deliveryId: delivery.id, eventType: delivery.eventType, body, secrets: webhook.secrets, now, traceHeaders });
        loggedHeaders = request.loggedHeaders;
        result = await this.deps.sender.send(webhook.record.url, request.headers, body, this.shutdown.signal, webhook.record.tenantId);
      } catch (error) {
        result = { outcome: 'network', statusCode: null, durationMs: 0, responseExcerpt: null, errorMessage: String(error).slice(0, 500) };
      }
      // An echo server answers with the credentials it got: neither the log nor a test send keeps them.
      result = { ...result, responseExcerpt: redactExcerpt(result.responseExcerpt, secretValuesOf(webhook.secrets)) };
    }
    const { retryScheduleMs, jitter, maxRetryAfterMs, retentionMs } = this.deps.options;
    // Aborted by shutdown: no verdict on the endpoint (no retry step, no disable).
    const abandoned = this.shutdown.signal.aborted && result.outcome !== 'success';
    const step = abandoned ? { status: 'pending' as const, nextAttemptAt: now }
      : result.outcome === 'webhook_unavailable'
      ? { status: 'failed' as const, nextAttemptAt: null }
      : decideNextStep(result, attemptNumber, { schedule: retryScheduleMs, jitter, maxRetryAfterMs }, this.deps.clock(), this.deps.random);
    if ('disableWebhook' in step && step.disableWebhook && webhook) {
      try {
        await this.health.disable(webhook.record, step.disableWebhook);
      } catch (error) {
        // The attempt is still recorded; the next 410 tries to disable again.
        this.deps.logger.error('Could not disable the webhook', { webhookId: webhook.record.id, error: String(error) });
      }
    }
    return {
      result,
      abandoned,
      event: { id: delivery.eventId, type: delivery.eventType },
      holdsBackItsSubject: webhook?.record.ordering === 'per_subject' && delivery.subject !== null && delivery.sequence !== null,
      leaseExpiresAt: delivery.leaseExpiresAt,
      completion: {
        owner: delivery.leaseOwner ?? this.deps.owner,
        status: step.status,
        nextAttemptAt: step.nextAttemptAt,
        attempt: {
          id: newId('att'), deliveryId: delivery.id, tenantId: delivery.tenantId, webhookId: delivery.webhookId,
          attemptNumber, startedAt: now, durationMs: result.durationMs, outcome: result.outcome, statusCode: result.statusCode,
          requestHeaders: loggedHeaders, responseExcerpt: result.responseExcerpt, errorMessage: result.errorMessage,
          expiresAt: new Date(now.getTime() + retentionMs),
        },
      },
    };
  }

  /** Drops a webhook's cached settings, so an edit made in this process applies to the next attempt. */
  forgetWebhook(id: string): void {
    this.webhooks.delete(id);
  }

  /**
   * The webhooks of `ids`, from a cache re-read every few seconds. `refreshDisabled` re-reads
   * those cached as disabled: the store only hands out deliveries of enabled webhooks, so a
   * cached "disabled" is stale, and trusting it would hand the deliveries straight back.
   */
  async resolveWebhooks(ids: readonly string[], { refreshDisabled = false } = {}): Promise<Map<string, ResolvedWebhook>> {
    const now = Date.now();
    const missing = [...new Set(ids)].filter((id) => {
      const cached = this.webhooks.get(id);
      return !cached || now - cached.fetchedAt > WEBHOOK_CACHE_MS || (refreshDisabled && !cached.record.enabled);
    });
    if (missing.length > 0) {
      for (const id of missing) this.webhooks.delete(id);
      for (const record of await this.deps.store.findWebhooksByIds(missing)) {
        let secrets: WebhookSecrets | null = null;
        try {
          secrets = openSecrets(this.deps.box, record.id, record.secrets);
        } catch (error) {
          // Only this webhook is affected (e.g. its key was removed from encryptionKeys).
          this.deps.logger.error('Cannot decrypt the secrets of a webhook; its deliveries fail until the key is restored', {
            webhookId: record.id, error: String(error),
          });
        }
        this.webhooks.set(record.id, { record, secrets, fetchedAt: now });
        this.deps.gate.knowRateLimit(record.id, record.rateLimitPerSecond);
      }
    }
    const out = new Map<string, ResolvedWebhook>();
    for (const id of ids) {
      const hit = this.webhooks.get(id);
      if (hit) out.set(id, hit);
    }
    return out;
  }
}
