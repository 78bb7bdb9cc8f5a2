import { DeliveryInFlightError, NotFoundError } from '../errors.js';
import { TEST_EVENT_TYPE } from '../events/catalogue.js';
import { newDelivery, type EventRecorder } from '../events/event-recorder.js';
import type { NormalizedContext } from '../events/event-context.js';
import type { WebhookStore } from '../store/store-port.js';
import type { DeliveryPump } from './delivery-pump.js';

export interface TestSendOutcome {
  delivery_id: string;
  success: boolean;
  outcome: string;
  status_code: number | null;
  duration_ms: number;
  response_excerpt: string | null;
  /** Why `response_excerpt` is null although the receiver answered (a body from a private address is not shown), else null. */
  response_note: string | null;
  error: string | null;
}

/**
 * Operator actions on deliveries. A test send goes through the very path real deliveries
 * take (signing, receiver credentials, egress guard, attempt log), synchronously.
 */
export class DeliveryOperations {
  constructor(
    private readonly deps: {
      store: WebhookStore;
      recorder: EventRecorder;
      pump: DeliveryPump;
      clock: () => Date;
      leaseMs: number;
      owner: string;
      kick: () => void;
    },
  ) {}

  async sendTest(webhookId: string, ctx: NormalizedContext): Promise<TestSendOutcome> {
    const webhook = await this.deps.store.findWebhook(ctx.tenantId, webhookId);
    if (!webhook) throw new NotFoundError('Webhook');
    const now = this.deps.clock();
    const event = this.deps.recorder.buildEvent(TEST_EVENT_TYPE, {
      message: 'A test event sent from Webhook Settings; it does not describe anything that happened.',
      webhook: { id: webhook.id, name: webhook.name },
    }, { ...ctx, idempotencyKey: null }, 'test', now);
    // Recorded already leased to this call, so no worker picks it up while we send it here.
    const owner = `${this.deps.owner}:test`;
    const leaseUntil = new Date(now.getTime() + this.deps.leaseMs);
    const delivery = newDelivery(event, webhook.id, now, { leaseOwner: owner, leaseExpiresAt: leaseUntil, nextAttemptAt: leaseUntil });
    await this.deps.recorder.persist(event, [delivery]);
    const [resolved] = (await this.deps.pump.resolveWebhooks([webhook.id])).values();
    // Test sends answer the operator now; they are not retried.
    const forced = resolved ? { ...resolved, record: { ...resolved.record, enabled: true } } : undefined;
    const { completion, result } = await this.deps.pump.attempt({ delivery, body: event.body }, forced);
    await this.deps.store.completeAttempts([{ ...completion, status: result.outcome === 'success' ? 'succeeded' : 'failed', nextAttemptAt: null }]);
    return {
      delivery_id: delivery.id, success: result.outcome === 'success', outcome: result.outcome, status_code: result.statusCode,
      duration_ms: result.durationMs, response_excerpt: result.responseExcerpt, response_note: result.responseNote ?? null, error: result.errorMessage,
    };
  }

  /**
   * Makes one delivery due now, whatever its state - except while an attempt of it is in
   * flight: sending it again then would send it twice, so that answers 409 `delivery_in_flight`.
   */
  async retry(tenantId: string, deliveryId: string): Promise<void> {
    const result = await this.deps.store.requeueDelivery(tenantId, deliveryId, this.deps.clock());
    if (result === 'not_found') throw new NotFoundError('Delivery');
    if (result === 'in_flight') throw new DeliveryInFlightError();
    this.deps.kick();
  }

  /**
   * Marks every waiting delivery of a webhook failed (last outcome `discarded`) and returns how
   * many: an operator's choice for the backlog a disabled webhook holds, which would otherwise
   * be sent when it is enabled again. Deliveries in flight are left to finish.
   */
  async discardPending(tenantId: string, webhookId: string): Promise<number> {
    if (!(await this.deps.store.findWebhook(tenantId, webhookId))) throw new NotFoundError('Webhook');
    return this.deps.store.discardPendingDeliveries(tenantId, webhookId, this.deps.clock());
  }

  /** Re-enqueues every failed delivery of a webhook created at or after `since`. */
  async recover(tenantId: string, webhookId: string, since: Date): Promise<number> {
    if (!(await this.deps.store.findWebhook(tenantId, webhookId))) throw new NotFoundError('Webhook');
    const count = await this.deps.store.requeueFailedSince(tenantId, webhookId, since, this.deps.clock());
    if (count > 0) this.deps.kick();
    return count;
  }
}
