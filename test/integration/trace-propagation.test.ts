import assert from 'node:assert/strict';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import type { WebhooksPlugin } from '../../plugin/index.js';
import { eventually, startTestPlugin } from '../support/plugin-fixture.js';
import { TestReceiver, type ReceivedRequest } from '../support/receiver.js';
import { cleanupAfterEach } from '../support/cleanups.js';

const TENANT = 'acme';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${CALLER_SPAN}-01`;
const USER = { _id: 'u-1', username: 'jdoe', email: 'jane@example.com' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const traceparentOf = (r: ReceivedRequest) => r.headers.traceparent as string | undefined;

describe('trace context carried to the receiver', function () {
  this.timeout(30_000);
  const cleanup = cleanupAfterEach();
  after(() => sleep(100));

  async function setUp(): Promise<{ p: WebhooksPlugin; rx: TestReceiver }> {
    const rx = await new TestReceiver().start();
    cleanup(() => rx.stop());
    const { plugin: p } = await startTestPlugin();
    cleanup(() => p.stop());
    await p.webhooks.create({ name: 'crm', url: `${rx.url}/hook`, events: ['USER_LOGIN'] }, p.context({ tenantId: TENANT }, 'default'));
    return { p, rx };
  }

  /** The receiver fails the first request with a 500 and accepts the rest: one retry. */
  const failOnce = (rx: TestReceiver) => rx.respondWith((_r, res) => {
    res.writeHead(rx.requests.length === 1 ? 500 : 200).end();
  });

  describe('without an OpenTelemetry SDK', () => {
    it('sends the traceparent and tracestate of the request that caused the event, on the retry too', async () => {
      const { p, rx } = await setUp();
      failOnce(rx);
      const req = { ip: '203.0.113.9', headers: { traceparent: TRACEPARENT, tracestate: 'crm=1,idp=2' } };
      await p.hooks.userLogin({ user: USER }, { tenantId: TENANT, req });
      await rx.waitFor(2);
      for (const request of rx.requests) {
        assert.equal(traceparentOf(request), TRACEPARENT);
        assert.equal(request.headers.tracestate, 'crm=1,idp=2');
      }
      assert.equal(rx.requests[0].headers['webhook-id'], rx.requests[1].headers['webhook-id'], 'the same delivery, retried');
    });

    it('prefers the explicit context.traceparent, and sends none when the event has no trace context', async () => {
      const { p, rx } = await setUp();
      const explicit = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-00`;
      await p.hooks.userLogin({ user: USER }, { tenantId: TENANT, traceparent: explicit, req: { headers: { traceparent: TRACEPARENT } } });
      await p.hooks.userLogin({ user: { ...USER, _id: 'u-2' } }, { tenantId: TENANT, req: { headers: { traceparent: 'not-a-traceparent' } } });
      await rx.waitFor(2);
      const byUser = new Map(rx.requests.map((r) => [JSON.parse(r.body).data.user.id, r]));
      assert.equal(traceparentOf(byUser.get('u-1')!), explicit);
      assert.equal(traceparentOf(byUser.get('u-2')!), undefined, 'a malformed header is dropped, never echoed');
      assert.equal(byUser.get('u-2')!.headers.tracestate, undefined);
    });

    it('refuses a webhook whose custom headers would set traceparent or tracestate', async () => {
      const { p } = await setUp();
      for (const name of ['traceparent', 'TraceState']) {
        await assert.rejects(p.webhooks.create({ name: 'x', url: 'https://crm.example.com/hook', events: ['USER_LOGIN'], headers: { [name]: 'v' } },
          p.context({ tenantId: TENANT }, 'default')), { code: 'validation_failed' });
      }
    });
  });

  describe('with an OpenTelemetry SDK registered', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    before(() => {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      trace.setGlobalTracerProvider(provider);
    });
    after(async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
    });
    beforeEach(() => exporter.reset());

    const spans = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);
    const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

    it('records hook, record, claim and attempt spans in the caller\'s trace, and the receiver continues it', async () => {
      const { p, rx } = await setUp();
      failOnce(rx);
      const recorded = await p.hooks.userLogin({ user: USER }, { tenantId: TENANT, req: { headers: { traceparent: TRACEPARENT } } });
      await rx.waitFor(2);
      const attempts = await eventually(async () => (spans('webhooks.attempt').length >= 2 ? spans('webhooks.attempt') : null));

      const [hook] = spans('webhooks.hook USER_LOGIN');
      assert.ok(hook, 'a hook span');
      assert.equal(hook.spanContext().traceId, TRACE_ID);
      assert.equal(parentOf(hook), CALLER_SPAN, 'the hook span continues the request\'s trace');
      assert.equal(hook.attributes['webhooks.event_type'], 'USER_LOGIN');
      assert.equal(hook.attributes['webhooks.event_id'], recorded.event_id);
      assert.equal(hook.attributes['webhooks.deliveries'], 1);

      // (The webhook's creation recorded an audit event of its own: pick this event's record span.)
      const [record] = spans('webhooks.record').filter((s) => s.attributes['webhooks.event_id'] === recorded.event_id);
      assert.equal(parentOf(record), hook.spanContext().spanId, 'record is a child of the hook span');
      assert.equal(record.spanContext().traceId, TRACE_ID);

      const deliveryId = rx.requests[0].headers['webhook-id'];
      attempts.sort((a, b) => Number(a.attributes['webhooks.attempt']) - Number(b.attributes['webhooks.attempt']));
      for (const [i, attempt] of attempts.entries()) {
        assert.equal(attempt.kind, SpanKind.CLIENT);
        assert.equal(attempt.spanContext().traceId, TRACE_ID, 'every attempt is in the login\'s trace');
        assert.equal(parentOf(attempt), hook.spanContext().spanId, 'attempts hang under the hook span');
        assert.equal(attempt.attributes['webhooks.delivery_id'], deliveryId);
        assert.equal(attempt.attributes['webhooks.event_type'], 'USER_LOGIN');
        assert.equal(attempt.attributes['webhooks.attempt'], i + 1);
        assert.equal(typeof attempt.attributes['webhooks.webhook_id'], 'string');
        // The receiver's traceparent names this attempt's span as its parent.
        assert.equal(traceparentOf(rx.requests[i]), `00-${TRACE_ID}-${attempt.spanContext().spanId}-01`);
      }
      assert.deepEqual([attempts[0].attributes['webhooks.outcome'], attempts[0].attributes['http.response.status_code']], ['http_error', 500]);
      assert.equal(attempts[0].status.code, SpanStatusCode.ERROR);
      assert.deepEqual([attempts[1].attributes['webhooks.outcome'], attempts[1].attributes['http.response.status_code']], ['success', 200]);
      assert.notEqual(attempts[1].status.code, SpanStatusCode.ERROR);

      const claims = spans('webhooks.claim').filter((s) => Number(s.attributes['webhooks.claim.count']) > 0);
      assert.ok(claims.length >= 2, 'one claim per attempt at least');
      assert.equal(parentOf(claims[0]), undefined, 'a claim is the worker\'s own root span');

      const everyValue = exporter.getFinishedSpans().flatMap((s) => Object.values(s.attributes).map(String)).join(' ');
      assert.ok(!everyValue.includes(rx.url) && !everyValue.includes('jane@example.com'), 'no URL or body in attributes');
    });

    it('starts a trace of its own for an event with no incoming trace context, and marks a refused hook call failed', async () => {
      const { p, rx } = await setUp();
      await p.hooks.userLogin({ user: USER }, { tenantId: TENANT });
      await rx.waitFor(1);
      const [hook] = spans('webhooks.hook USER_LOGIN');
      assert.equal(parentOf(hook), undefined);
      assert.equal(traceparentOf(rx.requests[0])?.split('-')[1], hook.spanContext().traceId);

      await assert.rejects(p.hooks.emit('NO_SUCH_EVENT', {}, { tenantId: TENANT }));
      const [failed] = spans('webhooks.hook NO_SUCH_EVENT');
      assert.equal(failed.status.code, SpanStatusCode.ERROR);
      assert.equal(failed.attributes['error.type'], 'unknown_event_type');
    });
  });
});
