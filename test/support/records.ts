import { newId } from '../../plugin/ids.js';
import type { AttemptRecord, DeliveryRecord, EventRecord, WebhookRecord } from '../../plugin/store/store-port.js';

/** Record builders for store tests: valid defaults, overridable per test. */
const DAY = 86_400_000;

export function webhookRecord(overrides: Partial<WebhookRecord> = {}): WebhookRecord {
  const now = overrides.createdAt ?? new Date();
  return {
    id: newId('wh'), tenantId: 'tenant-a', name: 'CRM', description: '', url: 'https://crm.example.com/hook',
    events: ['*'], notificationType: 'REST', secrets: 'v1.k1.iv.tag.ct', enabled: true, disabledReason: null,
    disabledAt: null, failingSince: null, rateLimitPerSecond: null, ordering: 'none', createdAt: now, updatedAt: now, ...overrides,
  };
}

export function eventRecord(overrides: Partial<EventRecord> = {}): EventRecord {
  const now = overrides.createdAt ?? new Date();
  return {
    id: newId('evt'), tenantId: 'tenant-a', type: 'USER_LOGIN', body: '{"event_type":"USER_LOGIN"}',
    idempotencyKey: null, subject: null, sequence: null, traceParent: null, traceState: null, createdAt: now, expiresAt: new Date(now.getTime() + 30 * DAY), ...overrides,
  };
}

export function deliveryRecord(event: EventRecord, webhook: WebhookRecord, overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    id: newId('msg'), tenantId: event.tenantId, webhookId: webhook.id, eventId: event.id, eventType: event.type,
    subject: event.subject, sequence: event.sequence ?? null, status: 'pending', attempts: 0, nextAttemptAt: event.createdAt, leaseOwner: null, leaseExpiresAt: null,
    lastAttemptAt: null, lastStatusCode: null, lastOutcome: null, createdAt: event.createdAt,
    updatedAt: event.createdAt, expiresAt: event.expiresAt, ...overrides,
  };
}

export function attemptRecord(delivery: DeliveryRecord, overrides: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    id: newId('att'), deliveryId: delivery.id, tenantId: delivery.tenantId, webhookId: delivery.webhookId,
    attemptNumber: delivery.attempts + 1, startedAt: new Date(), durationMs: 12, outcome: 'success', statusCode: 200,
    requestHeaders: { 'content-type': 'application/json' }, responseExcerpt: 'ok', errorMessage: null,
    expiresAt: new Date(Date.now() + 30 * DAY), ...overrides,
  };
}
