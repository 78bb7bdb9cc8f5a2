import { randomBytes } from 'node:crypto';
import type {
  AttemptCompletion,
  ClaimOptions,
  ClaimedDelivery,
  DeliveryRelease,
  RequeueResult,
} from '../store-port.js';
import { toAttemptDoc, toDeliveryRecord } from './mongo-documents.js';
import { insertIgnoringDuplicates } from './mongo-duplicate-keys.js';
import type { MongoModels } from './mongo-models.js';
import { CANDIDATE_FIELDS, mergeSettled, MongoSubjectOrder, skipSettled, type Candidate, type SettledSubjects } from './mongo-subject-order.js';

/**
 * The delivery queue of the Mongo store: claims, releases, completions and requeues, each
 * made of single-document atomic updates (no transactions, so a standalone server will do).
 *
 * While the server is unreachable every call here rejects, none hangs: the driver waits up
 * to `serverSelectionTimeoutMS` (default 30 s) for a server, and mongoose only buffers model
 * calls until the connection first opens (up to `bufferTimeoutMS`, default 10 s), not after a
 * drop. Nothing here retries: the driver reconnects by itself, and the worker claims again
 * on its next poll. Every write is conditional (due, lease owner, not in flight), so a call
 * that fails half-way does no harm: a claim whose result was lost leaves its deliveries
 * leased, and they are due again when the lease ends.
 */

/**
 * How many gather-then-claim rounds one claim may run. A round repeats when concurrent
 * claimers took some of what it chose, or when webhooks that reached their room left it short;
 * the bound keeps one call short however busy the queue is.
 */
const MAX_CLAIM_ROUNDS = 10;
/** Candidates read per window, as a multiple of what the round still wants (see `claim`). */
const CANDIDATE_WINDOW = 4;
/** Most windows one round reads. */
const MAX_WINDOWS = 4;
/** Pending deliveries `nextDueAt` reads at a time, oldest due first, and most windows it reads. */
const NEXT_DUE_WINDOW = 200;
const NEXT_DUE_MAX_WINDOWS = 4;

/** A delivery whose attempt is running: leased, and the lease not yet over. */
const inFlight = (now: Date) => ({ status: 'pending' as const, leaseExpiresAt: { $gt: now } });

export class MongoDeliveryQueue {
  private readonly models: MongoModels;
  private readonly order: MongoSubjectOrder;

  constructor(models: MongoModels) {
    this.models = models;
    this.order = new MongoSubjectOrder(models);
  }

  /**
   * Ids of the disabled webhooks of every tenant (a covered scan of `webhooks_enabled`): a
   * query on deliveries cannot look at their webhooks, so it leaves these out by id.
   */
  async disabledWebhookIds(): Promise<string[]> {
    const docs = await this.models.webhooks.find({ enabled: false }, { _id: 1 }).lean();
    return docs.map((d) => d._id);
  }

