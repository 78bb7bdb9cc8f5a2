/**
 * The storage port. Everything the plugin persists goes through these interfaces, and nothing
 * outside `plugin/store/<backend>/` knows which database is behind it. Every adapter runs the
 * same contract suite (`test/contract/`), so behaviour described here is tested, not hoped for.
 * The port is split by concern (webhooks, events, the delivery queue, the delivery log); a
 * store is all of them. The records live in store-records.ts.
 */
import type { AgendaBackend } from 'agenda';
import type {
  AttemptCompletion, AttemptRecord, BacklogSummary, ClaimOptions, ClaimedDelivery, DeliveryQuery, DeliveryRecord,
  DeliveryRelease, DeliverySummary, EventRecord, PruneResult, RecordEventOptions, RecordEventResult, RequeueResult,
  WebhookPatch, WebhookRecord,
} from './store-records.js';

export * from './store-records.js';

/** Webhook subscriptions. */
export interface WebhookRepository {
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

}

/** Events, written with their deliveries. */
export interface EventLog {
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

}

/** The delivery queue: what workers claim, release and complete, and what operators requeue. */
export interface DeliveryQueue {
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

}

/** The delivery log: what happened, for the admin API and metrics. */
export interface DeliveryLog {
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
   * Deletes records whose retention ended: attempts, finished deliveries, pending deliveries
   * of disabled webhooks (they waited their whole retention), and events no delivery needs.
   * Pending deliveries of enabled webhooks are kept.
   */
  pruneExpired(now: Date): Promise<PruneResult>;
}

/** A whole store: every part of the port, on one database. */
export interface WebhookStore extends WebhookRepository, EventLog, DeliveryQueue, DeliveryLog {
  /** 'postgres' or 'mongo'; for logs and test names only, never for branching. */
  readonly kind: string;
  /** Creates tables/collections and indexes; idempotent. */
  init(): Promise<void>;
  /** Releases what the store opened itself (never a connection the host passed in). */
  close(): Promise<void>;
  /** The Agenda backend on the same database, so jobs live beside the data they drive. */
  createAgendaBackend(): AgendaBackend;
}
