import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import mongoose, { Schema, type Connection } from 'mongoose';
import { Webhook } from 'standardwebhooks';
import request from 'supertest';
import { seedDirectory } from '../../example/demo/seed.js';
import { createHostApp, type HostApp } from '../../example/host-app.js';
import { memoryLogger } from '../../example/host-logger.js';
import { memoryMailer } from '../../example/mail/mailer.js';
import { MongooseUserRepository } from '../../example/users/mongoose-user-repository.js';
import { createWebhooksPlugin, type WebhooksPlugin } from '../../plugin/index.js';
import { mongooseUserPlugin, WEBHOOKS_CONTEXT_LOCAL } from '../../plugin/host/mongoose-user-plugin.js';
import { ForeignTransactionError } from '../../plugin/errors.js';
import type { MongoStore } from '../../plugin/store/mongo/mongo-store.js';
import { transactionSupport, type Capability } from '../support/mongo-deployment.js';
import { eventually, FAST_DELIVERY, TEST_KEY } from '../support/plugin-fixture.js';
import { TestReceiver } from '../support/receiver.js';

/**
 * The mongoose binding against a real MongoDB: the MongoDB leg of the tests. No MongoDB
 * server can run on the machines this project is built on, so it runs only where
 * `MONGODB_URI` names one (a standalone server is enough), e.g.
 * `MONGODB_URI=mongodb://127.0.0.1:27017 npx mocha test/integration/mongoose-user-plugin.test.ts`.
 */
const uri = process.env.MONGODB_URI;
const SKIPPED = 'skipped: set MONGODB_URI to run the mongoose binding against MongoDB';
const SILENT = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function openDatabase(name: string): Promise<Connection> {
  const connection = mongoose.createConnection(uri!, { dbName: `${name}_${process.pid}`, serverSelectionTimeoutMS: 10_000 });
  await connection.asPromise();
  return connection;
}

async function dropDatabase(connection: Connection | undefined): Promise<void> {
  if (!connection) return;
  try {
    await connection.dropDatabase();
  } finally {
    await connection.close();
  }
}

/** Every delivery verifies and carries no credential. */
function assertClean(receiver: TestReceiver, verifier: Webhook): void {
  for (const req of receiver.requests) {
    verifier.verify(req.body, req.headers as Record<string, string>);
    assert.ok(!/scrypt\$|passwordHash|password_hash|totpSecret|TOTPSECRET/.test(req.body), `a delivery leaks a credential: ${req.body}`);
  }
}

