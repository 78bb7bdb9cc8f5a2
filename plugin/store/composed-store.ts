import type {
  AttemptRecord, BacklogSummary, DeliveryLog, DeliveryQuery, DeliveryRecord, DeliverySummary, EventLog, EventRecord,
  PruneResult, RecordEventOptions, RecordEventResult, WebhookPatch, WebhookRecord, WebhookRepository,
} from './store-port.js';

/** The events part of an adapter; listening for new work belongs to the store as a whole. */
export type StoreEvents = Omit<EventLog, 'listenForNewWork'>;

/**
 * The parts of the port every adapter splits out alike - webhooks, events, the delivery log -
 * delegated here once. An adapter extends this, sets the three parts in its constructor and
 * adds its lifecycle (init, close, Agenda backend, wake-ups) and its delivery queue.
 */
export abstract class ComposedStore {
  protected webhooks!: WebhookRepository;
  protected events!: StoreEvents;
  protected log!: DeliveryLog;

  insertWebhook(webhook: WebhookRecord): Promise<void> { return this.webhooks.insertWebhook(webhook); }
  findWebhook(tenantId: string, id: string): Promise<WebhookRecord | null> { return this.webhooks.findWebhook(tenantId, id); }
  listWebhooks(tenantId: string): Promise<WebhookRecord[]> { return this.webhooks.listWebhooks(tenantId); }
  listEnabledWebhooks(tenantId: string): Promise<WebhookRecord[]> { return this.webhooks.listEnabledWebhooks(tenantId); }
  listAllWebhooks(afterId: string | null, limit: number): Promise<WebhookRecord[]> { return this.webhooks.listAllWebhooks(afterId, limit); }
  findWebhooksByIds(ids: readonly string[]): Promise<WebhookRecord[]> { return this.webhooks.findWebhooksByIds(ids); }
  updateWebhook(tenantId: string, id: string, patch: WebhookPatch, expectedUpdatedAt?: Date): Promise<WebhookRecord | null> {
    return this.webhooks.updateWebhook(tenantId, id, patch, expectedUpdatedAt);
  }
  deleteWebhook(tenantId: string, id: string): Promise<boolean> { return this.webhooks.deleteWebhook(tenantId, id); }
  markWebhooksFailing(ids: readonly string[], since: Date): Promise<void> { return this.webhooks.markWebhooksFailing(ids, since); }
  markWebhooksHealthy(ids: readonly string[]): Promise<void> { return this.webhooks.markWebhooksHealthy(ids); }

  recordEvent(event: EventRecord, deliveries: readonly DeliveryRecord[], options?: RecordEventOptions): Promise<RecordEventResult> {
    return this.events.recordEvent(event, deliveries, options);
  }
  findEvent(tenantId: string, id: string): Promise<EventRecord | null> { return this.events.findEvent(tenantId, id); }
  completeInterruptedWork(olderThan: Date): Promise<number> { return this.events.completeInterruptedWork(olderThan); }

  findDelivery(tenantId: string, id: string): Promise<DeliveryRecord | null> { return this.log.findDelivery(tenantId, id); }
  listDeliveries(tenantId: string, webhookId: string, query: DeliveryQuery): Promise<DeliveryRecord[]> {
    return this.log.listDeliveries(tenantId, webhookId, query);
  }
  listAttempts(tenantId: string, deliveryId: string): Promise<AttemptRecord[]> { return this.log.listAttempts(tenantId, deliveryId); }
  listAttemptsFor(tenantId: string, deliveryIds: readonly string[]): Promise<AttemptRecord[]> {
    return this.log.listAttemptsFor(tenantId, deliveryIds);
  }
  summarizeDeliveries(tenantId: string, webhookIds: readonly string[], since: Date): Promise<Map<string, DeliverySummary>> {
    return this.log.summarizeDeliveries(tenantId, webhookIds, since);
  }
  summarizeBacklog(): Promise<BacklogSummary> { return this.log.summarizeBacklog(); }
  pruneExpired(now: Date): Promise<PruneResult> { return this.log.pruneExpired(now); }
}
