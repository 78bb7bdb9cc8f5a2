/**
 * Per-subject ordering in PostgreSQL, as SQL fragments for the delivery queue
 * (postgres-delivery-queue.ts). For a webhook with `ordering = 'per_subject'`, only the head
 * of each subject may be claimed: its pending delivery with the lowest sequence (in flight,
 * waiting for a retry, or due). The next one becomes the head once the head has succeeded or
 * finally failed (its status is no longer 'pending'). A delivery without a subject or sequence
 * is never held back, nor holds anything back.
 */

/**
 * Condition on delivery `d` (any relation with webhook_id, subject, sequence): true when another
 * pending delivery of its webhook about its subject has a lower sequence, so `d` must wait. With
 * a null subject or sequence it is false (`=` and `<` are never true with a null). One probe of
 * `deliveries_subject_order` per row.
 *
 * Read in the statement's snapshot (READ COMMITTED): a head that finished after the snapshot
 * still holds its successor back for this statement (the next claim takes it), and a head only
 * ever leaves 'pending' with its final result, so no snapshot shows a head as finished while it
 * is in flight. So of one (webhook, subject) at most one delivery is ever claimed at a time,
 * whichever workers claim concurrently, and a claim takes at most one of a subject (only the
 * lowest pending sequence passes). A crashed worker's head stays pending, leased, and holds the
 * rest back until its lease ends and it is claimed again. (An operator's requeue of an older,
 * already failed delivery makes it pending again: it is then sent next, after any delivery of
 * its subject already in flight.)
 */
export function heldBackByEarlier(deliveries: string): string {
  return `EXISTS (
    SELECT 1 FROM ${deliveries} earlier
    WHERE earlier.webhook_id = d.webhook_id AND earlier.subject = d.subject AND earlier.status = 'pending'
      AND earlier.sequence < d.sequence)`;
}

/**
 * How many of an ordered webhook's oldest pending deliveries `nextDueAt` looks through for one
 * that is not held back, before it turns to the subjects' heads instead.
 */
export const NEXT_DUE_PROBE = 100;

/**
 * SQL for the earliest next attempt among the pending deliveries of webhook `w` (a row with id
 * and ordering) that are not held back: what the worker may claim next. Held-back deliveries
 * do not count: they become claimable only when their head finishes, and the worker that
 * finishes it claims again. Counted, a head waiting hours for its retry with due deliveries
 * behind it would wake every worker at every poll for a claim that finds nothing.
 *
 * Read in two steps so that neither shape of backlog costs a read of all of it: the webhook's
 * `NEXT_DUE_PROBE` oldest pending deliveries first (the answer whenever one of them is not held
 * back: the later ones are no earlier); when all of those wait behind heads (a long backlog
 * about few subjects), the heads themselves, found by skipping from one subject to the next in
 * `deliveries_subject_order` (one probe per subject). A delivery without a subject that lies
 * behind such a backlog is then not seen: it is claimed with the next claim (the next head's
 * retry at the latest), as claims read every due delivery.
 */
export function nextDueOfWebhook(deliveries: string): string {
  return `CASE WHEN w.ordering <> 'per_subject' THEN (
      SELECT d.next_attempt_at FROM ${deliveries} d WHERE d.webhook_id = w.id AND d.status = 'pending'
      ORDER BY d.webhook_id, d.next_attempt_at LIMIT 1)
    ELSE coalesce(
      (SELECT min(d.next_attempt_at) FROM (
         SELECT o.webhook_id, o.subject, o.sequence, o.next_attempt_at FROM ${deliveries} o
         WHERE o.webhook_id = w.id AND o.status = 'pending' ORDER BY o.webhook_id, o.next_attempt_at LIMIT ${NEXT_DUE_PROBE}) d
       WHERE NOT ${heldBackByEarlier(deliveries)}),
      (WITH RECURSIVE heads AS (
         (SELECT h.subject, h.next_attempt_at FROM ${deliveries} h
          WHERE h.webhook_id = w.id AND h.status = 'pending' AND h.subject IS NOT NULL ORDER BY h.subject, h.sequence LIMIT 1)
         UNION ALL
         SELECT later.subject, later.next_attempt_at FROM heads CROSS JOIN LATERAL (
           SELECT h.subject, h.next_attempt_at FROM ${deliveries} h
           WHERE h.webhook_id = w.id AND h.status = 'pending' AND h.subject > heads.subject ORDER BY h.subject, h.sequence LIMIT 1) later)
       SELECT min(next_attempt_at) FROM heads))
    END`;
}
