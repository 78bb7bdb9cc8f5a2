import assert from 'node:assert/strict';
import { createWebhooksPlugin, type WebhooksPlugin } from '../../plugin/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { FAST_DELIVERY, TEST_KEY } from '../support/plugin-fixture.js';
import { freshPostgresDatabase } from '../support/postgres-fixture.js';
import { TestReceiver } from '../support/receiver.js';

/**
 * Several worker instances on one database: what several worker processes (a scale-out) do.
 * Each instance here has its own pool and its own Agenda, as a process of its own would.
 */
describe('several worker instances on one PostgreSQL database', function () {
  this.timeout(30_000);
  const cleanup = cleanupAfterEach();

  function worker(connectionString: string, delivery: Record<string, unknown> = {}): WebhooksPlugin {
    const plugin = createWebhooksPlugin({
      storage: { postgres: { connectionString } }, encryptionKeys: [TEST_KEY],
      egress: { allow: ['127.0.0.0/8'], privateResponseBodies: true },
      delivery: { ...FAST_DELIVERY, ...delivery },
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    cleanup(() => plugin.stop());
    return plugin;
  }

  it('start together on a fresh database, none failing on another creating the same tables', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    cleanup(async () => process.off('unhandledRejection', onUnhandled));
    const db = await freshPostgresDatabase();
    const workers = Array.from({ length: 4 }, () => worker(db));
    const started = await Promise.allSettled(workers.map((w) => w.start()));
    // Agenda connects from its constructor and leaves that promise unhandled: give it a moment to surface.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(started.map((s) => s.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    assert.deepEqual(unhandled.map(String), []);
  });

  it('a worker busy delivering leaves the wake-up of one that just started to that one', async () => {
    // Slow answers keep the first worker's pump busy for the whole test.
    const receiver = await new TestReceiver().start();
    cleanup(() => receiver.stop());
    receiver.respondWith(async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      res.writeHead(200).end('ok');
    });
    const db = await freshPostgresDatabase();
    // Polls far apart: the second worker's only wake-up is the one its start() gives itself.
    const slowPolls = { pollIntervalMs: 20_000, leaseMs: 30_000, timeoutMs: 5_000 };
    const busy = worker(db, slowPolls);
    await busy.start();
    const ctx = busy.context({ tenantId: 't' }, 'default');
    await busy.webhooks.create({ name: 'slow', url: `${receiver.url}/slow`, events: ['USER_CREATED'] }, ctx);
    for (let i = 0; i < 200; i += 1) await busy.hooks.userCreated({ user: { id: `u${i}` } }, { tenantId: 't' });
    await receiver.waitFor(1, 5_000);

    const idle = worker(db, slowPolls);
    let claimedByIdle = 0;
    const claim = idle.store.claimDueDeliveries.bind(idle.store);
    idle.store.claimDueDeliveries = async (options) => {
      const rows = await claim(options);
      claimedByIdle += rows.length;
      return rows;
    };
    await idle.start();
    const deadline = Date.now() + 5_000;
    while (claimedByIdle === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(claimedByIdle > 0, 'the second worker claimed nothing: its wake-up went to the busy one');
  });
});
