import type { AttemptRecord, DeliveryRecord, EventRecord, WebhookRecord } from '../store-port.js';

/** Row -> record mappers: snake_case columns to the port's camelCase records. */
type Row = Record<string, any>;

export function toWebhook(r: Row): WebhookRecord {
  return {
    id: r.id, tenantId: r.tenant_id, name: r.name, description: r.description, url: r.url, events: r.events,
    notificationType: r.notification_type, secrets: r.secrets, enabled: r.enabled,
    disabledReason: r.disabled_reason, disabledAt: r.disabled_at, failingSince: r.failing_since,
    rateLimitPerSecond: r.rate_limit_per_second ?? null, ordering: r.ordering ?? 'none',
    createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

export function toEvent(r: Row): EventRecord {
  return {
    id: r.id, tenantId: r.tenant_id, type: r.type, body: r.body, idempotencyKey: r.idempotency_key,
    subject: r.subject ?? null, sequence: r.sequence == null ? null : Number(r.sequence),
    traceParent: r.trace_parent ?? null, traceState: r.trace_state ?? null,
    createdAt: r.created_at, expiresAt: r.expires_at,
  };
}

export function toDelivery(r: Row): DeliveryRecord {
  return {
    id: r.id, tenantId: r.tenant_id, webhookId: r.webhook_id, eventId: r.event_id, eventType: r.event_type,
    subject: r.subject ?? null, sequence: r.sequence == null ? null : Number(r.sequence),
    status: r.status, attempts: r.attempts, nextAttemptAt: r.next_attempt_at, leaseOwner: r.lease_owner,
    leaseExpiresAt: r.lease_expires_at, lastAttemptAt: r.last_attempt_at, lastStatusCode: r.last_status_code,
    lastOutcome: r.last_outcome, createdAt: r.created_at, updatedAt: r.updated_at, expiresAt: r.expires_at,
  };
}

export function toAttempt(r: Row): AttemptRecord {
  return {
    id: r.id, deliveryId: r.delivery_id, tenantId: r.tenant_id, webhookId: r.webhook_id,
    attemptNumber: r.attempt_number, startedAt: r.started_at, durationMs: r.duration_ms, outcome: r.outcome,
    statusCode: r.status_code, requestHeaders: r.request_headers, responseExcerpt: r.response_excerpt,
    errorMessage: r.error_message, expiresAt: r.expires_at,
  };
}
