import type { AttemptOutcome } from '../store/store-port.js';

/**
 * What the delivery pump tells the plugin when a webhook's state changes or a delivery gives
 * up: identifiers only. The receiver of these (webhooks/operational-event-publisher.ts) reads
 * the webhook fresh and records the WEBHOOK_DISABLED / WEBHOOK_FAILING / DELIVERY_EXHAUSTED
 * event, off the delivery path: the pump never waits for it.
 */
export type OperationalSignal =
  | { type: 'WEBHOOK_DISABLED'; tenantId: string; webhookId: string; reason: string; disabledAt: Date }
  | { type: 'WEBHOOK_FAILING'; tenantId: string; webhookId: string; failingSince: Date }
  | {
    type: 'DELIVERY_EXHAUSTED'; tenantId: string; webhookId: string;
    delivery: { id: string; eventId: string; eventType: string; attempts: number; lastOutcome: AttemptOutcome; lastStatusCode: number | null };
  };

/** The part of an attempt's report the signals are made from. */
interface WrittenAttempt {
  event: { id: string; type: string };
  completion: { status: string; attempt: { deliveryId: string; tenantId: string; webhookId: string; attemptNumber: number; outcome: AttemptOutcome; statusCode: number | null } };
}

/**
 * DELIVERY_EXHAUSTED for each written result that ended its delivery as failed because the
 * schedule ran out. Not for 410 Gone (the webhook is disabled, and WEBHOOK_DISABLED says so) nor
 * for a webhook that is gone or unreadable (nothing was sent; the operator sees it on the webhook).
 */
export function exhaustedSignals(written: readonly WrittenAttempt[]): OperationalSignal[] {
  return written
    .filter(({ completion: { status, attempt } }) => status === 'failed' && attempt.outcome !== 'webhook_unavailable' && attempt.statusCode !== 410)
    .map(({ event, completion: { attempt } }) => ({
      type: 'DELIVERY_EXHAUSTED' as const, tenantId: attempt.tenantId, webhookId: attempt.webhookId,
      delivery: {
        id: attempt.deliveryId, eventId: event.id, eventType: event.type, attempts: attempt.attemptNumber,
        lastOutcome: attempt.outcome, lastStatusCode: attempt.statusCode,
      },
    }));
}
