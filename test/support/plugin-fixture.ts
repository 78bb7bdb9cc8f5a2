import { randomBytes } from 'node:crypto';
import { createWebhooksPlugin, type WebhooksPlugin, type WebhooksPluginOptions } from '../../plugin/index.js';
import { freshPostgresDatabase } from './postgres-fixture.js';

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

export type PluginOverrides = Partial<Omit<WebhooksPluginOptions, 'storage'>> & { connectionString?: string };

/**
 * A started plugin on a fresh PostgreSQL database, with loopback allowed (the receiver runs on
 * 127.0.0.1) and fast retries. `stop()` it in `afterEach`.
 */
export async function startTestPlugin(overrides: PluginOverrides = {}): Promise<{ plugin: WebhooksPlugin; connectionString: string }> {
  const { connectionString: given, delivery, egress, ...rest } = overrides;
  const connectionString = given ?? (await freshPostgresDatabase());
  const plugin = createWebhooksPlugin({
    storage: { postgres: { connectionString } },
    encryptionKeys: [TEST_KEY],
    egress: { allow: ['127.0.0.0/8', '::1/128'], ...egress },
    delivery: { ...FAST_DELIVERY, ...delivery },
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    ...rest,
  });
  await plugin.start();
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