if (uri) {
  describe('mongoose binding against MongoDB (MONGODB_URI)', function () {
    this.timeout(60_000);
    let connection: Connection;
    let plugin: WebhooksPlugin;
    let receiver: TestReceiver;
    let verifier: Webhook;
    let webhookId: string;
    /** Events recorded for the test webhook: the binding's post hooks are awaited, so a resolved write has recorded its event. */
    const recordedCount = async () => (await plugin.store.listDeliveries('default', webhookId, { limit: 100 })).length;

    const bodies = () => receiver.requests.map((r) => JSON.parse(r.body));
    const waitForEvent = (type: string, n = 1) => eventually(async () => {
      const hits = bodies().filter((b) => b.event_type === type);
      return hits.length >= n ? hits[n - 1] : undefined;
    });

    before(async () => {
      connection = await openDatabase('webhooks_binding');
      receiver = await new TestReceiver().start();
      plugin = createWebhooksPlugin({
        storage: { mongo: { connection } }, encryptionKeys: [TEST_KEY], egress: { allow: ['127.0.0.0/8'] },
        delivery: FAST_DELIVERY, logger: SILENT,
      });
      await plugin.start();
      const { secret, webhook } = await plugin.webhooks.create({ name: 'r', url: `${receiver.url}/hook`, events: ['USER_*'] }, plugin.context({}, 'default'));
      verifier = new Webhook(secret);
      webhookId = webhook.id;
    });

    after(async () => {
      await plugin?.stop();
      await receiver?.stop();
      await dropDatabase(connection);
    });

    it('emits USER_CREATED, USER_MODIFIED (changed fields) and USER_DELETED from the model\'s own writes', async () => {
      const schema = new Schema({
        tenantId: String, username: String, email: String, firstName: String, passwordHash: String, totpSecret: String,
      }, { timestamps: true });
      schema.plugin(mongooseUserPlugin, { webhooks: () => plugin });
      const User = connection.model('BindingUser', schema);

      const jdoe = new User({ tenantId: 'default', username: 'jdoe', email: 'j@example.com', passwordHash: 'scrypt$hash-1' });
      jdoe.$locals[WEBHOOKS_CONTEXT_LOCAL] = { actor: { id: 'admin-1', type: 'admin' }, request: { ip: '203.0.113.9' } };
      await jdoe.save();
      const created = await waitForEvent('USER_CREATED');
      assert.deepEqual(created.data.user, {
        id: String(jdoe._id), username: 'jdoe', email: 'j@example.com', tenant_id: 'default',
        created_at: jdoe.get('createdAt').toISOString(), updated_at: jdoe.get('updatedAt').toISOString(),
      });
      assert.equal(created.current_context.actor.id, 'admin-1');
      assert.equal(created.current_context.request.ip, '203.0.113.9');

      jdoe.set({ firstName: 'Jane', passwordHash: 'scrypt$hash-2', totpSecret: 'TOTPSECRET' });
      await jdoe.save();
      const modified = await waitForEvent('USER_MODIFIED');
      assert.deepEqual(modified.data.changed_fields, ['firstName']);
      assert.equal(modified.data.user.first_name, 'Jane');

      await User.findOneAndUpdate({ _id: jdoe._id }, { $set: { email: 'jane@example.com' } }, { returnDocument: 'after' });
      const updated = await waitForEvent('USER_MODIFIED', 2);
      assert.deepEqual(updated.data.changed_fields, ['email']);
      assert.equal(updated.data.user.email, 'jane@example.com');

      // Without returnDocument: 'after' mongoose returns the old document; the event must not.
      await User.findByIdAndUpdate(jdoe._id, { $set: { firstName: 'Janet' } });
      const byId = await waitForEvent('USER_MODIFIED', 3);
      assert.deepEqual(byId.data.changed_fields, ['firstName']);
      assert.equal(byId.data.user.first_name, 'Janet');

      await jdoe.deleteOne();
      const deleted = await waitForEvent('USER_DELETED');
      assert.equal(deleted.data.user.id, String(jdoe._id));

      const other = await User.create({ tenantId: 'default', username: 'other', email: 'o@example.com', passwordHash: 'scrypt$x' });
      await User.findOneAndDelete({ _id: other._id });
      const deletedByQuery = await waitForEvent('USER_DELETED', 2);
      assert.equal(deletedByQuery.data.user.username, 'other');

      // A password-only change reports nothing; a missing document emits nothing.
      await waitForEvent('USER_CREATED', 2);
      const before = await recordedCount();
      await User.findOneAndUpdate({ _id: other._id }, { $set: { email: 'nobody' } });
      const quiet = await User.create({ tenantId: 'default', username: 'quiet', passwordHash: 'scrypt$1' });
      await waitForEvent('USER_CREATED', 3);
      quiet.set({ passwordHash: 'scrypt$2' });
      await quiet.save();
      assert.equal(await recordedCount(), before + 1, 'only the USER_CREATED of quiet was recorded');
      assertClean(receiver, verifier);
    });
  });

  describe('mongoose binding in the host\'s transaction (MONGODB_URI with transactions)', function () {
    this.timeout(60_000);
    let connection: Connection;
    let plugin: WebhooksPlugin;
    let receiver: TestReceiver;
    let transactions: Capability;
    let User: mongoose.Model<any>;
    const userEvents = async () => (await (plugin.store as MongoStore).models.events.find({ type: /^USER_/ }, { type: 1, body: 1 }).lean())
      .map((e) => `${e.type} ${JSON.parse(e.body).data.user.username}`).sort();

    before(async function () {
      connection = await openDatabase('webhooks_binding_tx');
      transactions = await transactionSupport(connection);
      if (!transactions.available) return;
      receiver = await new TestReceiver().start();
      plugin = createWebhooksPlugin({
        storage: { mongo: { connection } }, encryptionKeys: [TEST_KEY], egress: { allow: ['127.0.0.0/8'] },
        delivery: FAST_DELIVERY, logger: SILENT,
      });
      await plugin.start();
      await plugin.webhooks.create({ name: 'r', url: `${receiver.url}/hook`, events: ['USER_*'] }, plugin.context({}, 'default'));
      const schema = new Schema({ tenantId: String, username: String, email: String }, { timestamps: true });
      schema.plugin(mongooseUserPlugin, { webhooks: () => plugin });
      User = connection.model('TransactionUser', schema) as unknown as mongoose.Model<any>;
      await User.init();
    });

    beforeEach(function () {
      if (transactions.available) return;
      console.log(`      skipped, this deployment has no transactions: ${transactions.reason}`);
      this.skip();
    });

    after(async () => {
      await plugin?.stop();
      await receiver?.stop();
      await dropDatabase(connection);
    });

    it('writes in a rolled-back transaction leave no event; the same writes committed are each delivered', async () => {
      const existing = await User.create({ tenantId: 'default', username: 'existing', email: 'e@example.com' });
      const gone = await User.create({ tenantId: 'default', username: 'gone', email: 'g@example.com' });
      await receiver.waitFor(2, 10_000);
      const before = await userEvents();
      const writes = async (session: mongoose.mongo.ClientSession, suffix: string) => {
        await new User({ tenantId: 'default', username: `new-${suffix}` }).save({ session });
        await User.findOneAndUpdate({ _id: existing._id }, { $set: { email: `${suffix}@example.com` } }, { session, returnDocument: 'after' });
        const doc = await User.findById(existing._id).session(session);
        doc!.set({ username: `existing-${suffix}` });
        await doc!.save();
        await User.findOneAndDelete({ _id: gone._id }, { session });
      };
      const session = await connection.startSession();
      try {
        session.startTransaction();
        await writes(session, 'rolled-back');
        await session.abortTransaction();
        assert.deepEqual(await userEvents(), before, 'no event of the rolled-back writes exists');
        await connection.transaction((s) => writes(s, 'committed'));
      } finally {
        await session.endSession();
      }
      assert.deepEqual((await userEvents()).filter((e) => !before.includes(e)), [
        'USER_CREATED new-committed', 'USER_DELETED gone', 'USER_MODIFIED existing', 'USER_MODIFIED existing-committed',
      ]);
      await receiver.waitFor(6, 10_000);
      const received = receiver.requests.map((r) => JSON.parse(r.body)).map((b) => `${b.event_type} ${b.data.user.username}`);
      assert.ok(!received.some((r) => r.includes('rolled-back')), received.join('\n'));
    });

    it('a session without a transaction is not passed: the event is recorded on its own', async () => {
      const session = await connection.startSession();
      try {
        await new User({ tenantId: 'default', username: 'sessioned' }).save({ session });
      } finally {
        await session.endSession();
      }
      assert.ok((await userEvents()).includes('USER_CREATED sessioned'));
    });

    it('an event that cannot be recorded fails the write, and connection.transaction() rolls the user back with it', async () => {
      // A session of another MongoClient: the plugin's store cannot write in it.
      const other = await mongoose.createConnection(uri!, { dbName: connection.name, serverSelectionTimeoutMS: 10_000 }).asPromise();
      try {
        const OtherUser = other.model('TransactionUser', User.schema);
        await assert.rejects(other.transaction(async (session) => {
          await new OtherUser({ tenantId: 'default', username: 'orphan' }).save({ session });
        }), ForeignTransactionError);
        assert.equal(await User.countDocuments({ username: 'orphan' }), 0, 'the host\'s write was rolled back');
        assert.ok(!(await userEvents()).includes('USER_CREATED orphan'));
      } finally {
        await other.close();
      }
    });
  });

  describe('example host on MongoDB (MONGODB_URI)', function () {
    this.timeout(60_000);
    let connection: Connection;
    let host: HostApp;
    let server: Server;
    let base: string;
    let receiver: TestReceiver;
    let verifier: Webhook;
    const BEARER = { authorization: 'Bearer mongo-e2e-admin-token' };

    const ofType = (type: string) => receiver.requests.map((r) => JSON.parse(r.body)).filter((b) => b.event_type === type);

    before(async () => {
      connection = await openDatabase('webhooks_example_host');
      receiver = await new TestReceiver().start();
      const users = new MongooseUserRepository(connection);
      const logger = memoryLogger();
      host = await createHostApp({
        users,
        database: { mongoose: connection },
        plugins: [{ root: fileURLToPath(new URL('../../', import.meta.url)), options: { encryptionKeys: [TEST_KEY], egress: { allow: ['127.0.0.0/8'] }, delivery: FAST_DELIVERY } }],
        preferSource: true,
        adminToken: 'mongo-e2e-admin-token',
        sessionSecret: 'mongo-e2e',
        mailer: memoryMailer(),
        logger,
        publicUrl: () => base,
      });
      await seedDirectory(users, 'mongo-admin-password', logger);
      server = host.app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const created = await request(base).post('/admin/webhooks/api/webhooks').set(BEARER)
        .send({ name: 'r', url: `${receiver.url}/hook`, events: ['USER_*', 'ROLE_*'] }).expect(201);
      verifier = new Webhook(created.body.secret);
    });

    after(async () => {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
      await host?.stop();
      await receiver?.stop();
      await dropDatabase(connection);
    });

    it('user events come from the model binding, once each; the flows add the rest', async () => {
      const agent = request.agent(base);
      const signUp = await agent.post('/signup').send({ username: 'mia', password: 'mia-password-1', email: 'mia@example.test' }).expect(201);
      const id = signUp.body.user.id;
      await eventually(async () => ofType('USER_CREATED').some((b) => b.data.user.id === id));
      await agent.post('/login').send({ username: 'mia', password: 'mia-password-1' }).expect(200);
      await agent.patch('/account').send({ last_name: 'Moss' }).expect(200);
      await eventually(async () => ofType('USER_MODIFIED').some((b) => b.data.changed_fields?.includes('lastName')));
      await request(base).post(`/api/admin/users/${id}/roles`).set(BEARER).send({ role: 'admin' }).expect(201);
      await eventually(async () => ofType('ROLE_ASSIGNED').some((b) => b.data.user.roles.includes('admin')));
      await agent.delete('/account').send({ password: 'mia-password-1' }).expect(204);
      await eventually(async () => ofType('USER_DELETED').some((b) => b.data.user.id === id));
      await eventually(async () => ofType('USER_LOGIN').length === 1);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(ofType('USER_CREATED').filter((b) => b.data.user.id === id).length, 1, 'the route does not repeat the binding\'s event');
      assert.equal(ofType('USER_DELETED').filter((b) => b.data.user.id === id).length, 1);
      assertClean(receiver, verifier);
    });
  });
} else {
  describe('mongoose binding against MongoDB', () => {
    it(SKIPPED, function () {
      console.log(`      mongoose binding ${SKIPPED}`);
      this.skip();
    });
  });
}
