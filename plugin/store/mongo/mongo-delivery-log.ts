import type mongoose from 'mongoose';
import type {
  AttemptRecord, BacklogSummary, DeliveryLog, DeliveryQuery, DeliveryRecord, DeliverySummary, PruneResult,
} from '../store-port.js';
import { summarizeBacklog } from './mongo-backlog-summary.js';
import type { MongoDeliveryQueue } from './mongo-delivery-queue.js';
import { summarizeDeliveries } from './mongo-delivery-summary.js';
import { type DeliveryDoc, toAttemptRecord, toDeliveryRecord } from './mongo-documents.js';
import type { MongoModels } from './mongo-models.js';

/** Ids per `$in` list when pruning events. */
const PRUNE_CHUNK = 500;

/** The delivery log in MongoDB: listings and summaries of deliveries and attempts, and retention. */
export class MongoDeliveryLog implements DeliveryLog {
  constructor(private readonly models: MongoModels, private readonly queue: MongoDeliveryQueue) {}

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
