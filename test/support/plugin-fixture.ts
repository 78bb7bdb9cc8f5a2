import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import { createWebhooksPlugin, type WebhooksPlugin, type WebhooksPluginOptions } from '../../plugin/index.js';
import { freshPostgresDatabase } from './postgres-fixture.js';
import { TestReceiver } from './receiver.js';

/** A 32-byte key for tests; production keys come from the host's secret store. */
export const TEST_KEY = { id: 'test-1', key: randomBytes(32).toString('base64') };

/** Delivery settings that make retries observable in milliseconds instead of hours. */
export const FAST_DELIVERY = {
  retryScheduleMs: [0, 50, 100],
  jitter: 0,
  pollIntervalMs: 50,
  timeoutMs: 2_000,
  leaseMs: 5_000,
};

export type PluginOverrides = Partial<Omit<WebhooksPluginOptions, 'storage'>> & {
  connectionString?: string;
  /** Which store backs the plugin; `mongo` needs MONGODB_URI. Default postgres. */
  store?: TestStoreKind;
};

export type TestStoreKind = 'postgres' | 'mongo';

/** The stores integration suites run against: PostgreSQL always, MongoDB when MONGODB_URI is set. */
export const TEST_STORES: TestStoreKind[] = process.env.MONGODB_URI ? ['postgres', 'mongo'] : ['postgres'];

let mongoCounter = 0;

/** A fresh MongoDB database on MONGODB_URI; `drop()` removes it and closes the connection. */
async function freshMongoConnection(): Promise<{ connection: mongoose.Connection; drop: () => Promise<void> }> {
  mongoCounter += 1;
  const connection = mongoose.createConnection(process.env.MONGODB_URI!, {
    dbName: `webhooks_it_${process.pid}_${mongoCounter}`,
    serverSelectionTimeoutMS: 10_000,
  });
  await connection.asPromise();
  return {
    connection,
    async drop() {
      try {
        await connection.dropDatabase();
      } finally {
        await connection.close();
      }
    },
  };
}

/**
 * A started plugin on a fresh PostgreSQL database, with loopback allowed (the receiver runs on
 * 127.0.0.1) and fast retries. `stop()` it in `afterEach`.
 */
export async function startTestPlugin(overrides: PluginOverrides = {}): Promise<{ plugin: WebhooksPlugin; connectionString: string }> {
  const { connectionString: given, delivery, egress, store = 'postgres', ...rest } = overrides;
  const mongo = store === 'mongo' ? await freshMongoConnection() : null;
  const connectionString = mongo ? '' : (given ?? (await freshPostgresDatabase()));
  const plugin = createWebhooksPlugin({
    storage: mongo ? { mongo: { connection: mongo.connection } } : { postgres: { connectionString } },
    encryptionKeys: [TEST_KEY],
    // The loopback receiver stands in for a public one: its response bodies are kept.
    egress: { allow: ['127.0.0.0/8', '::1/128'], privateResponseBodies: true, ...egress },
    delivery: { ...FAST_DELIVERY, ...delivery },
    // Quiet, except a stop() that hangs: that line says where it waits.
    logger: {
      info: () => undefined,
      warn: (message: string) => { if (message.startsWith('stop()')) console.warn(`      [plugin] ${message}`); },
      error: () => undefined,
    },
    ...rest,
  });
  await plugin.start();
  if (mongo) {
    // The plugin never closes a host's connection; the test owns this one.
    const stop = plugin.stop.bind(plugin);
    Object.assign(plugin, { stop: async () => { await stop(); await mongo.drop(); } });
  }
  return { plugin, connectionString };
}

/** Polls `check` until it returns a truthy value; for states reached through the worker. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A started plugin on a MongoDB connection the test owns (a deployment it probed, a proxy in
 * front of the server), and a started receiver; both stopped through `cleanup`.
 */
export async function startOnMongoConnection(connection: mongoose.Connection, cleanup: (stop: () => Promise<unknown>) => void,
  overrides: Partial<Omit<WebhooksPluginOptions, 'storage'>> = {}): Promise<{ plugin: WebhooksPlugin; receiver: TestReceiver }> {
  const plugin = createWebhooksPlugin({
    storage: { mongo: { connection } }, encryptionKeys: [TEST_KEY], egress: { allow: ['127.0.0.0/8'] },
    delivery: FAST_DELIVERY, logger: { info: () => undefined, warn: () => undefined, error: () => undefined }, ...overrides,
  });
  await plugin.start();
  cleanup(() => plugin.stop());
  const receiver = await new TestReceiver().start();
  cleanup(() => receiver.stop());
  return { plugin, receiver };
}
