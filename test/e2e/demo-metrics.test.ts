import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import request from 'supertest';
import { createHostApp, type HostApp } from '../../example/host-app.js';
import { memoryLogger } from '../../example/host-logger.js';
import { memoryMailer } from '../../example/mail/mailer.js';
import { PostgresUserRepository } from '../../example/users/postgres-user-repository.js';
import { eventually, FAST_DELIVERY, TEST_KEY } from '../support/plugin-fixture.js';
import { freshPostgresDatabase } from '../support/postgres-fixture.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { TestReceiver } from '../support/receiver.js';

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADMIN_TOKEN = 'metrics-admin-token-0123456789';

describe('the demo host serves the plugin\'s metrics at GET /metrics', function () {
  this.timeout(60_000);
  let pool: pg.Pool;
  let host: HostApp;
  let receiver: TestReceiver;

  before(async () => {
    receiver = await new TestReceiver().start();
    pool = new pg.Pool({ connectionString: await freshPostgresDatabase() });
    host = await createHostApp({
      users: new PostgresUserRepository(pool),
      database: { postgres: pool },
      plugins: [{ root: PACKAGE_ROOT, options: { encryptionKeys: [TEST_KEY], egress: { allow: ['127.0.0.0/8'] }, delivery: FAST_DELIVERY } }],
      preferSource: true,
      adminToken: ADMIN_TOKEN,
      sessionSecret: 'metrics-session-secret',
      mailer: memoryMailer(),
      logger: memoryLogger(),
      publicUrl: () => 'http://127.0.0.1',
    });
  });

  after(async () => {
    await host?.stop();
    await pool?.end();
    await receiver?.stop();
  });

  it('refuses a scrape without the admin bearer token, or with a wrong one', async () => {
    const anonymous = await request(host.app).get('/metrics').expect(401);
    assert.doesNotMatch(anonymous.text, /webhooks_/);
    await request(host.app).get('/metrics').set({ authorization: 'Bearer not-the-token' }).expect(401);
  });

  it('answers the admin bearer token with the delivery counters', async () => {
    const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
    await request(host.app).post('/admin/webhooks/api/webhooks').set(bearer)
      .send({ name: 'metrics receiver', url: `${receiver.url}/hook`, events: ['USER_CREATED'] }).expect(201);
    const webhook = (await host.webhooks.store.listWebhooks('default'))[0];
    await host.webhooks.hooks.userCreated({ user: { _id: 'u-1', username: 'metrics-user' } }, { tenantId: 'default' });
    await eventually(async () => (await host.webhooks.store.listDeliveries('default', webhook.id, { status: 'succeeded', limit: 10 })).length === 1);
    const res = await request(host.app).get('/metrics').set(bearer).expect(200);
    assert.match(res.headers['content-type'], /^text\/plain/);
    const samples = parsePrometheusText(res.text);
    assert.equal(sampleValue(samples, 'webhooks_delivery_attempts_total', { outcome: 'success' }), 1);
    assert.equal(sampleValue(samples, 'webhooks_webhooks', { state: 'enabled' }), 1);
  });
});
