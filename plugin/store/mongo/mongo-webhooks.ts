import type { WebhookPatch, WebhookRecord, WebhookRepository } from '../store-port.js';
import { toWebhookDoc, toWebhookRecord } from './mongo-documents.js';
import type { MongoModels } from './mongo-models.js';

/** What `updateWebhook` may change besides `updatedAt` (other keys of a patch are ignored, as in Postgres). */
type PatchableField = keyof Omit<WebhookPatch, 'updatedAt'>;
/** (A record, so adding a field to WebhookPatch without listing it here fails to compile.) */
const PATCHABLE: Record<PatchableField, true> = {
  name: true, description: true, url: true, events: true, secrets: true, enabled: true,
  disabledReason: true, disabledAt: true, failingSince: true, rateLimitPerSecond: true, ordering: true,
};
const PATCHABLE_FIELDS = Object.keys(PATCHABLE) as PatchableField[];

/** The webhooks collection. */
export class MongoWebhooks implements WebhookRepository {
  constructor(private readonly models: MongoModels) {}

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
}
