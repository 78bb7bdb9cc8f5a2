import { randomBytes } from 'node:crypto';
import type mongoose from 'mongoose';
import type { Db } from 'mongodb';
import { MongoBackend } from '@agendajs/mongo-backend';
import type {
  AttemptCompletion,
  AttemptOutcome,
  AttemptRecord,
  ClaimOptions,
  ClaimedDelivery,
  DeliveryQuery,
  DeliveryRecord,
  DeliveryStatus,
  DeliverySummary,
  EventRecord,
  PruneResult,
  RecordEventResult,
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
import { DEFAULT_COLLECTION_PREFIX, type MongoModels, registerMongoModels } from './mongo-models.js';

export interface MongoStoreOptions {
  /** The host's mongoose connection. The store registers its models on it and never closes it. */
  connection: mongoose.Connection;
  /** Prefix of every collection the plugin creates, Agenda's included. Default `webhook_`. */
  collectionPrefix?: string;
}

/**
 * How many find-then-claim rounds one `claimDueDeliveries` call may run. A round only repeats
 * when concurrent claimers took some of its candidates, so a few rounds are plenty; the bound
 * keeps one call short however busy the queue is.
 */
const MAX_CLAIM_ROUNDS = 10;
/** What `updateWebhook` may change besides `updatedAt` (other keys of a patch are ignored, as in Postgres). */
type PatchableField = keyof Omit<WebhookPatch, 'updatedAt'>;
/** (A record, so adding a field to WebhookPatch without listing it here fails to compile.) */
const PATCHABLE: Record<PatchableField, true> = {
  name: true, description: true, url: true, events: true, secrets: true, enabled: true,
  disabledReason: true, disabledAt: true, failingSince: true,
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

  constructor(options: MongoStoreOptions) {
    if (!options?.connection) throw new Error('MongoStore needs a mongoose connection');
    this.connection = options.connection;
    this.prefix = options.collectionPrefix ?? DEFAULT_COLLECTION_PREFIX;
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,30}$/.test(this.prefix)) throw new Error(`Invalid collection prefix "${this.prefix}"`);
    this.models = registerMongoModels(this.connection, this.prefix);
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
  // Delivery queue

  /**
   * MongoDB has no multi-document "UPDATE ... LIMIT n RETURNING", so a claim is:
   * find due candidates (oldest due first), then one `updateMany` over their ids that repeats
   * the due condition and stamps a fresh random `leaseToken`. The server checks each
   * document's filter atomically as it updates it, so of two concurrent claimers only one can
   * win a document: the winner moves `nextAttemptAt` past `now`, and the loser's filter no longer
   * matches. `find({ leaseToken })` then returns exactly what this call won. When concurrent
   * claimers took some candidates, further rounds look for more (what SKIP LOCKED does in
   * Postgres), until the limit is reached or nothing due is left.
   * Like Postgres, the lease pushes `nextAttemptAt` to the lease end, so a crashed worker's
   * deliveries become due again by themselves.
   */
  async claimDueDeliveries({ now, limit, leaseMs, owner }: ClaimOptions): Promise<ClaimedDelivery[]> {
    if (limit <= 0) return [];
    const leaseUntil = new Date(now.getTime() + leaseMs);
    const leaseToken = randomBytes(16).toString('base64url');
    const due = { status: 'pending', nextAttemptAt: { $lte: now } } as const;
    /** id -> when it was due before this claim, and the order candidates were found in. */
    const dueBefore = new Map<string, { at: number; order: number }>();
    let won = 0;
    for (let round = 0; round < MAX_CLAIM_ROUNDS && won < limit; round += 1) {
      const wanted = limit - won;
      const candidates = await this.models.deliveries
        // (Not our own token: with a lease of 0 ms what we just won would still look due.)
        .find({ ...due, leaseToken: { $ne: leaseToken } }, { _id: 1, nextAttemptAt: 1 })
        .sort({ nextAttemptAt: 1 })
        .limit(wanted)
        .lean();
      if (candidates.length === 0) break;
      for (const c of candidates) dueBefore.set(c._id, { at: c.nextAttemptAt?.getTime() ?? 0, order: dueBefore.size });
      const { modifiedCount } = await this.models.deliveries.updateMany(
        { ...due, _id: { $in: candidates.map((c) => c._id) } },
        { $set: { leaseOwner: owner, leaseToken, leaseExpiresAt: leaseUntil, nextAttemptAt: leaseUntil, updatedAt: now } },
      );
      won += modifiedCount;
      // Won every candidate, and fewer were due than wanted: nothing due is left.
      if (modifiedCount === candidates.length && candidates.length < wanted) break;
    }
    if (won === 0) return [];

    const claimed = await this.models.deliveries.find({ leaseToken }).lean();
    const eventIds = [...new Set(claimed.map((d) => d.eventId))];
    const events = await this.models.events.find({ _id: { $in: eventIds } }, { body: 1 }).lean();
    const bodies = new Map(events.map((e) => [e._id, e.body]));
    const rank = (id: string) => dueBefore.get(id) ?? { at: Number.MAX_SAFE_INTEGER, order: Number.MAX_SAFE_INTEGER };
    return claimed
      .sort((a, b) => rank(a._id).at - rank(b._id).at || rank(a._id).order - rank(b._id).order)
      // An event is never pruned while a delivery needs it; a delivery without one (which
      // would have nothing to send) is left leased rather than handed out with no body.
      .filter((d) => bodies.has(d.eventId))
      .map((d) => ({ delivery: toDeliveryRecord(d), body: bodies.get(d.eventId) as string }));
  }

  async nextDueAt(): Promise<Date | null> {
    const doc = await this.models.deliveries
      .findOne({ status: 'pending', nextAttemptAt: { $type: 'date' } }, { nextAttemptAt: 1 })
      .sort({ nextAttemptAt: 1 })
      .lean();
    return doc?.nextAttemptAt ?? null;
  }

  /**
   * Attempts are inserted whatever happened to the lease (the request was sent; a retried
   * call's duplicates are ignored). Each delivery moves on only if `leaseOwner` is still the
   * completing worker: one atomic single-document update per delivery, in one bulk write.
   */
  async completeAttempts(completions: readonly AttemptCompletion[]): Promise<void> {
    if (completions.length === 0) return;
    await insertIgnoringDuplicates(this.models.attempts, completions.map((c) => toAttemptDoc(c.attempt)));
    const updatedAt = new Date();
    await this.models.deliveries.bulkWrite(
      completions.map(({ attempt, owner, status, nextAttemptAt }) => ({
        updateOne: {
          filter: { _id: attempt.deliveryId, leaseOwner: owner },
          update: {
            $set: {
              status, attempts: attempt.attemptNumber, nextAttemptAt, leaseOwner: null, leaseExpiresAt: null,
              lastAttemptAt: attempt.startedAt, lastStatusCode: attempt.statusCode, lastOutcome: attempt.outcome, updatedAt,
            },
            $unset: { leaseToken: 1 },
          },
        },
      })),
      { ordered: false, throwOnValidationError: true },
    );
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

  /**
   * Two aggregations, run side by side: the counts ($match on the `deliveries_log` prefix and
   * the `since` range, then $group per webhook with a conditional $sum per status), and each
   * webhook's last attempted delivery ($sort in `deliveries_last_attempt` order, then $group
   * keeping the $first document's fields).
   */
  async summarizeDeliveries(tenantId: string, webhookIds: readonly string[], since: Date): Promise<Map<string, DeliverySummary>> {
    const ids = [...new Set(webhookIds)];
    const summaries = new Map<string, DeliverySummary>(ids.map((id) => [id, { succeeded: 0, failed: 0, pending: 0, last: null }]));
    if (ids.length === 0) return summaries;
    const countOf = (status: DeliveryStatus) => ({ $sum: { $cond: [{ $eq: ['$status', status] }, 1, 0] } });
    const [counts, lasts] = await Promise.all([
      this.models.deliveries.aggregate<{ _id: string; succeeded: number; failed: number; pending: number }>([
        { $match: { tenantId, webhookId: { $in: ids }, createdAt: { $gte: since } } },
        { $group: { _id: '$webhookId', succeeded: countOf('succeeded'), failed: countOf('failed'), pending: countOf('pending') } },
      ]),
      this.models.deliveries.aggregate<{
        _id: string; status: DeliveryStatus; statusCode: number | null; outcome: AttemptOutcome | null; at: Date;
      }>([
        // The same filter as the index's partialFilterExpression, so the index can serve it.
        { $match: { tenantId, webhookId: { $in: ids }, lastAttemptAt: { $type: 'date' } } },
        { $sort: { webhookId: 1, lastAttemptAt: -1, _id: -1 } },
        {
          $group: {
            _id: '$webhookId',
            status: { $first: '$status' },
            statusCode: { $first: '$lastStatusCode' },
            outcome: { $first: '$lastOutcome' },
            at: { $first: '$lastAttemptAt' },
          },
        },
      ]),
    ]);
    for (const c of counts) {
      const summary = summaries.get(c._id);
      if (summary) Object.assign(summary, { succeeded: c.succeeded, failed: c.failed, pending: c.pending });
    }
    for (const l of lasts) {
      const summary = summaries.get(l._id);
      if (summary) summary.last = { status: l.status, statusCode: l.statusCode ?? null, outcome: l.outcome ?? null, at: l.at };
    }
    return summaries;
  }

  async requeueDelivery(tenantId: string, id: string, now: Date): Promise<boolean> {
    const { matchedCount } = await this.models.deliveries.updateOne({ _id: id, tenantId }, requeueUpdate(now));
    return matchedCount > 0;
  }

  async requeueFailedSince(tenantId: string, webhookId: string, since: Date, now: Date): Promise<number> {
    const { modifiedCount } = await this.models.deliveries.updateMany(
      { tenantId, webhookId, status: 'failed', createdAt: { $gte: since } }, requeueUpdate(now));
    return modifiedCount;
  }

  // ---------------------------------------------------------------------------------------------
  // Retention

  /**
   * Attempts, then finished deliveries, then events: an event goes only when its fan-out is
   * complete and no delivery (left after the step before) refers to it. Its deliveries all
   * exist by then and none can be added later, so the check cannot go stale.
   */
  async pruneExpired(now: Date): Promise<PruneResult> {
    const attempts = await this.models.attempts.deleteMany({ expiresAt: { $lt: now } });
    const deliveries = await this.models.deliveries.deleteMany({ expiresAt: { $lt: now }, status: { $ne: 'pending' } });
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

function requeueUpdate(now: Date) {
  return {
    $set: { status: 'pending' as const, nextAttemptAt: now, leaseOwner: null, leaseExpiresAt: null, updatedAt: now },
    $unset: { leaseToken: 1 as const },
  };
}

/**
 * True for a duplicate-key error and nothing else: an `insertOne` E11000, or a bulk write
 * whose every write error is E11000 (with no write-concern error). Duck-typed rather than
 * `instanceof`, since the host's mongoose may bundle another copy of the driver.
 */
function isDuplicateKeyError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    code?: unknown;
    writeErrors?: unknown;
    writeConcernError?: unknown;
    result?: { getWriteConcernError?: () => unknown };
  };
  if (e.writeConcernError != null || e.result?.getWriteConcernError?.() != null) return false;
  const writeErrors = e.writeErrors == null ? [] : Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors];
  if (writeErrors.length > 0) return writeErrors.every((w: { code?: unknown } | null) => isDuplicateCode(w?.code));
  return isDuplicateCode(e.code);
}

function isDuplicateCode(code: unknown): boolean {
  return code === 11000 || code === 11001;
}

/**
 * Unordered insert that tolerates documents already present (a retried or overlapping run);
 * any other failure is thrown. `throwOnValidationError`: without it an unordered mongoose
 * insertMany skips documents that fail casting/validation silently.
 */
async function insertIgnoringDuplicates<T>(model: mongoose.Model<T>, docs: readonly T[]): Promise<void> {
  try {
    await model.insertMany([...docs], { ordered: false, throwOnValidationError: true });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
}
