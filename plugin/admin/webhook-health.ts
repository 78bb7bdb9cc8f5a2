import type { AttemptOutcome, DeliveryStatus, DeliverySummary, WebhookStore } from '../store/store-port.js';

/** How far back `health.recent` counts by default: the last 24 hours. */
export const HEALTH_WINDOW_MS = 24 * 3_600_000;

/** A webhook's health as the admin API shows it beside the webhook (snake_case, ISO dates). */
export interface WebhookHealth {
  /** Its last attempted delivery, however long ago; null when none was ever attempted. */
  last_delivery: { status: DeliveryStatus; status_code: number | null; outcome: AttemptOutcome | null; at: string } | null;
  /** Its deliveries created since `since`, by their status now. */
  recent: {
    since: string;
    succeeded: number;
    failed: number;
    pending: number;
    /** succeeded / (succeeded + failed); null when none has finished. */
    success_rate: number | null;
  };
  /**
   * Every delivery of the webhook still to be sent (pending), however old. Those of a
   * disabled webhook wait, unsent, until it is enabled again (or an operator discards them).
   */
  waiting: number;
}

const NO_DELIVERIES: DeliverySummary = { succeeded: 0, failed: 0, pending: 0, waiting: 0, last: null };

export function toWebhookHealth(summary: DeliverySummary | undefined, since: Date): WebhookHealth {
  const { succeeded, failed, pending, waiting, last } = summary ?? NO_DELIVERIES;
  const finished = succeeded + failed;
  return {
    last_delivery: last ? { status: last.status, status_code: last.statusCode, outcome: last.outcome, at: last.at.toISOString() } : null,
    recent: { since: since.toISOString(), succeeded, failed, pending, success_rate: finished > 0 ? succeeded / finished : null },
    waiting,
  };
}

/**
 * The webhooks (views of one tenant's webhooks) with their health, from one store call
 * whatever their number. For the admin API's reads only: audit events and the service's own
 * results stay without it.
 */
export async function withHealth<T extends { id: string }>(
  store: WebhookStore, tenantId: string, webhooks: readonly T[], now: Date, windowMs = HEALTH_WINDOW_MS,
): Promise<Array<T & { health: WebhookHealth }>> {
  const since = new Date(now.getTime() - windowMs);
  const summaries = webhooks.length > 0 ? await store.summarizeDeliveries(tenantId, webhooks.map((w) => w.id), since) : new Map();
  return webhooks.map((w) => ({ ...w, health: toWebhookHealth(summaries.get(w.id), since) }));
}
