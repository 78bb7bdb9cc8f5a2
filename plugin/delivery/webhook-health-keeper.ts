import type { Logger } from '../options.js';
import type { AttemptOutcome, WebhookRecord, WebhookStore } from '../store/store-port.js';
import { exhaustedSignals, type OperationalSignal } from './operational-events.js';

/** What the keeper needs of each written attempt result. */
export interface WrittenResult {
  result: { outcome: AttemptOutcome };
  event: { id: string; type: string };
  completion: { status: string; attempt: { deliveryId: string; tenantId: string; webhookId: string; attemptNumber: number; outcome: AttemptOutcome; statusCode: number | null } };
}

export interface WebhookHealthKeeperDeps {
  store: WebhookStore;
  clock: () => Date;
  logger: Logger;
  options: { disableAfterMs: number; failingEventAfterMs: number };
  /** The pump's cached settings of a webhook, if it has them. */
  cachedRecord: (webhookId: string) => WebhookRecord | undefined;
  /** Drops the pump's cached settings of a webhook (it was just disabled). */
  forget: (webhookId: string) => void;
  onWebhookDisabled: (webhookId: string) => void;
  /** Told of operational events (webhook disabled or failing, delivery exhausted); must not block. */
  onOperationalSignal?: (signal: OperationalSignal) => void;
}

/**
 * A webhook's health, kept from the results the pump has written: a success ends its failing
 * run; a run longer than failingEventAfterMs raises WEBHOOK_FAILING (once per run); a run longer
 * than disableAfterMs disables it (WEBHOOK_DISABLED); a delivery whose schedule ran out raises
 * DELIVERY_EXHAUSTED. Only written results count: a lost write is retried, and the delivery may
 * still succeed.
 */
export class WebhookHealthKeeper {
  /** Webhook id -> start of the failing run WEBHOOK_FAILING was raised for. */
  private readonly failingSignalled = new Map<string, number>();

  constructor(private readonly deps: WebhookHealthKeeperDeps) {}

  async afterWrite(written: readonly WrittenResult[]): Promise<void> {
    for (const signal of exhaustedSignals(written)) this.signal(signal);
    const healthy = new Set<string>();
    const failing = new Set<string>();
    for (const { completion, result } of written) {
      if (result.outcome === 'webhook_unavailable') continue;
      (result.outcome === 'success' ? healthy : failing).add(completion.attempt.webhookId);
    }
    for (const id of healthy) {
      failing.delete(id);
      this.failingSignalled.delete(id);
    }
    const now = this.deps.clock();
    // Both are conditional updates: a no-op costs one cheap statement per flush, not per delivery.
    await this.deps.store.markWebhooksHealthy([...healthy]);
    await this.deps.store.markWebhooksFailing([...failing], now);
    const failingTooLong = (w: WebhookRecord | undefined): w is WebhookRecord & { failingSince: Date } =>
      !!w?.enabled && !!w.failingSince && now.getTime() - w.failingSince.getTime() >= this.deps.options.disableAfterMs;
    this.signalFailing(failing, now);
    const suspects = [...failing].filter((id) => failingTooLong(this.deps.cachedRecord(id)));
    if (suspects.length === 0) return;
    // The cache may predate a success another flush just wrote: decide on fresh records only.
    for (const fresh of await this.deps.store.findWebhooksByIds(suspects)) {
      if (failingTooLong(fresh)) await this.disable(fresh, `Every delivery failed since ${fresh.failingSince.toISOString()}`);
    }
  }

  /** Disables a webhook (a 410 Gone, or a failing run past disableAfterMs) and says so. */
  async disable(record: WebhookRecord, reason: string): Promise<void> {
    const now = this.deps.clock();
    await this.deps.store.updateWebhook(record.tenantId, record.id, {
      enabled: false, disabledReason: reason, disabledAt: now, updatedAt: now,
    });
    this.deps.forget(record.id);
    this.failingSignalled.delete(record.id);
    this.deps.onWebhookDisabled(record.id);
    this.deps.logger.warn('Webhook disabled', { webhookId: record.id, tenantId: record.tenantId, reason });
    this.signal({ type: 'WEBHOOK_DISABLED', tenantId: record.tenantId, webhookId: record.id, reason, disabledAt: now });
  }

  /**
   * WEBHOOK_FAILING once a failing run has lasted failingEventAfterMs, at its next failed
   * attempt; once per run here (the publisher re-checks the stored run, and its idempotency
   * key keeps other workers from repeating it).
   */
  private signalFailing(failing: ReadonlySet<string>, now: Date): void {
    for (const id of failing) {
      const record = this.deps.cachedRecord(id);
      const since = record?.failingSince;
      if (!record?.enabled || !since || now.getTime() - since.getTime() < this.deps.options.failingEventAfterMs) continue;
      if (this.failingSignalled.get(id) === since.getTime()) continue;
      this.failingSignalled.set(id, since.getTime());
      this.signal({ type: 'WEBHOOK_FAILING', tenantId: record.tenantId, webhookId: id, failingSince: since });
    }
  }

  private signal(signal: OperationalSignal): void {
    try {
      this.deps.onOperationalSignal?.(signal);
    } catch (error) {
      this.deps.logger.error('Could not announce an operational event', { type: signal.type, webhookId: signal.webhookId, error: String(error) });
    }
  }
}
