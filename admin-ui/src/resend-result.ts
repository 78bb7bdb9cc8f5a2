/**
 * What the tab says aloud once a resend's attempt is recorded. Only a delivered attempt is a
 * success: a delivery still `pending` after the attempt failed (a retry is scheduled), or
 * `failed`, is announced as the failure it is, with the reason the log shows.
 */
import type { Delivery } from './api-types.js';
import { formatRelative, outcomeLabel } from './format.js';
import type { StatusDetail } from './status-events.js';

export function resendResult(delivery: Pick<Delivery, 'status' | 'last_outcome' | 'last_status_code' | 'next_attempt_at'>, now = Date.now()): StatusDetail {
  const code = delivery.last_status_code ? ` (HTTP ${delivery.last_status_code})` : '';
  if (delivery.status === 'succeeded') return { message: `Resent delivery succeeded${code}.`, tone: 'success' };
  const reason = delivery.last_outcome && delivery.last_outcome !== 'success' ? `: ${outcomeLabel(delivery.last_outcome)}${code}` : code;
  if (delivery.status === 'failed') return { message: `Resend failed${reason}. No retries are left.`, tone: 'error' };
  const retry = delivery.next_attempt_at ? ` It will be retried ${formatRelative(delivery.next_attempt_at, now)}.` : '';
  return { message: `Resend failed${reason}.${retry}`, tone: 'error' };
}
