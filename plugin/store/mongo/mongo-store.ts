import type mongoose from 'mongoose';
import type { Db } from 'mongodb';
import { MongoBackend } from '@agendajs/mongo-backend';
import type {
  AttemptCompletion,
  AttemptRecord,
  ClaimOptions,
  ClaimedDelivery,
  DeliveryQuery,
  DeliveryRecord,
  DeliveryRelease,
  BacklogSummary,
  DeliverySummary,
  EventRecord,
  PruneResult,
  RecordEventResult,
  RequeueResult,
  WebhookPatch,
  WebhookRecord,
  WebhookStore,
} from '../store-port.js';
import {
  type DeliveryDoc,
  toAttemptDoc,
  toAttemptRecord,
  toDeliveryDoc,
  toDeliveryRecord,
  toEventDoc,
  toEventRecord,
  toWebhookDoc,
  toWebhookRecord,
} from './mongo-documents.js';
import { MongoDeliveryQueue } from './mongo-delivery-queue.js';
import { summarizeDeliveries } from './mongo-delivery-summary.js';
import { summarizeBacklog } from './mongo-backlog-summary.js';
import { insertIgnoringDuplicates, isDuplicateKeyError } from './mongo-duplicate-keys.js';
import { DEFAULT_COLLECTION_PREFIX, type MongoModels, registerMongoModels } from './mongo-models.js';

export interface MongoStoreOptions {
  /** The host's mongoose connection. The store registers its models on it and never closes it. */
  connection: mongoose.Connection;
  /** Prefix of every collection the plugin creates, Agenda's included. Default `webhook_`. */
  collectionPrefix?: string;
  /** Told about connection errors no operation is waiting for; logged, never thrown. */
  onConnectionError?: (error: unknown, where: string) => void;
}

/** What `updateWebhook` may change besides `updatedAt` (other keys of a patch are ignored, as in Postgres). */
type PatchableField = keyof Omit<WebhookPatch, 'updatedAt'>;
/** (A record, so adding a field to WebhookPatch without listing it here fails to compile.) */
const PATCHABLE: Record<PatchableField, true> = {
  name: true, description: true, url: true, events: true, secrets: true, enabled: true,
  disabledReason: true, disabledAt: true, failingSince: true, rateLimitPerSecond: true,
};
const PATCHABLE_FIELDS = Object.keys(PATCHABLE) as PatchableField[];
/** Ids per `$in` list when pruning events. */
const PRUNE_CHUNK = 500;

/**
 * The MongoDB store, for a standalone server as well as a replica set: it uses neither
 * multi-document transactions nor change streams. What Postgres does in one statement is
 * done here with single-document atomic updates, unique indexes and idempotent writes;
 * each method says how.
 */
export class MongoStore implements WebhookStore {
  readonly kind = 'mongo';
  /** The mongoose models on the host's connection (for diagnostics and tests). */
  readonly models: MongoModels;
  private readonly connection: mongoose.Connection;
  private readonly prefix: string;
  private readonly queue: MongoDeliveryQueue;

