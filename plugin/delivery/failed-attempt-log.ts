import type { Logger } from '../options.js';
import { repeatLimitedLog } from '../repeat-limited-log.js';
import type { AttemptOutcome } from '../store/store-port.js';

/** One failed attempt as the log shows it: identifiers and the outcome class, nothing a receiver or sender wrote. */
export interface FailedAttempt {
  webhookId: string;
  tenantId: string;
  deliveryId: string;
  outcome: AttemptOutcome;
  statusCode: number | null;
  /** Which attempt of the delivery this was (1 = the first). */
  attempt: number;
}

/** At most one line per webhook this often. */
export const FAILED_ATTEMPT_LOG_WINDOW_MS = 30_000;

/**
 * Logs failed delivery attempts at WARN: one line per webhook per window, the next one saying
 * how many failures were folded in since (`repeated`), so an endpoint that is down for a day
 * costs a few lines a minute, not one per retry, and one broken endpoint never hides another.
 * Only identifiers and the outcome class: never the URL (its path or query may be the
 * credential), a header, the body or the response (an echo server answers with the secrets it got).
 */
export function failedAttemptLog(logger: Logger, windowMs = FAILED_ATTEMPT_LOG_WINDOW_MS, now: () => number = Date.now): (failed: FailedAttempt) => void {
  const log = repeatLimitedLog(logger, windowMs, now);
  return ({ webhookId, tenantId, deliveryId, outcome, statusCode, attempt }) => {
    log('warn', 'Delivery attempt failed', { webhookId, tenantId, deliveryId, outcome, statusCode, attempt }, webhookId);
  };
}
