/**
 * The records the storage port (store-port.ts) reads and writes. Records use camelCase;
 * adapters map them to their own column/field names.
 */

/** Webhook subscription. Secret material lives only inside `secrets` (ciphertext). */
export interface WebhookRecord {
  id: string;
  tenantId: string;
  name: string;
  description: string;
  url: string;
  /** Exact event types, `PREFIX_*` patterns or `*`. */
  events: string[];
  notificationType: 'REST';
  /** Encrypted JSON of {@link WebhookSecrets} (see `security/secret-box.ts`). */
  secrets: string;
  enabled: boolean;
  /** Why the plugin (not an operator) disabled the webhook; null when enabled or disabled by hand. */
  disabledReason: string | null;
  disabledAt: Date | null;
  /** Start of the current run of failed deliveries; null while healthy. */
  failingSince: Date | null;
  /** Most requests per second to this webhook (per worker process); null for no limit. */
  rateLimitPerSecond: number | null;
  /**
   * `per_subject`: a delivery about a subject is claimed only once every earlier delivery about
   * the same subject to this webhook (lower `sequence`) is final; `none`: in any order.
   */
  ordering: WebhookOrdering;
  createdAt: Date;
  updatedAt: Date;
}

export type WebhookOrdering = 'none' | 'per_subject';

/** Fields an update may change. `updatedAt` is always set by the caller. */
export type WebhookPatch = Partial<
  Pick<
    WebhookRecord,
    | 'name' | 'description' | 'url' | 'events' | 'secrets' | 'enabled' | 'disabledReason' | 'disabledAt' | 'failingSince'
    | 'rateLimitPerSecond' | 'ordering'
  >
> & { updatedAt: Date };

