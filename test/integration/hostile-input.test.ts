import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { ValidationError, type WebhooksPlugin } from '../../plugin/index.js';
import { eventually, startTestPlugin, TEST_STORES } from '../support/plugin-fixture.js';
import { TestReceiver } from '../support/receiver.js';

/** What an outside review sent at the plugin after the first round of hardening (issue 10). */
for (const storeKind of TEST_STORES) describe(`hostile input (${storeKind})`, function () {
  this.timeout(30_000);
  let plugin: WebhooksPlugin;
  const receivers: TestReceiver[] = [];
  const receiver = async () => {
    const rx = await new TestReceiver().start();
    receivers.push(rx);
    return rx;
  };
  const ctx = (tenantId: string) => plugin.context({}, tenantId);

  beforeEach(async () => {
    ({ plugin } = await startTestPlugin({ store: storeKind }));
  });
  afterEach(async () => {
    await plugin.stop();
    for (const rx of receivers.splice(0)) await rx.stop();
  });

  it("records a receiver's answer holding U+0000 and lets no other tenant's delivery be sent twice", async () => {
    const hostile = await receiver();
    hostile.respondWith((_req, res) => void res.writeHead(200).end('ok\u0000and more'));
    const honest = await receiver();
    const bad = await plugin.webhooks.create({ name: 'nul', url: `${hostile.url}/hook`, events: ['USER_CREATED'] }, ctx('acme'));
    const good = await plugin.webhooks.create({ name: 'fine', url: `${honest.url}/hook`, events: ['USER_CREATED'] }, ctx('globex'));
    await plugin.hooks.userCreated({ user: { id: 'u-acme' } }, { tenantId: 'acme' });
    await plugin.hooks.userCreated({ user: { id: 'u-globex' } }, { tenantId: 'globex' });

    for (const [tenant, webhook] of [['acme', bad.webhook], ['globex', good.webhook]] as const) {
      const [delivery] = await eventually(async () => {
        const done = await plugin.store.listDeliveries(tenant, webhook.id, { status: 'succeeded', limit: 10 });
        return done.length > 0 ? done : null;
      });
      assert.deepEqual([delivery.attempts, delivery.nextAttemptAt], [1, null], `${tenant}: one attempt, nothing scheduled`);
    }
    const [attempt] = await plugin.store.listAttempts('acme', (await plugin.store.listDeliveries('acme', bad.webhook.id, { limit: 1 }))[0].id);
    assert.equal(attempt.responseExcerpt, 'ok\uFFFDand more');
    const test = await plugin.deliveries.sendTest(bad.webhook.id, ctx('acme'));
    assert.equal(test.response_excerpt, 'ok\uFFFDand more');
    assert.equal(honest.requests.length, 1, 'the other tenant got its event once');
  });

  it('refuses control characters in webhook names, descriptions and URLs, and in idempotency keys', async () => {
    const rx = await receiver();
    for (const input of [
      { name: 'x\u0000', url: `${rx.url}/hook` },
      { name: 'x', url: `${rx.url}/a\u0000b` },
      { name: 'x', url: `${rx.url}/a\nb` },
      { name: 'x', description: 'a\u0000b', url: `${rx.url}/hook` },
    ]) {
      await assert.rejects(plugin.webhooks.create({ ...input, events: ['USER_CREATED'] }, ctx('acme')),
        (e: unknown) => e instanceof ValidationError, JSON.stringify(input));
    }
    const { webhook } = await plugin.webhooks.create({ name: 'x', description: 'line one\nline two', url: `${rx.url}/hook`, events: ['USER_CREATED'] }, ctx('acme'));
    await assert.rejects(plugin.webhooks.update(webhook.id, { name: 'y\u0007' }, ctx('acme')), ValidationError);
    await assert.rejects(plugin.hooks.userCreated({ user: { id: 'u1' } }, { tenantId: 'acme', idempotencyKey: 'key\u0000' }),
      (e: unknown) => e instanceof ValidationError);
  });

  it("sends an array subclass's items, never what its own toJSON says, and survives a toJSON that returns itself", async () => {
    const rx = await receiver();
    const { secret } = await plugin.webhooks.create({ name: 'x', url: `${rx.url}/hook`, events: ['USER_MODIFIED', 'SCOPE_CREATED'] }, ctx('acme'));
    class EvilArray extends Array {
      toJSON() {
        return { password: 'hunter2-evil', undeclared: 1 };
      }
    }
    class Loop {
      id = 's-loop';
      name = 'loop';
      toJSON() {
        return this;
      }
    }
    await plugin.hooks.emit('USER_MODIFIED', { user: { id: 'u1' }, changed_fields: EvilArray.from(['email']) }, { tenantId: 'acme' });
    await plugin.hooks.emit('SCOPE_CREATED', { scope: new Loop() }, { tenantId: 'acme' });
    await plugin.hooks.emit('SCOPE_CREATED', { scope: { id: 's1', name: 'read' }, tags: new Loop() }, { tenantId: 'acme' });
    await rx.waitFor(3);
    const text = rx.requests.map((r) => r.body).join('\n');
    assert.ok(!text.includes('hunter2-evil') && !text.includes('undeclared'), text);
    const modified = JSON.parse(rx.requests.find((r) => JSON.parse(r.body).event_type === 'USER_MODIFIED')!.body);
    assert.deepEqual(modified.data.changed_fields, ['email']);
    for (const r of rx.requests) new Webhook(secret!).verify(r.body, r.headers as Record<string, string>);
  });
});