  /**
   * MongoDB has no multi-document "UPDATE ... LIMIT n RETURNING", so a claim is: gather due
   * candidates, choose among them, then one `updateMany` over the chosen ids that repeats the
   * due condition and stamps a fresh random `leaseToken`. The server checks each document's
   * filter atomically as it updates it, so of two concurrent claimers only one can win a
   * document: the winner moves `nextAttemptAt` past `now`, and the loser's filter no longer
   * matches. `find({ leaseToken })` then returns exactly what this call won. When concurrent
   * claimers took some of the chosen, further rounds look for more (what SKIP LOCKED does in
   * Postgres). Like Postgres, the lease pushes `nextAttemptAt` to the lease end, so a crashed
   * worker's deliveries become due again by themselves.
   *
   * Which deliveries: those of webhooks that are not disabled and have room (disabled ones and
   * those with a limit of 0 are left out by id, `$nin`); per webhook at most its room, oldest
   * due first; and when more fits than the limit, webhooks take turns (every webhook's first,
   * then every webhook's second, ...), which is also the order of the result. A delivery whose
   * webhook was deleted is not left out: the worker fails it (`webhook_unavailable`) rather
   * than leave it pending for ever.
   *
   * This approximates the PostgreSQL store, which probes each enabled webhook's own due index
   * (a LATERAL subquery per webhook, however many webhooks there are). MongoDB has no bounded
   * way to run a limited subquery per webhook, so a round reads windows of the oldest due
   * candidates of all webhooks (`CANDIDATE_WINDOW` times what it still wants), each window
   * leaving out the webhooks found in the windows before, until a window is not full (every
   * due delivery is in hand), enough webhooks are found to take every turn, or `MAX_WINDOWS`
   * windows were read; it then caps each webhook and takes turns among what it read. So a
   * webhook whose due deliveries all lie beyond those windows (behind the older backlogs of
   * more than `MAX_WINDOWS` other webhooks) waits for a later claim, and a webhook found at
   * the end of a window may take fewer turns than Postgres would give it. That is acceptable:
   * the reads stay bounded whatever the backlog, and the wait ends, since the webhooks whose
   * backlogs fill the windows soon hold their share of the worker in requests in flight, the
   * worker then gives them a limit of 0, and the next claim leaves them out and reaches the rest.
   *
   * Per-subject ordering (mongo-subject-order.ts): each window keeps only what may be taken -
   * of an ordered webhook, each subject's head, looked up when it lies beyond the window - and
   * later windows skip the subjects it settled, so a long backlog held back behind one subject's
   * head neither fills every window nor hides the other subjects' heads.
   */
  async claim({ now, limit, leaseMs, owner, perWebhookLimit, webhookLimits }: ClaimOptions): Promise<ClaimedDelivery[]> {
    if (limit <= 0) return [];
    const defaultRoom = Math.max(0, perWebhookLimit ?? limit);
    const ownRoom = new Map([...(webhookLimits ?? new Map<string, number>())].map(([id, n]) => [id, Math.max(0, n)]));
    const roomOf = (id: string) => ownRoom.get(id) ?? defaultRoom;
    /** Won per webhook so far in this call. */
    const taken = new Map<string, number>();
    /** Webhooks this call takes nothing (more) of. */
    const closed = new Set(await this.disabledWebhookIds());
    for (const [id, room] of ownRoom) if (room === 0) closed.add(id);
    // With no room by default, only webhooks given room of their own may take any.
    const onlyListed = defaultRoom === 0 ? [...ownRoom.keys()] : null;

    const leaseUntil = new Date(now.getTime() + leaseMs);
    const leaseToken = randomBytes(16).toString('base64url');
    const due = { status: 'pending', nextAttemptAt: { $lte: now } } as const;
    /** id -> when it was due before this claim, and the order candidates were found in. */
    const dueBefore = new Map<string, { at: number; order: number }>();
    let won = 0;
    for (let round = 0; round < MAX_CLAIM_ROUNDS && won < limit; round += 1) {
      const wanted = limit - won;
      const { candidates, complete } = await this.gather(due, leaseToken, wanted, (found) => (onlyListed
        ? { $in: onlyListed.filter((id) => !closed.has(id) && !found.has(id)) }
        : { $nin: [...closed, ...found] }));
      const chosen = takeTurns(candidates, (id) => roomOf(id) - (taken.get(id) ?? 0), wanted);
      if (chosen.length === 0) break;
      for (const c of chosen) dueBefore.set(c._id, { at: c.nextAttemptAt?.getTime() ?? 0, order: dueBefore.size });
      const chosenIds = chosen.map((c) => c._id);
      const { modifiedCount } = await this.models.deliveries.updateMany(
        { ...due, _id: { $in: chosenIds } },
        { $set: { leaseOwner: owner, leaseToken, leaseExpiresAt: leaseUntil, nextAttemptAt: leaseUntil, updatedAt: now } },
      );
      won += modifiedCount;
      // Only what was won uses a webhook's room. Which that is needs asking only when
      // concurrent claimers took some of the chosen.
      const wonNow = modifiedCount === chosen.length ? chosen : modifiedCount === 0 ? [] : await this.models.deliveries
        .find({ _id: { $in: chosenIds }, leaseToken }, { _id: 1, webhookId: 1 })
        .lean();
      for (const { webhookId } of wonNow) {
        const n = (taken.get(webhookId) ?? 0) + 1;
        taken.set(webhookId, n);
        if (n >= roomOf(webhookId)) closed.add(webhookId);
      }
      // Won all it chose from every due candidate: what is still due is beyond its
      // webhook's room or this claim's limit.
      if (modifiedCount === chosen.length && complete) break;
    }
    if (won === 0) return [];

    const claimed = await this.models.deliveries.find({ leaseToken }).lean();
    const eventIds = [...new Set(claimed.map((d) => d.eventId))];
    const events = await this.models.events.find({ _id: { $in: eventIds } }, { body: 1, traceParent: 1, traceState: 1 }).lean();
    const bodies = new Map(events.map((e) => [e._id, e.body]));
    const traces = new Map(events.map((e) => [e._id, { traceParent: e.traceParent ?? null, traceState: e.traceState ?? null }]));
    return inTurns(claimed, dueBefore)
      // An event is never pruned while a delivery needs it; a delivery without one (which
      // would have nothing to send) is left leased rather than handed out with no body.
      .filter((d) => bodies.has(d.eventId))
      .map((d) => ({ delivery: toDeliveryRecord(d), body: bodies.get(d.eventId) as string, ...traces.get(d.eventId) }));
  }

