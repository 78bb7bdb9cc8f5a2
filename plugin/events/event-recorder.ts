import { EventNotRecordedError, ForeignTransactionError, UnknownEventTypeError, ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import type { DeliveryRecord, EventRecord, HostTransaction, WebhookRecord, WebhookStore } from '../store/store-port.js';
import type { EventCatalogue } from './catalogue.js';
import { buildEnvelope, type EventSource } from './envelope.js';
import { matchesAny } from './event-selector.js';
import { subjectOf } from './event-subject.js';
import type { PayloadShaper } from './payload-schemas/payload-shaper.js';
import type { SubscriptionCache } from './subscription-cache.js';
import type { NormalizedContext } from './event-context.js';
import type { DeliveryMetrics } from '../observability/delivery-metrics.js';
import { traceRecord } from '../observability/tracing.js';

/**
 * The sequence written into a body before the store numbers it: with it JSON.stringify writes
 * SEQUENCE_PLACEHOLDER (`"sequence":0`), which the store replaces.
 */
const PLACEHOLDER_SEQUENCE = 0;

/** What a hook call resolves with. */
export interface RecordedEvent {
  event_id: string;
  event_type: string;
  /** Deliveries fanned out: one per enabled webhook of the tenant that selects this type. */
  deliveries: number;
  /** True when the idempotency key had been seen: nothing new was recorded. */
  duplicate: boolean;
  /** What the event is about (`current_context.subject`), or null. */
  subject: string | null;
  /** Its number among the tenant's events about `subject` (`current_context.sequence`), or null. */
  sequence: number | null;
}

export interface EventRecorderDeps {
  store: WebhookStore;
  subscriptions: SubscriptionCache;
  catalogue: EventCatalogue;
  clock: () => Date;
  retentionMs: number;
  /** retryScheduleMs[0]: how long a new delivery waits before its first attempt (default 0). */
  firstAttemptDelayMs: number;
  maxEventBytes: number;
  /** Whether recorded deliveries are announced to workers in other processes (this one delivers none itself). */
  announceToOtherWorkers: boolean;
  /** Called after deliveries were persisted, so a worker can start at once instead of at its next poll. */
  onDeliveriesRecorded: (count: number) => void;
  /** Longest a record() or persist() waits for the store before rejecting (options.hookTimeoutMs). */
  timeoutMs: number;
  /** Makes every event's data what its schema declares (and nothing credential-shaped), whatever path it came by. */
  shaper: PayloadShaper;
  /** Counts recorded events; absent when metrics are off. */
  metrics?: Pick<DeliveryMetrics, 'eventRecorded'>;
}

/**
 * Turns one validated hook call into an envelope, fans it out to the tenant's matching
 * webhooks and persists both. When the returned promise resolves, the event is durable.
 */
/** Most store writes a recorder lets wait at once (see persist). */
const MAX_WAITING_WRITES = 1_000;

export class EventRecorder {
  private waitingWrites = 0;

  constructor(private readonly deps: EventRecorderDeps) {}

  /**
   * `excludeWebhookIds` get no delivery whatever they subscribe to: an operational event
   * (WEBHOOK_DISABLED...) never goes to the webhook it is about.
   */
  async record(type: string, data: Record<string, unknown>, context: NormalizedContext, source: EventSource = 'host',
    excludeWebhookIds: readonly string[] = []): Promise<RecordedEvent> {
    if (!this.deps.catalogue.has(type)) throw new UnknownEventTypeError(type);
    const now = this.deps.clock();
    const event = this.buildEvent(type, data, context, source, now);
    return traceRecord(event, () => this.fanOut(event, context, now, excludeWebhookIds));
  }

  /** Finds the tenant's webhooks that select the event and persists it with one delivery each. */
  private async fanOut(event: EventRecord, context: NormalizedContext, now: Date, excludeWebhookIds: readonly string[] = []): Promise<RecordedEvent> {
    const { type } = event;
    // One deadline for the whole call (subscription lookup and write), so a stalled database
    // can never hold a login longer than hookTimeoutMs.
    const deadline = performance.now() + this.deps.timeoutMs;
    let webhooks: WebhookRecord[];
    try {
      webhooks = (await withDeadline(this.deps.subscriptions.enabledWebhooks(context.tenantId), this.deps.timeoutMs))
        .filter((w) => matchesAny(w.events, type) && !excludeWebhookIds.includes(w.id));
    } catch (cause) {
      throw new EventNotRecordedError(type, cause);
    }
    const firstAttemptAt = new Date(now.getTime() + this.deps.firstAttemptDelayMs);
    const deliveries = webhooks.map((w) => newDelivery(event, w.id, now, { nextAttemptAt: firstAttemptAt }));
    return this.persist(event, deliveries, Math.max(0, deadline - performance.now()), context.transaction ?? undefined);
  }

  /**
   * Builds (does not store) the event record and its envelope body; also used by test sends.
   * Every event's data is shaped here, once: typed hooks, emit(), audit events and test sends
   * alike leave the host with only their schema's fields.
   * @throws {ValidationError} when the data misses a required field, or the body is too large.
   */
  buildEvent(type: string, data: Record<string, unknown>, context: NormalizedContext, source: EventSource, now: Date): EventRecord {
    if (!this.deps.catalogue.has(type)) throw new UnknownEventTypeError(type);
    const id = newId('evt');
    const { shaper } = this.deps;
    const shaped = shaper.shape(type, data);
    // Test sends are about no one: they must not use up a real subject's numbers.
    const subject = source === 'test' ? null : subjectOf(shaped, context.subject ?? null);
    const shapedContext = shaper.shapeContext(type, {
      event_id: id, tenant_id: context.tenantId, subject, sequence: PLACEHOLDER_SEQUENCE,
      source, request: context.request, actor: context.actor, client: context.client,
    });
    // Numbered only with a subject the shaper kept (it refuses a credential-shaped one).
    if (shapedContext.subject === null) shapedContext.sequence = null;
    const envelope = buildEnvelope({ time: now, type, context: shapedContext, data: shaped });
    const body = JSON.stringify(envelope);
    const bytes = Buffer.byteLength(body);
    if (bytes > this.deps.maxEventBytes) {
      throw new ValidationError(`The ${type} event is ${bytes} bytes; the limit is ${this.deps.maxEventBytes} (options.maxEventBytes)`, [
        { path: 'data', message: 'too large' },
      ]);
    }
    // The shaper may have refused the subject (credential-shaped): the context says what is sent.
    const sentSubject = envelope.current_context.subject;
    return {
      id, tenantId: context.tenantId, type, body, idempotencyKey: context.idempotencyKey, subject: sentSubject,
      traceParent: context.trace?.traceparent ?? null, traceState: context.trace?.tracestate ?? null,
      createdAt: now, expiresAt: new Date(now.getTime() + this.deps.retentionMs),
    };
  }

  /**
   * With the host's `transaction`, the event and its deliveries are written in it, and workers
   * are woken by the store's announcement, which only its commit delivers (waking them now
   * would send them looking for rows they cannot see yet).
   */
  async persist(event: EventRecord, deliveries: DeliveryRecord[], timeoutMs = this.deps.timeoutMs,
    transaction?: HostTransaction): Promise<RecordedEvent> {
    // Writes that outlived their hook call's deadline still wait on the store (a pool without
    // a connection timeout waits for ever): past this many, refuse at once rather than let them
    // pile up in memory for the whole outage.
    if (this.waitingWrites >= MAX_WAITING_WRITES) {
      throw new EventNotRecordedError(event.type, new StoreBacklogError(MAX_WAITING_WRITES));
    }
    let result;
    try {
      this.waitingWrites += 1;
      const write = this.deps.store.recordEvent(event, deliveries, {
        announce: this.deps.announceToOtherWorkers || transaction !== undefined, transaction,
      });
      void write.catch(() => undefined).finally(() => { this.waitingWrites -= 1; });
      result = await withDeadline(write, timeoutMs);
    } catch (cause) {
      // A transaction the store cannot use is the host's mistake, not an outage: said as such.
      if (cause instanceof ForeignTransactionError) throw cause;
      // A transient conflict inside the host's transaction (MongoDB: two transactions numbering
      // one subject) goes back as the driver raised it: withTransaction() retries only errors
      // that carry its label, and retrying the whole transaction is the fix.
      if (transaction !== undefined && isTransientTransactionError(cause)) throw cause;
      throw new EventNotRecordedError(event.type, cause, { inTransaction: transaction !== undefined });
    }
    if (result.created && result.deliveryCount > 0 && transaction === undefined) this.deps.onDeliveriesRecorded(result.deliveryCount);
    if (result.created) this.deps.metrics?.eventRecorded(event.type);
    return {
      event_id: result.eventId, event_type: event.type, deliveries: result.deliveryCount, duplicate: !result.created,
      subject: event.subject, sequence: result.sequence,
    };
  }
}

/** Raised when the store did not answer within the hook deadline. */
export class StoreTimeoutError extends Error {
  readonly code = 'store_timeout';
  constructor(timeoutMs: number) {
    super(`The store did not answer within ${timeoutMs} ms (hookTimeoutMs)`);
    this.name = 'StoreTimeoutError';
  }
}

/** Raised without asking the store when too many earlier writes still wait on it. */
export class StoreBacklogError extends Error {
  readonly code = 'store_backlog';
  constructor(waiting: number) {
    super(`${waiting} earlier writes still wait on the store; refused at once`);
    this.name = 'StoreBacklogError';
  }
}

/**
 * Rejects with {@link StoreTimeoutError} if `work` has not settled within `ms`. The work itself
 * goes on (a database call cannot be recalled); a late success is harmless because a retry
 * with the same idempotency key writes nothing twice, and a late failure is swallowed.
 */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeoutError(ms)), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

function isTransientTransactionError(error: unknown): boolean {
  const labelled = error as { hasErrorLabel?: (label: string) => boolean } | null;
  return typeof labelled?.hasErrorLabel === 'function' && labelled.hasErrorLabel('TransientTransactionError');
}

export function newDelivery(event: EventRecord, webhookId: string, now: Date, overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    id: newId('msg'), tenantId: event.tenantId, webhookId, eventId: event.id, eventType: event.type, status: 'pending',
    attempts: 0, nextAttemptAt: now, leaseOwner: null, leaseExpiresAt: null, lastAttemptAt: null, lastStatusCode: null,
    lastOutcome: null, createdAt: now, updatedAt: now, expiresAt: event.expiresAt, subject: event.subject,
    sequence: event.sequence ?? null, ...overrides,
  };
}
