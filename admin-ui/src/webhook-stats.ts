import type { DeliveryStatus, WebhookHealth } from './api-types.js';

/** How a webhook has been doing, as its card shows it: the API's `health`, ready to render. */
export interface WebhookStats {
  /** Its last attempted delivery, however long ago; null when none was ever attempted. */
  last: { status: DeliveryStatus; statusCode: number | null; outcome: string | null; at: string } | null;
  /** Succeeded / (succeeded + failed) in the window; null when nothing has finished in it. */
  successRate: number | null;
  succeeded: number;
  /** Finished (succeeded or failed) deliveries the rate was computed from. */
  finished: number;
  pending: number;
  /** Every delivery still to be sent, however old (a disabled webhook's wait until it is enabled). */
  waiting: number;
  /** How many hours back the counts go (the API's default is 24). */
  windowHours: number;
}

const HOUR = 3_600_000;
const DEFAULT_WINDOW_HOURS = 24;

/** A webhook just created: nothing delivered yet (create answers carry no health). */
export const NO_DELIVERIES_YET: WebhookStats = {
  last: null, successRate: null, succeeded: 0, finished: 0, pending: 0, waiting: 0, windowHours: DEFAULT_WINDOW_HOURS,
};

export function statsFromHealth(health: WebhookHealth, now = Date.now()): WebhookStats {
  const { since, succeeded, failed, pending, success_rate: rate } = health.recent;
  const last = health.last_delivery;
  const hours = Math.round((now - Date.parse(since)) / HOUR);
  return {
    last: last ? { status: last.status, statusCode: last.status_code, outcome: last.outcome, at: last.at } : null,
    successRate: rate,
    succeeded,
    finished: succeeded + failed,
    pending,
    // Older servers sent no `waiting`: nothing is shown then rather than a wrong count.
    waiting: typeof health.waiting === 'number' ? health.waiting : 0,
    windowHours: Number.isFinite(hours) && hours >= 1 ? hours : DEFAULT_WINDOW_HOURS,
  };
}
