import assert from 'node:assert/strict';
import pg from 'pg';
import { execFileSync } from 'node:child_process';
import { startEmbeddedPostgres } from '../../dev/embedded-postgres.js';
import { createWebhooksPlugin, EventNotRecordedError, type WebhooksPlugin } from '../../plugin/index.js';
import { eventually, startTestPlugin, TEST_KEY } from '../support/plugin-fixture.js';
import { freshPostgresDatabase } from '../support/postgres-fixture.js';
import { startBlackHoleDatabase } from '../support/black-hole-database.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { TestReceiver } from '../support/receiver.js';

const TENANT = 'acme';

describe('database faults', function () {
  this.timeout(30_000);
  const cleanup = cleanupAfterEach();

  it('rejects hook calls within hookTimeoutMs when the database accepts connections and never answers', async () => {
    const connectionString = await startBlackHoleDatabase(cleanup);
    const plugin = createWebhooksPlugin({
      storage: { postgres: { connectionString } },
      encryptionKeys: [TEST_KEY],
      hookTimeoutMs: 300,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    const outcomes = await Promise.all(Array.from({ length: 5 }, async () => {
      const started = Date.now();
      const error = await plugin.hooks.userLogin({ user: { _id: 'u-1' } }, { tenantId: TENANT }).then(() => null, (e: unknown) => e);
      return { error, ms: Date.now() - started };
    }));
    for (const { error, ms } of outcomes) {
      assert.ok(error instanceof EventNotRecordedError, `rejected with EventNotRecordedError, got ${String(error)}`);
      assert.equal((error as EventNotRecordedError).code, 'event_not_recorded');
      assert.ok(ms < 5_000, `rejected after ${ms} ms, far beyond hookTimeoutMs`);
    }
  });

  it('survives every one of its connections being terminated, and keeps recording and delivering', async () => {
    const rx = await new TestReceiver().start();
    cleanup(() => rx.stop());
    const { plugin, connectionString } = await startTestPlugin();
    cleanup(() => plugin.stop());
    await plugin.webhooks.create({ name: 'rx', url: `${rx.url}/hook`, events: ['USER_LOGIN'] }, plugin.context({ tenantId: TENANT }, 'default'));
    const admin = new pg.Client({ connectionString });
    await admin.connect();
    cleanup(() => admin.end());
    const database = new URL(connectionString).pathname.slice(1);
    let accepted = 0;
    for (let round = 0; round < 3; round += 1) {
      for (let i = 0; i < 10; i += 1) {
        // A call that meets a connection as it dies may be refused; it is never silently lost.
        await plugin.hooks.userLogin({ user: { _id: `u-${round}-${i}` } }, { tenantId: TENANT }).then(() => { accepted += 1; }, (e: unknown) => {
          assert.ok(e instanceof EventNotRecordedError, String(e));
        });
      }
      const { rowCount } = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
      assert.ok((rowCount ?? 0) > 0, 'the plugin had connections to terminate');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // Still alive (an unhandled 'error' would have ended this process), and still working.
    await plugin.hooks.userLogin({ user: { _id: 'u-after' } }, { tenantId: TENANT });
    accepted += 1;
    await rx.waitFor(accepted, 20_000);
    await eventually(async () => {
      const { rows } = await admin.query("SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'succeeded'");
      return rows[0].n === accepted;
    }, 20_000);
  });

  /** A plugin with a worker on a PostgreSQL server of its own, so the test can stop or freeze that server. */
  async function pluginOnOwnServer(): Promise<{ plugin: WebhooksPlugin; server: Awaited<ReturnType<typeof startEmbeddedPostgres>>; url: string }> {
    const server = await startEmbeddedPostgres();
    const url = await server.createDatabase('outage');
    const { plugin } = await startTestPlugin({ connectionString: url, hookTimeoutMs: 500 });
    return { plugin, server, url };
  }

  const settlesWithin = (work: Promise<unknown>, ms: number) =>
    Promise.race([work.then(() => true, () => 'rejected'), new Promise((resolve) => setTimeout(() => resolve(false), ms))]);

  it('stops cleanly with the database down: stop() resolves, hook calls reject', async () => {
    const { plugin, server } = await pluginOnOwnServer();
    await server.stop();
    await assert.rejects(plugin.hooks.userLogin({ user: { _id: 'u-1' } }, { tenantId: TENANT }), EventNotRecordedError);
    assert.equal(await settlesWithin(plugin.stop(), 25_000), true, 'stop() resolved');
  });

  it('stops within its limits when the database is frozen (accepts connections, never answers)', async function () {
    this.timeout(60_000);
    const { plugin, server, url } = await pluginOnOwnServer();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const { rows } = await admin.query('SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()');
    await admin.end();
    const backends = rows.map((r) => Number(r.pid));
    const postmaster = Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(backends[0])]).toString().trim());
    const frozen = [postmaster, ...backends];
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    try {
      assert.equal(await settlesWithin(plugin.hooks.userLogin({ user: { _id: 'u-1' } }, { tenantId: TENANT }), 5_000), 'rejected',
        'a hook call rejects (hookTimeoutMs 500) rather than hang');
      assert.equal(await settlesWithin(plugin.stop(), 30_000), true, 'stop() resolved within its step limits');
    } finally {
      for (const pid of frozen) {
        try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ }
      }
      await server.stop().catch(() => undefined);
    }
  });

  /**
   * A host pool without connectionTimeoutMillis, whose only connection is held: every store
   * call of the plugin waits for a connection for ever, as during an outage.
   */
  async function pluginOnStarvedHostPool() {
    const connectionString = await freshPostgresDatabase();
    const pool = new pg.Pool({ connectionString, max: 1 });
    pool.on('error', () => undefined);
    const plugin = createWebhooksPlugin({
      storage: { postgres: { pool } }, encryptionKeys: [TEST_KEY], runWorker: false, hookTimeoutMs: 50,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    await plugin.start();
    await plugin.webhooks.create({ name: 'rx', url: 'https://crm.example.com/hook', events: ['USER_LOGIN'] }, plugin.context({ tenantId: TENANT }, 'default'));
    await plugin.hooks.userLogin({ user: { _id: 'warm' } }, { tenantId: TENANT }); // the tenant's webhooks are cached now
    const held = await pool.connect();
    cleanup(async () => {
      held.release();
      await plugin.stop();
      await pool.end();
    });
    return { plugin, pool };
  }

  const login = (plugin: WebhooksPlugin, n: number) =>
    plugin.hooks.userLogin({ user: { _id: `u-${n}` } }, { tenantId: TENANT }).then(() => null, (e: unknown) => e as EventNotRecordedError);

  it('refuses hook calls at once while 1,000 writes of earlier, timed-out calls still wait for the store', async () => {
    const { plugin, pool } = await pluginOnStarvedHostPool();
    const timedOut = await Promise.all(Array.from({ length: 1_000 }, (_, n) => login(plugin, n)));
    assert.ok(timedOut.every((e) => e instanceof EventNotRecordedError && (e.cause as { code?: string }).code === 'store_timeout'));
    assert.equal(pool.waitingCount, 1_000, 'their writes still wait for a connection');
    const refused = await login(plugin, 1_000);
    assert.ok(refused instanceof EventNotRecordedError);
    assert.equal((refused.cause as { code?: string }).code, 'store_backlog', 'refused without queueing another write');
    assert.equal(pool.waitingCount, 1_000);
  });

  it('shares one waiting read of a tenant\'s webhooks between hook calls, however long the store hangs', async () => {
    const { plugin, pool } = await pluginOnStarvedHostPool();
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the cached webhooks expire
    for (let round = 0; round < 3; round += 1) {
      await Promise.all(Array.from({ length: 10 }, (_, n) => login(plugin, round * 10 + n)));
      await new Promise((resolve) => setTimeout(resolve, 1_100));
    }
    assert.equal(pool.waitingCount, 1, 'one read waits, not one per tenant per second');
  });
});
