import type mongoose from 'mongoose';
import type { BacklogSummary } from '../store-port.js';
import type { DeliveryDoc, WebhookDoc } from './mongo-documents.js';

/**
 * WebhookStore.summarizeBacklog for MongoDB (see the port): the webhooks are counted by state in
 * one $group, then the pending deliveries of the enabled ones are grouped per webhook (served
 * by `deliveries_webhook_due`, which `webhookId` and `status` lead).
 */
export async function summarizeBacklog(
  webhooks: mongoose.Model<WebhookDoc>, deliveries: mongoose.Model<DeliveryDoc>,
): Promise<BacklogSummary> {
  const states = await webhooks.aggregate<{ _id: 'enabled' | 'failing' | 'disabled'; n: number; ids: string[] }>([
    {
      $group: {
        // failingSince is a date or null: $ifNull makes null (or a missing field) false, and a date is true.
        _id: { $cond: [{ $not: ['$enabled'] }, 'disabled', { $cond: [{ $ifNull: ['$failingSince', false] }, 'failing', 'enabled'] }] },
        n: { $sum: 1 },
        ids: { $push: '$_id' },
      },
    },
  ]);
  const summary: BacklogSummary = { pending: [], webhooks: { enabled: 0, failing: 0, disabled: 0 } };
  const enabledIds: string[] = [];
  for (const s of states) {
    summary.webhooks[s._id] = s.n;
    if (s._id !== 'disabled') enabledIds.push(...s.ids);
  }
  if (enabledIds.length === 0) return summary;
  const pending = await deliveries.aggregate<{ _id: string; n: number; oldest: Date }>([
    { $match: { webhookId: { $in: enabledIds }, status: 'pending' } },
    { $group: { _id: '$webhookId', n: { $sum: 1 }, oldest: { $min: '$createdAt' } } },
  ]);
  summary.pending = pending.map((p) => ({ webhookId: p._id, count: p.n, oldestCreatedAt: p.oldest }));
  return summary;
}
