import assert from 'node:assert/strict';
import { createPublicKey, verify as edVerify } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import Ajv2020 from 'ajv/dist/2020.js';
import type express from 'express';
import { Webhook } from 'standardwebhooks';
import request from 'supertest';
import { buildOpenApiDocument } from '../../plugin/admin/openapi.js';
import type { WebhooksPlugin } from '../../plugin/index.js';
import { ACME, createAdminHost } from '../support/admin-host.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { eventually, startTestPlugin, TEST_STORES } from '../support/plugin-fixture.js';
import { TestReceiver, type ReceivedRequest } from '../support/receiver.js';

const API = '/admin/webhooks/api';
const API_KEY = 'api-key-0123456789abcdef';
const AUTHORIZATION = 'Bearer bearer-token-0123456789abcdef';
const TENANT_HEADER = 'acme-tenant-header-value';
const CREDENTIALS = { api_key: { header: 'x-cidaas-key', value: API_KEY }, authorization: AUTHORIZATION, headers: { 'x-tenant': TENANT_HEADER } };
const SECRET_TEXTS = [API_KEY, AUTHORIZATION, 'bearer-token-0123456789abcdef', TENANT_HEADER];

const headersOf = (r: ReceivedRequest) => r.headers as Record<string, string>;

/** A receiver's check of `v1a` entries, from the `whpk_` public key and node:crypto alone. */
function verifiesV1a(whpk: string, r: ReceivedRequest): boolean {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(whpk.slice('whpk_'.length), 'base64').toString('base64url') }, format: 'jwk' });
  const content = Buffer.from(`${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`);
  return String(r.headers['webhook-signature']).split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    return version === 'v1a' && edVerify(null, content, key, Buffer.from(signature, 'base64'));
  });
}

const versions = (r: ReceivedRequest) => String(r.headers['webhook-signature']).split(' ').map((e) => e.split(',')[0]);

function assertNoCredential(text: string, where: string): void {
  for (const secret of SECRET_TEXTS) assert.ok(!text.includes(secret), `${where} holds ${secret}: ${text}`);
}

