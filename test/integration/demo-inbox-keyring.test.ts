import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import request from 'supertest';
import { seedDirectory, seedInboxWebhook } from '../../example/demo/seed.js';
import { createHostApp, type HostApp } from '../../example/host-app.js';
import { memoryLogger } from '../../example/host-logger.js';
import { InboxKeyring } from '../../example/inbox/inbox-keyring.js';
import { InboxStore } from '../../example/inbox/inbox-store.js';
import { memoryMailer } from '../../example/mail/mailer.js';
import { PostgresUserRepository } from '../../example/users/postgres-user-repository.js';
import { eventually, FAST_DELIVERY, TEST_KEY } from '../support/plugin-fixture.js';
import { freshPostgresDatabase } from '../support/postgres-fixture.js';

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADMIN_TOKEN = 'inbox-admin-token-0123456789';
const BEARER = { authorization: `Bearer ${ADMIN_TOKEN}` };
const API = '/admin/webhooks/api';

describe('demo inbox: webhooks created in the tab', function () {
  this.timeout(60_000);
  let pool: pg.Pool;
  let host: HostApp;
  let server: Server;
  let base: string;
  const store = new InboxStore();
  const keyring = new InboxKeyring(() => `${base}/inbox/receive`);

  before(async () => {
    pool = new pg.Pool({ connectionString: await freshPostgresDatabase() });
    const users = new PostgresUserRepository(pool);
    const logger = memoryLogger();
    host = await createHostApp({
      users, database: { postgres: pool },
      plugins: [{ root: PACKAGE_ROOT, options: { encryptionKeys: [TEST_KEY], egress: { allow: ['127.0.0.0/8'] }, delivery: FAST_DELIVERY } }],
      preferSource: true, adminToken: ADMIN_TOKEN, sessionSecret: 'inbox-session-secret',
      mailer: memoryMailer(), logger, publicUrl: () => base,
      inbox: { store, secrets: () => keyring.secrets(), watchAdminApi: keyring.watchAdminApi() },
    });
    await seedDirectory(users, 'inbox-admin-password', logger);
    server = host.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await seedInboxWebhook(host.webhooks, `${base}/inbox/receive`, undefined, logger, (seeded) => keyring.learn(seeded.webhookId, 'Demo inbox', seeded.secret));
  });

  after(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await host?.stop();
    await pool?.end();
  });

  /** Sends a test event to `webhookId` and waits for the inbox to record its delivery. */
  async function testDelivery(webhookId: string) {
    const sent = await request(base).post(`${API}/webhooks/${webhookId}/test`).set(BEARER).expect(200);
    return eventually(async () => store.list('default').find((e) => e.message_id === sent.body.delivery_id), 15_000);
  }

  it('verifies deliveries of a webhook created through the admin API at the inbox URL', async () => {
    const created = await request(base).post(`${API}/webhooks`).set(BEARER)
      .send({ name: 'Made in the tab', url: `${base}/inbox/receive`, events: ['USER_LOGIN'] }).expect(201);
    const entry = await testDelivery(created.body.id);
    assert.equal(entry.verified, true, entry.error ?? '');
    assert.equal(entry.verified_with, 'Made in the tab');
    assert.equal(entry.tenant_id, 'default');
  });

  it('keeps verifying it after its secret is rotated', async () => {
    const created = await request(base).post(`${API}/webhooks`).set(BEARER)
      .send({ name: 'Rotated in the tab', url: `${base}/inbox/receive`, events: ['USER_LOGIN'] }).expect(201);
    const rotated = await request(base).post(`${API}/webhooks/${created.body.id}/rotate-secret`).set(BEARER).send({}).expect(200);
    assert.match(rotated.body.secret, /^whsec_/);
    // Through the overlap the previous secret still signs too: what counts is that the new one is known.
    assert.ok(keyring.secrets().some((s) => s.secret === rotated.body.secret && s.label === 'Rotated in the tab'));
    const entry = await testDelivery(created.body.id);
    assert.equal(entry.verified, true, entry.error ?? '');
    assert.equal(entry.verified_with, 'Rotated in the tab');
  });

  it('does not learn secrets of webhooks that point elsewhere', async () => {
    const created = await request(base).post(`${API}/webhooks`).set(BEARER)
      .send({ name: 'Elsewhere', url: 'http://127.0.0.1:9/hook', events: ['USER_LOGIN'], enabled: false }).expect(201);
    assert.match(created.body.secret, /^whsec_/);
    assert.ok(!keyring.secrets().some((s) => s.secret === created.body.secret));
  });
});
