import assert from 'node:assert/strict';
import pg from 'pg';
import { ForeignTransactionError, ValidationError, type WebhooksPlugin } from '../../plugin/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { eventually, startTestPlugin } from '../support/plugin-fixture.js';
import { TestReceiver } from '../support/receiver.js';

const TENANT = 'acme';
const ROLLED_BACK_CALLS = 1_000;
const PARALLEL_CLIENTS = 10;

/**
 * The transactional outbox on PostgreSQL: a hook given the host's client inside BEGIN writes
 * the event and its deliveries in the host's transaction. The host's own table here is a
 * stand-in for its users collection; "the change" is a row in it.
 */
describe('transactional outbox (postgres)', function () {
  this.timeout(60_000);
  const cleanup = cleanupAfterEach();
  let plugin: WebhooksPlugin;
  let hostPool: pg.Pool;
  let receiver: TestReceiver;

  beforeEach(async () => {
    receiver = await new TestReceiver().start();
    cleanup(() => receiver.stop());
    // A poll interval far beyond every wait below: a delivery that arrives was woken by the
    // commit's announcement, not found by a poll.
    const started = await startTestPlugin({ delivery: { pollIntervalMs: 120_000 } });
    plugin = started.plugin;
    cleanup(() => plugin.stop());
    hostPool = new pg.Pool({ connectionString: started.connectionString, max: PARALLEL_CLIENTS + 2 });
    cleanup(() => hostPool.end());
    await hostPool.query('CREATE TABLE app_users (id text PRIMARY KEY)');
    await plugin.webhooks.create({ name: 'crm', url: `${receiver.url}/hook`, events: ['USER_CREATED'] }, plugin.context({ tenantId: TENANT }, 'default'));
  });

  /** The host's sign-up: its row and its event in one transaction, then COMMIT or ROLLBACK. */
  async function signUp(client: pg.PoolClient, id: string, outcome: 'COMMIT' | 'ROLLBACK') {
    await client.query('BEGIN');
    try {
      await client.query('INSERT INTO app_users (id) VALUES ($1)', [id]);
      const result = await plugin.hooks.userCreated({ user: { id, username: id } }, { tenantId: TENANT, transaction: client });
      await client.query(outcome);
      return result;
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  }

  /** Rows about users (the webhook's own WEBHOOK_CREATED audit event is left out). */
  const count = async (table: string) => Number((await hostPool.query(
    table === 'app_users' ? 'SELECT count(*) FROM app_users' : `SELECT count(*) FROM ${table} WHERE subject LIKE 'user:%'`)).rows[0].count);
  const receivedUserIds = () => receiver.requests.map((r) => JSON.parse(r.body).data.user.id as string);

  it(`delivers nothing for ${ROLLED_BACK_CALLS} hook calls whose transaction rolled back`, async () => {
    const clients = await Promise.all(Array.from({ length: PARALLEL_CLIENTS }, () => hostPool.connect()));
    try {
      await Promise.all(clients.map(async (client, c) => {
        for (let i = c; i < ROLLED_BACK_CALLS; i += PARALLEL_CLIENTS) {
          const result = await signUp(client, `rolled-back-${i}`, 'ROLLBACK');
          assert.equal(result.deliveries, 1);
        }
      }));
      // A committed sign-up after them: once it has arrived, the worker has run past every
      // rolled-back call (their rows would have been due first).
      await signUp(clients[0], 'committed-0', 'COMMIT');
    } finally {
      for (const client of clients) client.release();
    }
    await eventually(async () => receiver.requests.length >= 1);
    assert.deepEqual(receivedUserIds(), ['committed-0']);
    assert.equal(await count('webhook_events'), 1);
    assert.equal(await count('webhook_deliveries'), 1);
    // Rolled back with everything else: no subject was given a number.
    assert.equal(await count('webhook_subject_sequences'), 1);
    assert.equal(await count('app_users'), 1);
  });

  it('writes nothing a reader can see before the commit, and wakes the worker on commit', async () => {
    const client = await hostPool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO app_users (id) VALUES ('u-1')`);
      const result = await plugin.hooks.userCreated({ user: { id: 'u-1' } }, { tenantId: TENANT, transaction: client });
      assert.deepEqual([result.subject, result.sequence, result.duplicate], ['user:u-1', 1, false]);
      // Inside the transaction the event exists; outside it does not, so no worker can take it.
      assert.equal(Number((await client.query(`SELECT count(*) FROM webhook_events WHERE subject = 'user:u-1'`)).rows[0].count), 1);
      assert.equal(await count('webhook_events'), 0);
      assert.equal(await count('webhook_deliveries'), 0);
      assert.equal(receiver.requests.length, 0);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await eventually(async () => receiver.requests.length >= 1);
    assert.deepEqual(receivedUserIds(), ['u-1']);
    const body = JSON.parse(receiver.requests[0].body);
    assert.deepEqual([body.current_context.subject, body.current_context.sequence], ['user:u-1', 1]);
  });

  it('gives a rolled-back event\'s number to the next event about the subject', async () => {
    const client = await hostPool.connect();
    try {
      await client.query('BEGIN');
      await plugin.hooks.userCreated({ user: { id: 'u-9' } }, { tenantId: TENANT, transaction: client });
      await client.query('ROLLBACK');
      const kept = await plugin.hooks.userCreated({ user: { id: 'u-9' } }, { tenantId: TENANT });
      assert.equal(kept.sequence, 1);
    } finally {
      client.release();
    }
  });

  it('treats a repeated idempotency key inside the transaction as a duplicate', async () => {
    const client = await hostPool.connect();
    try {
      await client.query('BEGIN');
      const context = { tenantId: TENANT, transaction: client, idempotencyKey: 'signup-u-3' };
      const first = await plugin.hooks.userCreated({ user: { id: 'u-3' } }, context);
      const again = await plugin.hooks.userCreated({ user: { id: 'u-3' } }, context);
      await client.query('COMMIT');
      assert.deepEqual([again.duplicate, again.event_id, again.sequence], [true, first.event_id, first.sequence]);
    } finally {
      client.release();
    }
    assert.equal(await count('webhook_events'), 1);
  });

  describe('refuses a transaction it cannot write in, and leaves the host\'s transaction usable', () => {
    async function refused(transaction: unknown, expected: RegExp) {
      await assert.rejects(
        plugin.hooks.userCreated({ user: { id: 'u-x' } }, { tenantId: TENANT, transaction: transaction as pg.PoolClient }),
        (error: unknown) => error instanceof ForeignTransactionError && expected.test(error.message),
      );
      assert.equal(await count('webhook_events'), 0);
    }

    it('a client of another database', async () => {
      // The same tables, created by a store of its own: only the database tells them apart.
      const { plugin: elsewhere, connectionString } = await startTestPlugin({ runWorker: false });
      cleanup(() => elsewhere.stop());
      const other = new pg.Client({ connectionString });
      await other.connect();
      cleanup(() => other.end());
      await other.query('BEGIN');
      await refused(other, /another database/);
      // The check failed no statement: the host's transaction goes on.
      assert.equal(other.getTransactionStatus(), 'T');
      await other.query('SELECT 1');
      await other.query('ROLLBACK');
    });

    it('a client outside BEGIN, or in a transaction that already failed', async () => {
      const client = await hostPool.connect();
      try {
        await refused(client, /not inside a transaction/);
        await client.query('BEGIN');
        await client.query('SELECT 1/0').catch(() => undefined);
        await refused(client, /already failed/);
        await client.query('ROLLBACK');
      } finally {
        client.release();
      }
    });

    it('something that is no client at all', async () => {
      await refused({}, /pg Client/);
      await assert.rejects(
        plugin.hooks.userCreated({ user: { id: 'u-x' } }, { tenantId: TENANT, transaction: 42 as unknown as pg.PoolClient }),
        ValidationError,
      );
    });
  });
});
