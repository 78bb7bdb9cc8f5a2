import assert from 'node:assert/strict';
import pg from 'pg';
import { EventNotRecordedError, ForeignTransactionError, ValidationError, type WebhooksPlugin } from '../../plugin/index.js';
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

  it('gives back the number a repeat of an idempotency key took in a racing transaction', async () => {
    const [first, second] = [await hostPool.connect(), await hostPool.connect()];
    try {
      await first.query('BEGIN');
      await second.query('BEGIN');
      const context = { tenantId: TENANT, idempotencyKey: 'signup-race' };
      await plugin.hooks.userCreated({ user: { id: 'u-race' } }, { ...context, transaction: first });
      // The second waits for the first's numbering of the subject, then finds the key used.
      const repeat = plugin.hooks.userCreated({ user: { id: 'u-race' } }, { ...context, transaction: second });
      await eventually(async () => Number((await hostPool.query(`SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].count) === 1);
      await first.query('COMMIT');
      assert.equal((await repeat).duplicate, true);
      await second.query('COMMIT');
    } finally {
      first.release();
      second.release();
    }
    const next = await plugin.hooks.userCreated({ user: { id: 'u-race' } }, { tenantId: TENANT });
    assert.equal(next.sequence, 2);
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

  it('keeps the host\'s own work when the plugin\'s write fails inside its transaction', async () => {
    // A write the database refuses (a trigger standing in for any statement error).
    await hostPool.query(`CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.subject = 'user:poison' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`);
    await hostPool.query('CREATE TRIGGER refuse_poison BEFORE INSERT ON webhook_events FOR EACH ROW EXECUTE FUNCTION refuse_poison()');
    const client = await hostPool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO app_users (id) VALUES ('kept')`);
      await assert.rejects(plugin.hooks.userCreated({ user: { id: 'poison' } }, { tenantId: TENANT, transaction: client }), EventNotRecordedError);
      assert.equal(client.getTransactionStatus(), 'T');
      await plugin.hooks.userCreated({ user: { id: 'kept' } }, { tenantId: TENANT, transaction: client });
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    assert.equal(await count('app_users'), 1);
    assert.equal(await count('webhook_events'), 1);
    // The refused event's number went back with its savepoint.
    assert.equal(Number((await hostPool.query(`SELECT count(*) FROM webhook_subject_sequences WHERE subject = 'user:poison'`)).rows[0].count), 0);
  });

  it('writes an id no subject can hold (too long, NUL) unnumbered rather than fail the transaction', async () => {
    const client = await hostPool.connect();
    try {
      await client.query('BEGIN');
      const long = await plugin.hooks.userCreated({ user: { id: 'x'.repeat(3_200) } }, { tenantId: TENANT, transaction: client });
      const nul = await plugin.hooks.userCreated({ user: { id: 'a\u0000b' } }, { tenantId: TENANT, transaction: client });
      await client.query('COMMIT');
      assert.deepEqual([long.subject, long.sequence, nul.subject, nul.sequence], [null, null, null, null]);
    } finally {
      client.release();
    }
  });

  it('writes to the plugin\'s tables whatever search_path the host sets later', async () => {
    await hostPool.query('CREATE SCHEMA shadow');
    await hostPool.query('CREATE TABLE shadow.webhook_events (LIKE public.webhook_events INCLUDING ALL)');
    await hostPool.query('CREATE TABLE shadow.webhook_deliveries (LIKE public.webhook_deliveries INCLUDING ALL)');
    await hostPool.query('CREATE TABLE shadow.webhook_subject_sequences (LIKE public.webhook_subject_sequences INCLUDING ALL)');
    const client = await hostPool.connect();
    try {
      await client.query('BEGIN');
      await plugin.hooks.userCreated({ user: { id: 'sp-1' } }, { tenantId: TENANT, transaction: client });
      await client.query('SET LOCAL search_path TO shadow');
      await plugin.hooks.userCreated({ user: { id: 'sp-2' } }, { tenantId: TENANT, transaction: client });
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    assert.equal(await count('webhook_events'), 2);
    assert.equal(Number((await hostPool.query('SELECT count(*) FROM shadow.webhook_events')).rows[0].count), 0);
  });

  it('bounds how long other events about a subject wait for a host transaction holding its numbering', async () => {
    const { plugin: quick, connectionString } = await startTestPlugin({ hookTimeoutMs: 400, runWorker: false });
    cleanup(() => quick.stop());
    const db = new pg.Pool({ connectionString, max: 2 });
    cleanup(() => db.end());
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      await quick.hooks.userLogin({ user: { id: 'held' } }, { tenantId: TENANT, transaction: client });
      // Every other login of that user waits for the host's transaction: each gives up at the
      // hook deadline and its statement with it (lock_timeout), freeing its pooled connection
      // (8 of the pool's 10, so none of them waits for a connection first)...
      const waiting = await Promise.allSettled(Array.from({ length: 8 }, () => quick.hooks.userLogin({ user: { id: 'held' } }, { tenantId: TENANT })));
      assert.ok(waiting.every((r) => r.status === 'rejected' && r.reason instanceof EventNotRecordedError));
      // ...so another tenant's events are not starved of connections meanwhile.
      const other = await quick.hooks.userLogin({ user: { id: 'someone' } }, { tenantId: 'beta' });
      assert.equal(other.sequence, 1);
      // And their statements end too, without waiting for the host (lock_timeout): none is left
      // to store its event once the host commits.
      await eventually(async () => Number((await db.query(`SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].count) === 0, 5_000);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    // The refused logins were not stored behind the caller's back once the lock went.
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM webhook_events WHERE subject = 'user:held'`);
    assert.equal(rows[0].n, 1);
  });

  it('numbers no event whose subject the shaper refused as credential-shaped', async () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTEifQ.c2lnbmF0dXJlLWhlcmUtMTIzNDU2Nzg5';
    const result = await plugin.hooks.userCreated({ user: { id: 'u-5' } }, { tenantId: TENANT, subject: `user:${jwt}` });
    assert.deepEqual([result.subject, result.sequence], [null, null]);
    await eventually(async () => receiver.requests.length >= 1);
    const context = JSON.parse(receiver.requests[0].body).current_context;
    assert.deepEqual([context.subject, context.sequence], [null, null]);
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

    it('a pool, or a client that only claims to be in a transaction: PostgreSQL refuses the savepoint', async () => {
      await refused(hostPool, /not inside a transaction/);
      const client = await hostPool.connect();
      try {
        await refused({ query: client.query.bind(client) }, /not inside a transaction/);
        await refused({ query: client.query.bind(client), getTransactionStatus: () => 'T' }, /not inside a transaction/);
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