  /**
   * Windows of the oldest due candidates, each leaving out the webhooks already found and the
   * subjects already settled (see `claim`), each sifted for per-subject ordering. `complete`
   * when the last window was not full: every due candidate is in hand. Stops early once it has
   * found `wanted` webhooks: each takes a first turn before any webhook not yet found, whose
   * oldest due delivery lies beyond every window read.
   */
  private async gather(
    due: object, leaseToken: string, wanted: number, webhookFilter: (found: ReadonlySet<string>) => object,
  ): Promise<{ candidates: Candidate[]; complete: boolean }> {
    const window = wanted * CANDIDATE_WINDOW;
    const candidates: Candidate[] = [];
    const found = new Set<string>();
    const settled: SettledSubjects = new Map();
    const inHand = new Set<string>();
    // (Not our own token: with a lease of 0 ms what we just won would still look due.)
    const notOurs = { leaseToken: { $ne: leaseToken } };
    for (let read = 0; read < MAX_WINDOWS; read += 1) {
      const batch: Candidate[] = await this.models.deliveries
        .find({ ...due, webhookId: webhookFilter(found), ...notOurs, ...skipSettled(settled, { unsubjected: true }) }, CANDIDATE_FIELDS)
        .sort({ nextAttemptAt: 1 })
        .limit(window)
        .lean();
      const sifted = await this.order.sift(batch, { ...due, ...notOurs });
      // (A head looked up beyond one window is skipped by the next, but never twice in hand.)
      candidates.push(...sifted.claimable.filter((c) => !inHand.has(c._id)));
      for (const c of sifted.claimable) inHand.add(c._id);
      if (batch.length < window) return { candidates, complete: true };
      // A webhook with deliveries held back is read on (its settled subjects skipped): what it may
      // take can lie anywhere behind them. Enough in hand ends the reading all the same.
      for (const c of sifted.claimable) if (!sifted.settled.has(c.webhookId)) found.add(c.webhookId);
      mergeSettled(settled, sifted.settled);
      if (found.size >= wanted || candidates.length >= window) break;
    }
    return { candidates, complete: false };
  }

