import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { WebhooksPlugin } from '../../plugin/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { eventually, startTestPlugin, TEST_KEY } from '../support/plugin-fixture.js';
import { TestReceiver } from '../support/receiver.js';

const CHILD_SCRIPT = fileURLToPath(new URL('../support/outbox-host-child.ts', import.meta.url));
const COMMITTED_TARGET = 1_000;
/** Each child signs up for a random time in this range (ms) after it is ready, then is killed. */
const LIFETIME_MS = [200, 2_000] as const;

/**
 * The outbox's other half: a host killed (SIGKILL) at random points, over and over, while it
 * commits sign-ups. Whatever the moment of the kill, a user row exists exactly when its event
 * does - a transaction cut short loses both - and every committed user's event is delivered.
 */
describe('transactional outbox: host killed at random points (postgres)', function () {
  this.timeout(180_000);
  const cleanup = cleanupAfterEach();

  it(`loses no event of ${COMMITTED_TARGET}+ committed sign-ups and records none of a cut one`, async () => {
    const receiver = await new TestReceiver().start();
    cleanup(() => receiver.stop());
    const { plugin, connectionString }: { plugin: WebhooksPlugin; connectionString: string } = await startTestPlugin();
    cleanup(() => plugin.stop());
    const db = new pg.Pool({ connectionString, max: 2 });
    cleanup(() => db.end());
    await db.query('CREATE TABLE app_users (id text PRIMARY KEY)');
    await plugin.webhooks.create({ name: 'crm', url: `${receiver.url}/hook`, events: ['USER_CREATED'] }, plugin.context({ tenantId: 'acme' }, 'default'));
    const committed = async () => Number((await db.query('SELECT count(*) FROM app_users')).rows[0].count);

    let kills = 0;
    while ((await committed()) < COMMITTED_TARGET) {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD_SCRIPT], {
        env: { ...process.env, WEBHOOKS_PG_URL: connectionString, WEBHOOKS_KEY_ID: TEST_KEY.id, WEBHOOKS_KEY: TEST_KEY.key, OUTBOX_CHILD_TAG: `c${kills}` },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
      const exited = once(child, 'exit');
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => { if (line === 'ready') resolve(); });
        void exited.then(() => reject(new Error(`child exited before it was ready: ${stderr}`)));
      });
      const [min, max] = LIFETIME_MS;
      await new Promise((resolve) => setTimeout(resolve, min + Math.random() * (max - min)));
      child.kill('SIGKILL');
      await exited;
      kills += 1;
    }

    // The database's truth once every killed connection is gone: users and their events match one to one.
    await eventually(async () => Number((await db.query(
      `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'`)).rows[0].count) === 0);
    const users = (await db.query('SELECT id FROM app_users')).rows.map((r) => r.id as string).sort();
    const events = (await db.query(`SELECT subject FROM webhook_events WHERE type = 'USER_CREATED'`)).rows
      .map((r) => (r.subject as string).slice('user:'.length)).sort();
    assert.ok(users.length >= COMMITTED_TARGET && kills >= 2, `${users.length} users over ${kills} kills`);
    assert.deepEqual(events, users);

    // And every one of them reaches the receiver.
    await eventually(async () => Number((await db.query(
      `SELECT count(*) FROM webhook_deliveries WHERE event_type = 'USER_CREATED' AND status <> 'succeeded'`)).rows[0].count) === 0, 60_000);
    const received = [...new Set(receiver.requests.map((r) => JSON.parse(r.body).data.user.id as string))].sort();
    assert.deepEqual(received, users);
  });
});
