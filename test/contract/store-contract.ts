import assert from 'node:assert/strict';
import type { AttemptRecord, DeliverySummary, WebhookStore } from '../../plugin/store/store-port.js';
import { attemptRecord, deliveryRecord, eventRecord, webhookRecord } from '../support/records.js';

/**
 * The store contract: written once, run unchanged against every adapter
 * (`postgres-store.test.ts` always, `mongo-store.test.ts` when MONGODB_URI is set).
 * `createStore` must return an initialised store on an empty database.
 */
export function storeContract(createStore: () => Promise<WebhookStore>): void {
  let store: WebhookStore;
  beforeEach(async () => {
    store = await createStore();
  });
  afterEach(async () => {
    await store.close();
  });

  const SECOND = 1000;
  const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);

  async function seedEvent(webhooks = [webhookRecord()], eventOverrides = {}) {
    for (const w of webhooks) await store.insertWebhook(w);
    const event = eventRecord({ createdAt: at(0), ...eventOverrides });
    const deliveries = webhooks.map((w) => deliveryRecord(event, w));
    await store.recordEvent(event, deliveries);
    return { event, deliveries, webhooks };
  }

  describe('webhooks', () => {
    it('round-trips a webhook with every field intact', async () => {
      const w = webhookRecord({ events: ['USER_*', 'ROLE_CREATED'], description: 'd', failingSince: at(5) });
      await store.insertWebhook(w);
      assert.deepEqual(await store.findWebhook(w.tenantId, w.id), w);
    });

    it('never shows one tenant a webhook of another', async () => {
      const w = webhookRecord({ tenantId: 'tenant-a' });
      await store.insertWebhook(w);
      assert.equal(await store.findWebhook('tenant-b', w.id), null);
      assert.deepEqual(await store.listWebhooks('tenant-b'), []);
      assert.equal(await store.updateWebhook('tenant-b', w.id, { name: 'x', updatedAt: new Date() }), null);
      assert.equal(await store.deleteWebhook('tenant-b', w.id), false);
      assert.ok(await store.findWebhook('tenant-a', w.id));
    });

    it('lists oldest first, and only enabled ones for fan-out', async () => {
      const a = webhookRecord({ createdAt: at(1), name: 'a' });
      const b = webhookRecord({ createdAt: at(2), name: 'b', enabled: false });
      await store.insertWebhook(b);
      await store.insertWebhook(a);
      assert.deepEqual((await store.listWebhooks('tenant-a')).map((w) => w.name), ['a', 'b']);
      assert.deepEqual((await store.listEnabledWebhooks('tenant-a')).map((w) => w.name), ['a']);
      assert.deepEqual((await store.findWebhooksByIds([b.id, 'wh_missing'])).map((w) => w.name), ['b']);
    });

    it('pages through every webhook of every tenant by id, resuming after the last id seen', async () => {
      // Ids chosen so byte order differs from some collations ('B' < 'a' in byte order).
      const ids = ['wh_a1', 'wh_B2', 'wh_b3', 'wh_c4', 'wh_Z5'];
      for (const [i, id] of ids.entries()) await store.insertWebhook(webhookRecord({ id, tenantId: i % 2 ? 'tenant-b' : 'tenant-a' }));
      const expected = [...ids].sort();
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page = await store.listAllWebhooks(after, 2);
        assert.ok(page.length <= 2);
        if (page.length === 0) break;
        seen.push(...page.map((w) => w.id));
        after = page[page.length - 1].id;
      }
      assert.deepEqual(seen, expected);
      assert.deepEqual(new Set((await store.listAllWebhooks(null, 10)).map((w) => w.tenantId)), new Set(['tenant-a', 'tenant-b']));
      assert.deepEqual((await store.listAllWebhooks(expected[3], 10)).map((w) => w.id), [expected[4]]);
    });

    it('updates only the fields given', async () => {
      const w = webhookRecord();
      await store.insertWebhook(w);
      const updated = await store.updateWebhook(w.tenantId, w.id, {
        enabled: false, disabledReason: 'gone', disabledAt: at(9), events: ['*'], updatedAt: at(10),
      });
      assert.deepEqual(updated, { ...w, enabled: false, disabledReason: 'gone', disabledAt: at(9), events: ['*'], updatedAt: at(10) });
      const cleared = await store.updateWebhook(w.tenantId, w.id, { disabledReason: null, disabledAt: null, updatedAt: at(11) });
      assert.equal(cleared?.disabledReason, null);
      assert.equal(cleared?.name, w.name);
    });

    it('refuses an update whose expected updatedAt is stale', async () => {
      const w = webhookRecord({ updatedAt: at(1) });
      await store.insertWebhook(w);
      assert.equal(await store.updateWebhook(w.tenantId, w.id, { name: 'late', updatedAt: at(3) }, at(2)), null);
      assert.equal((await store.findWebhook(w.tenantId, w.id))?.name, w.name);
      const updated = await store.updateWebhook(w.tenantId, w.id, { name: 'fresh', updatedAt: at(3) }, at(1));
      assert.equal(updated?.name, 'fresh');
      assert.equal(await store.updateWebhook(w.tenantId, w.id, { name: 'again', updatedAt: at(4) }, at(1)), null);
    });

    it('deletes a webhook together with its deliveries and attempts', async () => {
      const { webhooks, deliveries } = await seedEvent();
      await store.insertAttempt(attemptRecord(deliveries[0]));
      assert.equal(await store.deleteWebhook('tenant-a', webhooks[0].id), true);
      assert.equal(await store.findWebhook('tenant-a', webhooks[0].id), null);
      assert.equal(await store.findDelivery('tenant-a', deliveries[0].id), null);
      assert.deepEqual(await store.listAttempts('tenant-a', deliveries[0].id), []);
      assert.deepEqual(await store.claimDueDeliveries({ now: at(60 * SECOND), limit: 10, leaseMs: 1000, owner: 'w' }), []);
    });

    it('tracks the start of a failing run and clears it on success', async () => {
      const w = webhookRecord();
      await store.insertWebhook(w);
      await store.markWebhooksFailing([w.id], at(1));
      await store.markWebhooksFailing([w.id], at(2));
      assert.deepEqual((await store.findWebhook(w.tenantId, w.id))?.failingSince, at(1));
      await store.markWebhooksHealthy([w.id]);
      assert.equal((await store.findWebhook(w.tenantId, w.id))?.failingSince, null);
    });
  });

  describe('events', () => {
    it('records an event with one pending delivery per webhook', async () => {
      const { event, deliveries } = await seedEvent([webhookRecord(), webhookRecord()]);
      assert.deepEqual(await store.findEvent('tenant-a', event.id), event);
      for (const d of deliveries) assert.deepEqual(await store.findDelivery('tenant-a', d.id), d);
    });

    it('treats a repeated idempotency key as a no-op returning the first event', async () => {
      const w = webhookRecord();
      await store.insertWebhook(w);
      const first = eventRecord({ idempotencyKey: 'login-42' });
      const again = eventRecord({ idempotencyKey: 'login-42' });
      const r1 = await store.recordEvent(first, [deliveryRecord(first, w)]);
      const r2 = await store.recordEvent(again, [deliveryRecord(again, w)]);
      assert.deepEqual(r1, { eventId: first.id, created: true, deliveryCount: 1, sequence: null });
      assert.deepEqual(r2, { eventId: first.id, created: false, deliveryCount: 1, sequence: null });
      assert.equal(await store.findEvent('tenant-a', again.id), null);
      const other = eventRecord({ idempotencyKey: 'login-42', tenantId: 'tenant-b' });
      assert.equal((await store.recordEvent(other, [])).created, true, 'keys are per tenant');
    });

    it('records an event that no webhook selected', async () => {
      const event = eventRecord();
      assert.deepEqual(await store.recordEvent(event, []), { eventId: event.id, created: true, deliveryCount: 0, sequence: null });
    });

    it('keeps an event\'s trace context and hands it out with each claimed delivery', async () => {
      const traceParent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const { event } = await seedEvent([webhookRecord()], { traceParent, traceState: 'vendor=abc' });
      await seedEvent([webhookRecord()], { createdAt: at(SECOND) });
      assert.deepEqual(await store.findEvent('tenant-a', event.id), event);
      const claimed = await store.claimDueDeliveries({ now: at(5 * SECOND), limit: 10, leaseMs: SECOND, owner: 'w1' });
      const traced = claimed.find((c) => c.delivery.eventId === event.id);
      const plain = claimed.find((c) => c.delivery.eventId !== event.id);
      assert.deepEqual([traced?.traceParent, traced?.traceState], [traceParent, 'vendor=abc']);
      assert.deepEqual([plain?.traceParent, plain?.traceState], [null, null]);
    });

    it('is safe to retry with the same ids', async () => {
      const w = webhookRecord();
      await store.insertWebhook(w);
      const event = eventRecord();
      const deliveries = [deliveryRecord(event, w)];
      await store.recordEvent(event, deliveries);
      const retry = await store.recordEvent(event, deliveries);
      assert.equal(retry.created, false);
      assert.equal(retry.deliveryCount, 1);
    });
  });

  describe('delivery queue', () => {
    it('claims due deliveries with their body, oldest due first, up to the limit', async () => {
      const w = webhookRecord();
      await store.insertWebhook(w);
      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1) {
        const event = eventRecord({ createdAt: at(i * SECOND), body: `{"n":${i}}` });
        const d = deliveryRecord(event, w, { nextAttemptAt: at((10 - i) * SECOND) });
        ids.unshift(d.id);
        await store.recordEvent(event, [d]);
      }
      const claimed = await store.claimDueDeliveries({ now: at(8 * SECOND), limit: 2, leaseMs: 30 * SECOND, owner: 'w1' });
      assert.deepEqual(claimed.map((c) => c.body), ['{"n":4}', '{"n":3}']);
      assert.deepEqual(claimed.map((c) => c.delivery.id), ids.slice(0, 2));
      assert.equal(claimed[0].delivery.leaseOwner, 'w1');
      assert.deepEqual(claimed[0].delivery.leaseExpiresAt, at(38 * SECOND));
    });

    it('does not claim what is not yet due or already leased', async () => {
      await seedEvent();
      assert.equal((await store.claimDueDeliveries({ now: at(-1), limit: 10, leaseMs: 1000, owner: 'w1' })).length, 0);
      assert.equal((await store.claimDueDeliveries({ now: at(0), limit: 10, leaseMs: 1000, owner: 'w1' })).length, 1);
      assert.equal((await store.claimDueDeliveries({ now: at(500), limit: 10, leaseMs: 1000, owner: 'w2' })).length, 0);
    });

    it('gives a crashed worker\'s lease to another worker once it expires', async () => {
      await seedEvent();
      await store.claimDueDeliveries({ now: at(0), limit: 10, leaseMs: 1000, owner: 'crashed' });
      const again = await store.claimDueDeliveries({ now: at(1000), limit: 10, leaseMs: 1000, owner: 'w2' });
      assert.equal(again.length, 1);
      assert.equal(again[0].delivery.leaseOwner, 'w2');
    });

    it('never hands one delivery to two concurrent claimers', async () => {
      const w = webhookRecord();
      await store.insertWebhook(w);
      for (let i = 0; i < 40; i += 1) {
        const event = eventRecord({ createdAt: at(0) });
        await store.recordEvent(event, [deliveryRecord(event, w)]);
      }
      const batches = await Promise.all(
        ['a', 'b', 'c', 'd'].map((owner) => store.claimDueDeliveries({ now: at(0), limit: 15, leaseMs: 60_000, owner })));
      const all = batches.flat().map((c) => c.delivery.id);
      assert.equal(new Set(all).size, all.length, 'no delivery claimed twice');
      assert.equal(all.length, 40);
    });

    it('stores attempts and moves deliveries on for the lease holder only', async () => {
      const { deliveries } = await seedEvent([webhookRecord(), webhookRecord()]);
      const claimed = await store.claimDueDeliveries({ now: at(0), limit: 10, leaseMs: 1000, owner: 'w1' });
      const [ok, retry] = claimed.map((c) => c.delivery);
      const okAttempt = attemptRecord(ok, { startedAt: at(1) });
      const retryAttempt = attemptRecord(retry, { startedAt: at(2), outcome: 'http_error', statusCode: 503, responseExcerpt: 'down' });
      await store.completeAttempts([
        { attempt: okAttempt, owner: 'w1', status: 'succeeded', nextAttemptAt: null },
        { attempt: retryAttempt, owner: 'w1', status: 'pending', nextAttemptAt: at(5000) },
      ]);
      const done = await store.findDelivery('tenant-a', ok.id);
      assert.equal(done?.status, 'succeeded');
      assert.equal(done?.attempts, 1);
      assert.equal(done?.nextAttemptAt, null);
      assert.equal(done?.leaseOwner, null);
      assert.equal(done?.lastStatusCode, 200);
      assert.equal(done?.lastOutcome, 'success');
      assert.deepEqual(done?.lastAttemptAt, at(1));
      const waiting = await store.findDelivery('tenant-a', retry.id);
      assert.equal(waiting?.status, 'pending');
      assert.deepEqual(waiting?.nextAttemptAt, at(5000));
      assert.deepEqual(await store.nextDueAt(), at(5000));
      assert.deepEqual(await store.listAttempts('tenant-a', retry.id), [retryAttempt]);
      assert.ok(deliveries.length === 2);

      // A worker whose lease was taken over cannot overwrite the new holder's state.
      const reclaimed = await store.claimDueDeliveries({ now: at(5000), limit: 10, leaseMs: 1000, owner: 'w2' });
      assert.equal(reclaimed.length, 1);
      await store.completeAttempts([{ attempt: attemptRecord(retry, { attemptNumber: 2 }), owner: 'w1', status: 'failed', nextAttemptAt: null }]);
      assert.equal((await store.findDelivery('tenant-a', retry.id))?.status, 'pending');
      assert.equal((await store.listAttempts('tenant-a', retry.id)).length, 2, 'the attempt itself is still logged');
    });

    it('requeues one delivery, and every failed one of a webhook since a time', async () => {
      const w = webhookRecord();
      await store.insertWebhook(w);
      const made = [];
      for (let i = 0; i < 3; i += 1) {
        const event = eventRecord({ createdAt: at(i * 1000) });
        const d = deliveryRecord(event, w);
        await store.recordEvent(event, [d]);
        made.push(d);
      }
      const claimed = await store.claimDueDeliveries({ now: at(10_000), limit: 10, leaseMs: 1000, owner: 'w1' });
      await store.completeAttempts(claimed.map((c) => ({
        attempt: attemptRecord(c.delivery, { outcome: 'timeout', statusCode: null }), owner: 'w1', status: 'failed' as const, nextAttemptAt: null,
      })));
      assert.equal(await store.requeueFailedSince('tenant-a', w.id, at(1000), at(20_000)), 2);
      assert.equal(await store.requeueFailedSince('tenant-b', w.id, at(0), at(20_000)), 0);
      assert.equal((await store.findDelivery('tenant-a', made[0].id))?.status, 'failed');
      assert.equal((await store.findDelivery('tenant-a', made[1].id))?.status, 'pending');
      assert.equal(await store.requeueDelivery('tenant-a', made[0].id, at(20_000)), 'requeued');
      assert.equal(await store.requeueDelivery('tenant-b', made[0].id, at(20_000)), 'not_found');
      assert.equal(await store.requeueDelivery('tenant-a', 'msg_missing', at(20_000)), 'not_found');
      assert.equal((await store.claimDueDeliveries({ now: at(20_000), limit: 10, leaseMs: 1000, owner: 'w2' })).length, 3);
    });

    it('does not requeue a delivery whose attempt is in flight, so it is never sent twice at once', async () => {
      const { deliveries: [d] } = await seedEvent();
      await store.claimDueDeliveries({ now: at(0), limit: 10, leaseMs: 10_000, owner: 'w1' });
      assert.equal(await store.requeueDelivery('tenant-a', d.id, at(5_000)), 'in_flight');
      assert.equal((await store.claimDueDeliveries({ now: at(5_000), limit: 10, leaseMs: 10_000, owner: 'w2' })).length, 0);
      const held = await store.findDelivery('tenant-a', d.id);
      assert.equal(held?.leaseOwner, 'w1', 'the running claim keeps its lease');
      // Once the lease has run out the attempt is presumed dead and a retry goes ahead.
      assert.equal(await store.requeueDelivery('tenant-a', d.id, at(10_001)), 'requeued');
    });

    it('requeues a delivery that waits for its retry: it is due at once', async () => {
      const { deliveries: [d] } = await seedEvent();
      const [claimed] = await store.claimDueDeliveries({ now: at(0), limit: 10, leaseMs: 10_000, owner: 'w1' });
      await store.completeAttempts([{ attempt: attemptRecord(claimed.delivery, { outcome: 'http_error', statusCode: 503 }), owner: 'w1', status: 'pending', nextAttemptAt: at(3_600_000) }]);
      assert.equal(await store.requeueDelivery('tenant-a', d.id, at(1_000)), 'requeued');
      assert.deepEqual((await store.claimDueDeliveries({ now: at(1_000), limit: 10, leaseMs: 10_000, owner: 'w2' })).map((c) => c.delivery.id), [d.id]);
    });

    it('takes turns between webhooks and caps each one, so one backlog cannot fill a claim', async () => {
      const [big, small, other] = [webhookRecord({ name: 'big' }), webhookRecord({ name: 'small' }), webhookRecord({ tenantId: 'tenant-b' })];
      for (const w of [big, small, other]) await store.insertWebhook(w);
      const record = async (w: typeof big, n: number, from: number) => {
        for (let i = 0; i < n; i += 1) {
          const event = eventRecord({ tenantId: w.tenantId, createdAt: at(from + i) });
          await store.recordEvent(event, [deliveryRecord(event, w)]);
        }
      };
      await record(big, 30, 0); // the oldest backlog
      await record(small, 3, 1_000);
      await record(other, 3, 2_000);
      const claimed = await store.claimDueDeliveries({ now: at(10_000), limit: 12, leaseMs: 60_000, owner: 'w', perWebhookLimit: 6 });
      const count = (w: typeof big) => claimed.filter((c) => c.delivery.webhookId === w.id).length;
      assert.equal(claimed.length, 12);
      assert.deepEqual([count(big), count(small), count(other)], [6, 3, 3]);
      // Round-robin order: each webhook's oldest before anyone's second.
      assert.deepEqual(new Set(claimed.slice(0, 3).map((c) => c.delivery.webhookId)), new Set([big.id, small.id, other.id]));

      // Per-webhook limits: 0 takes none (circuit open), n takes at most n.
      await record(small, 2, 3_000);
      const next = await store.claimDueDeliveries({
        now: at(10_000), limit: 50, leaseMs: 60_000, owner: 'w', perWebhookLimit: 6, webhookLimits: new Map([[big.id, 0], [small.id, 1]]),
      });
      assert.deepEqual(next.map((c) => c.delivery.webhookId), [small.id]);
    });

    it('caps one webhook\'s backlog at perWebhookLimit even when the claim has room for more', async () => {
      const w = webhookRecord();
      await store.insertWebhook(w);
      for (let i = 0; i < 30; i += 1) {
        const event = eventRecord({ createdAt: at(i) });
        await store.recordEvent(event, [deliveryRecord(event, w)]);
      }
      const claimed = await store.claimDueDeliveries({ now: at(10_000), limit: 50, leaseMs: 60_000, owner: 'w', perWebhookLimit: 6 });
      assert.equal(claimed.length, 6);
    });

    it('leaves the deliveries of a disabled webhook waiting, unclaimed, until it is enabled again', async () => {
      const [paused, live] = [webhookRecord({ name: 'paused' }), webhookRecord({ name: 'live' })];
      const { deliveries: [waiting] } = await seedEvent([paused, live]);
      await store.updateWebhook(paused.tenantId, paused.id, { enabled: false, updatedAt: at(1) });
      const claimed = await store.claimDueDeliveries({ now: at(0), limit: 10, leaseMs: 1000, owner: 'w' });
      assert.deepEqual(claimed.map((c) => c.delivery.webhookId), [live.id]);
      assert.equal((await store.findDelivery('tenant-a', waiting.id))?.status, 'pending');
      assert.deepEqual(await store.nextDueAt(), at(1000), 'only the live webhook\'s lease counts as due work');
      assert.equal((await store.summarizeDeliveries('tenant-a', [paused.id], at(0))).get(paused.id)?.waiting, 1);
      await store.updateWebhook(paused.tenantId, paused.id, { enabled: true, updatedAt: at(2) });
      assert.deepEqual(await store.nextDueAt(), at(0));
      const resumed = await store.claimDueDeliveries({ now: at(0), limit: 10, leaseMs: 1000, owner: 'w' });
      assert.deepEqual(resumed.map((c) => c.delivery.id), [waiting.id]);
    });

    it('gives claimed deliveries back unsent, attempts unchanged, for the lease holder only', async () => {
      const { deliveries: [a, b] } = await seedEvent([webhookRecord(), webhookRecord()]);
      await store.claimDueDeliveries({ now: at(0), limit: 10, leaseMs: 60_000, owner: 'w1' });
      await store.releaseDeliveries([
        { id: a.id, owner: 'w1', nextAttemptAt: at(5_000) },
        { id: b.id, owner: 'someone-else', nextAttemptAt: at(5_000) },
      ]);
      const released = await store.findDelivery('tenant-a', a.id);
      assert.equal(released?.status, 'pending');
      assert.equal(released?.attempts, 0);
      assert.equal(released?.leaseOwner, null);
      assert.deepEqual(released?.nextAttemptAt, at(5_000));
      assert.equal((await store.findDelivery('tenant-a', b.id))?.leaseOwner, 'w1', 'a lost lease releases nothing');
      assert.equal((await store.claimDueDeliveries({ now: at(4_999), limit: 10, leaseMs: 1000, owner: 'w2' })).length, 0);
      assert.deepEqual((await store.claimDueDeliveries({ now: at(5_000), limit: 10, leaseMs: 1000, owner: 'w2' })).map((c) => c.delivery.id), [a.id]);
      await store.releaseDeliveries([]);
    });

    it('gives back what one claim holds, by its owner name, when the claim\'s answer was lost', async () => {
      const { deliveries: [a, b] } = await seedEvent([webhookRecord(), webhookRecord()]);
      const [lost] = await store.claimDueDeliveries({ now: at(0), limit: 1, leaseMs: 60_000, owner: 'w#1' });
      const [kept] = await store.claimDueDeliveries({ now: at(0), limit: 1, leaseMs: 60_000, owner: 'w#2' });
      assert.equal(await store.releaseClaim('w#1', at(60_000), at(10)), 1);
      const released = await store.findDelivery('tenant-a', lost.delivery.id);
      assert.deepEqual([released?.leaseOwner, released?.nextAttemptAt, released?.attempts], [null, at(10), 0]);
      assert.equal((await store.findDelivery('tenant-a', kept.delivery.id))?.leaseOwner, 'w#2', 'another claim keeps its lease');
      assert.equal(await store.releaseClaim('w#1', at(60_000), at(10)), 0);
      assert.deepEqual(new Set([lost.delivery.id, kept.delivery.id]), new Set([a.id, b.id]));
    });

    it('discards the waiting deliveries of one webhook on request, never one in flight or another tenant\'s', async () => {
      const w = webhookRecord({ enabled: false });
      await store.insertWebhook(w);
      const made = [];
      for (let i = 0; i < 3; i += 1) {
        const event = eventRecord({ createdAt: at(i) });
        const d = deliveryRecord(event, w);
        await store.recordEvent(event, [d]);
        made.push(d);
      }
      await store.updateWebhook(w.tenantId, w.id, { enabled: true, updatedAt: at(1) });
      const [expired] = await store.claimDueDeliveries({ now: at(2), limit: 1, leaseMs: 5, owner: 'old' });
      const [inFlight] = await store.claimDueDeliveries({ now: at(2), limit: 1, leaseMs: 60_000, owner: 'w' });
      assert.equal(await store.discardPendingDeliveries('tenant-b', w.id, at(10)), 0);
      assert.equal(await store.discardPendingDeliveries('tenant-a', w.id, at(10)), 2);
      for (const d of made) {
        const now = await store.findDelivery('tenant-a', d.id);
        if (d.id === inFlight.delivery.id) assert.equal(now?.status, 'pending');
        else assert.deepEqual([now?.status, now?.lastOutcome, now?.nextAttemptAt], ['failed', 'discarded', null]);
      }
      // A lease that ran out before the discard: the late completion of its worker changes nothing.
      await store.completeAttempts([{ attempt: attemptRecord(expired.delivery), owner: 'old', status: 'succeeded', nextAttemptAt: null }]);
      assert.equal((await store.findDelivery('tenant-a', expired.delivery.id))?.lastOutcome, 'discarded');
    });
  });

  describe('delivery log', () => {
    it('pages newest first with a keyset cursor and filters by status and type', async () => {
      const w = webhookRecord();
      await store.insertWebhook(w);
      const made = [];
      for (let i = 0; i < 5; i += 1) {
        const event = eventRecord({ createdAt: at(i * 1000), type: i % 2 ? 'USER_CREATED' : 'USER_LOGIN' });
        const d = deliveryRecord(event, w);
        await store.recordEvent(event, [d]);
        made.push(d);
      }
      const page1 = await store.listDeliveries('tenant-a', w.id, { limit: 2 });
      assert.deepEqual(page1.map((d) => d.id), [made[4].id, made[3].id]);
      const page2 = await store.listDeliveries('tenant-a', w.id, { limit: 2, before: { createdAt: page1[1].createdAt, id: page1[1].id } });
      assert.deepEqual(page2.map((d) => d.id), [made[2].id, made[1].id]);
      const created = await store.listDeliveries('tenant-a', w.id, { limit: 10, eventType: 'USER_CREATED' });
      assert.deepEqual(created.map((d) => d.id), [made[3].id, made[1].id]);
      assert.equal((await store.listDeliveries('tenant-a', w.id, { limit: 10, status: 'succeeded' })).length, 0);
      assert.equal((await store.listDeliveries('tenant-b', w.id, { limit: 10 })).length, 0);
    });

    it('lists the attempts of several deliveries at once, oldest first per delivery, within the tenant', async () => {
      const w = webhookRecord();
      const other = webhookRecord({ tenantId: 'tenant-b' });
      await store.insertWebhook(w);
      await store.insertWebhook(other);
      const [a, b, foreign] = await Promise.all([w, w, other].map(async (webhook, i) => {
        const event = eventRecord({ tenantId: webhook.tenantId, createdAt: at(i) });
        const delivery = deliveryRecord(event, webhook);
        await store.recordEvent(event, [delivery]);
        return delivery;
      }));
      // Inserted out of order: the store sorts, not the insertion order.
      const a3 = attemptRecord(a, { attemptNumber: 3, startedAt: at(3000), outcome: 'http_error', statusCode: 502 });
      const a1 = attemptRecord(a, { attemptNumber: 1, startedAt: at(1000), outcome: 'timeout', statusCode: null, responseExcerpt: null });
      const a2 = attemptRecord(a, { attemptNumber: 2, startedAt: at(2000) });
      const b1 = attemptRecord(b, { attemptNumber: 1, startedAt: at(1500) });
      const f1 = attemptRecord(foreign, { attemptNumber: 1, startedAt: at(1000) });
      for (const attempt of [a3, b1, a1, f1, a2]) await store.insertAttempt(attempt);

      const found = await store.listAttemptsFor('tenant-a', [a.id, b.id, foreign.id, 'msg_missing']);
      assert.equal(found.length, 4, 'another tenant\'s delivery contributes nothing');
      assert.deepEqual(found.filter((x) => x.deliveryId === a.id), [a1, a2, a3]);
      assert.deepEqual(found.filter((x) => x.deliveryId === b.id), [b1]);
      assert.deepEqual(await store.listAttemptsFor('tenant-b', [a.id, b.id]), []);
      assert.deepEqual(await store.listAttemptsFor('tenant-b', [foreign.id]), [f1]);
      assert.deepEqual(await store.listAttemptsFor('tenant-a', []), []);
    });

    it('summarises deliveries per webhook: counts since a time, and the last attempted one whenever it was', async () => {
      const [busy, calm, idle] = [webhookRecord({ name: 'busy' }), webhookRecord({ name: 'calm' }), webhookRecord({ name: 'idle' })];
      const foreign = webhookRecord({ tenantId: 'tenant-b' });
      for (const w of [busy, calm, idle, foreign]) await store.insertWebhook(w);
      const deliver = async (w: typeof busy, createdAt: number, overrides = {}) => {
        const event = eventRecord({ tenantId: w.tenantId, createdAt: at(createdAt) });
        const d = deliveryRecord(event, w, overrides);
        await store.recordEvent(event, [d]);
        return d;
      };
      const old = await deliver(busy, 0);
      const ok = await deliver(busy, 10 * SECOND);
      const failed = await deliver(busy, 20 * SECOND);
      const waiting = await deliver(busy, 30 * SECOND, { nextAttemptAt: at(999_999 * SECOND) });
      const retrying = await deliver(busy, 40 * SECOND);
      const calmOk = await deliver(calm, 10 * SECOND);
      const foreignFailed = await deliver(foreign, 10 * SECOND);
      const claimed = await store.claimDueDeliveries({ now: at(60 * SECOND), limit: 20, leaseMs: 60_000, owner: 'w' });
      assert.equal(claimed.length, 6, 'all but the one not yet due');
      const finish = (d: typeof ok, status: 'succeeded' | 'failed' | 'pending', startedAt: number, outcome: AttemptRecord['outcome'], statusCode: number | null) => ({
        attempt: attemptRecord(d, { startedAt: at(startedAt), outcome, statusCode }),
        owner: 'w', status, nextAttemptAt: status === 'pending' ? at(999_999 * SECOND) : null,
      });
      await store.completeAttempts([
        // Created before `since`, so not counted; but attempted last of all, so it is `last`.
        finish(old, 'failed', 50 * SECOND, 'timeout', null),
        finish(ok, 'succeeded', 11 * SECOND, 'success', 200),
        finish(failed, 'failed', 21 * SECOND, 'http_error', 500),
        finish(retrying, 'pending', 41 * SECOND, 'http_error', 503),
        finish(calmOk, 'succeeded', 12 * SECOND, 'success', 204),
        finish(foreignFailed, 'failed', 55 * SECOND, 'dns', null),
      ]);
      assert.equal((await store.findDelivery('tenant-a', waiting.id))?.lastAttemptAt, null);

      const since = at(5 * SECOND);
      const summaries = await store.summarizeDeliveries('tenant-a', [busy.id, calm.id, idle.id, foreign.id, busy.id], since);
      assert.deepEqual([...summaries.keys()].sort(), [busy.id, calm.id, idle.id, foreign.id].sort(), 'an entry for every id asked about');
      assert.deepEqual(summaries.get(busy.id), {
        succeeded: 1, failed: 1, pending: 2, waiting: 2,
        last: { status: 'failed', statusCode: null, outcome: 'timeout', at: at(50 * SECOND) },
      });
      assert.deepEqual(summaries.get(calm.id), {
        succeeded: 1, failed: 0, pending: 0, waiting: 0,
        last: { status: 'succeeded', statusCode: 204, outcome: 'success', at: at(12 * SECOND) },
      });
      const nothing: DeliverySummary = { succeeded: 0, failed: 0, pending: 0, waiting: 0, last: null };
      assert.deepEqual(summaries.get(idle.id), nothing);
      assert.deepEqual(summaries.get(foreign.id), nothing, 'another tenant\'s webhook shows nothing');

      // `since` bounds the counts only.
      assert.deepEqual(await store.summarizeDeliveries('tenant-a', [busy.id], at(35 * SECOND)), new Map<string, DeliverySummary>([[busy.id, {
        succeeded: 0, failed: 0, pending: 1, waiting: 2, last: { status: 'failed', statusCode: null, outcome: 'timeout', at: at(50 * SECOND) },
      }]]), '`waiting` counts every pending delivery, whenever created');
      assert.deepEqual(await store.summarizeDeliveries('tenant-b', [foreign.id, busy.id], since), new Map<string, DeliverySummary>([
        [foreign.id, { succeeded: 0, failed: 1, pending: 0, waiting: 0, last: { status: 'failed', statusCode: null, outcome: 'dns', at: at(55 * SECOND) } }],
        [busy.id, nothing],
      ]));
      assert.equal((await store.summarizeDeliveries('tenant-a', [], since)).size, 0);
    });

    it('summarises the backlog across tenants: pending of enabled webhooks per webhook with the oldest, webhooks by state', async () => {
      assert.deepEqual(await store.summarizeBacklog(), { pending: [], webhooks: { enabled: 0, failing: 0, disabled: 0 } });
      const busy = webhookRecord({ tenantId: 'tenant-a' });
      const failing = webhookRecord({ tenantId: 'tenant-b', failingSince: at(1) });
      const paused = webhookRecord({ tenantId: 'tenant-a', enabled: false });
      const idle = webhookRecord({ tenantId: 'tenant-b' });
      const done = webhookRecord({ tenantId: 'tenant-a' });
      for (const w of [busy, failing, paused, idle, done]) await store.insertWebhook(w);
      const record = async (w: typeof busy, createdAt: number) => {
        const event = eventRecord({ tenantId: w.tenantId, createdAt: at(createdAt) });
        await store.recordEvent(event, [deliveryRecord(event, w)]);
      };
      await record(busy, 3 * SECOND);
      await record(busy, 1 * SECOND);
      await record(done, 0);
      assert.equal(await store.discardPendingDeliveries('tenant-a', done.id, at(10 * SECOND)), 1);
      await record(failing, 5 * SECOND);
      await record(paused, 0);
      const summary = await store.summarizeBacklog();
      assert.deepEqual(summary.webhooks, { enabled: 3, failing: 1, disabled: 1 });
      assert.deepEqual([...summary.pending].sort((x, y) => x.count - y.count), [
        { webhookId: failing.id, count: 1, oldestCreatedAt: at(5 * SECOND) },
        { webhookId: busy.id, count: 2, oldestCreatedAt: at(1 * SECOND) },
      ], 'finished deliveries and a disabled webhook\'s backlog are left out');
    });

    it('prunes expired attempts, finished deliveries and orphaned events, never pending work', async () => {
      const w = webhookRecord();
      await store.insertWebhook(w);
      const old = eventRecord({ createdAt: at(0), expiresAt: at(1000) });
      const oldDelivery = deliveryRecord(old, w, { expiresAt: at(1000) });
      const stuck = eventRecord({ createdAt: at(0), expiresAt: at(1000) });
      const stuckDelivery = deliveryRecord(stuck, w, { expiresAt: at(1000), nextAttemptAt: at(999_999) });
      await store.recordEvent(old, [oldDelivery]);
      await store.recordEvent(stuck, [stuckDelivery]);
      const [claimed] = await store.claimDueDeliveries({ now: at(0), limit: 1, leaseMs: 10, owner: 'w' });
      await store.completeAttempts([{ attempt: attemptRecord(claimed.delivery, { expiresAt: at(1000) }), owner: 'w', status: 'succeeded', nextAttemptAt: null }]);
      const result = await store.pruneExpired(at(2000));
      assert.deepEqual(result, { events: 1, deliveries: 1, attempts: 1 });
      assert.equal(await store.findEvent('tenant-a', old.id), null);
      assert.ok(await store.findEvent('tenant-a', stuck.id), 'an event with pending work is kept');
      assert.ok(await store.findDelivery('tenant-a', stuckDelivery.id));
    });

    it('prunes pending deliveries of a disabled webhook once their retention has passed', async () => {
      const paused = webhookRecord({ enabled: false });
      await store.insertWebhook(paused);
      const old = eventRecord({ createdAt: at(0), expiresAt: at(1000) });
      const fresh = eventRecord({ createdAt: at(0), expiresAt: at(9000) });
      const oldDelivery = deliveryRecord(old, paused, { expiresAt: at(1000) });
      const freshDelivery = deliveryRecord(fresh, paused, { expiresAt: at(9000) });
      await store.recordEvent(old, [oldDelivery]);
      await store.recordEvent(fresh, [freshDelivery]);
      assert.deepEqual(await store.pruneExpired(at(2000)), { events: 1, deliveries: 1, attempts: 0 });
      assert.equal(await store.findDelivery('tenant-a', oldDelivery.id), null);
      assert.ok(await store.findDelivery('tenant-a', freshDelivery.id), 'still within retention: still waiting');
    });
  });
}