  /** One conditional update per delivery, in one bulk write: only the lease holder's, only while pending. */
  async release(releases: readonly DeliveryRelease[]): Promise<void> {
    if (releases.length === 0) return;
    const updatedAt = new Date();
    await this.models.deliveries.bulkWrite(
      releases.map(({ id, owner, nextAttemptAt }) => ({
        updateOne: {
          filter: { _id: id, leaseOwner: owner, status: 'pending' },
          update: { $set: { nextAttemptAt, leaseOwner: null, leaseExpiresAt: null, updatedAt }, $unset: { leaseToken: 1 } },
        },
      })),
      { ordered: false, throwOnValidationError: true },
    );
  }

  /** A claim sets `nextAttemptAt` to its lease end, so `deliveries_due` finds its documents directly. */
  async releaseClaim(owner: string, leaseUntil: Date, now: Date): Promise<number> {
    const { modifiedCount } = await this.models.deliveries.updateMany(
      { status: 'pending', nextAttemptAt: leaseUntil, leaseOwner: owner },
      { $set: { nextAttemptAt: now, leaseOwner: null, leaseExpiresAt: null, updatedAt: now }, $unset: { leaseToken: 1 } },
    );
    return modifiedCount;
  }

  /**
   * Deliveries held back by per-subject ordering do not count (they are due only once their
   * head has finished, and whoever finishes it claims again): counted, a head waiting hours for
   * its retry with due deliveries behind it would wake the worker at every poll for a claim
   * that finds nothing. Reads windows of the oldest pending deliveries, sifted as claims sift
   * them (their subjects' heads included, wherever they lie); a window with anything not held
   * back gives the answer (what lies beyond is no earlier), else the next one skips the subjects
   * seen. Past `NEXT_DUE_MAX_WINDOWS` windows held back, the last one's time is the answer: at
   * worst a claim per poll, each bounded.
   */
  async nextDueAt(): Promise<Date | null> {
    const disabled = await this.disabledWebhookIds();
    const times: number[] = [];
    const settled: SettledSubjects = new Map();
    for (let read = 0; read < NEXT_DUE_MAX_WINDOWS; read += 1) {
      const pending: Candidate[] = await this.models.deliveries
        .find({ status: 'pending', nextAttemptAt: { $type: 'date' }, webhookId: { $nin: disabled }, ...skipSettled(settled, { unsubjected: false }) },
          CANDIDATE_FIELDS)
        .sort({ nextAttemptAt: 1 })
        .limit(NEXT_DUE_WINDOW)
        .lean();
      const sifted = await this.order.sift(pending, {});
      times.push(...sifted.claimable.map((c) => c.nextAttemptAt!.getTime()));
      const inWindow = new Set(pending.map((c) => c._id));
      if (pending.length < NEXT_DUE_WINDOW || sifted.claimable.some((c) => inWindow.has(c._id))) break;
      mergeSettled(settled, sifted.settled);
      if (read + 1 === NEXT_DUE_MAX_WINDOWS) times.push(pending[pending.length - 1].nextAttemptAt!.getTime());
    }
    return times.length > 0 ? new Date(Math.min(...times)) : null;
  }

  /**
   * Attempts are inserted whatever happened to the lease (the request was sent; a retried
   * call's duplicates are ignored). Each delivery moves on only if `leaseOwner` is still the
   * completing worker: one atomic single-document update per delivery, in one bulk write.
   */
  async complete(completions: readonly AttemptCompletion[]): Promise<void> {
    if (completions.length === 0) return;
    await insertIgnoringDuplicates(this.models.attempts, completions.map((c) => toAttemptDoc(c.attempt)));
    const updatedAt = new Date();
    await this.models.deliveries.bulkWrite(
      completions.map(({ attempt, owner, status, nextAttemptAt }) => ({
        updateOne: {
          filter: { _id: attempt.deliveryId, leaseOwner: owner },
          update: {
            $set: {
              status, attempts: attempt.attemptNumber, nextAttemptAt, leaseOwner: null, leaseExpiresAt: null,
              lastAttemptAt: attempt.startedAt, lastStatusCode: attempt.statusCode, lastOutcome: attempt.outcome, updatedAt,
            },
            $unset: { leaseToken: 1 },
          },
        },
      })),
      { ordered: false, throwOnValidationError: true },
    );
  }

