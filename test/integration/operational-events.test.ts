import assert from 'node:assert/strict';
import type { OperationalEvent, WebhooksPlugin } from '../../plugin/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { eventually, startTestPlugin, type PluginOverrides } from '../support/plugin-fixture.js';
import { TestReceiver } from '../support/receiver.js';

const TENANT = 'acme';
type Line = { level: string; message: string; fields?: Record<string, unknown> };

describe('operational events and failed-attempt logs', function () {
  this.timeout(30_000);
  const cleanup = cleanupAfterEach();

  async function setUp(overrides: PluginOverrides = {}) {
    const failing = await new TestReceiver().start();
    cleanup(() => failing.stop());
    failing.respondWith((_req, res) => void res.writeHead(503).end('receiver-body-7f3a'));
    const observer = await new TestReceiver().start();
    cleanup(() => observer.stop());
    const lines: Line[] = [];
    const called: OperationalEvent[] = [];
    const { plugin } = await startTestPlugin({
      logger: {
        info: (message, fields) => void lines.push({ level: 'info', message, fields }),
        warn: (message, fields) => void lines.push({ level: 'warn', message, fields }),
        error: (message, fields) => void lines.push({ level: 'error', message, fields }),
      },
      onOperationalEvent: (event) => {
        called.push(event);
        throw new Error('the host\'s mailer is down');
      },
      ...overrides,
    });
    cleanup(() => plugin.stop());
    return { plugin, failing, observer, lines, called };
  }

  const ctx = (p: WebhooksPlugin) => p.context({ tenantId: TENANT }, 'default');
  const typesOf = (rx: TestReceiver) => rx.requests.map((r) => JSON.parse(r.body).event_type as string);
  /** Every delivery recorded for a webhook, whatever its state. */
  const deliveredTypes = async (p: WebhooksPlugin, webhookId: string) =>
    (await p.store.listDeliveries(TENANT, webhookId, { limit: 100 })).map((d) => d.eventType);

  it('sends DELIVERY_EXHAUSTED to the other subscribed webhooks, never to the one it is about, and logs failed attempts briefly', async () => {
    const { plugin, failing, observer, lines, called } = await setUp({ delivery: { retryScheduleMs: [0, 50] } });
    const watcher = await plugin.webhooks.create({ name: 'ops', url: `${observer.url}/ops`, events: ['DELIVERY_EXHAUSTED'] }, ctx(plugin));
    // '*': it selects DELIVERY_EXHAUSTED too, yet must not get the one about itself.
    const broken = await plugin.webhooks.create({ name: 'broken', url: `${failing.url}/hook?token=abc123`, events: ['*'] }, ctx(plugin));
    await plugin.hooks.userCreated({ user: { _id: 'u-1' } }, { tenantId: TENANT });

    await eventually(async () => typesOf(observer).length > 0);
    const body = JSON.parse(observer.requests[0].body);
    assert.equal(body.event_type, 'DELIVERY_EXHAUSTED');
    assert.equal(body.data.webhook.id, broken.webhook.id);
    assert.equal(body.data.delivery.attempts, 2);
    assert.equal(body.data.delivery.last_outcome, 'http_error');
    assert.equal(body.data.delivery.last_status_code, 503);
    assert.ok(['USER_CREATED', 'WEBHOOK_CREATED'].includes(body.data.delivery.event_type));
    assert.ok(!observer.requests[0].body.includes('abc123'), 'the URL is masked');
    assert.equal(body.current_context.actor.type, 'system');

    await eventually(async () => called.some((e) => e.event_type === 'DELIVERY_EXHAUSTED'));
    assert.equal(called[0].webhook_id, broken.webhook.id);
    await eventually(async () => lines.some((l) => l.message === 'onOperationalEvent failed'));
    assert.ok(!(await deliveredTypes(plugin, broken.webhook.id)).includes('DELIVERY_EXHAUSTED'), 'nothing about itself');
    assert.ok((await deliveredTypes(plugin, watcher.webhook.id)).includes('DELIVERY_EXHAUSTED'));

    // Failed attempts: one WARN line for the webhook within the window, identifiers only.
    const failedLines = lines.filter((l) => l.message === 'Delivery attempt failed');
    assert.equal(failedLines.length, 1, 'later failures within 30 s are folded in, not logged');
    const fields = failedLines[0].fields!;
    assert.deepEqual(Object.keys(fields).sort(), ['attempt', 'deliveryId', 'outcome', 'statusCode', 'tenantId', 'webhookId']);
    assert.equal(fields.webhookId, broken.webhook.id);
    assert.equal(fields.outcome, 'http_error');
    assert.equal(fields.statusCode, 503);
    assert.ok(!JSON.stringify(lines).includes('abc123'), 'no URL query in any log line');
    assert.ok(!JSON.stringify(lines).includes('receiver-body-7f3a'), 'no response body in any log line');
  });

  it('sends WEBHOOK_DISABLED with the reason when a webhook is disabled for failing too long, not to itself', async () => {
    const { plugin, failing, observer, called } = await setUp({ delivery: { disableAfterMs: 60_000, retryScheduleMs: [0] } });
    const watcher = await plugin.webhooks.create({ name: 'ops', url: `${observer.url}/ops`, events: ['WEBHOOK_DISABLED'] }, ctx(plugin));
    const broken = await plugin.webhooks.create({ name: 'broken', url: `${failing.url}/hook`, events: ['*'] }, ctx(plugin));
    const longAgo = new Date(Date.now() - 120_000);
    await plugin.store.markWebhooksFailing([broken.webhook.id], longAgo);
    await plugin.hooks.userCreated({ user: { _id: 'u-1' } }, { tenantId: TENANT });

    await eventually(async () => typesOf(observer).includes('WEBHOOK_DISABLED'));
    const body = JSON.parse(observer.requests.find((r) => JSON.parse(r.body).event_type === 'WEBHOOK_DISABLED')!.body);
    assert.equal(body.data.webhook.id, broken.webhook.id);
    assert.equal(body.data.reason, `Every delivery failed since ${longAgo.toISOString()}`);
    assert.equal(body.data.webhook.status.state, 'disabled');
    await eventually(async () => called.some((e) => e.event_type === 'WEBHOOK_DISABLED'));
    assert.ok(!(await deliveredTypes(plugin, broken.webhook.id)).includes('WEBHOOK_DISABLED'), 'nothing about itself');
    assert.ok((await deliveredTypes(plugin, watcher.webhook.id)).includes('WEBHOOK_DISABLED'));
  });

  it('sends WEBHOOK_FAILING once per failing run after delivery.failingEventAfterMs', async () => {
    const { plugin, failing, observer, called } = await setUp({ delivery: { failingEventAfterMs: 60_000, retryScheduleMs: [0] } });
    await plugin.webhooks.create({ name: 'ops', url: `${observer.url}/ops`, events: ['WEBHOOK_FAILING'] }, ctx(plugin));
    const broken = await plugin.webhooks.create({ name: 'broken', url: `${failing.url}/hook`, events: ['USER_CREATED', 'WEBHOOK_FAILING'] }, ctx(plugin));
    const recent = await plugin.webhooks.create({ name: 'recent', url: `${failing.url}/recent`, events: ['USER_CREATED'] }, ctx(plugin));
    const since = new Date(Date.now() - 120_000);
    await plugin.store.markWebhooksFailing([broken.webhook.id], since);
    await plugin.store.markWebhooksFailing([recent.webhook.id], new Date(Date.now() - 1_000));
    for (let i = 1; i <= 3; i += 1) {
      await plugin.hooks.userCreated({ user: { _id: `u-${i}` } }, { tenantId: TENANT });
      await failing.waitFor(i * 2);
    }
    await eventually(async () => typesOf(observer).includes('WEBHOOK_FAILING'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const failingEvents = observer.requests.map((r) => JSON.parse(r.body)).filter((b) => b.event_type === 'WEBHOOK_FAILING');
    assert.equal(failingEvents.length, 1, 'once per run, for the webhook past the threshold only');
    assert.equal(failingEvents[0].data.webhook.id, broken.webhook.id);
    assert.equal(failingEvents[0].data.failing_since, since.toISOString());
    assert.equal(called.filter((e) => e.event_type === 'WEBHOOK_FAILING').length, 1);
    assert.ok(!(await deliveredTypes(plugin, broken.webhook.id)).includes('WEBHOOK_FAILING'), 'nothing about itself');
  });
});
