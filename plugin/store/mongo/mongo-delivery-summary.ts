import type mongoose from 'mongoose';
import type { AttemptOutcome, DeliveryStatus, DeliverySummary } from '../store-port.js';
import type { DeliveryDoc } from './mongo-documents.js';

/**
 * How each webhook has been doing (the admin's health view), for the Mongo store: the port's
 * `summarizeDeliveries`, in one call whatever the number of webhooks.
 *
 * Three aggregations, run side by side: the counts ($match on the `deliveries_log` prefix and
 * the `since` range, then $group per webhook with a conditional $sum per status), the
 * pending deliveries of any age (`waiting`), and each webhook's last attempted delivery
 * ($sort in `deliveries_last_attempt` order, then $group keeping the $first document's fields).
 */
export async function summarizeDeliveries(
  deliveries: mongoose.Model<DeliveryDoc>, tenantId: string, webhookIds: readonly string[], since: Date,
): Promise<Map<string, DeliverySummary>> {
  const ids = [...new Set(webhookIds)];
  const summaries = new Map<string, DeliverySummary>(
    ids.map((id) => [id, { succeeded: 0, failed: 0, pending: 0, waiting: 0, last: null }]));
  if (ids.length === 0) return summaries;
  const countOf = (status: DeliveryStatus) => ({ $sum: { $cond: [{ $eq: ['$status', status] }, 1, 0] } });
  const [counts, waiting, lasts] = await Promise.all([
    deliveries.aggregate<{ _id: string; succeeded: number; failed: number; pending: number }>([
      { $match: { tenantId, webhookId: { $in: ids }, createdAt: { $gte: since } } },
      { $group: { _id: '$webhookId', succeeded: countOf('succeeded'), failed: countOf('failed'), pending: countOf('pending') } },
    ]),
    // Every pending delivery however old (`since` does not apply), by `deliveries_webhook_due`.
    deliveries.aggregate<{ _id: string; n: number }>([
      { $match: { webhookId: { $in: ids }, status: 'pending', tenantId } },
      { $group: { _id: '$webhookId', n: { $sum: 1 } } },
    ]),
    deliveries.aggregate<{
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
  for (const w of waiting) {
    const summary = summaries.get(w._id);
    if (summary) summary.waiting = w.n;
  }
  for (const l of lasts) {
    const summary = summaries.get(l._id);
    if (summary) summary.last = { status: l.status, statusCode: l.statusCode ?? null, outcome: l.outcome ?? null, at: l.at };
  }
  return summaries;
}