  /**
   * The in-flight check is part of the update's filter, so no claim can slip between check and
   * write; only when nothing matched does a second read tell "in flight" from "not found".
   */
  async requeue(tenantId: string, id: string, now: Date): Promise<RequeueResult> {
    const { matchedCount } = await this.models.deliveries.updateOne(
      { _id: id, tenantId, $nor: [inFlight(now)] }, requeueUpdate(now));
    if (matchedCount > 0) return 'requeued';
    return (await this.models.deliveries.exists({ _id: id, tenantId })) ? 'in_flight' : 'not_found';
  }

  async requeueFailedSince(tenantId: string, webhookId: string, since: Date, now: Date): Promise<number> {
    const { modifiedCount } = await this.models.deliveries.updateMany(
      { tenantId, webhookId, status: 'failed', createdAt: { $gte: since } }, requeueUpdate(now));
    return modifiedCount;
  }

  /**
   * The lease is cleared as well: a worker whose lease ran out may still report late, and its
   * completion (matched on leaseOwner) must not bring a discarded delivery back.
   */
  async discardPending(tenantId: string, webhookId: string, now: Date): Promise<number> {
    const { modifiedCount } = await this.models.deliveries.updateMany(
      { tenantId, webhookId, status: 'pending', $nor: [inFlight(now)] },
      { $set: { status: 'failed', lastOutcome: 'discarded', nextAttemptAt: null, leaseOwner: null, leaseToken: null, leaseExpiresAt: null, updatedAt: now } },
    );
    return modifiedCount;
  }
}

function requeueUpdate(now: Date) {
  return {
    $set: { status: 'pending' as const, nextAttemptAt: now, leaseOwner: null, leaseExpiresAt: null, updatedAt: now },
    $unset: { leaseToken: 1 as const },
  };
}

/**
 * Up to `wanted` of the candidates (oldest due first), each webhook at most its room, in
 * turns: every webhook's first before any webhook's second, earlier due first within a turn.
 */
function takeTurns<T extends { webhookId: string }>(
  candidates: readonly T[], roomOf: (webhookId: string) => number, wanted: number,
): T[] {
  const seen = new Map<string, number>();
  const eligible: { candidate: T; turn: number; order: number }[] = [];
  candidates.forEach((candidate, order) => {
    const turn = seen.get(candidate.webhookId) ?? 0;
    seen.set(candidate.webhookId, turn + 1);
    if (turn < roomOf(candidate.webhookId)) eligible.push({ candidate, turn, order });
  });
  return eligible
    .sort((a, b) => a.turn - b.turn || a.order - b.order)
    .slice(0, Math.max(0, wanted))
    .map((e) => e.candidate);
}

/** The claimed deliveries in turns, as the Postgres store returns them: by turn within their webhook, then by due time. */
function inTurns<T extends { _id: string; webhookId: string }>(
  docs: readonly T[], dueBefore: ReadonlyMap<string, { at: number; order: number }>,
): T[] {
  const last = { at: Number.MAX_SAFE_INTEGER, order: Number.MAX_SAFE_INTEGER };
  const rank = (d: T) => dueBefore.get(d._id) ?? last;
  const byDue = (a: T, b: T) => rank(a).at - rank(b).at || rank(a).order - rank(b).order;
  const turns = new Map<string, number>();
  const seen = new Map<string, number>();
  for (const d of [...docs].sort(byDue)) {
    const turn = seen.get(d.webhookId) ?? 0;
    seen.set(d.webhookId, turn + 1);
    turns.set(d._id, turn);
  }
  return [...docs].sort((a, b) => (turns.get(a._id) ?? 0) - (turns.get(b._id) ?? 0) || byDue(a, b));
}
