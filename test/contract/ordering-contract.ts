import assert from 'node:assert/strict';
import type { ClaimedDelivery, DeliveryRecord, DeliveryStatus, WebhookRecord, WebhookStore } from '../../plugin/store/store-port.js';
import { attemptRecord, deliveryRecord, eventRecord, webhookRecord } from '../support/records.js';

/**
 * Per-subject ordering in claims, run against every adapter like the store contract: for a
 * webhook with `ordering: 'per_subject'`, only the head of each subject (its pending delivery
 * with the lowest sequence) may be claimed, one at a time; the rest wait until it has succeeded
 * or finally failed. Without a subject, or without ordering, claims are as they always were.
 */
export function orderingContract(createStore: () => Promise<WebhookStore>): void {
  let store: WebhookStore;
  beforeEach(async () => {
    store = await createStore();
  });
  afterEach(async () => {
    await store.close();
  });

  const SECOND = 1_000;
  const HOUR = 3_600_000;
  const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);
  const NOW = at(10 * SECOND);

  async function orderedWebhook(ordering: WebhookRecord['ordering'] = 'per_subject'): Promise<WebhookRecord> {
    const webhook = webhookRecord({ ordering });
    await store.insertWebhook(webhook);
    return webhook;
  }

  /** Records one event per subject given, in that order, each delivered to every webhook given; due at `dueAt`. */
  async function record(webhooks: WebhookRecord[], subjects: Array<string | null>, dueAt = at(0)): Promise<void> {
    for (const subject of subjects) {
      const event = eventRecord({ subject, createdAt: dueAt });
      await store.recordEvent(event, webhooks.map((w) => deliveryRecord(event, w)));
    }
  }

  const claim = (owner: string, { now = NOW, limit = 100, leaseMs = 60 * SECOND } = {}) =>
    store.claimDueDeliveries({ now, limit, leaseMs, owner });

  /** `subject#sequence` of each claimed delivery, sorted (claims do not promise an order across subjects). */
  const names = (claimed: readonly ClaimedDelivery[]) =>
    claimed.map(({ delivery: d }) => `${d.subject ?? '-'}#${d.sequence ?? '-'}`).sort();

  async function finish(claimed: readonly ClaimedDelivery[], status: DeliveryStatus, nextAttemptAt: Date | null = null): Promise<void> {
    await store.completeAttempts(claimed.map(({ delivery }) => ({
      attempt: attemptRecord(delivery, { outcome: status === 'succeeded' ? 'success' : 'http_error', statusCode: status === 'succeeded' ? 200 : 500 }),
      owner: delivery.leaseOwner!, status, nextAttemptAt,
    })));
  }

  it('claims only the head of each subject, one per subject, and every subject at once', async () => {
    const webhook = await orderedWebhook();
    await record([webhook], ['user:1', 'user:1', 'user:2', 'user:1', 'user:3', 'user:2']);
    assert.deepEqual(names(await claim('w1')), ['user:1#1', 'user:2#1', 'user:3#1']);
    // The heads are in flight: whoever claims next gets nothing of these subjects.
    assert.deepEqual(names(await claim('w2')), []);
  });

  it('lets the next delivery about a subject go once the head has succeeded, and not before', async () => {
    const webhook = await orderedWebhook();
    await record([webhook], ['user:1', 'user:1', 'user:1']);
    const first = await claim('w1');
    assert.deepEqual(names(first), ['user:1#1']);
    await finish(first, 'succeeded');
    const second = await claim('w2');
    assert.deepEqual(names(second), ['user:1#2']);
    await finish(second, 'succeeded');
    assert.deepEqual(names(await claim('w3')), ['user:1#3']);
  });

  it('lets the next one go once the head has finally failed, and holds it while the head waits for a retry', async () => {
    const webhook = await orderedWebhook();
    await record([webhook], ['user:1', 'user:1']);
    const head = await claim('w1');
    // A failed attempt with a retry to come: the head is still pending, so the next one waits,
    // although it is due and the head is not.
    await finish(head, 'pending', at(HOUR));
    assert.deepEqual(names(await claim('w2')), []);
    assert.deepEqual(await store.nextDueAt(), at(HOUR), 'what is held back is not due: the head\'s retry is the next work');
    const retried = await claim('w3', { now: at(HOUR) });
    assert.deepEqual(names(retried), ['user:1#1'], 'the retry of the head, not the one behind it');
    await finish(retried, 'failed');
    assert.deepEqual(await store.nextDueAt(), at(0));
    assert.deepEqual(names(await claim('w4', { now: at(HOUR) })), ['user:1#2']);
  });

  it('keeps a crashed worker\'s head until its lease ends, holding the rest back, then hands the head out again', async () => {
    const webhook = await orderedWebhook();
    await record([webhook], ['user:1', 'user:1']);
    const crashed = await claim('dead-worker', { leaseMs: 5 * SECOND });
    assert.deepEqual(names(crashed), ['user:1#1']);
    assert.deepEqual(names(await claim('w2', { now: at(12 * SECOND) })), [], 'the lease still runs');
    const again = await claim('w2', { now: at(16 * SECOND) });
    assert.deepEqual(names(again), ['user:1#1'], 'the lease ended: the same head again, not the next one');
    // The dead worker's late report is ignored; the head is still the new owner's.
    await finish(crashed, 'succeeded');
    assert.deepEqual(names(await claim('w3', { now: at(16 * SECOND) })), []);
    await finish(again, 'succeeded');
    assert.deepEqual(names(await claim('w3', { now: at(16 * SECOND) })), ['user:1#2']);
  });

  it('never holds back deliveries without a subject, nor lets them hold anything back', async () => {
    const webhook = await orderedWebhook();
    await record([webhook], [null, 'user:1', null, 'user:1', null]);
    assert.deepEqual(names(await claim('w1')), ['-#-', '-#-', '-#-', 'user:1#1']);
  });

  it('orders each webhook on its own: one subject\'s head goes to every ordered webhook at once', async () => {
    const a = await orderedWebhook();
    const b = await orderedWebhook();
    await record([a, b], ['user:1', 'user:1']);
    const claimed = await claim('w1');
    assert.deepEqual(claimed.map((c) => `${c.delivery.webhookId === a.id ? 'a' : 'b'}:${c.delivery.sequence}`).sort(), ['a:1', 'b:1']);
  });

  it('claims as before when the webhook orders nothing: every due delivery of a subject at once', async () => {
    const webhook = await orderedWebhook('none');
    await record([webhook], ['user:1', 'user:1', 'user:1']);
    assert.deepEqual(names(await claim('w1')), ['user:1#1', 'user:1#2', 'user:1#3']);
  });

  it('reaches a subject\'s head and other subjects past a long backlog held back behind one head', async () => {
    const webhook = await orderedWebhook();
    // user:1's head waits for its retry behind 40 due deliveries; user:2's head was recorded after them.
    await record([webhook], ['user:1']);
    await finish(await claim('w1'), 'pending', at(HOUR));
    await record([webhook], Array.from({ length: 40 }, () => 'user:1'), at(SECOND));
    await record([webhook], ['user:2', 'user:2'], at(2 * SECOND));
    // Small claims: the held-back backlog is many times what one claim reads at a time.
    const other = await claim('w2', { limit: 2 });
    assert.deepEqual(names(other), ['user:2#1']);
    await finish(other, 'succeeded');
    assert.deepEqual(names(await claim('w3', { now: at(HOUR), limit: 2 })), ['user:1#1', 'user:2#2']);
  });

  it('says the next work is the earliest head\'s retry when a long backlog waits behind heads, not the backlog\'s due time', async () => {
    const webhook = await orderedWebhook();
    await record([webhook], ['user:1', 'user:2']);
    const heads = await claim('w1');
    await finish(heads.filter((c) => c.delivery.subject === 'user:1'), 'pending', at(2 * HOUR));
    await finish(heads.filter((c) => c.delivery.subject === 'user:2'), 'pending', at(HOUR));
    // More held back than a store reads at once to find the next work (the PostgreSQL store's probe).
    await record([webhook], Array.from({ length: 150 }, (_, i) => (i % 10 === 0 ? 'user:2' : 'user:1')), at(SECOND));
    assert.deepEqual(await store.nextDueAt(), at(HOUR));
    assert.deepEqual(names(await claim('w2')), [], 'nothing is due: the claim agrees');
  });

  it('never has two deliveries of one subject in flight with many workers claiming at once, and sends each subject in order', async () => {
    const webhook = await orderedWebhook();
    const SUBJECTS = 6;
    const PER_SUBJECT = 5;
    for (let n = 0; n < PER_SUBJECT; n += 1) await record([webhook], Array.from({ length: SUBJECTS }, (_, s) => `user:${s}`));
    /** Per subject, the sequences claimed, in claim order; and what has finished. */
    const claimedOrder = new Map<string, number[]>();
    const finished = new Map<string, Set<number>>();
    let rounds = 0;
    for (let done = 0; done < SUBJECTS * PER_SUBJECT; rounds += 1) {
      assert.ok(rounds < 100, 'claims stopped making progress');
      const claims = await Promise.all(Array.from({ length: 6 }, (_, i) => claim(`w${rounds}-${i}`, { limit: 3 })));
      const all = claims.flat().map((c) => c.delivery);
      const subjects = all.map((d) => d.subject!);
      assert.equal(new Set(subjects).size, subjects.length, `two deliveries of one subject claimed at once: ${subjects.join(', ')}`);
      for (const d of all) {
        const gone = finished.get(d.subject!) ?? new Set();
        for (let earlier = 1; earlier < d.sequence!; earlier += 1) {
          assert.ok(gone.has(earlier), `${d.subject}#${d.sequence} was claimed before #${earlier} finished`);
        }
        claimedOrder.set(d.subject!, [...(claimedOrder.get(d.subject!) ?? []), d.sequence!]);
      }
      // Some heads fail once and are due again at once (their retry): they must come back before the next ones.
      const retry = claims.flat().filter((c) => c.delivery.attempts === 0 && c.delivery.sequence! % 2 === 0);
      const succeed = claims.flat().filter((c) => !retry.includes(c));
      await finish(retry, 'pending', NOW);
      await finish(succeed, 'succeeded');
      for (const { delivery: d } of succeed) {
        finished.set(d.subject!, new Set([...(finished.get(d.subject!) ?? []), d.sequence!]));
        done += 1;
      }
    }
    for (let s = 0; s < SUBJECTS; s += 1) {
      const order = claimedOrder.get(`user:${s}`)!;
      assert.deepEqual(order, [...order].sort((x, y) => x - y), `user:${s} claimed out of order: ${order.join(', ')}`);
      assert.deepEqual([...new Set(order)], [1, 2, 3, 4, 5]);
    }
  });

  it('hands every subject\'s head to exactly one of two concurrent claims', async () => {
    const webhook = await orderedWebhook();
    for (let n = 0; n < 3; n += 1) await record([webhook], Array.from({ length: 20 }, (_, s) => `user:${s}`));
    const [a, b] = await Promise.all([claim('a'), claim('b')]);
    const taken: DeliveryRecord[] = [...a, ...b].map((c) => c.delivery);
    assert.deepEqual(taken.map((d) => d.sequence), taken.map(() => 1), 'only heads');
    assert.equal(new Set(taken.map((d) => d.subject)).size, taken.length, 'no subject twice');
    assert.equal(taken.length, 20, 'between them, every head');
  });
}