/** One accepted event; `body` is the exact JSON that is signed and sent. */
export interface EventRecord {
  id: string;
  tenantId: string;
  type: string;
  body: string;
  idempotencyKey: string | null;
  /**
   * What the event is about (`user:<id>`, `role:<id>`...), or null. Events about one subject are
   * numbered per (tenant, subject) by the store: see `sequence` and {@link SEQUENCE_PLACEHOLDER}.
   */
  subject: string | null;
  /**
   * The event's number among the tenant's events about its subject (1, 2, ...), assigned by the
   * store in the write that records it; null without a subject (and before it is recorded).
   */
  sequence?: number | null;
  /** W3C `traceparent` of the request that caused the event, sent with every attempt; absent or null: none. */
  traceParent?: string | null;
  /** W3C `tracestate` that came with `traceParent`; absent or null: none. */
  traceState?: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

/** One event on its way to one webhook. Its id is the `webhook-id` header: stable across retries. */
export interface DeliveryRecord {
  id: string;
  tenantId: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  /** The event's subject and sequence, copied so ordered claims need not read events. */
  subject: string | null;
  sequence: number | null;
  status: DeliveryStatus;
  attempts: number;
  /** When the next attempt is due; null once the delivery is final. */
  nextAttemptAt: Date | null;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastOutcome: AttemptOutcome | null;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date;
}

/** How an attempt ended, classed so operators can tell a receiver bug from a network fault. */
export type AttemptOutcome =
  | 'success'
  | 'http_error'
  | 'timeout'
  | 'dns'
  | 'connection_refused'
  | 'tls'
  | 'blocked'
  | 'network'
  | 'webhook_unavailable'
  /** Not an attempt: an operator discarded the delivery while it waited (a delivery's last outcome only). */
  | 'discarded';

export interface AttemptRecord {
  id: string;
  deliveryId: string;
  tenantId: string;
  webhookId: string;
  attemptNumber: number;
  startedAt: Date;
  durationMs: number;
  outcome: AttemptOutcome;
  statusCode: number | null;
  /** Request headers as sent, with secret values masked. */
  requestHeaders: Record<string, string>;
  responseExcerpt: string | null;
  errorMessage: string | null;
  expiresAt: Date;
}

/** A delivery claimed by one worker, with the body to send. */
export interface ClaimedDelivery {
  delivery: DeliveryRecord;
  body: string;
  /** The event's stored trace context (see {@link EventRecord}); absent or null: none. */
  traceParent?: string | null;
  traceState?: string | null;
}

export interface ClaimOptions {
  now: Date;
  limit: number;
  /** How long the claim stays exclusive; a crashed worker's claims become due again after it. */
  leaseMs: number;
  owner: string;
  /**
   * Most deliveries of one webhook this claim may take (its share of the worker), so the
   * backlog of one webhook cannot fill a claim while others wait. Default: `limit`.
   */
  perWebhookLimit?: number;
  /** Webhooks that may take fewer than `perWebhookLimit` now (requests in flight, circuit open, rate limit); 0 takes none. */
  webhookLimits?: ReadonlyMap<string, number>;
}

/** A claimed delivery handed back unsent (circuit open, rate limit): its attempts are unchanged. */
export interface DeliveryRelease {
  id: string;
  /** The claim's owner; a release by a worker that lost the lease is ignored. */
  owner: string;
  nextAttemptAt: Date;
}

/** What asking for a delivery to be sent again did. */
export type RequeueResult = 'requeued' | 'in_flight' | 'not_found';

/** The result of one attempt, written back in bulk by the worker that holds the lease. */
export interface AttemptCompletion {
  attempt: AttemptRecord;
  owner: string;
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
}

export interface DeliveryQuery {
  status?: DeliveryStatus;
  eventType?: string;
  /** Keyset cursor: return deliveries strictly older than this (createdAt, id) pair. */
  before?: { createdAt: Date; id: string };
  limit: number;
}

/**
 * How one webhook has been doing: counts of its deliveries created at or after `since`, by
 * their current status, and its last attempted delivery (see `summarizeDeliveries`).
 */
export interface DeliverySummary {
  succeeded: number;
  failed: number;
  pending: number;
  /** Every pending delivery of the webhook, however old (those of a disabled webhook wait for it to be enabled). */
  waiting: number;
  /** The delivery attempted most recently (greatest `lastAttemptAt`), however old; null when none was ever attempted. */
  last: { status: DeliveryStatus; statusCode: number | null; outcome: AttemptOutcome | null; at: Date } | null;
}

/**
 * The whole store's backlog and webhooks, across tenants, for metrics (see `summarizeBacklog`).
 */
export interface BacklogSummary {
  /** Pending deliveries of enabled webhooks, per webhook that has any, with the creation time of its oldest. */
  pending: Array<{ webhookId: string; count: number; oldestCreatedAt: Date }>;
  /** Webhooks by state: enabled and healthy, enabled with a failing run (`failingSince` set), disabled. */
  webhooks: { enabled: number; failing: number; disabled: number };
}

/**
 * The host's open transaction, as given in the hook context: a `pg` client inside BEGIN
 * (PostgreSQL) or a mongoose/driver ClientSession in a transaction (MongoDB). Stores check
 * that it is theirs and refuse anything else with a {@link ForeignTransactionError}.
 */
export type HostTransaction = object;

export interface RecordEventOptions {
  /**
   * Write the event and its deliveries in this transaction: they exist exactly when it commits.
   * Nothing is announced before the commit (a store announces through the transaction itself).
   */
  transaction?: HostTransaction;
  /**
   * Tell workers in other processes (see listenForNewWork) that deliveries were recorded. A
   * process that delivers itself has no need to: announcing costs every commit a global lock.
   */
  announce?: boolean;
}

export interface RecordEventResult {
  eventId: string;
  /** False when the idempotency key had been used already: nothing new was written. */
  created: boolean;
  deliveryCount: number;
  /** The event's number among its subject's (see `EventRecord.sequence`); null without a subject. */
  sequence: number | null;
}

export interface PruneResult {
  events: number;
  deliveries: number;
  attempts: number;
}

/**
 * In the body of an event with a subject, the store replaces the first occurrence of this text
 * with `"sequence":<n>` as it records the event (see `EventRecord.sequence`). The recorder
 * puts it in `current_context` before any value a caller controls, and JSON escapes every quote
 * inside a string value, so the first occurrence is always the context's own.
 */
export const SEQUENCE_PLACEHOLDER = '"sequence":0';

/** The body with its sequence written in (see {@link SEQUENCE_PLACEHOLDER}). */
export function withSequence(body: string, sequence: number): string {
  return body.replace(SEQUENCE_PLACEHOLDER, `"sequence":${sequence}`);
}
