import assert from 'node:assert/strict';
import { createWebhooksPlugin } from '../../plugin/index.js';
import type { WebhookStore } from '../../plugin/store/store-port.js';
import { startBlackHoleDatabase } from '../support/black-hole-database.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { eventually, startTestPlugin, TEST_KEY } from '../support/plugin-fixture.js';

const TENANT = 'acme';
/** Nothing listens on port 1: deliveries there stay pending between retries. */
const NOTHING_LISTENS = 'http://127.0.0.1:1/hook';

describe('plugin.health()', function () {
  this.timeout(30_000);
  const cleanup = cleanupAfterEach();

  it('reports a healthy plugin: store reachable, worker running, the backlog and its oldest age', async () => {
    const { plugin } = await startTestPlugin({ delivery: { retryScheduleMs: [0, 60_000] } });
    cleanup(() => plugin.stop());
    const empty = await plugin.health();
    assert.equal(empty.status, 'ok');
    assert.equal(empty.store.reachable, true);
    assert.equal(typeof empty.store.latencyMs, 'number');
    assert.deepEqual(empty.worker, { running: true });
    assert.deepEqual(empty.backlog, { pending: 0, oldestPendingAgeMs: null });
    assert.equal(empty.circuitsOpen, 0);

    await plugin.webhooks.create({ name: 'down', url: NOTHING_LISTENS, events: ['USER_CREATED'] }, plugin.context({ tenantId: TENANT }, 'default'));
    await plugin.hooks.userCreated({ user: { _id: 'u-1' } }, { tenantId: TENANT });
    await plugin.hooks.userCreated({ user: { _id: 'u-2' } }, { tenantId: TENANT });
    const busy = await eventually(async () => {
      const h = await plugin.health();
      return h.backlog.pending === 2 && (h.backlog.oldestPendingAgeMs ?? -1) >= 0 ? h : null;
    });
    assert.equal(busy.status, 'ok', 'a failing endpoint is not the plugin failing');
    await plugin.stop();
    const stopped = await plugin.health();
    assert.equal(stopped.worker.running, false);
  });

  it('says the store is unreachable within hookTimeoutMs when the database never answers, and never hangs', async () => {
    const connectionString = await startBlackHoleDatabase(cleanup);
    const plugin = createWebhooksPlugin({
      storage: { postgres: { connectionString } },
      encryptionKeys: [TEST_KEY],
      hookTimeoutMs: 300,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    cleanup(() => plugin.stop());
    const started = Date.now();
    const health = await plugin.health();
    const ms = Date.now() - started;
    assert.equal(health.status, 'down');
    assert.equal(health.store.reachable, false);
    assert.equal(health.store.latencyMs, null);
    assert.deepEqual(health.backlog, { pending: null, oldestPendingAgeMs: null });
    assert.ok(ms < 2_000, `answered after ${ms} ms; hookTimeoutMs is 300`);
    assert.ok(!JSON.stringify(health).includes('u:p@'), 'no credential of the connection string');
  });

  it('gives up on a store whose query hangs after hookTimeoutMs (a connected database that stalled)', async () => {
    // The pool's connect timeout covers a black hole; a query on a live connection that never
    // returns is only bounded by health()'s own deadline.
    const stalled = { summarizeBacklog: () => new Promise<never>(() => undefined) } as unknown as WebhookStore;
    const plugin = createWebhooksPlugin({
      storage: { store: stalled },
      encryptionKeys: [TEST_KEY],
      hookTimeoutMs: 200,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    const started = Date.now();
    const health = await plugin.health();
    const ms = Date.now() - started;
    assert.equal(health.store.reachable, false);
    assert.equal(health.status, 'down');
    assert.ok(ms >= 150 && ms < 1_500, `answered after ${ms} ms; hookTimeoutMs is 200`);
  });
});
