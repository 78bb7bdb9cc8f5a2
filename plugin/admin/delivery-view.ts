import type { AttemptRecord, DeliveryRecord } from '../store/store-port.js';

/** A delivery and its attempts as the admin API shows them (snake_case, ISO dates). */
export function toDeliveryView(delivery: DeliveryRecord, attempts: AttemptRecord[]) {
  return {
    id: delivery.id,
    webhook_id: delivery.webhookId,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    subject: delivery.subject,
    sequence: delivery.sequence,
    status: delivery.status,
    attempt_count: delivery.attempts,
    next_attempt_at: delivery.status === 'pending' ? (delivery.nextAttemptAt?.toISOString() ?? null) : null,
    last_attempt_at: delivery.lastAttemptAt?.toISOString() ?? null,
    last_status_code: delivery.lastStatusCode,
    last_outcome: delivery.lastOutcome,
    created_at: delivery.createdAt.toISOString(),
    attempts: attempts.map(toAttemptView),
  };
}

export function toAttemptView(a: AttemptRecord) {
  return {
    id: a.id,
    attempt_number: a.attemptNumber,
    started_at: a.startedAt.toISOString(),
    duration_ms: a.durationMs,
    outcome: a.outcome,
    status_code: a.statusCode,
    request_headers: a.requestHeaders,
    response_excerpt: a.responseExcerpt,
    error: a.errorMessage,
  };
}
