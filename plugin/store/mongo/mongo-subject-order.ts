import type { MongoModels } from './mongo-models.js';

/** What a claim reads of a due delivery before choosing. */
export interface Candidate {
  _id: string;
  webhookId: string;
  nextAttemptAt: Date | null;
  subject?: string | null;
  sequence?: number | null;
}

/** The fields of a delivery that a claim reads to choose (see {@link Candidate}). */
export const CANDIDATE_FIELDS = { _id: 1, webhookId: 1, nextAttemptAt: 1, subject: 1, sequence: 1 } as const;

/** The (webhook, subject) pairs a window of candidates settled, by webhook: later windows skip them. */
export type SettledSubjects = Map<string, Set<string>>;

/**
 * Per-subject ordering in the Mongo store. For a webhook with `ordering: 'per_subject'`, only
 * the head of each subject may be claimed: its pending delivery with the lowest sequence (in
 * flight, waiting for a retry, or due). The next one becomes the head once the head has
 * succeeded or finally failed. Deliveries without a subject or sequence are never held back.
 *
 * MongoDB has no NOT EXISTS, so a claim reads its candidates first and then asks, in one
 * aggregation over `deliveries_subject_order`, for the lowest pending sequence of each of their
 * (webhook, subject) pairs. Why no two claimers can each take a different delivery of one
 * subject: a claimer takes sequence n only if it read every lower one as no longer pending, and
 * a delivery leaves 'pending' only with its final result, after its attempt; so whoever holds
 * the head (in flight, pending) holds every later one back from everyone, and of two claimers
 * that both chose the head the conditional `updateMany` lets only one win it.
 */
export class MongoSubjectOrder {
  constructor(private readonly models: MongoModels) {}

  /**
   * Splits a window of candidates (any order) into those a claim may take - the ones of
   * unordered webhooks or without a subject, and the heads - and the subjects the window
   * settled. A subject's head need not be in the window: retried, it is due later than the
   * deliveries behind it. It is looked up and added when it matches `headFilter` (for claims:
   * due, and not this claim's own). Settled subjects have their head in hand or not due, so
   * the rest of the window's (webhook, subject) pairs can be skipped when reading further.
   * Candidates come back oldest due first.
   */
  async sift(candidates: readonly Candidate[], headFilter: object): Promise<{ claimable: Candidate[]; settled: SettledSubjects }> {
    const settled: SettledSubjects = new Map();
    const withSubject = candidates.filter((c) => c.subject != null && c.sequence != null);
    if (withSubject.length === 0) return { claimable: [...candidates], settled };
    const ordered = new Set((await this.models.webhooks
      .find({ _id: { $in: [...new Set(withSubject.map((c) => c.webhookId))] }, ordering: 'per_subject' }, { _id: 1 })
      .lean()).map((w) => w._id));
    const isOrdered = (c: Candidate) => ordered.has(c.webhookId) && c.subject != null && c.sequence != null;
    const orderedCandidates = candidates.filter(isOrdered);
    if (orderedCandidates.length === 0) return { claimable: [...candidates], settled };

    const lowest = await this.lowestPendingSequences(orderedCandidates);
    const claimable = candidates.filter((c) => !isOrdered(c));
    const headsInHand = new Set<string>();
    for (const c of orderedCandidates) {
      const key = pairKey(c.webhookId, c.subject!);
      addSettled(settled, c.webhookId, c.subject!);
      // No lowest sequence: the candidate itself is no longer pending (a concurrent claim won and
      // finished it). One head per pair, even if two deliveries were to share a sequence.
      if (lowest.get(key) === c.sequence && !headsInHand.has(key)) {
        headsInHand.add(key);
        claimable.push(c);
      }
    }
    const missing = [...lowest].filter(([key]) => !headsInHand.has(key));
    if (missing.length > 0) {
      const heads: Candidate[] = await this.models.deliveries.find({
        $and: [
          { $or: missing.map(([key, sequence]) => ({ ...splitPairKey(key), status: 'pending', sequence })) },
          { nextAttemptAt: { $type: 'date' }, ...headFilter },
        ],
      }, CANDIDATE_FIELDS).lean();
      for (const head of heads) {
        const key = pairKey(head.webhookId, head.subject!);
        if (headsInHand.has(key)) continue;
        headsInHand.add(key);
        claimable.push(head);
      }
    }
    claimable.sort((a, b) => (a.nextAttemptAt?.getTime() ?? 0) - (b.nextAttemptAt?.getTime() ?? 0));
    return { claimable, settled };
  }

  /** The lowest pending sequence of each (webhook, subject) pair of `candidates`, keyed by {@link pairKey}. */
  private async lowestPendingSequences(candidates: readonly Candidate[]): Promise<Map<string, number>> {
    const wanted = new Set(candidates.map((c) => pairKey(c.webhookId, c.subject!)));
    // $in on both fields reads a few pairs more than asked (the cross product); they are dropped below.
    const rows: Array<{ _id: { webhookId: string; subject: string }; sequence: number }> = await this.models.deliveries.aggregate([
      {
        $match: {
          webhookId: { $in: [...new Set(candidates.map((c) => c.webhookId))] },
          status: 'pending',
          subject: { $in: [...new Set(candidates.map((c) => c.subject!))] },
          sequence: { $ne: null },
        },
      },
      { $group: { _id: { webhookId: '$webhookId', subject: '$subject' }, sequence: { $min: '$sequence' } } },
    ]);
    const lowest = new Map<string, number>();
    for (const row of rows) {
      const key = pairKey(row._id.webhookId, row._id.subject);
      if (wanted.has(key)) lowest.set(key, row.sequence);
    }
    return lowest;
  }
}

/**
 * A query clause for the next window that skips the settled pairs and, with `unsubjected`, the
 * settled webhooks' deliveries without a subject or sequence (a claim has those of the windows
 * read in hand already, the oldest first); null when nothing is settled.
 */
export function skipSettled(settled: SettledSubjects, { unsubjected }: { unsubjected: boolean }): object | null {
  if (settled.size === 0) return null;
  return {
    $nor: [...settled].map(([webhookId, subjects]) => (unsubjected
      ? { webhookId, $or: [{ subject: { $in: [...subjects] } }, { subject: null }, { sequence: null }] }
      : { webhookId, subject: { $in: [...subjects] } })),
  };
}

/** Adds the pairs of `more` to `settled`. */
export function mergeSettled(settled: SettledSubjects, more: SettledSubjects): void {
  for (const [webhookId, subjects] of more) settled.set(webhookId, new Set([...(settled.get(webhookId) ?? []), ...subjects]));
}

function addSettled(settled: SettledSubjects, webhookId: string, subject: string): void {
  const subjects = settled.get(webhookId) ?? new Set<string>();
  subjects.add(subject);
  settled.set(webhookId, subjects);
}

/** Webhook ids never contain NUL, so this names one (webhook, subject) pair. */
function pairKey(webhookId: string, subject: string): string {
  return `${webhookId}\u0000${subject}`;
}

function splitPairKey(key: string): { webhookId: string; subject: string } {
  const at = key.indexOf('\u0000');
  return { webhookId: key.slice(0, at), subject: key.slice(at + 1) };
}