for (const storeKind of TEST_STORES) describe(`webhook credentials and signing keys (${storeKind})`, function () {
  this.timeout(30_000);
  const cleanup = cleanupAfterEach();
  let plugin: WebhooksPlugin;
  let app: express.Express;
  /** The receiver the webhook was made for. */
  let home: TestReceiver;
  /** Another origin (another port): it echoes every request header back in its answer. */
  let echo: TestReceiver;

  beforeEach(async () => {
    home = await new TestReceiver().start();
    cleanup(() => home.stop());
    echo = await new TestReceiver().start();
    cleanup(() => echo.stop());
    echo.respondWith((r, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ you_sent: r.headers })); });
    ({ plugin } = await startTestPlugin({ store: storeKind }));
    cleanup(() => plugin.stop());
    app = createAdminHost(plugin);
  });

  const create = (body: Record<string, unknown>) =>
    request(app).post(`${API}/webhooks`).set(ACME).send({ name: 'CRM', url: `${home.url}/crm`, events: ['USER_*'], ...body });
  const patch = (id: string, body: Record<string, unknown>) => request(app).patch(`${API}/webhooks/${id}`).set(ACME).send(body);
  const rotate = (id: string) => request(app).post(`${API}/webhooks/${id}/rotate-secret`).set(ACME);
  const testSend = async (id: string) => {
    const res = await request(app).post(`${API}/webhooks/${id}/test`).set(ACME);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };
  /** The response excerpts stored for every attempt of a webhook. */
  async function storedExcerpts(webhookId: string): Promise<string[]> {
    const deliveries = await plugin.store.listDeliveries('acme', webhookId, { limit: 100 });
    const attempts = await plugin.store.listAttemptsFor('acme', deliveries.map((d) => d.id));
    return attempts.map((a) => a.responseExcerpt ?? '');
  }
  const sentCredentials = (headers: IncomingHttpHeaders) => [headers['x-cidaas-key'], headers.authorization, headers['x-tenant']];

  describe('bound to the URL origin', () => {
    it('clears the API key, authorization and custom headers when a PATCH moves the URL to another origin, and says so', async () => {
      const { body: hook } = await create(CREDENTIALS);
      const moved = await patch(hook.id, { url: `${echo.url}/echo` });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      assert.deepEqual(moved.body.cleared_credentials, ['api_key', 'authorization', 'headers']);
      assert.deepEqual([moved.body.api_key, moved.body.authorization, moved.body.headers], [null, null, {}]);

      const result = await testSend(hook.id);
      assert.equal(result.success, true);
      const got = echo.requests.at(-1)!;
      assert.deepEqual(sentCredentials(got.headers), [undefined, undefined, undefined], 'the new origin gets none of them');
      assertNoCredential(JSON.stringify(got.headers), 'the request to the new origin');
      assertNoCredential(String(result.response_excerpt), 'the test-send answer');
      for (const excerpt of await storedExcerpts(hook.id)) assertNoCredential(excerpt, 'a stored excerpt');
      // The signing secret is no receiver credential: it is kept, and still signs.
      new Webhook(hook.secret).verify(got.body, headersOf(got));

      const read = await request(app).get(`${API}/webhooks/${hook.id}`).set(ACME);
      assert.deepEqual([read.body.api_key, read.body.authorization, read.body.headers, read.body.url], [null, null, {}, `${echo.url}/echo`]);
      assert.equal('cleared_credentials' in read.body, false, 'only the PATCH answer says what it cleared');
    });

    it('keeps credentials a PATCH to another origin sends again, and all of them on a change of path only', async () => {
      const { body: hook } = await create(CREDENTIALS);
      const resent = await patch(hook.id, { url: `${echo.url}/a`, ...CREDENTIALS });
      assert.equal(resent.status, 200, JSON.stringify(resent.body));
      assert.equal('cleared_credentials' in resent.body, false, 'nothing was cleared');
      assert.deepEqual(resent.body.api_key, { header: 'x-cidaas-key', value: '****cdef' });

      const samePlace = await patch(hook.id, { url: `${echo.url}/b/other?x=1` });
      assert.equal(samePlace.status, 200);
      assert.equal('cleared_credentials' in samePlace.body, false);
      // Here the receiver is trusted with them (sent for this origin), so it gets them all.
      await testSend(hook.id);
      assert.deepEqual(sentCredentials(echo.requests.at(-1)!.headers), [API_KEY, AUTHORIZATION, TENANT_HEADER]);
      assert.equal(echo.requests.at(-1)!.path, '/b/other?x=1');

      // Only some sent again: the others are cleared, and the answer names them.
      const partly = await patch(hook.id, { url: `${home.url}/crm`, headers: { 'x-tenant': TENANT_HEADER } });
      assert.deepEqual(partly.body.cleared_credentials, ['api_key', 'authorization']);
      assert.deepEqual(Object.keys(partly.body.headers), ['x-tenant']);
    });

    it('refuses an update that leans on a stored value across origins, and changes nothing', async () => {
      const { body: hook } = await create(CREDENTIALS);
      const refused = await patch(hook.id, { url: `${echo.url}/echo`, api_key: { header: 'x-other-key' } });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error.code, 'validation_failed');
      assert.deepEqual(refused.body.error.details.map((d: any) => d.path), ['api_key.value']);
      assert.match(refused.body.error.details[0].message, /must be sent again: the URL's origin \(scheme, host or port\) changed/);
      const read = await request(app).get(`${API}/webhooks/${hook.id}`).set(ACME);
      assert.equal(read.body.url, `${home.url}/crm`);
      assert.deepEqual(read.body.api_key, { header: 'x-cidaas-key', value: '****cdef' });
      // The header name alone is fine once the value comes too.
      const ok = await patch(hook.id, { url: `${echo.url}/echo`, api_key: { value: API_KEY } });
      assert.deepEqual(ok.body.api_key, { header: 'x-cidaas-key', value: '****cdef' });
      assert.deepEqual(ok.body.cleared_credentials, ['authorization', 'headers']);
    });
  });

  describe('response excerpts', () => {
    it('never stores or answers a secret value an echo server sends back', async () => {
      // The webhook is made for the echo server itself: it gets the credentials, and echoes them.
      const { body: hook } = await create({ url: `${echo.url}/echo`, ...CREDENTIALS });
      const result = await testSend(hook.id);
      assert.deepEqual(sentCredentials(echo.requests.at(-1)!.headers), [API_KEY, AUTHORIZATION, TENANT_HEADER]);
      assert.match(result.response_excerpt, /"x-cidaas-key":"\[redacted\]"/);
      assertNoCredential(result.response_excerpt, 'the test-send answer');
      // A real delivery takes the same path through the pump.
      await plugin.hooks.userLogin({ user: { id: 'u1' } }, { tenantId: 'acme' });
      await echo.waitFor(2);
      const excerpts = await eventually(async () => {
        const all = await storedExcerpts(hook.id);
        return all.length === 2 ? all : null;
      });
      for (const excerpt of excerpts) {
        assert.match(excerpt, /\[redacted\]/);
        assertNoCredential(excerpt, 'a stored excerpt');
      }
      const detail = await request(app).get(`${API}/webhooks/${hook.id}/deliveries`).set(ACME);
      assertNoCredential(JSON.stringify(detail.body), 'the delivery log');
    });
  });

  describe('audit events', () => {
    it('show the webhook URL masked to its origin, with the signature scheme and public key', async () => {
      await create({ name: 'auditor', events: ['WEBHOOK_*'] });
      const slackLike = `${echo.url}/services/T0000/B0000/XXXXsecretXXXX?token=query-secret`;
      const { body: hook } = await create({ name: 'target', url: slackLike, signature_scheme: 'ed25519' });
      assert.equal(hook.url, slackLike, 'the tenant\'s admins still see the full URL');
      await patch(hook.id, { url: `${echo.url}/services/T0000/B0000/YYYYsecretYYYY` });
      await request(app).delete(`${API}/webhooks/${hook.id}`).set(ACME);
      await home.waitFor(4);
      const events = home.requests.map((r) => JSON.parse(r.body)).filter((e) => e.data.webhook.id === hook.id);
      assert.deepEqual(events.map((e) => e.event_type).sort(), ['WEBHOOK_CREATED', 'WEBHOOK_DELETED', 'WEBHOOK_UPDATED']);
      for (const event of events) {
        assert.equal(event.data.webhook.url, `${echo.url}/****`);
        assert.equal(event.data.webhook.signature_scheme, 'ed25519');
        assert.equal(event.data.webhook.public_key, hook.public_key);
      }
      const text = home.requests.map((r) => r.body).join('\n');
      for (const secret of ['XXXXsecret', 'YYYYsecret', 'query-secret', '/services/']) assert.ok(!text.includes(secret), secret);
    });
  });

  describe('secret rotation', () => {
    it('signs with two secrets at most after ten rotations: the newest and the one it replaced', async () => {
      const { body: hook } = await create({});
      const secrets = [hook.secret as string];
      for (let i = 0; i < 10; i += 1) {
        const res = await rotate(hook.id);
        assert.equal(res.status, 200);
        secrets.push(res.body.secret);
      }
      await testSend(hook.id);
      const got = home.requests.at(-1)!;
      assert.deepEqual(versions(got), ['v1', 'v1']);
      assert.doesNotThrow(() => new Webhook(secrets[10]).verify(got.body, headersOf(got)));
      assert.doesNotThrow(() => new Webhook(secrets[9]).verify(got.body, headersOf(got)), 'a receiver holding the previous secret still verifies');
      for (const old of secrets.slice(0, 9)) assert.throws(() => new Webhook(old).verify(got.body, headersOf(got)), /signature/i);
    });
  });

  describe('Ed25519 signatures', () => {
    it('creates, signs, rotates and switches scheme, with the public key in every answer and no secret key ever', async () => {
      const ajv = new Ajv2020.default({ strict: false, validateFormats: false, allErrors: true });
      ajv.addSchema({ $id: 'https://webhooks.invalid/admin-api.json', ...buildOpenApiDocument() });
      const documented = (path: string, answer: unknown) => {
        const validate = ajv.compile({ $ref: `https://webhooks.invalid/admin-api.json#/paths/${path}` });
        assert.ok(validate(answer), `${path}: ${ajv.errorsText(validate.errors)}`);
      };

      const created = await create({ signature_scheme: 'ed25519' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal('secret' in created.body, false, 'no secret for Ed25519');
      assert.equal(created.body.signature_scheme, 'ed25519');
      assert.match(created.body.public_key, /^whpk_[A-Za-z0-9+/]{43}=$/);
      assert.ok(!JSON.stringify(created.body).includes('whsk_'));
      documented('~1webhooks/post/responses/201/content/application~1json/schema', created.body);
      const hook = created.body;
      const read = await request(app).get(`${API}/webhooks/${hook.id}`).set(ACME);
      assert.equal(read.body.public_key, hook.public_key);
      documented('~1webhooks~1{id}/get/responses/200/content/application~1json/schema', read.body);

      await testSend(hook.id);
      const first = home.requests.at(-1)!;
      assert.deepEqual(versions(first), ['v1a']);
      assert.equal(verifiesV1a(hook.public_key, first), true);
      assert.equal(verifiesV1a(hook.public_key, { ...first, body: first.body.replace('WEBHOOK_TEST', 'WEBHOOK_TESX') }), false, 'a tampered body fails');

      const rotated = await rotate(hook.id);
      assert.equal(rotated.status, 200);
      assert.equal('secret' in rotated.body, false);
      assert.equal(rotated.body.signature_scheme, 'ed25519');
      assert.match(rotated.body.public_key, /^whpk_/);
      assert.notEqual(rotated.body.public_key, hook.public_key);
      documented('~1webhooks~1{id}~1rotate-secret/post/responses/200/content/application~1json/schema', rotated.body);
      await testSend(hook.id);
      const during = home.requests.at(-1)!;
      assert.deepEqual(versions(during), ['v1a', 'v1a']);
      assert.equal(verifiesV1a(rotated.body.public_key, during), true);
      assert.equal(verifiesV1a(hook.public_key, during), true, 'the previous key signs through the overlap');

      // To HMAC: the new secret once, in the PATCH answer; the Ed25519 key signs through the overlap.
      const toHmac = await patch(hook.id, { signature_scheme: 'hmac-sha256' });
      assert.equal(toHmac.status, 200, JSON.stringify(toHmac.body));
      assert.match(toHmac.body.secret, /^whsec_/);
      assert.deepEqual([toHmac.body.signature_scheme, toHmac.body.public_key], ['hmac-sha256', null]);
      documented('~1webhooks~1{id}/patch/responses/200/content/application~1json/schema', toHmac.body);
      await testSend(hook.id);
      const mixed = home.requests.at(-1)!;
      assert.deepEqual(versions(mixed), ['v1', 'v1a']);
      assert.doesNotThrow(() => new Webhook(toHmac.body.secret).verify(mixed.body, headersOf(mixed)));
      assert.equal(verifiesV1a(rotated.body.public_key, mixed), true);
      assert.equal(verifiesV1a(hook.public_key, mixed), false, 'the key before it stopped at once');
      const same = await patch(hook.id, { signature_scheme: 'hmac-sha256', name: 'CRM 2' });
      assert.equal('secret' in same.body, false, 'the same scheme makes no new key');

      const toEd = await patch(hook.id, { signature_scheme: 'ed25519' });
      assert.equal('secret' in toEd.body, false);
      assert.match(toEd.body.public_key, /^whpk_/);
      await testSend(hook.id);
      const back = home.requests.at(-1)!;
      assert.deepEqual(versions(back), ['v1a', 'v1']);
      assert.equal(verifiesV1a(toEd.body.public_key, back), true);

      const bad = await create({ signature_scheme: 'rsa' });
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.body.error.details.map((d: any) => d.path), ['signature_scheme']);
      const stored = await plugin.store.findWebhook('acme', hook.id);
      assert.ok(stored && !stored.secrets.includes('whsk_'), 'the secret key is stored sealed');
    });

    it('answers an HMAC create and rotation with the secret, and a null public key', async () => {
      const created = await create({});
      assert.match(created.body.secret, /^whsec_/);
      assert.deepEqual([created.body.signature_scheme, created.body.public_key], ['hmac-sha256', null]);
      const rotated = await rotate(created.body.id);
      assert.match(rotated.body.secret, /^whsec_/);
      assert.equal(rotated.body.public_key, null);
    });
  });
});
