import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import type { WebhooksPlugin } from '../../plugin/index.js';
import { freePort } from '../../dev/embedded-postgres.js';
import { eventually, startTestPlugin, type PluginOverrides } from '../support/plugin-fixture.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { TestReceiver } from '../support/receiver.js';

const TENANT = 'acme';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Accepts connections and never answers: a receiver that hangs. Counts open connections. */
class BlackHole {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  maxOpen = 0;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      this.maxOpen = Math.max(this.maxOpen, this.sockets.size);
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
      socket.resume();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

describe('delivery isolation: per-webhook caps, circuit breakers, rate limits, pause', function () {
  this.timeout(40_000);
  const cleanup = cleanupAfterEach();
  after(() => sleep(100));

  async function plugin(overrides: PluginOverrides = {}): Promise<WebhooksPlugin> {
    const started = await startTestPlugin(overrides);
    cleanup(() => started.plugin.stop());
    return started.plugin;
  }
  async function receiver(): Promise<TestReceiver> {
    const started = await new TestReceiver().start();
    cleanup(() => started.stop());
    return started;
  }
  const ctx = (p: WebhooksPlugin) => p.context({ tenantId: TENANT }, 'default');
  const createWebhook = (p: WebhooksPlugin, url: string, extra: Record<string, unknown> = {}) =>
    p.webhooks.create({ name: 'receiver', url, events: ['USER_CREATED'], ...extra }, ctx(p));
  const userCreated = (p: WebhooksPlugin, n: number) => p.hooks.userCreated({ user: { _id: `u-${n}`, username: `user${n}` } }, { tenantId: TENANT });
  const deliveriesOf = (p: WebhooksPlugin, webhookId: string) => p.store.listDeliveries(TENANT, webhookId, { limit: 500 });

  it('lets a hanging endpoint hold only its own share of requests while a healthy one gets everything', async () => {
    const hole = await new BlackHole().start();
    cleanup(() => hole.stop());
    const healthy = await receiver();
    const p = await plugin({ delivery: { timeoutMs: 20_000, leaseMs: 60_000, maxInFlightPerWebhook: 3, concurrency: 8 } });
    await createWebhook(p, hole.url);
    await createWebhook(p, `${healthy.url}/hook`);
    for (let i = 0; i < 30; i += 1) await userCreated(p, i);
    // With one shared pool of 8 slots and no cap, the 30 hanging requests would take all 8
    // for 20 s; capped, the hole holds 3 and the healthy receiver gets all 30 now.
    await healthy.waitFor(30, 15_000);
    assert.ok(hole.maxOpen <= 3, `the hanging endpoint had ${hole.maxOpen} connections open at once`);
    assert.ok(hole.maxOpen >= 1);
  });

  it('keeps delivering to a healthy endpoint while slow receivers (answering, so no circuit opens) fill their caps', async () => {
    let slowAnswered = false;
    const slow = await Promise.all([receiver(), receiver(), receiver(), receiver()]);
    for (const rx of slow) {
      rx.respondWith(async (_req, res) => {
        await sleep(8_000);
        slowAnswered = true;
        res.writeHead(200).end();
      });
    }
    const healthy = await receiver();
    // 8 slots, at most 2 per webhook: four slow webhooks at their caps would hold all 8 for 8 s
    // at a time; busy webhooks share at most 6.
    const p = await plugin({ delivery: { concurrency: 8, maxInFlightPerWebhook: 2, timeoutMs: 20_000, leaseMs: 60_000 } });
    for (const rx of slow) await createWebhook(p, `${rx.url}/hook`);
    await createWebhook(p, `${healthy.url}/hook`);
    for (let i = 0; i < 20; i += 1) await userCreated(p, i);
    await healthy.waitFor(20, 7_000);
    assert.equal(slowAnswered, false, 'the healthy endpoint got everything while the slow ones were still answering their first requests');
  });

  it('drains one webhook\'s backlog past its in-flight cap without waiting for polls', async () => {
    const rx = await receiver();
    const { plugin: web, connectionString } = await startTestPlugin({ runWorker: false });
    cleanup(() => web.stop());
    const { webhook } = await createWebhook(web, `${rx.url}/hook`);
    for (let i = 0; i < 120; i += 1) await userCreated(web, i);
    // A worker that polls every 30 s and takes 4 at a time: without claiming again as requests
    // finish, it would send 4 per poll.
    await plugin({ connectionString, delivery: { maxInFlightPerWebhook: 4, pollIntervalMs: 30_000 } });
    await rx.waitFor(120, 20_000);
    await eventually(async () => (await deliveriesOf(web, webhook.id)).every((d) => d.status === 'succeeded'));
  });

  it('stops without waiting out a hanging request: the delivery goes back unsent, its attempts unspent', async () => {
    const hole = await new BlackHole().start();
    cleanup(() => hole.stop());
    const { plugin: p, connectionString } = await startTestPlugin({ delivery: { timeoutMs: 60_000, leaseMs: 120_000 } });
    const { webhook } = await createWebhook(p, hole.url);
    await userCreated(p, 1);
    await eventually(async () => hole.maxOpen > 0);
    const stopped = await Promise.race([p.stop().then(() => true), sleep(20_000).then(() => false)]);
    assert.equal(stopped, true, 'stop() resolved long before the 60 s request timeout');
    const db = new pg.Client({ connectionString });
    await db.connect();
    cleanup(() => db.end());
    const { rows } = await db.query('SELECT status, attempts, lease_owner FROM webhook_deliveries WHERE webhook_id = $1', [webhook.id]);
    assert.deepEqual(rows, [{ status: 'pending', attempts: 0, lease_owner: null }]);
  });

  it('opens the circuit after repeated connection failures, so waiting deliveries keep their attempts, then probes and resumes', async () => {
    const port = await freePort();
    const p = await plugin({
      delivery: { maxInFlightPerWebhook: 1, circuitBreakerThreshold: 2, circuitBreakerCooldownMs: 1_500, retryScheduleMs: [0, 100, 100, 100, 100] },
    });
    const { webhook } = await createWebhook(p, `http://127.0.0.1:${port}/hook`);
    for (let i = 0; i < 6; i += 1) await userCreated(p, i);
    // Two refused connections open the circuit; nothing else is tried during the cool-down.
    const attempted = await eventually(async () => {
      const all = await deliveriesOf(p, webhook.id);
      const total = all.reduce((sum, d) => sum + d.attempts, 0);
      return total >= 2 ? total : null;
    });
    await sleep(600);
    const during = await deliveriesOf(p, webhook.id);
    assert.equal(during.reduce((sum, d) => sum + d.attempts, 0), attempted, 'no attempt is spent while the circuit is open');
    assert.equal(attempted, 2);
    assert.ok(during.every((d) => d.status === 'pending'));

    // The endpoint comes back: the probe after the cool-down succeeds and everything goes out.
    const back = await new TestReceiver().start(port);
    cleanup(() => back.stop());
    await back.waitFor(6, 15_000);
    await eventually(async () => (await deliveriesOf(p, webhook.id)).every((d) => d.status === 'succeeded'));
    const after = await deliveriesOf(p, webhook.id);
    assert.equal(after.filter((d) => d.attempts === 1).length, 4, 'the deliveries that waited succeeded at their first attempt');
  });

  it('keeps a 5xx endpoint\'s circuit closed: it answers, so the retry schedule handles it', async () => {
    const failing = await receiver();
    failing.respondWith((_req, res) => void res.writeHead(503).end('busy'));
    const p = await plugin({
      delivery: { maxInFlightPerWebhook: 1, circuitBreakerThreshold: 1, circuitBreakerCooldownMs: 60_000, retryScheduleMs: [0, 50, 50, 50] },
    });
    const { webhook } = await createWebhook(p, `${failing.url}/hook`);
    await userCreated(p, 1);
    await userCreated(p, 2);
    await eventually(async () => (await deliveriesOf(p, webhook.id)).every((d) => d.status === 'failed'));
    assert.equal(failing.requests.length, 8, 'every attempt of both deliveries was sent');
  });

  it('sends no faster than a webhook\'s rate_limit_per_second, and loses nothing', async () => {
    const rx = await receiver();
    const p = await plugin();
    const { webhook } = await createWebhook(p, `${rx.url}/hook`);
    // Set through the store: the admin API's field is tested in its own suite.
    await p.store.updateWebhook(TENANT, webhook.id, { rateLimitPerSecond: 4, updatedAt: new Date() });
    await sleep(2_100); // the worker's cached settings expire
    for (let i = 0; i < 12; i += 1) await userCreated(p, i);
    await rx.waitFor(12, 20_000);
    const times = rx.requests.map((r) => r.receivedAt).sort((a, b) => a - b);
    // A full bucket (4) plus 4 per second after it: 12 requests span at least ~2 s.
    const inAnySecond = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1_000).length));
    assert.ok(inAnySecond <= 8, `${inAnySecond} requests within one second`);
    assert.ok(times[11] - times[0] >= 1_500, `12 requests took only ${times[11] - times[0]} ms`);
    const final = await eventually(async () => {
      const all = await deliveriesOf(p, webhook.id);
      return all.every((d) => d.status !== 'pending') ? all : null;
    });
    assert.ok(final.every((d) => d.status === 'succeeded' && d.attempts === 1),
      'held back, not failed: every delivery succeeded at its first attempt');
  });

  it('pauses a disabled webhook\'s deliveries and sends them when it is enabled again', async () => {
    const rx = await receiver();
    let down = true;
    rx.respondWith((_req, res) => void res.writeHead(down ? 503 : 200).end());
    const p = await plugin({ delivery: { retryScheduleMs: [0, 300, 300, 300] } });
    const { webhook } = await createWebhook(p, `${rx.url}/hook`);
    for (let i = 0; i < 3; i += 1) await userCreated(p, i);
    await rx.waitFor(3);
    await p.webhooks.update(webhook.id, { enabled: false }, ctx(p));
    down = false;
    const seen = rx.requests.length;
    await sleep(1_500); // several retry intervals
    assert.ok(rx.requests.length - seen <= 3, 'at most the attempts already in flight when it was disabled');
    const paused = await deliveriesOf(p, webhook.id);
    assert.deepEqual(paused.map((d) => d.status), ['pending', 'pending', 'pending'], 'waiting, not failed');
    const settled = rx.requests.length;
    await sleep(700);
    assert.equal(rx.requests.length, settled, 'nothing is sent while disabled');
    const summary = (await p.store.summarizeDeliveries(TENANT, [webhook.id], new Date(0))).get(webhook.id);
    assert.equal(summary?.waiting, 3);

    await p.webhooks.update(webhook.id, { enabled: true }, ctx(p));
    await eventually(async () => (await deliveriesOf(p, webhook.id)).every((d) => d.status === 'succeeded'));
  });
});
