import type { Delivery } from './api-types.js';

/** How a webhook has been doing, from its most recent deliveries. */
export interface WebhookStats {
  /** The newest delivery, whatever its state. */
  last: Delivery | null;
  /** Succeeded / (succeeded + failed) of the sample; null when nothing has finished yet. */
  successRate: number | null;
  /** Finished deliveries the rate was computed from. */
  finished: number;
  pending: number;
}

/** The sample size: the API's page of the newest deliveries. */
export const STATS_SAMPLE = 50;

export function computeStats(deliveries: readonly Delivery[]): WebhookStats {
  const succeeded = deliveries.filter((d) => d.status === 'succeeded').length;
  const failed = deliveries.filter((d) => d.status === 'failed').length;
  const finished = succeeded + failed;
  return {
    last: deliveries[0] ?? null,
    successRate: finished > 0 ? succeeded / finished : null,
    finished,
    pending: deliveries.length - finished,
  };
}
