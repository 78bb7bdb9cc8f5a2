/**
 * The storage port. Everything the plugin persists goes through this interface, and nothing
 * outside `plugin/store/<backend>/` knows which database is behind it. Every adapter runs the
 * same contract suite (`test/contract/`), so behaviour described here is tested, not hoped for.
 *
 * Records use camelCase; adapters map them to their own column/field names.
 */
import type { AgendaBackend } from 'agenda';

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
  createdAt: Date;
  updatedAt: Date;
}

/** Fields an update may change. `updatedAt` is always set by the caller. */
export type WebhookPatch = Partial<
  Pick<
    WebhookRecord,
    | 'name' | 'description' | 'url' | 'events' | 'secrets' | 'enabled' | 'disabledReason' | 'disabledAt' | 'failingSince'
    | 'rateLimitPerSecond'
  >
> & { updatedAt: Date };

/** One accepted event; `body` is the exact JSON that is signed and sent. */
export interface EventRecord {
  id: string;
  tenantId: string;
  type: string;
  body: string;
  idempotencyKey: string | null;
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

export interface RecordEventOptions {
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
}

export interface PruneResult {
  events: number;
  deliveries: number;
  attempts: number;
}

export interface WebhookStore {
  /** 'postgres' or 'mongo'; for logs and test names only, never for branching. */
  readonly kind: string;
  /** Creates tables/collections and indexes; idempotent. */
  init(): Promise<void>;
  /** Releases what the store opened itself (never a connection the host passed in). */
  close(): Promise<void>;
  /** The Agenda backend on the same database, so jobs live beside the data they drive. */
  createAgendaBackend(): AgendaBackend;

  insertWebhook(webhook: WebhookRecord): Promise<void>;
  findWebhook(tenantId: string, id: string): Promise<WebhookRecord | null>;
  /** Oldest first. */
  listWebhooks(tenantId: string): Promise<WebhookRecord[]>;
  listEnabledWebhooks(tenantId: string): Promise<WebhookRecord[]>;
  /**
   * One page of every webhook of every tenant, by id ascending, ids strictly after `afterId`
   * (null: from the start). For maintenance walks (re-encrypting secrets): a walk resumes from
   * the last id it saw, and webhooks created meanwhile are not skipped if their ids sort later.
   */
  listAllWebhooks(afterId: string | null, limit: number): Promise<WebhookRecord[]>;
  /** Several webhooks by id across tenants (the worker resolves a batch's targets in one call). */
  findWebhooksByIds(ids: readonly string[]): Promise<WebhookRecord[]>;
  /**
   * Applies the patch and returns the updated webhook, or null when it does not exist - or,
   * with `expectedUpdatedAt`, when it changed since the caller read it (optimistic concurrency:
   * two edits of the encrypted secrets field must not silently undo each other).
   */
  updateWebhook(tenantId: string, id: string, patch: WebhookPatch, expectedUpdatedAt?: Date): Promise<WebhookRecord | null>;
  /** Deletes the webhook with its deliveries and attempts. */
  deleteWebhook(tenantId: string, id: string): Promise<boolean>;
  /** Sets failingSince where it is null (first failure of a run). */
  markWebhooksFailing(ids: readonly string[], since: Date): Promise<void>;
  /** Clears failingSince where set (a success ends the run). */
  markWebhooksHealthy(ids: readonly string[]): Promise<void>;

  /**
   * Persists an event and its deliveries as one unit: after it resolves both are durable;
   * if it rejects, a retry with the same ids completes the work. Every field of the given
   * deliveries is stored as given (a test send records its delivery already leased). With an idempotency key
   * already used by the tenant, writes nothing and returns the first event's id.
   */
  recordEvent(event: EventRecord, deliveries: readonly DeliveryRecord[], options?: RecordEventOptions): Promise<RecordEventResult>;
  findEvent(tenantId: string, id: string): Promise<EventRecord | null>;
  /**
   * Finishes writes a crash interrupted before `olderThan` (an event whose deliveries were not
   * all written) and returns how many it finished. Stores that write an event and its
   * deliveries atomically have nothing to finish and return 0.
   */
  completeInterruptedWork(olderThan: Date): Promise<number>;

  /**
   * Optional: calls `onWork` soon after a process records deliveries with `announce` (web
   * nodes that run no worker do), so workers need not
   * wait for their next poll. Resolves with a function that stops listening. Stores without
   * a notification mechanism leave it out; workers then rely on polling alone.
   */
  listenForNewWork?(onWork: () => void, onError: (error: unknown) => void): Promise<() => Promise<void>>;

