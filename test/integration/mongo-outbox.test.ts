import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import { ForeignTransactionError } from '../../plugin/index.js';
import { MongoStore } from '../../plugin/store/mongo/mongo-store.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { transactionSupport, type Capability } from '../support/mongo-deployment.js';
import { eventually, startOnMongoConnection } from '../support/plugin-fixture.js';
import { deliveryRecord, eventRecord, webhookRecord } from '../support/records.js';

/**
 * The transactional outbox on MongoDB (docs/mongodb.md): with `context.transaction` (a
 * ClientSession with a transaction in progress) the event, its deliveries and the subject's
 * number are written in the host's transaction. Runs where MONGODB_URI names a server. The
 * refusals need no transaction support and run on any deployment; the rest needs multi-document
 * transactions (a replica set or a sharded cluster) and is skipped, with the reason, where a
 * trial transaction shows there are none (test/support/mongo-deployment.ts). The SIGKILL half
 * of the target is test/chaos/mongo-outbox-sigkill.test.ts.
 */
const uri = process.env.MONGODB_URI;
const SKIPPED = 'skipped: set MONGODB_URI to run the MongoDB outbox tests';
const ROLLED_BACK_CALLS = 1_000;

let databases = 0;

if (uri) {
  describe('MongoDB transactional outbox (MONGODB_URI)', function () {
    this.timeout(180_000);
    const cleanup = cleanupAfterEach();
    let transactions: Capability;

    before(async () => {
      const probe = await mongoose.createConnection(uri, { dbName: `webhooks_tx_probe_${process.pid}`, serverSelectionTimeoutMS: 10_000 }).asPromise();
      try {
        transactions = await transactionSupport(probe);
      } finally {
        await probe.dropDatabase().catch(() => undefined);
        await probe.close();
      }
    });

    const needTransactions = (ctx: Mocha.Context) => {
      if (transactions.available) return;
      console.log(`      skipped, this deployment has no transactions: ${transactions.reason}`);
      ctx.skip();
    };

    async function connect(dbName?: string): Promise<mongoose.Connection> {
      const name = dbName ?? `webhooks_tx_${process.pid}_${(databases += 1)}`;
      const connection = await mongoose.createConnection(uri!, { dbName: name, serverSelectionTimeoutMS: 10_000 }).asPromise();
      cleanup(async () => {
        if (!dbName) await connection.dropDatabase().catch(() => undefined);
        await connection.close(true);
      });
      return connection;
    }

    async function startSession(connection: mongoose.Connection): Promise<mongoose.mongo.ClientSession> {
      const session = await connection.startSession();
      cleanup(async () => {
        if (session.inTransaction()) await session.abortTransaction();
        await session.endSession();
      });
      return session;
    }

    /** A store on a fresh database with one webhook, and an event about a subject with one delivery to it. */
    async function storeWithEvent() {
      const connection = await connect();
      const store = new MongoStore({ connection });
      await store.init();
      const webhook = webhookRecord();
      await store.insertWebhook(webhook);
      const event = eventRecord({ subject: 'user:u-1' });
      return { connection, store, event, deliveries: [deliveryRecord(event, webhook)] };
    }

    /** Nothing of the event exists: no event, no delivery, no number taken for its subject. */
    async function assertNothingWritten(store: MongoStore, eventId: string): Promise<void> {
      assert.equal(await store.findEvent('tenant-a', eventId), null, 'no event');
      assert.equal(await store.models.deliveries.countDocuments({ eventId }), 0, 'no delivery');
      assert.equal(await store.models.sequences.countDocuments({}), 0, 'no subject number');
    }

    describe('recordEvent with options.transaction', () => {
      it('refuses a session of another MongoClient, a session with no transaction and a non-session object, before anything is written', async () => {
        const { connection, store, event, deliveries } = await storeWithEvent();
        const otherClients = await startSession(await connect(connection.name));
        otherClients.startTransaction(); // a transaction, but on another MongoClient: its writes are not the store's
        const noTransaction = await startSession(connection);
        const refusals: Array<[string, object, RegExp]> = [
          ['a session of another MongoClient', otherClients, /another MongoClient/],
          ['a session with no transaction in progress', noTransaction, /no transaction in progress/],
          ['a plain object', {}, /takes a ClientSession/],
          ['a pg client', { query: async () => ({ rows: [] }) }, /takes a ClientSession/],
        ];
        for (const [what, transaction, reason] of refusals) {
          await assert.rejects(store.recordEvent(event, deliveries, { transaction }),
            (error) => error instanceof ForeignTransactionError && reason.test(error.message), what);
          await assertNothingWritten(store, event.id);
        }
      });

      it('rolled back: neither the event, its deliveries nor its subject\'s number exist', async function () {
        needTransactions(this);
        const { connection, store, event, deliveries } = await storeWithEvent();
        const session = await startSession(connection);
        session.startTransaction();
        const result = await store.recordEvent(event, deliveries, { transaction: session });
        assert.deepEqual(result, { eventId: event.id, created: true, deliveryCount: 1, sequence: 1 });
        // Visible in the transaction, invisible outside it until it commits.
        assert.equal(await store.models.deliveries.countDocuments({ eventId: event.id }).session(session), 1);
        assert.equal(await store.models.deliveries.countDocuments({ eventId: event.id }), 0);
        await session.abortTransaction();
        await assertNothingWritten(store, event.id);
        assert.deepEqual(await store.claimDueDeliveries({ owner: 'w', now: new Date(Date.now() + 60_000), leaseMs: 60_000, limit: 10 }), []);
      });

      it('committed: the event and its deliveries exist, numbered in the transaction, and a worker can claim them', async function () {
        needTransactions(this);
        const { connection, store, event, deliveries } = await storeWithEvent();
        const session = await startSession(connection);
        session.startTransaction();
        await store.recordEvent(event, deliveries, { transaction: session });
        await session.commitTransaction();
        assert.equal((await store.findEvent('tenant-a', event.id))?.sequence, 1);
        const claimed = await store.claimDueDeliveries({ owner: 'w', now: new Date(Date.now() + 60_000), leaseMs: 60_000, limit: 10 });
        assert.deepEqual(claimed.map((c) => [c.delivery.id, c.delivery.sequence]), [[deliveries[0]!.id, 1]]);
        // The same ids again, in a new transaction: a duplicate, nothing written twice.
        const again = await startSession(connection);
        again.startTransaction();
        const repeated = await store.recordEvent(event, deliveries, { transaction: again });
        await again.commitTransaction();
        assert.deepEqual(repeated, { eventId: event.id, created: false, deliveryCount: 1, sequence: 1 });
        assert.equal(await store.models.deliveries.countDocuments({ eventId: event.id }), 1);
      });
    });

    describe('through the hooks, with a worker', () => {
      it('a hook call with a session of another MongoClient fails with ForeignTransactionError and records nothing', async () => {
        const connection = await connect();
        const { plugin, receiver } = await startOnMongoConnection(connection, cleanup);
        await plugin.webhooks.create({ name: 'crm', url: `${receiver.url}/crm`, events: ['USER_CREATED'] }, plugin.context({}, 'default'));
        const foreign = await startSession(await connect(connection.name));
        foreign.startTransaction();
        await assert.rejects(plugin.hooks.userCreated({ user: { id: 'u-1' } }, { transaction: foreign }), ForeignTransactionError);
        assert.equal(await (plugin.store as MongoStore).models.events.countDocuments({ type: 'USER_CREATED' }), 0);
      });

      it(`${ROLLED_BACK_CALLS.toLocaleString('en')} hook calls in transactions that roll back deliver nothing; one committed after them is delivered`, async function () {
        needTransactions(this);
        const connection = await connect();
        const { plugin, receiver } = await startOnMongoConnection(connection, cleanup);
        await plugin.webhooks.create({ name: 'crm', url: `${receiver.url}/crm`, events: ['USER_CREATED'] }, plugin.context({}, 'default'));
        // Created beforehand: MongoDB before 4.4 creates no collection inside a transaction.
        const hostUsers = await connection.createCollection('host_users');
        const session = await startSession(connection);
        for (let i = 0; i < ROLLED_BACK_CALLS; i += 1) {
          session.startTransaction();
          await hostUsers.insertOne({ _id: `rolled-back-${i}` } as never, { session });
          const recorded = await plugin.hooks.userCreated({ user: { id: `rolled-back-${i}` } }, { transaction: session });
          assert.equal(recorded.deliveries, 1);
          await session.abortTransaction();
        }
        const models = (plugin.store as MongoStore).models;
        assert.equal(await hostUsers.countDocuments({}), 0);
        assert.equal(await models.events.countDocuments({ type: 'USER_CREATED' }), 0, 'no event outlived its rollback');
        assert.equal(await models.deliveries.countDocuments({ eventType: 'USER_CREATED' }), 0, 'no delivery outlived its rollback');

        // The worker is running and delivering: the one committed call arrives, and only it.
        session.startTransaction();
        await hostUsers.insertOne({ _id: 'committed' } as never, { session });
        await plugin.hooks.userCreated({ user: { id: 'committed' } }, { transaction: session });
        await session.commitTransaction();
        await receiver.waitFor(1, 15_000);
        await eventually(async () => (await models.deliveries.countDocuments({ status: 'pending' })) === 0);
        assert.deepEqual(receiver.requests.map((r) => JSON.parse(r.body).data.user.id), ['committed']);
      });

      it('committed hook calls are each delivered; until the commit nothing of them is visible outside the transaction', async function () {
        needTransactions(this);
        const connection = await connect();
        const { plugin, receiver } = await startOnMongoConnection(connection, cleanup);
        await plugin.webhooks.create({ name: 'crm', url: `${receiver.url}/crm`, events: ['USER_CREATED'] }, plugin.context({}, 'default'));
        const session = await startSession(connection);
        session.startTransaction();
        for (let i = 0; i < 20; i += 1) await plugin.hooks.userCreated({ user: { id: `u-${i}` } }, { transaction: session });
        // Uncommitted, a worker cannot see them.
        assert.equal(await plugin.store.nextDueAt(), null);
        assert.equal(await (plugin.store as MongoStore).models.events.countDocuments({ type: 'USER_CREATED' }), 0);
        await session.commitTransaction();
        await receiver.waitFor(20, 15_000);
        const ids = receiver.requests.map((r) => JSON.parse(r.body).data.user.id).sort();
        assert.deepEqual(ids, Array.from({ length: 20 }, (_, i) => `u-${i}`).sort());
      });
    });
  });
} else {
  describe('MongoDB transactional outbox', () => {
    it(SKIPPED, function () {
      console.log(`      MongoDB outbox ${SKIPPED}`);
      this.skip();
    });
  });
}
