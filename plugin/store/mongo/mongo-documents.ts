import type { AttemptRecord, DeliveryRecord, EventRecord, WebhookRecord } from '../store-port.js';

/**
 * MongoDB document shapes and the pure record <-> document mappers of the Mongo store.
 *
 * Documents keep the port's camelCase field names; the only renames are `id` <-> `_id`
 * (our ids are strings such as `wh_...`, used as `_id`). Store-internal fields
 * (`leaseToken`, `fanoutComplete`, `pendingDeliveries`) never reach a record: the
 * `to*Record` mappers build each record field by field, so nothing else can leak.
 */

/** A record as stored: the same camelCase fields, with the id as `_id`. */
type AsDoc<R extends { id: string }> = Omit<R, 'id'> & { _id: string };

export type WebhookDoc = Omit<AsDoc<WebhookRecord>, 'rateLimitPerSecond' | 'ordering'> & {
  /** Absent from documents written before the field existed: read as null (no limit). */
  rateLimitPerSecond?: number | null;
  /** Absent from documents written before the field existed: read as 'none'. */
  ordering?: WebhookRecord['ordering'];
};

export type DeliveryDoc = Omit<AsDoc<DeliveryRecord>, 'subject' | 'sequence'> & {
  /** Absent from documents written before the fields existed: read as null. */
  subject?: string | null;
  sequence?: number | null;
  /** Set by a claim (random per claim call), removed by completion or requeue. Internal. */
  leaseToken?: string;
};

export type EventDoc = Omit<AsDoc<EventRecord>, 'traceParent' | 'traceState' | 'subject' | 'sequence'> & {
  /** Absent from documents written before the fields existed: read as null. */
  subject?: string | null;
  sequence?: number | null;
  /** Absent from documents written before the fields existed (and from events without a trace): read as null. */
  traceParent?: string | null;
  traceState?: string | null;
  /** False from the event insert until all its deliveries are written. Internal. */
  fanoutComplete: boolean;
  /** The planned delivery documents, kept on the event until the fan-out is complete. Internal. */
  pendingDeliveries?: DeliveryDoc[];
};

export type AttemptDoc = AsDoc<AttemptRecord>;

/** The last number given to one (tenant, subject); `_id` is `<tenantId>/<subject>`. */
export interface SequenceDoc {
  _id: string;
  tenantId: string;
  subject: string;
  lastSequence: number;
}

export function toWebhookDoc(w: WebhookRecord): WebhookDoc {
  return {
    _id: w.id, tenantId: w.tenantId, name: w.name, description: w.description, url: w.url, events: [...w.events],
    notificationType: w.notificationType, secrets: w.secrets, enabled: w.enabled, disabledReason: w.disabledReason,
    disabledAt: w.disabledAt, failingSince: w.failingSince, rateLimitPerSecond: w.rateLimitPerSecond, ordering: w.ordering,
    createdAt: w.createdAt, updatedAt: w.updatedAt,
  };
}

export function toWebhookRecord(d: WebhookDoc): WebhookRecord {
  return {
    id: d._id, tenantId: d.tenantId, name: d.name, description: d.description, url: d.url, events: [...d.events],
    notificationType: d.notificationType, secrets: d.secrets, enabled: d.enabled,
    disabledReason: d.disabledReason ?? null, disabledAt: d.disabledAt ?? null, failingSince: d.failingSince ?? null,
    rateLimitPerSecond: d.rateLimitPerSecond ?? null, ordering: d.ordering ?? 'none', createdAt: d.createdAt, updatedAt: d.updatedAt,
  };
}

/** The event's own fields; `recordEvent` adds `fanoutComplete` and `pendingDeliveries`. */
export function toEventDoc(e: EventRecord): Omit<EventDoc, 'fanoutComplete' | 'pendingDeliveries'> {
  return {
    _id: e.id, tenantId: e.tenantId, type: e.type, body: e.body, idempotencyKey: e.idempotencyKey,
    subject: e.subject, sequence: e.sequence ?? null,
    traceParent: e.traceParent ?? null, traceState: e.traceState ?? null,
    createdAt: e.createdAt, expiresAt: e.expiresAt,
  };
}

export function toEventRecord(d: Omit<EventDoc, 'fanoutComplete' | 'pendingDeliveries'>): EventRecord {
  return {
    id: d._id, tenantId: d.tenantId, type: d.type, body: d.body, idempotencyKey: d.idempotencyKey ?? null,
    subject: d.subject ?? null, sequence: d.sequence ?? null,
    traceParent: d.traceParent ?? null, traceState: d.traceState ?? null,
    createdAt: d.createdAt, expiresAt: d.expiresAt,
  };
}

/** A new delivery document; it carries no `leaseToken` (only a claim sets one). */
export function toDeliveryDoc(r: DeliveryRecord): DeliveryDoc {
  return {
    _id: r.id, tenantId: r.tenantId, webhookId: r.webhookId, eventId: r.eventId, eventType: r.eventType,
    subject: r.subject, sequence: r.sequence,
    status: r.status, attempts: r.attempts, nextAttemptAt: r.nextAttemptAt, leaseOwner: r.leaseOwner,
    leaseExpiresAt: r.leaseExpiresAt, lastAttemptAt: r.lastAttemptAt, lastStatusCode: r.lastStatusCode,
    lastOutcome: r.lastOutcome, createdAt: r.createdAt, updatedAt: r.updatedAt, expiresAt: r.expiresAt,
  };
}

export function toDeliveryRecord(d: DeliveryDoc): DeliveryRecord {
  return {
    id: d._id, tenantId: d.tenantId, webhookId: d.webhookId, eventId: d.eventId, eventType: d.eventType,
    subject: d.subject ?? null, sequence: d.sequence ?? null,
    status: d.status, attempts: d.attempts, nextAttemptAt: d.nextAttemptAt ?? null, leaseOwner: d.leaseOwner ?? null,
    leaseExpiresAt: d.leaseExpiresAt ?? null, lastAttemptAt: d.lastAttemptAt ?? null,
    lastStatusCode: d.lastStatusCode ?? null, lastOutcome: d.lastOutcome ?? null,
    createdAt: d.createdAt, updatedAt: d.updatedAt, expiresAt: d.expiresAt,
  };
}

/** `durationMs` is stored as whole milliseconds, like the PostgreSQL store's integer column. */
export function toAttemptDoc(a: AttemptRecord): AttemptDoc {
  return {
    _id: a.id, deliveryId: a.deliveryId, tenantId: a.tenantId, webhookId: a.webhookId,
    attemptNumber: a.attemptNumber, startedAt: a.startedAt, durationMs: Math.round(a.durationMs), outcome: a.outcome,
    statusCode: a.statusCode, requestHeaders: { ...a.requestHeaders }, responseExcerpt: a.responseExcerpt,
    errorMessage: a.errorMessage, expiresAt: a.expiresAt,
  };
}

export function toAttemptRecord(d: AttemptDoc): AttemptRecord {
  return {
    id: d._id, deliveryId: d.deliveryId, tenantId: d.tenantId, webhookId: d.webhookId,
    attemptNumber: d.attemptNumber, startedAt: d.startedAt, durationMs: d.durationMs, outcome: d.outcome,
    statusCode: d.statusCode ?? null, requestHeaders: { ...(d.requestHeaders ?? {}) },
    responseExcerpt: d.responseExcerpt ?? null, errorMessage: d.errorMessage ?? null, expiresAt: d.expiresAt,
  };
}
