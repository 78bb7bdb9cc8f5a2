import assert from 'node:assert/strict';
import { SEQUENCE_PLACEHOLDER, type EventRecord, type WebhookStore } from '../../plugin/store/store-port.js';
import { deliveryRecord, eventRecord, webhookRecord } from '../support/records.js';

/**
 * Per-subject sequence numbers, run against every adapter like the store contract: the store
 * numbers each event about a subject per (tenant, subject) as it records it, writes the number
 * into the body, and gives the event's deliveries a copy.
 */
export function sequenceContract(createStore: () => Promise<WebhookStore>): void {
  let store: WebhookStore;
  beforeEach(async () => {
    store = await createStore();
  });
  afterEach(async () => {
    await store.close();
  });

  const bodyWithPlaceholder = (subject: string) =>
    `{"event_type":"USER_MODIFIED","current_context":{"event_id":"e","tenant_id":"t","subject":${JSON.stringify(subject)},${SEQUENCE_PLACEHOLDER},`
    + `"source":"host"},"data":{"note":"\\"sequence\\":0"}}`;
  const aboutSubject = (subject: string, overrides: Partial<EventRecord> = {}) =>
    eventRecord({ subject, body: bodyWithPlaceholder(subject), ...overrides });

  it('numbers events per (tenant, subject) from 1, in the body, the event and its deliveries', async () => {
    const webhook = webhookRecord();
    await store.insertWebhook(webhook);
    const numbers: Array<number | null> = [];
    for (const subject of ['user:1', 'user:1', 'user:2', 'user:1']) {
      const event = aboutSubject(subject);
      const result = await store.recordEvent(event, [deliveryRecord(event, webhook)]);
      numbers.push(result.sequence);
      const stored = await store.findEvent(event.tenantId, event.id);
      assert.equal(stored!.sequence, result.sequence);
      assert.equal(stored!.subject, subject);
      const body = JSON.parse(stored!.body);
      assert.equal(body.current_context.sequence, result.sequence);
      // Only the context's placeholder is replaced; the same text inside a data string is left alone.
      assert.equal(body.data.note, '"sequence":0');
      const [delivery] = await store.listDeliveries(event.tenantId, webhook.id, { limit: 1 });
      assert.deepEqual([delivery.subject, delivery.sequence], [subject, result.sequence]);
    }
    assert.deepEqual(numbers, [1, 2, 1, 3]);
  });

  it('numbers each tenant\'s events about the same subject separately', async () => {
    const a = await store.recordEvent(aboutSubject('user:1', { tenantId: 'tenant-a' }), []);
    const b = await store.recordEvent(aboutSubject('user:1', { tenantId: 'tenant-b' }), []);
    const a2 = await store.recordEvent(aboutSubject('user:1', { tenantId: 'tenant-a' }), []);
    assert.deepEqual([a.sequence, b.sequence, a2.sequence], [1, 1, 2]);
  });

  it('uses up no number for a repeated idempotency key', async () => {
    const first = await store.recordEvent(aboutSubject('user:7', { idempotencyKey: 'k1' }), []);
    const again = await store.recordEvent(aboutSubject('user:7', { idempotencyKey: 'k1' }), []);
    const next = await store.recordEvent(aboutSubject('user:7'), []);
    assert.equal(again.created, false);
    assert.equal(again.eventId, first.eventId);
    assert.equal(again.sequence, first.sequence);
    assert.deepEqual([first.sequence, next.sequence], [1, 2]);
  });

  it('gives racing repeats of idempotency keys one event each, and never one number twice', async () => {
    const keys = Array.from({ length: 10 }, (_, i) => `race-${i}`);
    const results = await Promise.all(keys.flatMap((key) => Array.from({ length: 4 }, () =>
      store.recordEvent(aboutSubject('user:race', { idempotencyKey: key }), []))));
    const created = results.filter((r) => r.created);
    assert.equal(created.length, keys.length);
    const numbers = created.map((r) => r.sequence!);
    assert.equal(new Set(numbers).size, numbers.length);
    // Each repeat reports the number of the event it repeats.
    for (const r of results) assert.equal(r.sequence, created.find((c) => c.eventId === r.eventId)!.sequence);
  });

  it('leaves an event without a subject unnumbered and its body as given', async () => {
    const event = eventRecord({ subject: null });
    const result = await store.recordEvent(event, []);
    assert.equal(result.sequence, null);
    const stored = await store.findEvent(event.tenantId, event.id);
    assert.equal(stored!.sequence, null);
    assert.equal(stored!.body, event.body);
  });

  it('hands the numbered body to the worker that claims the delivery', async () => {
    const webhook = webhookRecord();
    await store.insertWebhook(webhook);
    await store.recordEvent(aboutSubject('role:9'), []);
    const event = aboutSubject('role:9', { createdAt: new Date(Date.now() - 1_000) });
    await store.recordEvent(event, [deliveryRecord(event, webhook)]);
    const [claimed] = await store.claimDueDeliveries({ now: new Date(), limit: 10, leaseMs: 60_000, owner: 'w1' });
    assert.equal(JSON.parse(claimed.body).current_context.sequence, 2);
    assert.deepEqual([claimed.delivery.subject, claimed.delivery.sequence], ['role:9', 2]);
  });
}