  /**
   * Leases up to `limit` due pending deliveries of enabled webhooks, skipping ones leased by
   * others. Fair: each webhook takes at most its limit (see {@link ClaimOptions}), and when
   * more is due than fits, webhooks take turns (each one's oldest due first) rather than the
   * oldest backlog taking everything. Deliveries of disabled webhooks stay pending, unclaimed.
   */
  claimDueDeliveries(options: ClaimOptions): Promise<ClaimedDelivery[]>;
  /** Gives claimed deliveries back unsent, due again at `nextAttemptAt`, their attempt count unchanged. */
  releaseDeliveries(releases: readonly DeliveryRelease[]): Promise<void>;
  /**
   * Gives back, due at `now`, every delivery still held by the claim that `owner` made with
   * lease end `leaseUntil`: for a claim whose answer was lost (the connection dropped after the
   * statement committed), so its deliveries need not wait out the lease. Returns how many.
   */
  releaseClaim(owner: string, leaseUntil: Date, now: Date): Promise<number>;
  /** Earliest nextAttemptAt among pending deliveries of enabled webhooks, so a worker knows when to look again. */
  nextDueAt(): Promise<Date | null>;
  /** Stores attempts and moves their deliveries on; a completion whose lease was lost is ignored. */
  completeAttempts(completions: readonly AttemptCompletion[]): Promise<void>;
  /** Appends an attempt that is not tied to a lease (test sends). */
  insertAttempt(attempt: AttemptRecord): Promise<void>;

  findDelivery(tenantId: string, id: string): Promise<DeliveryRecord | null>;
  /** Newest first. */
  listDeliveries(tenantId: string, webhookId: string, query: DeliveryQuery): Promise<DeliveryRecord[]>;
  /** Oldest first. */
  listAttempts(tenantId: string, deliveryId: string): Promise<AttemptRecord[]>;
  /**
   * The attempts of several deliveries of the tenant in one query (a page of the delivery log).
   * Each delivery's attempts come oldest first (startedAt, then attemptNumber); how the
   * deliveries interleave is unspecified, so callers group by `deliveryId`.
   */
  listAttemptsFor(tenantId: string, deliveryIds: readonly string[]): Promise<AttemptRecord[]>;
  /**
   * Per webhook of the tenant, in one call whatever the number of webhooks: how many of its
   * deliveries created at or after `since` are succeeded, failed and pending now, and its last
   * attempted delivery. `last` ignores `since` on purpose: a webhook that has been quiet for a
   * while still shows how its last delivery went. A delivery never attempted yet
   * (`lastAttemptAt` null) is never `last`; ties on `lastAttemptAt` are broken by id (stable answers).
   * The map has an entry for every id asked about; ids of unknown webhooks or of another
   * tenant's get zero counts and a null `last`.
   */
  summarizeDeliveries(tenantId: string, webhookIds: readonly string[], since: Date): Promise<Map<string, DeliverySummary>>;
  /**
   * Across every tenant: pending deliveries of enabled webhooks (those of a disabled webhook wait
   * for an operator, not the worker) grouped per webhook, and webhooks counted by state. Read at
   * metrics scrape time, so it must stay one cheap round trip.
   */
  summarizeBacklog(): Promise<BacklogSummary>;
  /**
   * Makes one delivery due now whatever its status - unless an attempt of it is in flight
   * (pending and leased until after `now`): sending it again then would send it twice.
   */
  requeueDelivery(tenantId: string, id: string, now: Date): Promise<RequeueResult>;
  /**
   * Marks every waiting (pending, not in flight) delivery of a webhook failed with last
   * outcome `discarded`; an operator's explicit choice. Returns how many.
   */
  discardPendingDeliveries(tenantId: string, webhookId: string, now: Date): Promise<number>;
  /** Makes every failed delivery of a webhook created at or after `since` due now. */
  requeueFailedSince(tenantId: string, webhookId: string, since: Date, now: Date): Promise<number>;

  /**
   * Deletes records whose retention ended: attempts, finished deliveries, pending deliveries
   * of disabled webhooks (they waited their whole retention), and events no delivery needs.
   * Pending deliveries of enabled webhooks are kept.
   */
  pruneExpired(now: Date): Promise<PruneResult>;
}
