import assert from 'node:assert/strict';
import express from 'express';
import { Registry } from 'prom-client';
import request from 'supertest';
import { InvalidOptionsError, type WebhooksPlugin } from '../../plugin/index.js';
import type { AttemptOutcome } from '../../plugin/store/store-port.js';
import { eventually, startTestPlugin, type PluginOverrides } from '../support/plugin-fixture.js';
import { parsePrometheusText, sampleValue, type Sample } from '../support/prometheus-text.js';
import { TestReceiver } from '../support/receiver.js';
import { cleanupAfterEach } from '../support/cleanups.js';

const TENANT = 'acme';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Prometheus metrics', function () {
  this.timeout(30_000);
  const cleanup = cleanupAfterEach();
  after(() => sleep(100));

  async function receiver(status = 200): Promise<TestReceiver> {
    const started = await new TestReceiver().start();
    started.respondWith((_req, res) => void res.writeHead(status).end(status === 200 ? 'ok' : 'boom'));
    cleanup(() => started.stop());
    return started;
  }

  async function plugin(overrides: PluginOverrides = {}): Promise<WebhooksPlugin> {
    const started = await startTestPlugin(overrides);
    cleanup(() => started.plugin.stop());
    return started.plugin;
  }

  const ctx = (p: WebhooksPlugin) => p.context({ tenantId: TENANT }, 'default');
  const createWebhook = async (p: WebhooksPlugin, url: string) => (await p.webhooks.create({ name: 'r', url, events: ['USER_CREATED'] }, ctx(p))).webhook;
  const userCreated = (p: WebhooksPlugin, n: number) => p.hooks.userCreated({ user: { _id: `u-${n}`, username: `user${n}` } }, { tenantId: TENANT });

  /** Scrapes the handler the host would mount, over HTTP. */
  async function scrape(p: WebhooksPlugin): Promise<Sample[]> {
    const app = express().get('/metrics', p.createMetricsHandler());
    const res = await request(app).get('/metrics').expect(200);
    assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(res.text);
  }

  /** Attempts in the delivery log of these webhooks, by outcome (and by webhook). */
  async function loggedAttempts(p: WebhooksPlugin, webhookIds: string[]) {
    const byOutcome = new Map<AttemptOutcome, number>();
    const byWebhook = new Map<string, Map<AttemptOutcome, number>>();
    let succeeded = 0;
    for (const webhookId of webhookIds) {
      const deliveries = await p.store.listDeliveries(TENANT, webhookId, { limit: 100 });
      succeeded += deliveries.filter((d) => d.status === 'succeeded').length;
      const own = new Map<AttemptOutcome, number>();
      byWebhook.set(webhookId, own);
      for (const a of await p.store.listAttemptsFor(TENANT, deliveries.map((d) => d.id))) {
        byOutcome.set(a.outcome, (byOutcome.get(a.outcome) ?? 0) + 1);
        own.set(a.outcome, (own.get(a.outcome) ?? 0) + 1);
      }
    }
    return { byOutcome, byWebhook, succeeded };
  }

  async function allFinal(p: WebhooksPlugin, webhookIds: string[], expected: number): Promise<boolean> {
    let final = 0;
    for (const id of webhookIds) final += (await p.store.listDeliveries(TENANT, id, { limit: 100 })).filter((d) => d.status !== 'pending').length;
    return final === expected;
  }

  it('counts events and attempts exactly as the delivery log has them, times them, and shows webhooks by state', async () => {
    const p = await plugin();
    const ok = await createWebhook(p, (await receiver(200)).url);
    const bad = await createWebhook(p, (await receiver(500)).url);
    const N = 4;
    for (let n = 0; n < N; n += 1) await userCreated(p, n);
    await eventually(() => allFinal(p, [ok.id, bad.id], 2 * N));

    const log = await loggedAttempts(p, [ok.id, bad.id]);
    assert.equal(log.byOutcome.get('success'), N);
    assert.equal(log.byOutcome.get('http_error'), 3 * N, 'three attempts (the test schedule) per failing delivery');
    const samples = await scrape(p);
    for (const outcome of ['success', 'http_error', 'timeout', 'dns', 'connection_refused', 'tls', 'blocked', 'network', 'webhook_unavailable'] as const) {
      assert.equal(sampleValue(samples, 'webhooks_delivery_attempts_total', { outcome }), log.byOutcome.get(outcome) ?? 0, outcome);
      assert.equal(sampleValue(samples, 'webhooks_attempt_duration_seconds_count', { outcome }), log.byOutcome.get(outcome), `${outcome} duration`);
    }
    assert.ok(sampleValue(samples, 'webhooks_attempt_duration_seconds_sum', { outcome: 'success' })! > 0);
    assert.equal(sampleValue(samples, 'webhooks_delivery_latency_seconds_count'), log.succeeded, 'one latency per successful delivery');
    assert.equal(sampleValue(samples, 'webhooks_delivery_latency_seconds_bucket', { le: '+Inf' }), log.succeeded);
    assert.equal(sampleValue(samples, 'webhooks_events_recorded_total', { event_type: 'USER_CREATED' }), N);
    assert.equal(sampleValue(samples, 'webhooks_events_recorded_total', { event_type: 'WEBHOOK_CREATED' }), 2, 'the audit events too');
    assert.equal(sampleValue(samples, 'webhooks_deliveries_pending'), 0);
    assert.equal(sampleValue(samples, 'webhooks_oldest_pending_delivery_age_seconds'), 0);
    assert.equal(sampleValue(samples, 'webhooks_webhooks', { state: 'enabled' }), 1);
    assert.equal(sampleValue(samples, 'webhooks_webhooks', { state: 'failing' }), 1, 'the 500 webhook is in a failing run');
    assert.equal(sampleValue(samples, 'webhooks_webhooks', { state: 'disabled' }), 0);
    assert.equal(sampleValue(samples, 'webhooks_webhooks', { state: 'circuit_open' }), 0, 'a 5xx answers: no circuit opens');
    assert.equal(sampleValue(samples, 'webhooks_metrics_store_errors_total'), 0);
  });

  it('counts an idempotent repeat once, like the store', async () => {
    const p = await plugin();
    for (let n = 0; n < 3; n += 1) {
      await p.hooks.userCreated({ user: { _id: 'u-1', username: 'u' } }, { tenantId: TENANT, idempotencyKey: 'same' });
    }
    assert.equal(sampleValue(await scrape(p), 'webhooks_events_recorded_total', { event_type: 'USER_CREATED' }), 1);
  });

  it('shows pending deliveries and the age of the oldest as the store has them (a node that records, not delivers)', async () => {
    let now = Date.UTC(2026, 0, 1);
    const p = await plugin({ runWorker: false, clock: () => new Date(now) });
    const w = await createWebhook(p, 'http://127.0.0.1:1/never');
    for (let n = 0; n < 3; n += 1) await userCreated(p, n);
    now += 90_000;
    const samples = await scrape(p);
    const pending = (await p.store.listDeliveries(TENANT, w.id, { status: 'pending', limit: 100 })).length;
    assert.equal(pending, 3);
    assert.equal(sampleValue(samples, 'webhooks_deliveries_pending'), pending);
    assert.equal(sampleValue(samples, 'webhooks_oldest_pending_delivery_age_seconds'), 90);
  });

  it('labels attempts and backlog by webhook only when asked, and then per webhook exactly', async () => {
    const p = await plugin({ metrics: { perWebhookLabels: true } });
    const ok = await createWebhook(p, (await receiver(200)).url);
    const bad = await createWebhook(p, (await receiver(500)).url);
    for (let n = 0; n < 2; n += 1) await userCreated(p, n);
    await eventually(() => allFinal(p, [ok.id, bad.id], 4));
    const log = await loggedAttempts(p, [ok.id, bad.id]);
    const samples = await scrape(p);
    for (const [webhookId, outcomes] of log.byWebhook) {
      for (const [outcome, n] of outcomes) {
        assert.equal(sampleValue(samples, 'webhooks_delivery_attempts_total', { outcome, webhook_id: webhookId }), n);
      }
    }
    assert.equal(samples.filter((s) => s.name === 'webhooks_delivery_attempts_total').length, 2, 'only outcomes that happened, per webhook');

    const quiet = await plugin();
    const plain = await scrape(quiet);
    assert.ok(plain.every((s) => !('webhook_id' in s.labels)), 'no webhook label by default');
  });

  it('keeps two instances in one process apart, each with its own registry, and refuses a name clash in a shared one', async () => {
    const a = await plugin();
    const b = await plugin();
    assert.notEqual(a.metricsRegistry, b.metricsRegistry);
    await userCreated(a, 1);
    assert.equal(sampleValue(await scrape(a), 'webhooks_events_recorded_total', { event_type: 'USER_CREATED' }), 1);
    assert.equal(sampleValue(await scrape(b), 'webhooks_events_recorded_total', { event_type: 'USER_CREATED' }), undefined);

    const shared = new Registry();
    const first = await plugin({ metrics: { registry: shared } });
    await assert.rejects(plugin({ metrics: { registry: shared } }), (error: unknown) =>
      error instanceof InvalidOptionsError && /metrics\.prefix/.test(error.message));
    const second = await plugin({ metrics: { registry: shared, prefix: 'webhooks_second_' } });
    assert.equal(first.metricsRegistry, shared);
    await userCreated(second, 1);
    const text = await shared.metrics();
    assert.match(text, /^webhooks_second_events_recorded_total\{event_type="USER_CREATED"\} 1$/m);
    assert.doesNotMatch(text, /^webhooks_events_recorded_total\{/m, 'the first instance recorded nothing');
  });

  it('has no metrics with `metrics: false`', async () => {
    const p = await plugin({ metrics: false });
    assert.equal(p.metricsRegistry, null);
    assert.throws(() => p.createMetricsHandler(), /metrics: false/);
    await userCreated(p, 1);
  });

  it('refuses a metrics option that is not one', async () => {
    await assert.rejects(plugin({ metrics: { prefix: 'no spaces' } }), InvalidOptionsError);
    await assert.rejects(plugin({ metrics: { registry: {} as Registry } }), InvalidOptionsError);
  });
});