  constructor(options: MongoStoreOptions) {
    if (!options?.connection) throw new Error('MongoStore needs a mongoose connection');
    this.connection = options.connection;
    // A dropped connection cannot end the host (read from mongoose 9.12 and driver 7.8): the
    // driver reconnects by itself, and an operation meanwhile waits for a server up to
    // serverSelectionTimeoutMS, then rejects to its caller. The driver's MongoClient and
    // Topology keep a no-op 'error' listener of their own, and a mongoose Connection emits
    // 'error' only when it has listeners (e.g. a failed initial connection). This listener
    // reports such errors; with it mongoose also counts a failed initial connection as handled
    // (gh-14377) rather than an unhandled rejection, while init() still rejects (asPromise()).
    const onConnectionError = options.onConnectionError ?? (() => undefined);
    this.connection.on('error', (error: unknown) => onConnectionError(error, 'mongoose connection'));
    this.prefix = options.collectionPrefix ?? DEFAULT_COLLECTION_PREFIX;
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,30}$/.test(this.prefix)) throw new Error(`Invalid collection prefix "${this.prefix}"`);
    this.models = registerMongoModels(this.connection, this.prefix);
    this.queue = new MongoDeliveryQueue(this.models);
  }

  /** Needs the host's connection open, or being opened (it waits for it). */
  async init(): Promise<void> {
    // Resolves at once when connected; waits for a connection the host is still opening.
    await this.connection.asPromise();
    for (const model of Object.values(this.models) as mongoose.Model<unknown>[]) {
      // init(): the collection (mongoose's autoCreate); createIndexes(): every schema index,
      // whatever the host's autoIndex setting. createIndex is a no-op for an identical index,
      // and nothing here drops an index (unlike syncIndexes), which suits a shared database.
      await model.init();
      await model.createIndexes();
    }
  }

  /** Nothing to release: the connection is the host's. */
  async close(): Promise<void> {}

  createAgendaBackend(): MongoBackend {
    const db = this.connection.db;
    if (!db) throw new Error('MongoStore.createAgendaBackend() needs an open connection: await store.init() first');
    // Nothing here can emit an unhandled 'error' (read from @agendajs/mongo-backend 4.0.3's
    // dist): MongoBackend, its job repository and its logger are no EventEmitters, and given a
    // Db they open no client of their own; their failed operations reject into Agenda, which
    // emits them on the Agenda instance (the delivery worker listens). The package's only
    // emitter, MongoChangeStreamNotificationChannel, is not used: change streams need a replica
    // set (MongoBackend's notificationChannel is undefined, so Agenda polls).
    return new MongoBackend({
      // `connection.db` is a Db of the driver copy bundled with mongoose (7.8); MongoBackend's type
      // names the top-level `mongodb` package (7.9). Same driver major, same Db API, one shared
      // `bson` (so ObjectIds MongoBackend creates serialise); only the declarations differ
      // (private members make TypeScript treat the two classes as unrelated).
      mongo: db as unknown as Db,
      collection: `${this.prefix}agenda_jobs`,
      logCollection: `${this.prefix}agenda_logs`,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Webhooks

  async insertWebhook(webhook: WebhookRecord): Promise<void> {
    await this.models.webhooks.insertOne(toWebhookDoc(webhook));
  }

  async findWebhook(tenantId: string, id: string): Promise<WebhookRecord | null> {
    const doc = await this.models.webhooks.findOne({ _id: id, tenantId }).lean();
    return doc ? toWebhookRecord(doc) : null;
  }

  async listWebhooks(tenantId: string): Promise<WebhookRecord[]> {
    const docs = await this.models.webhooks.find({ tenantId }).sort({ createdAt: 1, _id: 1 }).lean();
    return docs.map(toWebhookRecord);
  }

  async listEnabledWebhooks(tenantId: string): Promise<WebhookRecord[]> {
    const docs = await this.models.webhooks.find({ tenantId, enabled: true }).sort({ createdAt: 1, _id: 1 }).lean();
    return docs.map(toWebhookRecord);
  }

  async listAllWebhooks(afterId: string | null, limit: number): Promise<WebhookRecord[]> {
    const filter = afterId === null ? {} : { _id: { $gt: afterId } };
    const docs = await this.models.webhooks.find(filter).sort({ _id: 1 }).limit(limit).lean();
    return docs.map(toWebhookRecord);
  }

  async findWebhooksByIds(ids: readonly string[]): Promise<WebhookRecord[]> {
    if (ids.length === 0) return [];
    const docs = await this.models.webhooks.find({ _id: { $in: [...ids] } }).lean();
    return docs.map(toWebhookRecord);
  }

  async updateWebhook(tenantId: string, id: string, patch: WebhookPatch, expectedUpdatedAt?: Date): Promise<WebhookRecord | null> {
    const set: Record<string, unknown> = { updatedAt: patch.updatedAt };
    for (const field of PATCHABLE_FIELDS) if (patch[field] !== undefined) set[field] = patch[field];
    const filter: Record<string, unknown> = { _id: id, tenantId };
    if (expectedUpdatedAt) filter.updatedAt = expectedUpdatedAt;
    const doc = await this.models.webhooks
      .findOneAndUpdate(filter, { $set: set }, { returnDocument: 'after' })
      .lean();
    return doc ? toWebhookRecord(doc) : null;
  }

  /**
   * Three deletes, not atomic across collections. The webhook goes first, so no new fan-out
   * selects it; then its deliveries and attempts go, always, even when the webhook was already
   * gone, so a retry after a crash between the steps cleans up. Until then an orphan delivery
   * is harmless: the worker fails it (`webhook_unavailable`) and pruning removes it.
   */
  async deleteWebhook(tenantId: string, id: string): Promise<boolean> {
    const { deletedCount } = await this.models.webhooks.deleteOne({ _id: id, tenantId });
    await this.models.deliveries.deleteMany({ tenantId, webhookId: id });
    await this.models.attempts.deleteMany({ tenantId, webhookId: id });
    return deletedCount > 0;
  }

  async markWebhooksFailing(ids: readonly string[], since: Date): Promise<void> {
    if (ids.length === 0) return;
    // `failingSince: null` matches null and missing: only the first failure of a run sets it.
    await this.models.webhooks.updateMany({ _id: { $in: [...ids] }, failingSince: null }, { $set: { failingSince: since } });
  }

  async markWebhooksHealthy(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.models.webhooks.updateMany({ _id: { $in: [...ids] }, failingSince: { $ne: null } }, { $set: { failingSince: null } });
  }

  // ---------------------------------------------------------------------------------------------
  // Events

  /**
   * Without a transaction, in three single-document-atomic steps:
   * 1. insert the event with its planned deliveries embedded and `fanoutComplete: false`: once
   *    this succeeds nothing can be lost, the plan is durable with the event;
   * 2. insert the deliveries (duplicates of an earlier, interrupted run are ignored);
   * 3. mark the fan-out complete and drop the embedded plan.
   * A crash between 1 and 3 is finished by a retry with the same ids (the event insert reports
   * a duplicate `_id`, and the existing event's own plan is completed) or by
   * `completeInterruptedWork()`. A used idempotency key is a duplicate on the unique
   * (tenantId, idempotencyKey) index: nothing is written and the first event is returned.
   */
  async recordEvent(event: EventRecord, deliveries: readonly DeliveryRecord[]): Promise<RecordEventResult> {
    const planned = deliveries.map(toDeliveryDoc);
    // Two passes cover the one race where the conflicting event is pruned between our insert
    // and our lookup; a second conflict then finds its event.
    for (let pass = 0; pass < 2; pass += 1) {
      try {
        if (planned.length === 0) {
          await this.models.events.insertOne({ ...toEventDoc(event), fanoutComplete: true });
        } else {
          await this.models.events.insertOne({ ...toEventDoc(event), fanoutComplete: false, pendingDeliveries: planned });
          try {
            await this.finishFanOut(event.id, planned);
          } catch {
            // The event and its planned deliveries are durable in one document now; the sweep's
            // completeInterruptedWork() writes the deliveries. Failing here would tell the host
            // "nothing was recorded" about an event that will be delivered.
          }
        }
        return { eventId: event.id, created: true, deliveryCount: planned.length };
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      const existing = await this.findConflictingEvent(event);
      if (!existing) continue;
      if (existing.fanoutComplete === false) await this.finishFanOut(existing._id, existing.pendingDeliveries ?? []);
      const deliveryCount = await this.models.deliveries.countDocuments({ eventId: existing._id });
      return { eventId: existing._id, created: false, deliveryCount };
    }
    throw new Error(`Event ${event.id} conflicts with an event that no longer exists`);
  }

  async findEvent(tenantId: string, id: string): Promise<EventRecord | null> {
    const doc = await this.models.events.findOne({ _id: id, tenantId }, { pendingDeliveries: 0 }).lean();
    return doc ? toEventRecord(doc) : null;
  }

  /** Finishes every fan-out that a crash left incomplete, for events created before `olderThan`. */
  async completeInterruptedWork(olderThan: Date): Promise<number> {
    let finished = 0;
    const cursor = this.models.events
      .find({ fanoutComplete: false, createdAt: { $lt: olderThan } }, { _id: 1, pendingDeliveries: 1 })
      .lean()
      .cursor();
    for await (const doc of cursor) {
      await this.finishFanOut(doc._id, doc.pendingDeliveries ?? []);
      finished += 1;
    }
    return finished;
  }

  /** Steps 2 and 3 of `recordEvent`; idempotent, so any number of runs may overlap. */
  private async finishFanOut(eventId: string, planned: readonly DeliveryDoc[]): Promise<void> {
    if (planned.length > 0) await insertIgnoringDuplicates(this.models.deliveries, planned);
    await this.models.events.updateOne(
      { _id: eventId, fanoutComplete: false },
      { $set: { fanoutComplete: true }, $unset: { pendingDeliveries: 1 } },
    );
  }

  private async findConflictingEvent(event: EventRecord) {
    const projection = { _id: 1, fanoutComplete: 1, pendingDeliveries: 1 } as const;
    const sameId = await this.models.events.findOne({ _id: event.id }, projection).lean();
    if (sameId || event.idempotencyKey === null) return sameId;
    return this.models.events
      .findOne({ tenantId: event.tenantId, idempotencyKey: event.idempotencyKey }, projection)
      .lean();
  }

  // ---------------------------------------------------------------------------------------------
  // Delivery queue (see mongo-delivery-queue.ts)

  claimDueDeliveries(options: ClaimOptions): Promise<ClaimedDelivery[]> {
    return this.queue.claim(options);
  }

  releaseDeliveries(releases: readonly DeliveryRelease[]): Promise<void> {
    return this.queue.release(releases);
  }

  releaseClaim(owner: string, leaseUntil: Date, now: Date): Promise<number> {
    return this.queue.releaseClaim(owner, leaseUntil, now);
  }

  nextDueAt(): Promise<Date | null> {
    return this.queue.nextDueAt();
  }

  completeAttempts(completions: readonly AttemptCompletion[]): Promise<void> {
    return this.queue.complete(completions);
  }

  async insertAttempt(attempt: AttemptRecord): Promise<void> {
    await this.models.attempts.insertOne(toAttemptDoc(attempt));
  }

  // ---------------------------------------------------------------------------------------------
  // Delivery log

  async findDelivery(tenantId: string, id: string): Promise<DeliveryRecord | null> {
    const doc = await this.models.deliveries.findOne({ _id: id, tenantId }).lean();
    return doc ? toDeliveryRecord(doc) : null;
  }

  async listDeliveries(tenantId: string, webhookId: string, query: DeliveryQuery): Promise<DeliveryRecord[]> {
    if (query.limit <= 0) return [];
    const filter: mongoose.QueryFilter<DeliveryDoc> = { tenantId, webhookId };
    if (query.status) filter.status = query.status;
    if (query.eventType) filter.eventType = query.eventType;
    if (query.before) {
      const { createdAt, id } = query.before;
      filter.$or = [{ createdAt: { $lt: createdAt } }, { createdAt, _id: { $lt: id } }];
    }
    const docs = await this.models.deliveries.find(filter).sort({ createdAt: -1, _id: -1 }).limit(query.limit).lean();
    return docs.map(toDeliveryRecord);
  }

  async listAttempts(tenantId: string, deliveryId: string): Promise<AttemptRecord[]> {
    const docs = await this.models.attempts.find({ tenantId, deliveryId }).sort({ startedAt: 1, attemptNumber: 1 }).lean();
    return docs.map(toAttemptRecord);
  }

  async listAttemptsFor(tenantId: string, deliveryIds: readonly string[]): Promise<AttemptRecord[]> {
    if (deliveryIds.length === 0) return [];
    const docs = await this.models.attempts
      .find({ tenantId, deliveryId: { $in: [...deliveryIds] } })
      .sort({ deliveryId: 1, startedAt: 1, attemptNumber: 1 })
      .lean();
    return docs.map(toAttemptRecord);
  }

  /** See mongo-delivery-summary.ts. */
  summarizeDeliveries(tenantId: string, webhookIds: readonly string[], since: Date): Promise<Map<string, DeliverySummary>> {
    return summarizeDeliveries(this.models.deliveries, tenantId, webhookIds, since);
  }

  summarizeBacklog(): Promise<BacklogSummary> {
    return summarizeBacklog(this.models.webhooks, this.models.deliveries);
  }

  requeueDelivery(tenantId: string, id: string, now: Date): Promise<RequeueResult> {
    return this.queue.requeue(tenantId, id, now);
  }

  discardPendingDeliveries(tenantId: string, webhookId: string, now: Date): Promise<number> {
    return this.queue.discardPending(tenantId, webhookId, now);
  }

  requeueFailedSince(tenantId: string, webhookId: string, since: Date, now: Date): Promise<number> {
    return this.queue.requeueFailedSince(tenantId, webhookId, since, now);
  }

  // ---------------------------------------------------------------------------------------------
  // Retention

  /**
   * Attempts, then deliveries (finished ones, and pending ones of disabled webhooks), then
   * events: an event goes only when its fan-out is complete and no delivery (left after the
   * step before) refers to it. Its deliveries all exist by then and none can be added later,
   * so the check cannot go stale. (A webhook enabled again between reading the disabled ids
   * and the delete loses only deliveries whose retention had ended anyway.)
   */
  async pruneExpired(now: Date): Promise<PruneResult> {
    const attempts = await this.models.attempts.deleteMany({ expiresAt: { $lt: now } });
    const disabled = await this.queue.disabledWebhookIds();
    const deliveries = await this.models.deliveries.deleteMany({
      expiresAt: { $lt: now },
      $or: [{ status: { $ne: 'pending' } }, { webhookId: { $in: disabled } }],
    });
    const expired = { expiresAt: { $lt: now }, fanoutComplete: { $ne: false } };
    let events = 0;
    let chunk: string[] = [];
    const pruneChunk = async () => {
      const referenced = new Set(await this.models.deliveries.distinct('eventId', { eventId: { $in: chunk } }));
      const orphaned = chunk.filter((id) => !referenced.has(id));
      chunk = [];
      if (orphaned.length === 0) return;
      const { deletedCount } = await this.models.events.deleteMany({ ...expired, _id: { $in: orphaned } });
      events += deletedCount;
    };
    for await (const doc of this.models.events.find(expired, { _id: 1 }).lean().cursor()) {
      chunk.push(doc._id);
      if (chunk.length >= PRUNE_CHUNK) await pruneChunk();
    }
    if (chunk.length > 0) await pruneChunk();
    return { events, deliveries: deliveries.deletedCount, attempts: attempts.deletedCount };
  }
}
