import assert from 'node:assert/strict';
import request from 'supertest';
import type express from 'express';
import type { WebhooksPlugin } from '../../plugin/index.js';
import { ACME, ACME_COOKIE, createAdminHost } from '../support/admin-host.js';
import { startTestPlugin } from '../support/plugin-fixture.js';
import { TestReceiver } from '../support/receiver.js';

const API = '/admin/webhooks/api';

/** Regression tests for what an outside review got through the admin API (issue 10, items 5, 6 and 10). */
describe('admin API hardening', function () {
  this.timeout(30_000);
  let plugin: WebhooksPlugin;
  let receiver: TestReceiver;
  let app: express.Express;

  beforeEach(async () => {
    receiver = await new TestReceiver().start();
    ({ plugin } = await startTestPlugin({ store: 'postgres' }));
    app = createAdminHost(plugin);
  });
  afterEach(async () => {
    await plugin.stop();
    await receiver.stop();
  });

  const webhookBody = (extra: Record<string, unknown> = {}) => ({ name: 'CRM', url: `${receiver.url}/crm`, events: ['USER_*'], ...extra });

  describe('CSRF', () => {
    it('does not exempt a session-authenticated write because it also carries a bearer header', async () => {
      const res = await request(app).post(`${API}/webhooks`).set('cookie', ACME_COOKIE).set('authorization', 'Bearer garbage')
        .send(webhookBody());
      assert.deepEqual([res.status, res.body.error?.code], [403, 'csrf_failed']);
      assert.deepEqual(await plugin.store.listWebhooks('acme'), [], 'nothing was created');
    });

    it('still exempts requests a bearer token authenticated', async () => {
      const res = await request(app).post(`${API}/webhooks`).set(ACME).send(webhookBody());
      assert.equal(res.status, 201);
    });

    it("follows the host's authenticatedByToken when it is given", async () => {
      app = createAdminHost(plugin, { authenticatedByToken: () => false });
      const res = await request(app).post(`${API}/webhooks`).set(ACME).send(webhookBody());
      assert.deepEqual([res.status, res.body.error?.code], [403, 'csrf_failed']);
    });
  });

  describe('__proto__ keys', () => {
    it('refuses them in a create or an update like any unknown field, at any depth', async () => {
      const bodies = [
        `{"name":"CRM","url":"${receiver.url}/crm","events":["USER_*"],"__proto__":{"admin":true}}`,
        `{"name":"CRM","url":"${receiver.url}/crm","events":["USER_*"],"headers":{"__proto__":{"x":"y"}}}`,
      ];
      for (const body of bodies) {
        const res = await request(app).post(`${API}/webhooks`).set(ACME).set('content-type', 'application/json').send(body);
        assert.deepEqual([res.status, res.body.error?.code], [400, 'validation_failed'], body);
        assert.match(res.body.error.message, /"(headers\.)?__proto__" is not allowed/);
      }
      const unknown = await request(app).post(`${API}/webhooks`).set(ACME).send(webhookBody({ admin: true }));
      assert.equal(unknown.status, 400, 'the same answer as for any other unknown field');
      const { body: hook } = await request(app).post(`${API}/webhooks`).set(ACME).send(webhookBody()).expect(201);
      const patch = await request(app).patch(`${API}/webhooks/${hook.id}`).set(ACME).set('content-type', 'application/json')
        .send('{"name":"x","__proto__":{"enabled":false}}');
      assert.deepEqual([patch.status, patch.body.error?.code], [400, 'validation_failed']);
      assert.equal((await plugin.webhooks.get('acme', hook.id)).name, 'CRM');
    });
  });

  describe('dates', () => {
    it('answers recover with an extreme date 400, not 500', async () => {
      const { body: hook } = await request(app).post(`${API}/webhooks`).set(ACME).send(webhookBody()).expect(201);
      for (const since of ['-271821-04-20T00:00:00Z', '+275760-09-13T00:00:00Z', '0001-01-01T00:00:00Z', '1969-12-31T23:59:59Z']) {
        const res = await request(app).post(`${API}/webhooks/${hook.id}/recover`).set(ACME).send({ since });
        assert.deepEqual([res.status, res.body.error?.code], [400, 'validation_failed'], since);
      }
      const fine = await request(app).post(`${API}/webhooks/${hook.id}/recover`).set(ACME).send({ since: '1970-01-01T00:00:00Z' });
      assert.equal(fine.status, 202);
    });

    it('answers a cursor holding an extreme or numeric date 400, not 500', async () => {
      const { body: hook } = await request(app).post(`${API}/webhooks`).set(ACME).send(webhookBody()).expect(201);
      const cursors = [
        [-8640000000000000, 'msg_0123456789abcdefghijkl'],
        [8640000000000000, 'msg_0123456789abcdefghijkl'],
        ['-271821-04-20T00:00:00.000Z', 'msg_0123456789abcdefghijkl'],
        ['+275760-09-13T00:00:00.000Z', 'msg_0123456789abcdefghijkl'],
        [0, 'msg_0123456789abcdefghijkl'],
      ].map((c) => Buffer.from(JSON.stringify(c)).toString('base64url'));
      for (const cursor of cursors) {
        const res = await request(app).get(`${API}/webhooks/${hook.id}/deliveries?cursor=${cursor}`).set(ACME);
        assert.deepEqual([res.status, res.body.error?.code], [400, 'validation_failed'], cursor);
      }
    });
  });
});
