import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { NotFoundError, TEST_EVENT_TYPE, ValidationError, type WebhooksPlugin } from '../../plugin/index.js';
import type { DeliveryRecord } from '../../plugin/store/store-port.js';
import { eventually, startTestPlugin, type PluginOverrides } from '../support/plugin-fixture.js';
import { TestReceiver, type ReceivedRequest } from '../support/receiver.js';

const TENANT = 'acme';
const USER = { _id: 'u-1', username: 'jdoe', email: 'jane@example.com' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const headersOf = (request: ReceivedRequest) => request.headers as Record<string, string>;
const otherSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
/**
 * A loopback URL nothing listens on. Port 1 rather than a port the OS just handed out and took
 * back: receivers (here or in a test run beside this one) bind ephemeral ports, and one of them
 * could get that port next and receive these deliveries.
 */
const NOTHING_LISTENS = 'http://127.0.0.1:1/hook';

describe('delivery', function () {
  this.timeout(30_000);
  // Everything a test starts, stopped in reverse order after it (also when it fails).
  let cleanups: Array<() => Promise<unknown>> = [];

  afterEach(async () => {
    const pending = cleanups.reverse();
    cleanups = [];
    for (const cleanup of pending) await cleanup().catch(() => undefined);
  });
  // pg-pool's end() resolves before its sockets have closed; if the root hook stops PostgreSQL
  // at that moment, a closing client gets "terminating connection" with no listener left.
  after(() => sleep(100));

  async function receiver(): Promise<TestReceiver> {
    const started = await new TestReceiver().start();
    cleanups.push(() => started.stop());
    return started;
  }

  async function plugin(overrides: PluginOverrides = {}): Promise<{ plugin: WebhooksPlugin; connectionString: string }> {
    const started = await startTestPlugin(overrides);
    cleanups.push(() => started.plugin.stop());
    return started;
  }

  const ctx = (p: WebhooksPlugin, tenantId = TENANT) => p.context({ tenantId }, 'default');
  const userCreated = (p: WebhooksPlugin, n = 1) => p.hooks.userCreated({ user: { ...USER, _id: `u-${n}` } }, { tenantId: TENANT });

  /** Subscribes to USER_CREATED only, so the WEBHOOK_* audit events never reach the receiver. */
  const createWebhook = (p: WebhooksPlugin, url: string, extra: Record<string, unknown> = {}) =>
    p.webhooks.create({ name: 'receiver', url, events: ['USER_CREATED'], ...extra }, ctx(p));

  async function onlyDelivery(p: WebhooksPlugin, webhookId: string): Promise<DeliveryRecord> {
    const deliveries = await p.store.listDeliveries(TENANT, webhookId, { limit: 10 });
    assert.equal(deliveries.length, 1, 'exactly one delivery');
    return deliveries[0];
  }

  function finished(p: WebhooksPlugin, deliveryId: string, status: 'succeeded' | 'failed', timeoutMs?: number): Promise<DeliveryRecord> {
    return eventually(async () => {
      const delivery = await p.store.findDelivery(TENANT, deliveryId);
      return delivery?.status === status ? delivery : null;
    }, timeoutMs);
  }

  async function finishedOnly(p: WebhooksPlugin, webhookId: string, status: 'succeeded' | 'failed'): Promise<DeliveryRecord> {
    const id = await eventually(async () => (await p.store.listDeliveries(TENANT, webhookId, { limit: 10 }))[0]?.id);
    return finished(p, id, status);
  }

  describe('request', () => {
    it('POSTs the stored envelope as JSON with the event type header, the delivery id as webhook-id and a Standard Webhooks signature', async () => {
      const rx = await receiver();
      const { plugin: p } = await plugin();
      const { webhook, secret } = await createWebhook(p, `${rx.url}/hook?source=idp`);
      const recorded = await userCreated(p);
      await rx.waitFor(1);
      const [request] = rx.requests;
      const delivery = await onlyDelivery(p, webhook.id);
      const event = await p.store.findEvent(TENANT, recorded.event_id);

      assert.equal(request.method, 'POST');
      assert.equal(request.path, '/hook?source=idp');
      assert.equal(request.headers['content-type'], 'application/json');
      assert.match(request.headers['user-agent'] ?? '', /^identity-webhooks-plugin\/\d+\.\d+\.\d+/);
      assert.equal(request.headers['x-webhook-event'], 'USER_CREATED');
      assert.match(delivery.id, /^msg_/);
      assert.equal(request.headers['webhook-id'], delivery.id);
      const timestamp = Number(request.headers['webhook-timestamp']);
      assert.ok(Number.isInteger(timestamp) && Math.abs(timestamp - request.receivedAt / 1000) <= 5, `timestamp ${timestamp} is now`);

      assert.equal(request.body, event?.body, 'the body is the recorded envelope, byte for byte');
      const verified = new Webhook(secret).verify(request.body, headersOf(request));
      assert.deepEqual(verified, JSON.parse(request.body));
      assert.equal(JSON.parse(request.body).current_context.event_id, recorded.event_id);
      assert.throws(() => new Webhook(otherSecret()).verify(request.body, headersOf(request)), /signature/i);
      assert.throws(() => new Webhook(secret).verify(request.body.replace('jdoe', 'jdoX'), headersOf(request)), /signature/i);

      // A 200 ends the delivery: succeeded after one attempt with nothing scheduled, so nothing is sent twice.
      const ended = await finished(p, delivery.id, 'succeeded');
      assert.deepEqual([ended.attempts, ended.nextAttemptAt], [1, null]);
      assert.equal(rx.requests.length, 1);
    });

    it('sends the receiver credentials it was saved with: api key (custom and default header), authorization value, custom headers', async () => {
      const rx = await receiver();
      const { plugin: p } = await plugin();
      const cidaasKey = 'cidaas-key-0123456789abcdef';
      const { secret } = await createWebhook(p, `${rx.url}/cidaas`, {
        api_key: { header: 'x-cidaas-key', value: cidaasKey },
        authorization: 'Bearer wg-portal-token-987654',
        headers: { 'x-ferriskey-realm': 'realm-1', 'X-Trace': 'on' },
      });
      await createWebhook(p, `${rx.url}/default-header`, { api_key: { value: 'plain-api-key-abcdefgh' } });
      await userCreated(p);
      await rx.waitFor(2);

      const cidaas = rx.requests.find((r) => r.path === '/cidaas');
      const plain = rx.requests.find((r) => r.path === '/default-header');
      assert.ok(cidaas && plain);
      assert.equal(cidaas.headers['x-cidaas-key'], cidaasKey);
      assert.equal(cidaas.headers.authorization, 'Bearer wg-portal-token-987654');
      assert.equal(cidaas.headers['x-ferriskey-realm'], 'realm-1');
      assert.equal(cidaas.headers['x-trace'], 'on');
      assert.equal(cidaas.headers['x-api-key'], undefined);
      new Webhook(secret).verify(cidaas.body, headersOf(cidaas));

      assert.equal(plain.headers['x-api-key'], 'plain-api-key-abcdefgh');
      assert.equal(plain.headers.authorization, undefined);
    });

    it('refuses, when a webhook is saved, custom headers and api key headers that would replace the plugin\'s own, naming the header', async () => {
      const { plugin: p } = await plugin({ runWorker: false });
      const url = 'https://receiver.example.com/hook';
      for (const name of ['webhook-signature', 'content-type', 'host', 'authorization', 'user-agent', 'Content-Type', 'Webhook-Id']) {
        await assert.rejects(createWebhook(p, url, { headers: { 'x-fine': '1', [name]: 'forged' } }), (error: any) => {
          assert.ok(error instanceof ValidationError, `${name}: ${error}`);
          assert.equal(error.status, 400);
          assert.equal(error.code, 'validation_failed');
          assert.deepEqual(error.details.map((d: any) => d.path), [`headers.${name}`]);
          return true;
        });
      }
      await assert.rejects(createWebhook(p, url, { api_key: { header: 'webhook-signature', value: 'k' } }),
        (error: any) => error instanceof ValidationError && error.details[0].path === 'api_key.header');
      const { webhook } = await createWebhook(p, url, { headers: { 'x-fine': '1' } });
      await assert.rejects(p.webhooks.update(webhook.id, { headers: { host: 'evil.example.com' } }, ctx(p)),
        (error: any) => error instanceof ValidationError && error.details[0].path === 'headers.host');
      assert.deepEqual((await p.webhooks.list(TENANT)).map((w) => w.id), [webhook.id], 'nothing refused was stored');
      assert.deepEqual((await p.webhooks.get(TENANT, webhook.id)).headers, { 'x-fine': '****' });
    });
  });

  describe('retries', () => {
    it('retries a 503 on the schedule with the same webhook-id and a fresh timestamp and signature per attempt, logging every attempt', async () => {
      const rx = await receiver();
      let calls = 0;
      rx.respondWith((_req, res) => {
        calls += 1;
        if (calls < 3) res.writeHead(503, { 'content-type': 'text/plain' }).end('busy, try later');
        else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
      // Attempt 3 comes >= 1.1 s after attempt 1, so their Unix-second timestamps must differ.
      const { plugin: p } = await plugin({ delivery: { retryScheduleMs: [0, 300, 800], jitter: 0 } });
      const apiKey = 'cidaas-key-0123456789abcdef';
      const authorization = 'Bearer wg-portal-token-987654';
      const { webhook, secret } = await createWebhook(p, `${rx.url}/hook`, { api_key: { header: 'x-cidaas-key', value: apiKey }, authorization });
      await userCreated(p);
      const delivery = await finishedOnly(p, webhook.id, 'succeeded');

      assert.equal(rx.requests.length, 3);
      const [first, second, third] = rx.requests;
      assert.deepEqual(rx.requests.map((r) => r.headers['webhook-id']), [delivery.id, delivery.id, delivery.id]);
      for (const request of rx.requests) {
        new Webhook(secret).verify(request.body, headersOf(request));
        assert.ok(Math.abs(Number(request.headers['webhook-timestamp']) - request.receivedAt / 1000) <= 1.5, 'timestamp of this attempt');
      }
      assert.ok(second.receivedAt - first.receivedAt >= 290, `second attempt waited ${second.receivedAt - first.receivedAt} ms`);
      assert.ok(third.receivedAt - second.receivedAt >= 790, `third attempt waited ${third.receivedAt - second.receivedAt} ms`);
      assert.ok(Number(third.headers['webhook-timestamp']) > Number(first.headers['webhook-timestamp']));
      assert.notEqual(third.headers['webhook-signature'], first.headers['webhook-signature']);
      assert.equal(third.body, first.body);

      assert.equal(delivery.attempts, 3);
      assert.equal(delivery.nextAttemptAt, null);
      assert.equal(delivery.lastStatusCode, 200);
      assert.equal(delivery.lastOutcome, 'success');
      const attempts = await p.store.listAttempts(TENANT, delivery.id);
      assert.deepEqual(attempts.map((a) => [a.attemptNumber, a.outcome, a.statusCode, a.responseExcerpt]), [
        [1, 'http_error', 503, 'busy, try later'],
        [2, 'http_error', 503, 'busy, try later'],
        [3, 'success', 200, 'ok'],
      ]);
      for (const attempt of attempts) {
        assert.equal(attempt.requestHeaders['x-cidaas-key'], `****${apiKey.slice(-4)}`);
        assert.equal(attempt.requestHeaders.authorization, `****${authorization.slice(-4)}`);
        assert.equal(attempt.requestHeaders['webhook-id'], delivery.id);
        assert.equal(attempt.requestHeaders['x-webhook-event'], 'USER_CREATED');
        assert.ok(attempt.durationMs >= 0);
      }
      const logged = JSON.stringify(attempts);
      assert.ok(!logged.includes(apiKey) && !logged.includes('wg-portal-token'), 'secrets are masked in the attempt log');
      await eventually(async () => (await p.store.findWebhook(TENANT, webhook.id))?.failingSince === null, 2_000);
    });

    it('waits for Retry-After on a 429 even when the schedule says 50 ms', async () => {
      const rx = await receiver();
      const firstSeen = new Set<string>();
      rx.respondWith((req, res) => {
        const id = String(req.headers['webhook-id']);
        if (firstSeen.has(id)) return void res.writeHead(200).end('ok');
        firstSeen.add(id);
        res.writeHead(429, req.path === '/polite' ? { 'retry-after': '1' } : {}).end('slow down');
      });
      const { plugin: p } = await plugin({ delivery: { retryScheduleMs: [0, 50, 50], jitter: 0 } });
      const polite = await createWebhook(p, `${rx.url}/polite`);
      const control = await createWebhook(p, `${rx.url}/control`);
      await userCreated(p);
      await finishedOnly(p, polite.webhook.id, 'succeeded');
      await finishedOnly(p, control.webhook.id, 'succeeded');

      const gap = (path: string) => {
        const [a, b] = rx.requests.filter((r) => r.path === path);
        return b.receivedAt - a.receivedAt;
      };
      assert.ok(gap('/polite') >= 950, `Retry-After: 1 gave a ${gap('/polite')} ms wait`);
      // Compared with the polite webhook of the same run, not with a wall-clock bound.
      assert.ok(gap('/control') + 500 < gap('/polite'), `without Retry-After the schedule's 50 ms applies (waited ${gap('/control')} ms)`);
    });

    it('marks a delivery failed once the schedule is exhausted, and sends nothing more', async () => {
      const rx = await receiver();
      rx.respondWith((_req, res) => void res.writeHead(500).end('boom'));
      const { plugin: p } = await plugin();
      const { webhook } = await createWebhook(p, `${rx.url}/hook`);
      await userCreated(p);
      const delivery = await finishedOnly(p, webhook.id, 'failed');
      assert.equal(delivery.attempts, 3, 'the schedule [0, 50, 100] allows three attempts');
      assert.equal(delivery.nextAttemptAt, null);
      assert.equal(delivery.lastStatusCode, 500);
      assert.equal(delivery.lastOutcome, 'http_error');
      assert.equal(rx.requests.length, 3, 'failed with no next attempt: no fourth request can follow');
      const attempts = await p.store.listAttempts(TENANT, delivery.id);
      assert.deepEqual(attempts.map((a) => a.errorMessage), Array(3).fill('Receiver answered HTTP 500'));
      assert.ok((await p.store.findWebhook(TENANT, webhook.id))?.failingSince instanceof Date, 'the webhook is now failing');
    });

    for (const status of [302, 307]) {
      it(`treats a ${status} as a failure and does not follow its Location`, async () => {
        const rx = await receiver();
        const target = await receiver();
        rx.respondWith((_req, res) => void res.writeHead(status, { location: `${target.url}/moved` }).end());
        const { plugin: p } = await plugin();
        const { webhook } = await createWebhook(p, `${rx.url}/hook`);
        await userCreated(p);
        const delivery = await finishedOnly(p, webhook.id, 'failed');
        const attempts = await p.store.listAttempts(TENANT, delivery.id);
        assert.deepEqual(attempts.map((a) => [a.outcome, a.statusCode]), Array(3).fill(['http_error', status]));
        assert.equal(target.requests.length, 0, 'the redirect target saw nothing');
        assert.equal(rx.requests.length, 3);
      });
    }
  });

  describe('outcome classes', () => {
    async function singleAttempt(p: WebhooksPlugin, webhookId: string) {
      const delivery = await finishedOnly(p, webhookId, 'failed');
      const attempts = await p.store.listAttempts(TENANT, delivery.id);
      assert.equal(attempts.length, 1);
      return attempts[0];
    }

    it('classes a receiver that never answers as timeout after delivery.timeoutMs', async () => {
      const rx = await receiver();
      rx.respondWith(() => undefined);
      const { plugin: p } = await plugin({ delivery: { timeoutMs: 300, leaseMs: 5_000, retryScheduleMs: [0] } });
      const { webhook } = await createWebhook(p, `${rx.url}/hook`);
      await userCreated(p);
      const attempt = await singleAttempt(p, webhook.id);
      assert.equal(attempt.outcome, 'timeout');
      assert.equal(attempt.statusCode, null);
      // The receiver never answers: only the request deadline can have ended the attempt as a timeout.
      assert.ok(attempt.durationMs >= 280, `took ${attempt.durationMs} ms`);
      assert.ok(attempt.errorMessage);
      assert.equal(rx.requests.length, 1, 'the request did reach the receiver');
    });

    it('classes a port with nothing listening as connection_refused', async () => {
      const { plugin: p } = await plugin({ delivery: { retryScheduleMs: [0] } });
      const { webhook } = await createWebhook(p, NOTHING_LISTENS);
      await userCreated(p);
      const attempt = await singleAttempt(p, webhook.id);
      assert.equal(attempt.outcome, 'connection_refused');
      assert.equal(attempt.statusCode, null);
      assert.match(attempt.errorMessage ?? '', /ECONNREFUSED/);
    });

    it('classes a loopback receiver the worker\'s egress policy forbids as blocked by literal address, and by host name as unresolvable', async () => {
      const rx = await receiver();
      const port = new URL(rx.url).port;
      // Saving needs loopback allow-listed; delivering goes through a second instance on the same
      // database whose allow-list is empty, as if an operator had tightened the policy since.
      const { plugin: web, connectionString } = await plugin({ runWorker: false });
      const { plugin: worker } = await plugin({ connectionString, egress: { allow: [] }, delivery: { retryScheduleMs: [0] } });
      const byName = await createWebhook(web, `http://localhost:${port}/by-name`);
      const byAddress = await createWebhook(web, `http://127.0.0.1:${port}/by-address`);
      await userCreated(web);
      const named = await singleAttempt(worker, byName.webhook.id);
      // Answered like a name that does not resolve, so admins cannot map internal DNS.
      assert.deepEqual([named.outcome, named.errorMessage], ['dns', 'Could not resolve localhost to an allowed address']);
      const literal = await singleAttempt(worker, byAddress.webhook.id);
      assert.equal(literal.outcome, 'blocked', `${byAddress.webhook.url}: ${literal.errorMessage}`);
      assert.match(literal.errorMessage ?? '', /forbidden range \(loopback\)/);
      assert.equal(rx.requests.length, 0, 'no byte reached the receiver');
    });

    it('keeps only responseExcerptBytes of a response body, for errors and successes', async () => {
      const rx = await receiver();
      let calls = 0;
      rx.respondWith((_req, res) => {
        calls += 1;
        res.writeHead(calls === 1 ? 500 : 200, { 'content-type': 'text/plain' }).end((calls === 1 ? 'E' : 'abcdefghij').repeat(5_000));
      });
      const { plugin: p } = await plugin({ delivery: { responseExcerptBytes: 16, retryScheduleMs: [0, 50] } });
      const { webhook } = await createWebhook(p, `${rx.url}/hook`);
      await userCreated(p);
      const delivery = await finishedOnly(p, webhook.id, 'succeeded');
      const attempts = await p.store.listAttempts(TENANT, delivery.id);
      assert.deepEqual(attempts.map((a) => [a.statusCode, a.responseExcerpt]), [[500, 'E'.repeat(16)], [200, 'abcdefghijabcdef']]);
    });
  });

  describe('webhook health', () => {
    it('disables the webhook at once on 410 Gone, stops fanning out to it, and re-enabling clears the reason', async () => {
      const rx = await receiver();
      rx.respondWith((_req, res) => void res.writeHead(410).end('gone'));
      const { plugin: p } = await plugin();
      const { webhook } = await createWebhook(p, `${rx.url}/hook`);
      await userCreated(p, 1);
      const delivery = await finishedOnly(p, webhook.id, 'failed');
      assert.equal(delivery.attempts, 1, 'a 410 is not retried');
      assert.equal(delivery.lastStatusCode, 410);
      const disabled = await p.webhooks.get(TENANT, webhook.id);
      assert.equal(disabled.enabled, false);
      assert.equal(disabled.status.state, 'disabled');
      assert.match(disabled.status.reason ?? '', /410 Gone/);
      assert.ok(disabled.status.disabled_at);

      assert.equal((await userCreated(p, 2)).deliveries, 0, 'a disabled webhook gets no new deliveries');
      assert.equal((await p.store.listDeliveries(TENANT, webhook.id, { limit: 10 })).length, 1, 'none was recorded');
      assert.equal(rx.requests.length, 1);

      rx.respondWith((_req, res) => void res.writeHead(200).end('ok'));
      const enabled = await p.webhooks.update(webhook.id, { enabled: true }, ctx(p));
      assert.equal(enabled.enabled, true);
      assert.deepEqual(enabled.status, { state: 'enabled', reason: null, disabled_at: null, failing_since: null });
      assert.equal((await userCreated(p, 3)).deliveries, 1);
      await rx.waitFor(2);
      assert.equal(JSON.parse(rx.requests[1].body).data.user.id, 'u-3');
    });

    it('disables a webhook on the next failure once it has failed for longer than delivery.disableAfterMs', async () => {
      const rx = await receiver();
      rx.respondWith((_req, res) => void res.writeHead(500).end('down'));
      const { plugin: p } = await plugin({ delivery: { disableAfterMs: 60_000, retryScheduleMs: [0] } });
      const stale = await createWebhook(p, `${rx.url}/stale`);
      const recent = await createWebhook(p, `${rx.url}/recent`);
      const longAgo = new Date(Date.now() - 120_000);
      const justNow = new Date(Date.now() - 1_000);
      await p.store.markWebhooksFailing([stale.webhook.id], longAgo);
      await p.store.markWebhooksFailing([recent.webhook.id], justNow);
      await userCreated(p);
      await finishedOnly(p, stale.webhook.id, 'failed');
      await finishedOnly(p, recent.webhook.id, 'failed');

      const staleView = await eventually(async () => {
        const view = await p.webhooks.get(TENANT, stale.webhook.id);
        return view.enabled ? null : view;
      }, 3_000);
      assert.equal(staleView.status.reason, `Every delivery failed since ${longAgo.toISOString()}`);
      const recentView = await p.webhooks.get(TENANT, recent.webhook.id);
      assert.equal(recentView.enabled, true, 'failing for 1 s is within disableAfterMs');
      assert.equal(recentView.status.failing_since, justNow.toISOString(), 'the failing run keeps its start');
    });
  });

  describe('secret rotation', () => {
    it('signs with the new and the old secret during the overlap, then with the new one only', async () => {
      const rx = await receiver();
      const { plugin: p } = await plugin({ delivery: { secretOverlapMs: 500 } });
      const { webhook, secret: oldSecret } = await createWebhook(p, `${rx.url}/hook`);
      // Rotated before the first delivery: a worker that delivered to this webhook within the
      // last 2 s still signs from its cached settings (delivery-pump's WEBHOOK_CACHE_MS).
      const rotated = await p.webhooks.rotateSecret(webhook.id, ctx(p));
      assert.ok(rotated.secret, 'an HMAC webhook\'s rotation answers its new secret');
      assert.notEqual(rotated.secret, oldSecret);

      await userCreated(p, 1);
      await rx.waitFor(1);
      const during = rx.requests[0];
      const signatures = String(during.headers['webhook-signature']).split(' ');
      assert.equal(signatures.length, 2);
      assert.ok(signatures.every((s) => s.startsWith('v1,')));
      new Webhook(rotated.secret).verify(during.body, headersOf(during));
      new Webhook(oldSecret).verify(during.body, headersOf(during));

      await sleep(Math.max(0, Date.parse(rotated.previous_expires_at) - Date.now()) + 50);
      await userCreated(p, 2);
      await rx.waitFor(2);
      const after = rx.requests[1];
      assert.equal(String(after.headers['webhook-signature']).split(' ').length, 1);
      new Webhook(rotated.secret).verify(after.body, headersOf(after));
      assert.throws(() => new Webhook(oldSecret).verify(after.body, headersOf(after)), /signature/i);
    });
  });

  describe('operator actions', () => {
    it('sendTest answers with the outcome of one signed WEBHOOK_TEST sent to that webhook only, and logs it', async () => {
      const rx = await receiver();
      const bystander = await receiver();
      const { plugin: p } = await plugin();
      const { webhook: everything } = await p.webhooks.create({ name: 'everything', url: `${bystander.url}/all`, events: ['*'] }, ctx(p));
      const { webhook, secret } = await createWebhook(p, `${rx.url}/hook`);

      const result = await p.deliveries.sendTest(webhook.id, ctx(p));
      assert.equal(rx.requests.length, 1, 'sent before sendTest resolved');
      assert.equal(result.success, true);
      assert.equal(result.outcome, 'success');
      assert.equal(result.status_code, 200);
      assert.ok(Number.isInteger(result.duration_ms) && result.duration_ms >= 0);
      assert.equal(result.response_excerpt, 'ok');
      assert.equal(result.error, null);
      const [request] = rx.requests;
      assert.equal(request.headers['x-webhook-event'], TEST_EVENT_TYPE);
      assert.equal(request.headers['webhook-id'], result.delivery_id);
      const envelope = new Webhook(secret).verify(request.body, headersOf(request)) as any;
      assert.equal(envelope.event_type, TEST_EVENT_TYPE);
      assert.equal(envelope.data.webhook.id, webhook.id);

      assert.equal(rx.requests.length, 1);
      const bystanderDeliveries = await p.store.listDeliveries(TENANT, everything.id, { eventType: TEST_EVENT_TYPE, limit: 10 });
      assert.deepEqual(bystanderDeliveries, [], 'a * subscriber does not get the test event');
      const attempts = await p.store.listAttempts(TENANT, result.delivery_id);
      assert.deepEqual(attempts.map((a) => [a.attemptNumber, a.outcome, a.statusCode]), [[1, 'success', 200]]);
      const delivery = await p.store.findDelivery(TENANT, result.delivery_id);
      assert.equal(delivery?.status, 'succeeded');

      await assert.rejects(p.deliveries.sendTest(webhook.id, ctx(p, 'globex')), NotFoundError);
    });

    it('sendTest reports a failure with its status or error class and never retries it', async () => {
      const rx = await receiver();
      rx.respondWith((_req, res) => void res.writeHead(500).end('receiver exploded'));
      const { plugin: p } = await plugin();
      const erroring = await createWebhook(p, `${rx.url}/hook`);
      const refused = await createWebhook(p, NOTHING_LISTENS);

      const http500 = await p.deliveries.sendTest(erroring.webhook.id, ctx(p));
      assert.deepEqual([http500.success, http500.outcome, http500.status_code, http500.response_excerpt], [false, 'http_error', 500, 'receiver exploded']);
      const noListener = await p.deliveries.sendTest(refused.webhook.id, ctx(p));
      assert.deepEqual([noListener.success, noListener.outcome, noListener.status_code], [false, 'connection_refused', null]);
      assert.match(noListener.error ?? '', /ECONNREFUSED/);

      // Failed with no next attempt (checked below): nothing will retry it.
      assert.equal(rx.requests.length, 1, 'the failed test send was not retried');
      for (const result of [http500, noListener]) {
        assert.equal((await p.store.listAttempts(TENANT, result.delivery_id)).length, 1);
        const delivery = await p.store.findDelivery(TENANT, result.delivery_id);
        assert.deepEqual([delivery?.status, delivery?.nextAttemptAt], ['failed', null]);
      }
    });

    it('retry re-sends one failed delivery and recover re-sends every failed delivery since a time; other tenants get NotFound', async () => {
      const rx = await receiver();
      let accept = false;
      rx.respondWith((_req, res) => void res.writeHead(accept ? 200 : 500).end());
      const { plugin: p } = await plugin({ delivery: { retryScheduleMs: [0] } });
      const { webhook } = await createWebhook(p, `${rx.url}/hook`);
      const failedDelivery = async (n: number) => {
        const { event_id: eventId } = await userCreated(p, n);
        const id = await eventually(async () =>
          (await p.store.listDeliveries(TENANT, webhook.id, { limit: 10 })).find((d) => d.eventId === eventId)?.id);
        return finished(p, id, 'failed');
      };
      const before = [await failedDelivery(0), await failedDelivery(1)];
      await sleep(5);
      const since = new Date();
      const after = [await failedDelivery(2), await failedDelivery(3)];
      assert.equal(rx.requests.length, 4);
      accept = true;

      await assert.rejects(p.deliveries.retry('globex', before[1].id), NotFoundError);
      await assert.rejects(p.deliveries.retry(TENANT, 'msg_AAAAAAAAAAAAAAAAAAAAAA'), NotFoundError);
      await p.deliveries.retry(TENANT, before[1].id);
      const retried = await finished(p, before[1].id, 'succeeded');
      assert.equal(retried.attempts, 2);
      assert.equal(rx.requests.at(-1)?.headers['webhook-id'], before[1].id);

      await assert.rejects(p.deliveries.recover('globex', webhook.id, since), NotFoundError);
      assert.equal(await p.deliveries.recover(TENANT, webhook.id, since), 2);
      for (const delivery of after) await finished(p, delivery.id, 'succeeded');
      assert.deepEqual(new Set(rx.requests.slice(5).map((r) => r.headers['webhook-id'])), new Set(after.map((d) => d.id)));
      assert.equal((await p.store.findDelivery(TENANT, before[0].id))?.status, 'failed', 'failed before `since`: left alone');
      assert.equal(await p.deliveries.recover(TENANT, webhook.id, since), 0);
      assert.equal((await p.store.listDeliveries(TENANT, webhook.id, { status: 'pending', limit: 10 })).length, 0, 'nothing was requeued');
      assert.equal(rx.requests.length, 7);
    });
  });

  describe('workers', () => {
    it('stop() waits for an in-flight delivery and records its attempt before resolving', async () => {
      const rx = await receiver();
      rx.respondWith(async (_req, res) => {
        await sleep(500);
        res.writeHead(200).end('late but fine');
      });
      const { plugin: p, connectionString } = await plugin();
      const { webhook } = await createWebhook(p, `${rx.url}/hook`);
      await userCreated(p);
      await rx.waitFor(1);
      await p.stop();
      assert.ok(Date.now() - rx.requests[0].receivedAt >= 480, 'stop() resolved only after the receiver answered');

      const { plugin: reader } = await plugin({ connectionString, runWorker: false });
      const delivery = await onlyDelivery(reader, webhook.id);
      assert.equal(delivery.status, 'succeeded');
      assert.equal(delivery.leaseOwner, null);
      const attempts = await reader.store.listAttempts(TENANT, delivery.id);
      assert.deepEqual(attempts.map((a) => [a.outcome, a.statusCode, a.responseExcerpt]), [['success', 200, 'late but fine']]);
      assert.equal(rx.requests.length, 1);
    });

    it('two instances on one database deliver 200 events exactly once each', async () => {
      const N = 200;
      const rx = await receiver();
      // Exactly once holds while no attempt times out: on a loaded machine a 2 s timeout can fire
      // after the receiver got the request, and the retry is a correct at-least-once duplicate.
      const patient = { timeoutMs: 15_000, leaseMs: 30_000 };
      const { plugin: a, connectionString } = await plugin({ workerName: 'worker-a', delivery: patient });
      const { plugin: b } = await plugin({ connectionString, workerName: 'worker-b', delivery: patient });
      const { webhook, secret } = await createWebhook(a, `${rx.url}/hook`);
      const eventIds: string[] = [];
      for (let start = 0; start < N; start += 20) {
        const batch = Array.from({ length: 20 }, (_, i) => userCreated((start + i) % 2 === 0 ? a : b, start + i));
        eventIds.push(...(await Promise.all(batch)).map((r) => r.event_id));
      }
      await rx.waitFor(N, 20_000);
      const delivered = await eventually(async () => {
        const done = await a.store.listDeliveries(TENANT, webhook.id, { status: 'succeeded', limit: N + 1 });
        return done.length === N ? done : null;
      }, 5_000);
      assert.ok(delivered.every((d) => d.attempts === 1 && d.nextAttemptAt === null), 'each delivered by one attempt, none scheduled again');

      assert.equal(rx.requests.length, N, 'no delivery was sent twice');
      const ids = rx.requests.map((r) => String(r.headers['webhook-id']));
      assert.equal(new Set(ids).size, N);
      assert.deepEqual(new Set(rx.requests.map((r) => JSON.parse(r.body).current_context.event_id)), new Set(eventIds));
      for (const request of rx.requests) new Webhook(secret).verify(request.body, headersOf(request));
    });
  });
});
