import assert from 'node:assert/strict';
import { InvalidWebhookUrlError, type WebhooksPlugin } from '../../plugin/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startDnsServer } from '../support/dns-server.js';
import { eventually, startTestPlugin, type PluginOverrides } from '../support/plugin-fixture.js';
import { TestReceiver } from '../support/receiver.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A multi-tenant host that opened loopback (where the receiver runs) for acme alone. */
const ACME_ONLY = { allow: [], allowByTenant: { acme: ['127.0.0.0/8'] }, privateResponseBodies: false };
const PRIVATE_BODY_NOTE = 'The response body is not shown because the receiver is at a private network address.';

type Warning = { message: string; fields?: Record<string, unknown> };

describe('egress per tenant', function () {
  this.timeout(30_000);
  const cleanup = cleanupAfterEach();
  // pg-pool's end() resolves before its sockets have closed (see delivery.test.ts).
  after(() => sleep(100));

  async function receiver(): Promise<TestReceiver> {
    const started = await new TestReceiver().start();
    cleanup(() => started.stop());
    started.respondWith((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('internal secret');
    });
    return started;
  }

  async function plugin(overrides: PluginOverrides = {}): Promise<{ plugin: WebhooksPlugin; connectionString: string }> {
    const started = await startTestPlugin(overrides);
    cleanup(() => started.plugin.stop());
    return started;
  }

  const ctx = (p: WebhooksPlugin, tenantId: string) => p.context({ tenantId }, 'default');
  const create = (p: WebhooksPlugin, tenantId: string, url: string) =>
    p.webhooks.create({ name: 'receiver', url, events: ['USER_CREATED'] }, ctx(p, tenantId));
  const refusedAsForbidden = (reason: 'forbidden_address' | 'localhost') => (error: unknown) =>
    error instanceof InvalidWebhookUrlError && error.reason === reason;

  it('lets the tenant whose own list admits 127.0.0.1 save and deliver there, and no other tenant', async () => {
    const rx = await receiver();
    const { plugin: p, connectionString } = await plugin({ egress: ACME_ONLY });
    const { webhook: acmeHook } = await create(p, 'acme', `${rx.url}/acme`);

    await assert.rejects(create(p, 'globex', `${rx.url}/globex`), refusedAsForbidden('forbidden_address'));
    await assert.rejects(create(p, 'globex', `http://localhost:${new URL(rx.url).port}/`), refusedAsForbidden('localhost'));
    const { webhook: publicHook } = await create(p, 'globex', 'https://hooks.example.com/');
    await assert.rejects(p.webhooks.update(publicHook.id, { url: `${rx.url}/globex` }, ctx(p, 'globex')), refusedAsForbidden('forbidden_address'));

    // A globex webhook saved there while the host's policy was laxer (another instance on the
    // same database) is refused when sent, by test send and by the worker alike.
    const { plugin: lax } = await plugin({ connectionString, runWorker: false, egress: { allow: ['127.0.0.0/8'] } });
    const { webhook: staleHook } = await create(lax, 'globex', `${rx.url}/stale`);
    const refused = await p.deliveries.sendTest(staleHook.id, ctx(p, 'globex'));
    assert.deepEqual([refused.success, refused.outcome, refused.status_code], [false, 'blocked', null]);
    await p.hooks.userCreated({ user: { _id: 'u-1', username: 'jdoe' } }, { tenantId: 'globex' });
    const attempt = await eventually(async () => {
      const [delivery] = await p.store.listDeliveries('globex', staleHook.id, { limit: 1 });
      return delivery ? (await p.store.listAttempts('globex', delivery.id))[0] : undefined;
    });
    assert.equal(attempt.outcome, 'blocked');
    assert.equal(rx.requests.length, 0, 'nothing of globex reached the receiver');

    const sent = await p.deliveries.sendTest(acmeHook.id, ctx(p, 'acme'));
    assert.deepEqual([sent.success, sent.status_code], [true, 200], sent.error ?? '');
    await p.hooks.userCreated({ user: { _id: 'u-2', username: 'jane' } }, { tenantId: 'acme' });
    await rx.waitFor(2);
    assert.deepEqual(rx.requests.map((r) => r.path), ['/acme', '/acme']);
  });

  it('keeps no response body of a private receiver unless the operator opts in, and the test-send answer says why', async () => {
    const rx = await receiver();
    const { plugin: p, connectionString } = await plugin({ egress: ACME_ONLY });
    const { webhook } = await create(p, 'acme', `${rx.url}/hook`);

    const hidden = await p.deliveries.sendTest(webhook.id, ctx(p, 'acme'));
    assert.deepEqual(
      [hidden.success, hidden.status_code, hidden.response_excerpt, hidden.response_note],
      [true, 200, null, PRIVATE_BODY_NOTE],
    );
    assert.ok(hidden.duration_ms >= 0);
    const [logged] = await p.store.listAttempts('acme', hidden.delivery_id);
    assert.deepEqual([logged.outcome, logged.statusCode, logged.responseExcerpt], ['success', 200, null]);

    const { plugin: optedIn } = await plugin({ connectionString, runWorker: false, egress: { ...ACME_ONLY, privateResponseBodies: true } });
    const shown = await optedIn.deliveries.sendTest(webhook.id, ctx(optedIn, 'acme'));
    assert.deepEqual([shown.success, shown.response_excerpt, shown.response_note], [true, 'internal secret', null]);
    const [loggedWithBody] = await optedIn.store.listAttempts('acme', shown.delivery_id);
    assert.equal(loggedWithBody.responseExcerpt, 'internal secret');
  });

  it('answers a name that resolves to a forbidden address as unresolvable, in the test send and the attempt log, and tells the operator why', async () => {
    const dns = await startDnsServer({ 'internal.test': { a: ['10.0.0.5'] } });
    cleanup(() => dns.close());
    const warnings: Warning[] = [];
    const { plugin: p } = await plugin({
      egress: { ...ACME_ONLY, dnsServers: [dns.address] },
      logger: { info: () => undefined, warn: (message, fields) => warnings.push({ message, fields }), error: () => undefined },
    });
    // Saving does not resolve names: what a name points to is judged on every connection.
    const { webhook } = await create(p, 'globex', 'http://internal.test/hook');

    const result = await p.deliveries.sendTest(webhook.id, ctx(p, 'globex'));
    assert.deepEqual(
      [result.outcome, result.status_code, result.error],
      ['dns', null, 'Could not resolve internal.test to an allowed address'],
    );
    const [logged] = await p.store.listAttempts('globex', result.delivery_id);
    assert.deepEqual([logged.outcome, logged.errorMessage], ['dns', 'Could not resolve internal.test to an allowed address']);
    // Nor how long it took: a refused answer is cached, a missing name asked again each time.
    const { webhook: missing } = await create(p, 'globex', 'http://missing.test/hook');
    const unresolved = await p.deliveries.sendTest(missing.id, ctx(p, 'globex'));
    assert.deepEqual([unresolved.outcome, unresolved.error], ['dns', 'Could not resolve missing.test to an allowed address']);
    assert.deepEqual([result.duration_ms, logged.durationMs, unresolved.duration_ms], [0, 0, 0]);
    assert.ok(!/10\.0\.0\.5|private/.test(JSON.stringify([result, logged])), 'nothing says where the name points');
    const told = warnings.find((w) => w.fields?.hostname === 'internal.test');
    assert.deepEqual(told?.fields, { tenantId: 'globex', hostname: 'internal.test', address: '10.0.0.5', range: 'private (10.0.0.0/8)' });
  });
});
