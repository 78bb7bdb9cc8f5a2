import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import { createWebhooksPlugin, type WebhooksPlugin } from '../../plugin/index.js';
import { ChangeStreamsUnavailableError } from '../../plugin/store/mongo/mongo-notifications.js';
import { MongoStore } from '../../plugin/store/mongo/mongo-store.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { changeStreamSupport, type Capability } from '../support/mongo-deployment.js';
import { eventually, FAST_DELIVERY, TEST_KEY } from '../support/plugin-fixture.js';
import { TestReceiver } from '../support/receiver.js';
import { deliveryRecord, eventRecord, webhookRecord } from '../support/records.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/**
 * Waking idle workers on MongoDB (docs/mongodb.md): a change stream on the deliveries collection
 * where the deployment has change streams (a replica set or a sharded cluster), polling where it
 * has not. Runs where MONGODB_URI names a server; each test needing one answer or the other is
 * skipped, with the reason, on a deployment that gives the other (the trial in
 * test/support/mongo-deployment.ts decides, not the store's own detection).
 */
const uri = process.env.MONGODB_URI;
const SKIPPED = 'skipped: set MONGODB_URI to run the MongoDB wake-up tests';
const QUIET = { info: () => undefined, warn: () => undefined, error: () => undefined };
/** Worker polls this far apart, so only a wake-up explains a delivery well before it. */
const SLOW_POLLS = { pollIntervalMs: 10_000, leaseMs: 20_000 };

let databases = 0;

/** MONGODB_URI with its hosts replaced by the proxy's, connecting to that one server directly. */
function throughProxy(proxy: TcpProxy): string {
  const url = new URL(uri!.replace(/^(mongodb:\/\/(?:[^@/]*@)?)[^/?]*/, (_, start: string) => `${start}127.0.0.1:${proxy.port}`));
  url.searchParams.set('directConnection', 'true');
  url.searchParams.delete('replicaSet');
  return url.toString();
}

/** `host:port` (or `[v6]:port`, or a host alone) as the proxy's target. */
function hostAndPort(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(address);
  return { host: match?.[1] ?? address, port: Number(match?.[2] ?? 27017) };
}

if (uri) {
  describe('MongoDB wake-ups: change streams where the deployment has them (MONGODB_URI)', function () {
    this.timeout(60_000);
    const cleanup = cleanupAfterEach();
    let streams: Capability;
    /** The server change streams must be opened on: the primary (or the one server named); null for mongodb+srv URIs. */
    let primary: { host: string; port: number } | null = null;

    before(async () => {
      const probe = await mongoose.createConnection(uri, { dbName: `webhooks_cs_probe_${process.pid}`, serverSelectionTimeoutMS: 10_000 }).asPromise();
      try {
        streams = await changeStreamSupport(probe);
        const hello = await probe.db!.admin().command({ hello: 1 }).catch(() => probe.db!.admin().command({ isMaster: 1 }));
        const named = /^mongodb:\/\/(?:[^@/]*@)?([^/?,]+)/.exec(uri)?.[1];
        const address = typeof hello.primary === 'string' ? hello.primary : named;
        primary = address ? hostAndPort(address) : null;
      } finally {
        await probe.dropDatabase().catch(() => undefined);
        await probe.close();
      }
    });

    const needStreams = (ctx: Mocha.Context) => {
      if (streams.available) return;
      console.log(`      skipped, this deployment has no change streams: ${streams.reason}`);
      ctx.skip();
    };
    /** A TCP proxy in front of the primary, stopped after the test. */
    const proxyToPrimary = async (ctx: Mocha.Context): Promise<TcpProxy> => {
      if (!primary) {
        console.log('      skipped: a mongodb+srv:// MONGODB_URI names no server to put a proxy in front of');
        ctx.skip();
      }
      const proxy = await new TcpProxy(primary!.host, primary!.port).start();
      cleanup(() => proxy.stop());
      return proxy;
    };
    const needNoStreams = (ctx: Mocha.Context) => {
      if (!streams.available) return;
      console.log('      skipped: this deployment has change streams (the test is for one without)');
      ctx.skip();
    };

    /** A connection to a fresh database (or to `dbName`), closed and dropped after the test. */
    async function connect(dbName?: string, options: mongoose.ConnectOptions & { via?: TcpProxy } = {}) {
      const { via, ...rest } = options;
      const name = dbName ?? `webhooks_cs_${process.pid}_${(databases += 1)}`;
      const connection = await mongoose.createConnection(via ? throughProxy(via) : uri!, {
        dbName: name, serverSelectionTimeoutMS: 10_000, ...rest,
      }).asPromise();
      cleanup(async () => {
        if (!dbName) await connection.dropDatabase().catch(() => undefined);
        await connection.close(true);
      });
      return connection;
    }

    async function storeOn(connection: mongoose.Connection): Promise<MongoStore> {
      const store = new MongoStore({ connection });
      await store.init();
      return store;
    }

    /** Records one event with one delivery through `store`: an insert into the deliveries collection. */
    async function recordDelivery(store: MongoStore): Promise<void> {
      const webhook = webhookRecord();
      await store.insertWebhook(webhook);
      const event = eventRecord();
      await store.recordEvent(event, [deliveryRecord(event, webhook)]);
    }

    /** Starts listening on `store`, stopped after the test; counts wake-ups and keeps the errors. */
    async function listen(store: MongoStore) {
      const heard = { wakes: 0, errors: [] as unknown[] };
      const stop = await store.listenForNewWork(() => { heard.wakes += 1; }, (error) => heard.errors.push(error));
      cleanup(stop);
      return { heard, stop };
    }

    /** The commands a connection sends, as the driver's command monitoring reports them. */
    function commandsOf(connection: mongoose.Connection) {
      const sent: Array<{ name: string; command: Record<string, any>; at: number }> = [];
      connection.getClient().on('commandStarted', (e) => sent.push({ name: e.commandName, command: e.command, at: Date.now() }));
      return sent;
    }
    const changeStreamOpens = (sent: ReturnType<typeof commandsOf>) =>
      sent.filter((c) => c.name === 'aggregate' && c.command.pipeline?.[0]?.$changeStream !== undefined);

    async function startPlugin(connection: mongoose.Connection, overrides: Record<string, unknown> = {}): Promise<WebhooksPlugin> {
      const plugin = createWebhooksPlugin({
        storage: { mongo: { connection } }, encryptionKeys: [TEST_KEY], egress: { allow: ['127.0.0.0/8'] },
        delivery: { ...FAST_DELIVERY, ...SLOW_POLLS }, logger: QUIET, ...overrides,
      });
      await plugin.start();
      cleanup(() => plugin.stop());
      return plugin;
    }

    async function startReceiver(): Promise<TestReceiver> {
      const receiver = await new TestReceiver().start();
      cleanup(() => receiver.stop());
      return receiver;
    }

    it('a hook call\'s deliveries start at once in its own process, not at the worker\'s next poll', async () => {
      const receiver = await startReceiver();
      const plugin = await startPlugin(await connect());
      await plugin.webhooks.create({ name: 'crm', url: `${receiver.url}/crm`, events: ['USER_CREATED'] }, plugin.context({}, 'default'));
      await new Promise((r) => setTimeout(r, 300)); // the first sweep passes; the worker is idle
      for (let i = 0; i < 3; i += 1) {
        const started = Date.now();
        await plugin.hooks.userCreated({ user: { id: `u${i}` } });
        await receiver.waitFor(i + 1, 8_000);
        assert.ok(Date.now() - started < SLOW_POLLS.pollIntervalMs / 2, `event ${i} took ${Date.now() - started} ms: it waited for a poll`);
      }
    });

    it('a worker delivers an event a web node recorded at once, not at its next poll', async function () {
      needStreams(this);
      const receiver = await startReceiver();
      const workerConnection = await connect();
      const worker = await startPlugin(workerConnection);
      const web = await startPlugin(await connect(workerConnection.name), { runWorker: false });
      await web.webhooks.create({ name: 'crm', url: `${receiver.url}/crm`, events: ['USER_CREATED'] }, web.context({}, 'default'));
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 3; i += 1) {
        const started = Date.now();
        await web.hooks.userCreated({ user: { id: `u${i}` } });
        await receiver.waitFor(i + 1, 8_000);
        assert.ok(Date.now() - started < SLOW_POLLS.pollIntervalMs / 2, `event ${i} took ${Date.now() - started} ms: it waited for a poll`);
      }
      assert.ok(worker, 'the worker delivered them');
    });

    it('without change streams, a web node\'s event is delivered at the worker\'s poll, and the refusal is logged once', async function () {
      needNoStreams(this);
      const receiver = await startReceiver();
      const warnings: string[] = [];
      const logger = { ...QUIET, warn: (message: string, fields?: Record<string, unknown>) => warnings.push(`${message} ${JSON.stringify(fields ?? {})}`) };
      const workerConnection = await connect();
      await startPlugin(workerConnection, { logger, delivery: { ...FAST_DELIVERY, pollIntervalMs: 200 } });
      const web = await startPlugin(await connect(workerConnection.name), { runWorker: false });
      await web.webhooks.create({ name: 'crm', url: `${receiver.url}/crm`, events: ['USER_CREATED'] }, web.context({}, 'default'));
      await web.hooks.userCreated({ user: { id: 'u1' } });
      await receiver.waitFor(1, 10_000);
      const refusals = warnings.filter((w) => w.includes('Change streams need a replica set or a sharded cluster'));
      assert.equal(refusals.length, 1, warnings.join('\n'));
    });

    it('a deployment that refuses change streams is asked once: listenForNewWork resolves with a no-op, later calls ask nothing', async function () {
      needNoStreams(this);
      const connection = await connect(undefined, { monitorCommands: true });
      const sent = commandsOf(connection);
      const store = await storeOn(connection);
      const first = await listen(store);
      const second = await listen(store);
      assert.equal(first.heard.errors.length, 1);
      assert.ok(first.heard.errors[0] instanceof ChangeStreamsUnavailableError, String(first.heard.errors[0]));
      assert.deepEqual(second.heard.errors, [], 'the refusal is reported once per store');
      await first.stop();
      await second.stop();
      assert.equal(changeStreamOpens(sent).length, 1, 'one change stream was tried, once');
    });

    it('a delivery another connection records wakes the listener; stop() closes the stream, and no getMore follows', async function () {
      needStreams(this);
      const connection = await connect(undefined, { monitorCommands: true });
      const sent = commandsOf(connection);
      const { heard, stop } = await listen(await storeOn(connection));
      const writer = await storeOn(await connect(connection.name));
      await recordDelivery(writer);
      await eventually(async () => heard.wakes >= 1);
      await recordDelivery(writer);
      await eventually(async () => heard.wakes >= 2);
      assert.deepEqual(heard.errors, []);
      // Idle, it waits on the server rather than asking in a loop (a server that answers an
      // empty getMore at once still gets only a few a second).
      const idleFrom = Date.now();
      await new Promise((r) => setTimeout(r, 1_000));
      const idleGetMores = sent.filter((c) => c.name === 'getMore' && c.at >= idleFrom).length;
      assert.ok(idleGetMores <= 8, `${idleGetMores} getMores in one idle second`);

      await stop();
      const stoppedAt = Date.now();
      assert.ok(sent.some((c) => c.name === 'killCursors'), 'the server was told to close the stream\'s cursor');
      const wakesAtStop = heard.wakes;
      await recordDelivery(writer);
      // A running stream sends its next getMore within MongoDB's 1 s await; wait past that.
      await new Promise((r) => setTimeout(r, 1_500));
      assert.deepEqual(sent.filter((c) => c.name === 'getMore' && c.at > stoppedAt).map((c) => c.command), []);
      assert.equal(heard.wakes, wakesAtStop);
    });

    it('survives a dropped connection: after every socket is cut, the next delivery still wakes it', async function () {
      needStreams(this);
      const proxy = await proxyToPrimary(this);
      const connection = await connect(undefined, { via: proxy, serverSelectionTimeoutMS: 5_000 });
      const { heard } = await listen(await storeOn(connection));
      const writer = await storeOn(await connect(connection.name));
      await recordDelivery(writer);
      await eventually(async () => heard.wakes >= 1);
      for (let cut = 1; cut <= 3; cut += 1) {
        proxy.cut();
        const before = heard.wakes;
        await recordDelivery(writer);
        await eventually(async () => heard.wakes > before, 15_000);
      }
    });

    it('an outage longer than server selection is reported, then the stream opens again and wakes for what was recorded meanwhile', async function () {
      needStreams(this);
      const proxy = await proxyToPrimary(this);
      const connection = await connect(undefined, { via: proxy, serverSelectionTimeoutMS: 500, heartbeatFrequencyMS: 500 });
      const { heard } = await listen(await storeOn(connection));
      const writer = await storeOn(await connect(connection.name));
      proxy.refuse();
      // The driver resumes, fails to select a server within 500 ms, and gives the stream up.
      await eventually(async () => heard.errors.length >= 1, 15_000);
      const wakesDuringOutage = heard.wakes;
      await recordDelivery(writer); // while the listener cannot hear it
      proxy.accept();
      // Re-opened: one wake-up for what may have been missed...
      await eventually(async () => heard.wakes > wakesDuringOutage, 15_000);
      // ...and the stream is live again.
      const before = heard.wakes;
      await recordDelivery(writer);
      await eventually(async () => heard.wakes > before, 15_000);
      assert.ok(!heard.errors.some((e) => e instanceof ChangeStreamsUnavailableError), 'an outage is not a refusal');
    });

    it('never holds up the worker\'s start while the server is unreachable; listens once it is back', async function () {
      const proxy = await proxyToPrimary(this);
      const connection = await connect(undefined, { via: proxy, serverSelectionTimeoutMS: 500, heartbeatFrequencyMS: 500 });
      const store = await storeOn(connection);
      proxy.refuse();
      // Accepting only after listenForNewWork resolved: had it waited for the server, this hangs (the test times out).
      const { heard } = await listen(store);
      proxy.accept();
      if (streams.available) {
        const writer = await storeOn(await connect(connection.name));
        await eventually(async () => {
          await recordDelivery(writer);
          return heard.wakes > 0;
        }, 20_000);
      } else {
        await eventually(async () => heard.errors.some((e) => e instanceof ChangeStreamsUnavailableError), 20_000);
      }
    });
  });
} else {
  describe('MongoDB wake-ups', () => {
    it(SKIPPED, function () {
      console.log(`      MongoDB wake-ups ${SKIPPED}`);
      this.skip();
    });
  });
}
