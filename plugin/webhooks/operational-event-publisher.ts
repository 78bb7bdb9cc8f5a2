import type { OperationalSignal } from '../delivery/operational-events.js';
import type { EventRecorder } from '../events/event-recorder.js';
import type { NormalizedContext } from '../events/event-context.js';
import type { Logger } from '../options.js';
import type { SecretBox } from '../security/secret-box.js';
import type { WebhookRecord, WebhookStore } from '../store/store-port.js';
import { toAuditWebhook } from './audit-view.js';
import { tryOpenSecrets } from './webhook-secrets.js';
import { toWebhookView } from './webhook-view.js';

/** What `onOperationalEvent` gets: the recorded event, as its receivers get its data. */
export interface OperationalEvent {
  event_id: string;
  event_type: 'WEBHOOK_DISABLED' | 'WEBHOOK_FAILING' | 'DELIVERY_EXHAUSTED';
  tenant_id: string;
  /** The webhook the event is about (it never receives the event itself). */
  webhook_id: string;
  /** The event's data, as in the catalogue (the webhook as audit events show it: no secret, URL masked). */
  data: Record<string, unknown>;
}

export interface OperationalEventPublisherDeps {
  store: Pick<WebhookStore, 'findWebhook'>;
  box: SecretBox;
  recorder: Pick<EventRecorder, 'record'>;
  logger: Logger;
  onOperationalEvent?: (event: OperationalEvent) => void | Promise<void>;
}

/** Operational events are the plugin's own doing: no request, no user. */
const SYSTEM_ACTOR = { id: 'webhooks-plugin', type: 'system' } as const;

/**
 * Turns the pump's signals into operational events (Svix's "operational webhooks"): recorded in
 * the webhook's tenant like any event, delivered to that tenant's other webhooks that subscribe
 * to them, never to the webhook they are about (a disabled or failing endpoint is the last place
 * to report its failure to), then handed to the host's `onOperationalEvent`.
 *
 * Each event has an idempotency key made of what it is about (the delivery; the webhook and the
 * start of its failing run or its disabling), so several workers seeing the same change record
 * it once, and only the one that recorded it calls the host.
 */
export class OperationalEventPublisher {
  constructor(private readonly deps: OperationalEventPublisherDeps) {}

  /** Records and announces in the background; never throws, never makes the caller wait. */
  publish(signal: OperationalSignal): void {
    void this.record(signal).catch((error: unknown) => {
      this.deps.logger.error(`Could not record the ${signal.type} operational event`, {
        webhookId: signal.webhookId, tenantId: signal.tenantId, error: String(error),
      });
    });
  }

  private async record(signal: OperationalSignal): Promise<void> {
    // Read fresh: the pump's copy may be seconds old, and what the event says must be true now.
    const record = await this.deps.store.findWebhook(signal.tenantId, signal.webhookId);
    if (!record) return;
    const built = this.build(signal, record);
    if (!built) return;
    const context: NormalizedContext = {
      tenantId: signal.tenantId, request: null, actor: SYSTEM_ACTOR, client: null, idempotencyKey: built.key,
    };
    const recorded = await this.deps.recorder.record(signal.type, built.data, context, 'host', [signal.webhookId]);
    if (recorded.duplicate || !this.deps.onOperationalEvent) return;
    const event: OperationalEvent = {
      event_id: recorded.event_id, event_type: signal.type, tenant_id: signal.tenantId, webhook_id: signal.webhookId, data: built.data,
    };
    try {
      await this.deps.onOperationalEvent(event);
    } catch (error) {
      this.deps.logger.error('onOperationalEvent failed', { eventType: signal.type, webhookId: signal.webhookId, error: String(error) });
    }
  }

  /** The event's data and idempotency key, or null when the state it reports no longer holds. */
  private build(signal: OperationalSignal, record: WebhookRecord): { data: Record<string, unknown>; key: string } | null {
    const opened = tryOpenSecrets(this.deps.box, record.id, record.secrets);
    const webhook = toAuditWebhook(toWebhookView(record, opened.secrets, opened.error));
    switch (signal.type) {
      case 'WEBHOOK_DISABLED':
        return { data: { webhook, reason: signal.reason }, key: `op:disabled:${record.id}:${signal.disabledAt.getTime()}` };
      case 'WEBHOOK_FAILING':
        // A success since (here or in another process) ended the run: nothing to report.
        if (!record.enabled || record.failingSince?.getTime() !== signal.failingSince.getTime()) return null;
        return { data: { webhook, failing_since: signal.failingSince.toISOString() }, key: `op:failing:${record.id}:${signal.failingSince.getTime()}` };
      case 'DELIVERY_EXHAUSTED': {
        const d = signal.delivery;
        return {
          data: {
            delivery: { id: d.id, event_id: d.eventId, event_type: d.eventType, attempts: d.attempts, last_outcome: d.lastOutcome, last_status_code: d.lastStatusCode },
            webhook,
          },
          key: `op:exhausted:${d.id}`,
        };
      }
    }
  }
}
