/**
 * Child process for `test/integration/delivery-crash.test.ts`: a plugin that records events
 * and starts delivering them, then waits to be killed with SIGKILL mid-delivery.
 *
 * Environment: WEBHOOKS_PG_URL (database), WEBHOOKS_RECEIVER_URL (receiver base URL),
 * WEBHOOKS_KEY_ID / WEBHOOKS_KEY (encryption key the parent also uses), WEBHOOKS_EVENT_COUNT.
 * Prints one line, `recorded <json>`, once every event is durable; the JSON holds the webhook
 * id, its signing secret and the event ids.
 */
import { createWebhooksPlugin } from '../../plugin/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const plugin = createWebhooksPlugin({
  storage: { postgres: { connectionString: env('WEBHOOKS_PG_URL') } },
  encryptionKeys: [{ id: env('WEBHOOKS_KEY_ID'), key: env('WEBHOOKS_KEY') }],
  egress: { allow: ['127.0.0.0/8', '::1/128'] },
  // The same short lease the parent's replacement worker uses: the receiver answers after 1 s,
  // well inside timeoutMs, and the leases of the killed worker expire 3 s after their claim.
  delivery: { timeoutMs: 2_000, leaseMs: 3_000, retryScheduleMs: [0, 50, 100], jitter: 0, pollIntervalMs: 50 },
  logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
  workerName: 'doomed-worker',
});
await plugin.start();

const tenantId = 'acme';
const { webhook, secret } = await plugin.webhooks.create(
  { name: 'crash', url: `${env('WEBHOOKS_RECEIVER_URL')}/hook`, events: ['USER_CREATED'] },
  plugin.context({ tenantId }, 'default'),
);
const count = Number(env('WEBHOOKS_EVENT_COUNT'));
const recorded = await Promise.all(
  Array.from({ length: count }, (_, i) => plugin.hooks.userCreated({ user: { _id: `u-${i}`, username: `user${i}` } }, { tenantId })),
);
process.stdout.write(`recorded ${JSON.stringify({ webhookId: webhook.id, secret, eventIds: recorded.map((r) => r.event_id) })}\n`);

// Keep delivering until the parent kills this process.
setInterval(() => undefined, 60_000);
