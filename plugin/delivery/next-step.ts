import type { DeliveryStatus } from '../store/store-port.js';
import type { SendResult } from './http-sender.js';
import { nextAttemptDelay, type RetryPolicyOptions } from './retry-policy.js';

export interface NextStep {
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  /** Set when the webhook itself must be disabled now (410 Gone). */
  disableWebhook?: string;
}

/**
 * What happens to a delivery after an attempt: a 2xx ends it; 410 Gone ends it and disables
 * the webhook (the receiver says it will never want these); anything else is retried on the
 * schedule (honouring Retry-After) until the schedule runs out.
 */
export function decideNextStep(result: SendResult, attemptNumber: number, policy: RetryPolicyOptions, now: Date, random: () => number): NextStep {
  if (result.outcome === 'success') return { status: 'succeeded', nextAttemptAt: null };
  if (result.statusCode === 410) {
    return { status: 'failed', nextAttemptAt: null, disableWebhook: 'The endpoint answered 410 Gone' };
  }
  const delay = nextAttemptDelay(attemptNumber, policy, random, result.retryAfterMs);
  if (delay === null) return { status: 'failed', nextAttemptAt: null };
  return { status: 'pending', nextAttemptAt: new Date(now.getTime() + delay) };
}
