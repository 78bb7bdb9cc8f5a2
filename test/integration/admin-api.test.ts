import assert from 'node:assert/strict';
import request from 'supertest';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import type express from 'express';
import type { WebhooksPlugin } from '../../plugin/index.js';
import { buildOpenApiDocument } from '../../plugin/admin/openapi.js';
import { ACME, ACME_COOKIE, GLOBEX, VIEWER, createAdminHost } from '../support/admin-host.js';
import { eventually, startTestPlugin, TEST_STORES } from '../support/plugin-fixture.js';
import { TestReceiver } from '../support/receiver.js';

const API = '/admin/webhooks/api';

for (const storeKind of TEST_STORES) describe(`admin API (${storeKind})`, function () {
  this.timeout(30_000);
  let plugin: WebhooksPlugin;
  let receiver: TestReceiver;
  let app: express.Express;

  beforeEach(async () => {
    receiver = await new TestReceiver().start();
    ({ plugin } = await startTestPlugin({ store: storeKind }));
    app = createAdminHost(plugin);
  });
  afterEach(async () => {
    await plugin.stop();
    await receiver.stop();
  });

  const create = (body: Record<string, unknown> = {}, headers: Record<string, string> = ACME) =>
    request(app).post(`${API}/webhooks`).set(headers).send({ name: 'CRM', url: `${receiver.url}/crm`, events: ['USER_*'], ...body });

  /**
   * Replaces the plugin with one that runs no delivery worker, so deliveries stay exactly as a
   * test leaves them (pending, or leased by a claim it makes itself), on a clock the test moves.
   */
  async function withoutWorker(): Promise<{ advance: (ms: number) => void }> {
    await plugin.stop();
    let now = Date.now();
    ({ plugin } = await startTestPlugin({ store: storeKind, runWorker: false, clock: () => new Date(now) }));
    app = createAdminHost(plugin);
    return { advance: (ms) => { now += ms; } };
  }

  describe('access', () => {
    it('answers 401 without credentials and with an unknown token, as JSON', async () => {
      for (const headers of [{}, { authorization: 'Bearer nope' }]) {
        const res = await request(app).get(`${API}/webhooks`).set(headers);
        assert.equal(res.status, 401);
        assert.equal(res.body.error.code, 'unauthenticated');
      }
    });

    it('answers 403 to a signed-in user who is not an admin of the tenant', async () => {
      const res = await request(app).get(`${API}/webhooks`).set(VIEWER);
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'forbidden');
    });

    it('never shows or changes another tenant\'s webhook: every route answers 404', async () => {
      const { body: hook } = await create();
      const other = (r: request.Test) => r.set(GLOBEX);
      const calls = [
        other(request(app).get(`${API}/webhooks/${hook.id}`)),
        other(request(app).patch(`${API}/webhooks/${hook.id}`).send({ name: 'pwned' })),
        other(request(app).delete(`${API}/webhooks/${hook.id}`)),
        other(request(app).post(`${API}/webhooks/${hook.id}/rotate-secret`)),
        other(request(app).post(`${API}/webhooks/${hook.id}/test`)),
        other(request(app).get(`${API}/webhooks/${hook.id}/deliveries`)),
        other(request(app).post(`${API}/webhooks/${hook.id}/recover`).send({ since: '2026-01-01T00:00:00Z' })),
        other(request(app).post(`${API}/webhooks/${hook.id}/discard-pending`)),
      ];
      for (const res of await Promise.all(calls)) {
        assert.equal(res.status, 404, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'not_found');
      }
      assert.deepEqual((await request(app).get(`${API}/webhooks`).set(GLOBEX)).body.webhooks, []);
      assert.equal((await request(app).get(`${API}/webhooks/${hook.id}`).set(ACME)).body.name, 'CRM');
      assert.equal(receiver.requests.length, 0, 'no test was sent for the other tenant');
    });

    it('refuses cookie-authenticated writes without the CSRF token and accepts them with it', async () => {
      const denied = await request(app).post(`${API}/webhooks`).set('cookie', ACME_COOKIE).send({ name: 'x', url: `${receiver.url}/x`, events: ['*'] });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.error.code, 'csrf_failed');
      const issued = await request(app).get(`${API}/csrf-token`).set('cookie', ACME_COOKIE);
      const csrfCookie = String(issued.headers['set-cookie']).split(';')[0];
      assert.match(String(issued.headers['set-cookie']), /HttpOnly; SameSite=Strict/);
      const wrong = await request(app).post(`${API}/webhooks`).set('cookie', `${ACME_COOKIE}; ${csrfCookie}`).set('x-csrf-token', 'x'.repeat(43))
        .send({ name: 'x', url: `${receiver.url}/x`, events: ['*'] });
      assert.equal(wrong.status, 403);
      const allowed = await request(app).post(`${API}/webhooks`).set('cookie', `${ACME_COOKIE}; ${csrfCookie}`).set('x-csrf-token', issued.body.token)
        .send({ name: 'x', url: `${receiver.url}/x`, events: ['*'] });
      assert.equal(allowed.status, 201);
      const read = await request(app).get(`${API}/webhooks`).set('cookie', ACME_COOKIE);
      assert.equal(read.status, 200, 'safe requests need no token');
    });

    it('rate limits writes per user with a 429 JSON error', async () => {
      app = createAdminHost(plugin, { rateLimit: { mutations: 3, testSends: 1 } });
      const statuses = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await create({ name: `n${i}` })).status);
      assert.deepEqual(statuses, [201, 201, 201, 429]);
      const limited = await create();
      assert.equal(limited.body.error.code, 'rate_limited');
      assert.equal((await create({}, GLOBEX)).status, 201, 'another user has their own budget');
    });
  });

  describe('webhooks', () => {
    it('creates a webhook, returns its signing secret once, and masks every secret on reads', async () => {
      const res = await create({
        description: 'Sync users', api_key: { header: 'x-cidaas-key', value: 'api-key-0123456789abcdef' },
        authorization: 'Basic dXNlcm5hbWU6cGFzc3dvcmQ=', headers: { 'x-tenant': 'acme-tenant-header-value' },
      });
      assert.equal(res.status, 201);
      assert.match(res.body.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
      assert.match(res.body.id, /^wh_/);
      assert.deepEqual(res.body.api_key, { header: 'x-cidaas-key', value: '****cdef' });
      assert.equal(res.body.authorization, '****cmQ=');
      assert.deepEqual(res.body.headers, { 'x-tenant': '****alue' });
      assert.equal(res.body.notification_type, 'REST');
      assert.deepEqual(res.body.status, { state: 'enabled', reason: null, disabled_at: null, failing_since: null });
      for (const path of [`${API}/webhooks/${res.body.id}`, `${API}/webhooks`]) {
        const read = await request(app).get(path).set(ACME);
        const text = JSON.stringify(read.body);
        assert.ok(!text.includes('whsec_') && !text.includes('api-key-0123') && !text.includes('dXNlcm5hbWU6') && !text.includes('acme-tenant-header'), text);
      }
    });

    it('updates only the fields sent, keeps secrets it was not given, and deletes', async () => {
      const { body: hook } = await create({ api_key: { value: 'api-key-0123456789abcdef' } });
      const patched = await request(app).patch(`${API}/webhooks/${hook.id}`).set(ACME).send({ name: 'Mailer', enabled: false });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.name, 'Mailer');
      assert.equal(patched.body.enabled, false);
      assert.deepEqual(patched.body.api_key, { header: 'x-api-key', value: '****cdef' });
      assert.equal(patched.body.url, hook.url);
      assert.equal((await request(app).delete(`${API}/webhooks/${hook.id}`).set(ACME)).status, 204);
      assert.equal((await request(app).get(`${API}/webhooks/${hook.id}`).set(ACME)).status, 404);
    });

    it('keeps stored secret values a PATCH does not send again: renames the API key header, merges custom headers', async () => {
      const { body: hook } = await create({
        api_key: { header: 'x-cidaas-key', value: 'api-key-0123456789abcdef' }, authorization: 'Bearer token-0123456789abcdef',
        headers: { 'x-tenant': 'acme-tenant-header-value', 'x-region': 'eu-central-region-value', 'x-team': 'identity-team-header-value' },
      });
      const patch = (body: unknown, id = hook.id) => request(app).patch(`${API}/webhooks/${id}`).set(ACME).send(body as object);

      // The API key's header name alone: the stored value moves to it.
      const renamed = await patch({ api_key: { header: 'x-new' } });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      assert.deepEqual(renamed.body.api_key, { header: 'x-new', value: '****cdef' });
      // One header removed with null, one changed (matched case-insensitively), one added, one
      // never stored removed (a no-op); the one not mentioned is kept.
      const merged = await patch({ headers: { 'x-region': null, 'X-Team': 'platform-team-header-value', 'x-added': 'added-header-value-0001', 'x-never-stored': null } });
      assert.equal(merged.status, 200, JSON.stringify(merged.body));
      assert.deepEqual(merged.body.headers, { 'x-tenant': '****alue', 'X-Team': '****alue', 'x-added': '****0001' });
      assert.deepEqual(merged.body.api_key, { header: 'x-new', value: '****cdef' }, 'other secrets are untouched');
      assert.equal(merged.body.authorization, '****cdef');

      // The receiver gets the stored values under their new names.
      const test = await request(app).post(`${API}/webhooks/${hook.id}/test`).set(ACME);
      assert.equal(test.body.success, true, JSON.stringify(test.body));
      const sent = receiver.requests.at(-1)!.headers;
      assert.equal(sent['x-new'], 'api-key-0123456789abcdef');
      assert.equal(sent['x-cidaas-key'], undefined);
      assert.equal(sent['x-tenant'], 'acme-tenant-header-value');
      assert.equal(sent['x-team'], 'platform-team-header-value');
      assert.equal(sent['x-added'], 'added-header-value-0001');
      assert.equal(sent['x-region'], undefined);
      assert.equal(sent.authorization, 'Bearer token-0123456789abcdef');

      // A value alone keeps the stored header name; null removes the API key.
      assert.deepEqual((await patch({ api_key: { value: 'api-key-second-value-wxyz' } })).body.api_key, { header: 'x-new', value: '****wxyz' });
      assert.equal((await patch({ api_key: null })).body.api_key, null);

      // With no API key stored, a header name alone has no value to keep.
      const { body: bare } = await create({ name: 'bare' });
      for (const id of [hook.id, bare.id]) {
        const missing = await patch({ api_key: { header: 'x-new' } }, id);
        assert.equal(missing.status, 400);
        assert.equal(missing.body.error.code, 'validation_failed');
        assert.deepEqual(missing.body.error.details.map((d: any) => d.path), ['api_key.value']);
        assert.match(missing.body.error.details[0].message, /required/);
        assert.equal((await request(app).get(`${API}/webhooks/${id}`).set(ACME)).body.api_key, null, 'nothing was stored');
      }

      // Precise errors: an empty api_key, a null header on create, a value that is not a string,
      // two spellings of one name, too many headers after the merge.
      const empty = await patch({ api_key: {} });
      assert.deepEqual(empty.body.error.details.map((d: any) => d.path), ['api_key']);
      const createNull = await create({ headers: { 'x-tenant': null } });
      assert.equal(createNull.status, 400);
      assert.deepEqual(createNull.body.error.details.map((d: any) => d.path), ['headers.x-tenant']);
      const createNoValue = await create({ api_key: { header: 'x-key' } });
      assert.deepEqual(createNoValue.body.error.details.map((d: any) => d.path), ['api_key.value']);
      const notString = await patch({ headers: { 'x-tenant': 1 } });
      assert.deepEqual(notString.body.error.details.map((d: any) => [d.path, d.message]), [['headers.x-tenant', '"headers.x-tenant" must be a string, or null to remove the header']]);
      const twice = await patch({ headers: { 'x-dup': 'a', 'X-Dup': 'b' } });
      assert.deepEqual(twice.body.error.details.map((d: any) => d.path), ['headers.X-Dup']);
      const many = Object.fromEntries(Array.from({ length: 18 }, (_, i) => [`x-more-${i}`, 'v']));
      const tooMany = await patch({ headers: many });
      assert.equal(tooMany.status, 400);
      assert.deepEqual(tooMany.body.error.details.map((d: any) => d.path), ['headers']);
      assert.deepEqual(Object.keys((await request(app).get(`${API}/webhooks/${hook.id}`).set(ACME)).body.headers), ['x-tenant', 'X-Team', 'x-added']);
    });

    it('rotates the secret: the new one is returned once and the old one keeps signing', async () => {
      const { body: hook } = await create();
      const res = await request(app).post(`${API}/webhooks/${hook.id}/rotate-secret`).set(ACME);
      assert.equal(res.status, 200);
      assert.match(res.body.secret, /^whsec_/);
      assert.notEqual(res.body.secret, hook.secret);
      assert.ok(Date.parse(res.body.previous_expires_at) > Date.now() + 23 * 3_600_000);
    });

    it('lists the catalogue with categories, without the test event', async () => {
      const res = await request(app).get(`${API}/event-types`).set(ACME);
      assert.equal(res.status, 200);
      assert.ok(res.body.event_types.some((t: any) => t.type === 'USER_LOGIN' && t.category && t.description));
      assert.ok(!res.body.event_types.some((t: any) => t.type === 'WEBHOOK_TEST'));
      assert.ok(res.body.categories.includes('USER'));
    });

    it('explains every invalid field', async () => {
      const res = await create({ url: 'ftp://example.com', events: ['NOPE'], headers: { 'webhook-signature': 'x' }, extra: 1 });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'validation_failed');
      const paths = res.body.error.details.map((d: any) => d.path).sort();
      assert.deepEqual(paths, ['events.0', 'extra', 'headers.webhook-signature']);
      const url = await create({ url: 'ftp://example.com' });
      assert.equal(url.body.error.code, 'invalid_url');
      assert.equal(url.body.error.details[0].path, 'url');
      const privateUrl = await create({ url: 'http://10.0.0.5/hook' });
      assert.equal(privateUrl.status, 400);
      assert.equal(privateUrl.body.error.details[0].message, 'forbidden_address');
    });
  });

  describe('rate limit', () => {
    it('sets a rate limit on create, shows it on reads, changes it, keeps it through other edits and clears it with null', async () => {
      const limited = await create({ rate_limit_per_second: 50 });
      assert.equal(limited.status, 201, JSON.stringify(limited.body));
      assert.equal(limited.body.rate_limit_per_second, 50);
      assert.equal((await plugin.store.findWebhook('acme', limited.body.id))?.rateLimitPerSecond, 50);
      assert.equal((await request(app).get(`${API}/webhooks/${limited.body.id}`).set(ACME)).body.rate_limit_per_second, 50);
      const listed = (await request(app).get(`${API}/webhooks`).set(ACME)).body.webhooks;
      assert.equal(listed.find((w: any) => w.id === limited.body.id).rate_limit_per_second, 50);

      const unlimited = await create({ name: 'No limit' });
      assert.equal(unlimited.body.rate_limit_per_second, null, 'absent means no limit');
      assert.equal((await create({ name: 'Explicit null', rate_limit_per_second: null })).body.rate_limit_per_second, null);

      const patch = (body: object) => request(app).patch(`${API}/webhooks/${limited.body.id}`).set(ACME).send(body);
      for (const limit of [1, 10_000]) {
        const changed = await patch({ rate_limit_per_second: limit });
        assert.equal(changed.status, 200, JSON.stringify(changed.body));
        assert.equal(changed.body.rate_limit_per_second, limit);
      }
      assert.equal((await patch({ name: 'Renamed' })).body.rate_limit_per_second, 10_000, 'a PATCH without the field keeps it');
      const cleared = await patch({ rate_limit_per_second: null });
      assert.equal(cleared.status, 200);
      assert.equal(cleared.body.rate_limit_per_second, null);
      assert.equal((await plugin.store.findWebhook('acme', limited.body.id))?.rateLimitPerSecond, null);
      assert.equal((await request(app).get(`${API}/webhooks/${limited.body.id}`).set(ACME)).body.rate_limit_per_second, null);
    });

    it('refuses a rate limit that is not a whole number from 1 to 10000, on create and on PATCH, and stores nothing', async () => {
      const { body: hook } = await create({ rate_limit_per_second: 20 });
      for (const bad of [0, -1, 10_001, 1.5, '5', true, {}, [5]]) {
        const created = await create({ name: `bad ${JSON.stringify(bad)}`, rate_limit_per_second: bad });
        assert.equal(created.status, 400, `create with ${JSON.stringify(bad)}: ${JSON.stringify(created.body)}`);
        assert.equal(created.body.error.code, 'validation_failed');
        assert.deepEqual(created.body.error.details, [{
          path: 'rate_limit_per_second', message: '"rate_limit_per_second" must be a whole number from 1 to 10000, or null for no limit',
        }]);
        const patched = await request(app).patch(`${API}/webhooks/${hook.id}`).set(ACME).send({ rate_limit_per_second: bad });
        assert.equal(patched.status, 400, `PATCH with ${JSON.stringify(bad)}`);
        assert.deepEqual(patched.body.error.details.map((d: any) => d.path), ['rate_limit_per_second']);
      }
      assert.deepEqual((await plugin.store.listWebhooks('acme')).map((w) => w.rateLimitPerSecond), [20], 'no bad webhook was created, the limit is unchanged');
    });
  });

  describe('delivery order', () => {
    it('sets per-subject ordering on create, shows it on reads, changes it with PATCH and keeps it through other edits', async () => {
      const plain = await create();
      assert.equal(plain.body.ordering, 'none', 'any order by default');
      const ordered = await create({ name: 'Ordered', ordering: 'per_subject' });
      assert.equal(ordered.status, 201, JSON.stringify(ordered.body));
      assert.equal(ordered.body.ordering, 'per_subject');
      assert.equal((await plugin.store.findWebhook('acme', ordered.body.id))?.ordering, 'per_subject');
      assert.equal((await request(app).get(`${API}/webhooks/${ordered.body.id}`).set(ACME)).body.ordering, 'per_subject');
      const listed = (await request(app).get(`${API}/webhooks`).set(ACME)).body.webhooks;
      assert.deepEqual(listed.map((w: any) => w.ordering).sort(), ['none', 'per_subject']);

      const patch = (body: object) => request(app).patch(`${API}/webhooks/${ordered.body.id}`).set(ACME).send(body);
      assert.equal((await patch({ name: 'Renamed' })).body.ordering, 'per_subject', 'a PATCH without the field keeps it');
      const off = await patch({ ordering: 'none' });
      assert.equal(off.status, 200, JSON.stringify(off.body));
      assert.equal(off.body.ordering, 'none');
      assert.equal((await plugin.store.findWebhook('acme', ordered.body.id))?.ordering, 'none');
      assert.equal((await patch({ ordering: 'per_subject' })).body.ordering, 'per_subject');
      assert.equal((await plugin.store.findWebhook('acme', ordered.body.id))?.ordering, 'per_subject');
    });

    it('refuses an ordering other than none or per_subject, on create and on PATCH, and stores nothing', async () => {
      const { body: hook } = await create({ ordering: 'per_subject' });
      for (const bad of ['fifo', 'PER_SUBJECT', '', null, 1, true]) {
        const created = await create({ name: `bad ${JSON.stringify(bad)}`, ordering: bad });
        assert.equal(created.status, 400, `create with ${JSON.stringify(bad)}: ${JSON.stringify(created.body)}`);
        assert.deepEqual(created.body.error.details.map((d: any) => d.path), ['ordering']);
        const patched = await request(app).patch(`${API}/webhooks/${hook.id}`).set(ACME).send({ ordering: bad });
        assert.equal(patched.status, 400, `PATCH with ${JSON.stringify(bad)}`);
      }
      assert.deepEqual((await plugin.store.listWebhooks('acme')).map((w) => w.ordering), ['per_subject'], 'no bad webhook was created, the ordering is unchanged');
    });
  });

  describe('deliveries', () => {
    it('sends a test event and reports the outcome', async () => {
      const { body: hook } = await create();
      const res = await request(app).post(`${API}/webhooks/${hook.id}/test`).set(ACME);
      assert.equal(res.status, 200);
      assert.equal(res.body.success, true);
      assert.equal(res.body.status_code, 200);
      assert.equal(res.body.response_excerpt, 'ok');
      assert.equal(JSON.parse(receiver.requests[0].body).event_type, 'WEBHOOK_TEST');
      receiver.respondWith((_r, response) => { response.writeHead(500).end('boom'); });
      const failed = await request(app).post(`${API}/webhooks/${hook.id}/test`).set(ACME);
      assert.equal(failed.status, 200);
      assert.deepEqual([failed.body.success, failed.body.outcome, failed.body.status_code, failed.body.response_excerpt], [false, 'http_error', 500, 'boom']);
    });

    it('pages the delivery log newest first, filters it, and shows attempts and body', async () => {
      const { body: hook } = await create({ events: ['USER_*', 'ROLE_*'] });
      for (let i = 0; i < 3; i += 1) await plugin.hooks.userLogin({ user: { id: `u${i}` } }, { tenantId: 'acme' });
      await plugin.hooks.roleCreated({ role: { id: 'r', name: 'r' } }, { tenantId: 'acme' });
      await receiver.waitFor(4);
      const all = await eventually(async () => {
        const r = await request(app).get(`${API}/webhooks/${hook.id}/deliveries?limit=2`).set(ACME);
        return r.body.deliveries?.every((d: any) => d.status === 'succeeded') ? r : null;
      });
      assert.equal(all.body.deliveries.length, 2);
      assert.equal(all.body.deliveries[0].event_type, 'ROLE_CREATED');
      assert.deepEqual([all.body.deliveries[0].subject, all.body.deliveries[0].sequence], ['role:r', 1]);
      assert.equal(all.body.deliveries[0].attempts[0].status_code, 200);
      const page2 = await request(app).get(`${API}/webhooks/${hook.id}/deliveries`).query({ limit: 2, cursor: all.body.next_cursor }).set(ACME);
      assert.equal(page2.body.deliveries.length, 2);
      assert.equal(page2.body.next_cursor, null);
      const logins = await request(app).get(`${API}/webhooks/${hook.id}/deliveries`).query({ event_type: 'USER_LOGIN', status: 'succeeded' }).set(ACME);
      assert.equal(logins.body.deliveries.length, 3);
      const detail = await request(app).get(`${API}/deliveries/${all.body.deliveries[0].id}`).set(ACME);
      assert.equal(detail.body.body.event_type, 'ROLE_CREATED');
      assert.deepEqual([detail.body.body.current_context.subject, detail.body.body.current_context.sequence], ['role:r', 1]);
      assert.equal(detail.body.attempts[0].request_headers['webhook-id'], all.body.deliveries[0].id);
      assert.equal((await request(app).get(`${API}/deliveries/${all.body.deliveries[0].id}`).set(GLOBEX)).status, 404);
    });

    it('shows each webhook\'s health: recent counts, success rate and last delivery, as documented', async () => {
      const { body: hook } = await create();
      const { body: idle } = await create({ name: 'Idle' });
      const empty = {
        last_delivery: null,
        recent: { since: '', succeeded: 0, failed: 0, pending: 0, success_rate: null },
        waiting: 0,
      };
      const before = (await request(app).get(`${API}/webhooks/${hook.id}`).set(ACME)).body.health;
      assert.deepEqual({ ...before, recent: { ...before.recent, since: '' } }, empty, 'nothing delivered yet');

      assert.equal((await request(app).post(`${API}/webhooks/${hook.id}/test`).set(ACME)).body.success, true);
      receiver.respondWith((_r, response) => { response.writeHead(500).end('boom'); });
      assert.equal((await request(app).post(`${API}/webhooks/${hook.id}/test`).set(ACME)).body.success, false);

      const asked = Date.now();
      const one = await request(app).get(`${API}/webhooks/${hook.id}`).set(ACME);
      const answered = Date.now();
      assert.equal(one.status, 200);
      const { since, ...counts } = one.body.health.recent;
      assert.deepEqual(counts, { succeeded: 1, failed: 1, pending: 0, success_rate: 0.5 });
      assert.equal(one.body.health.waiting, 0, 'test sends are never left waiting');
      const day = 24 * 3_600_000;
      assert.ok(Date.parse(since) >= asked - day - 1000 && Date.parse(since) <= answered - day, `since ${since} is 24 h ago`);
      // The last delivery is the failed test: the newest row of the delivery log.
      const [newest] = (await request(app).get(`${API}/webhooks/${hook.id}/deliveries?limit=1`).set(ACME)).body.deliveries;
      assert.deepEqual(one.body.health.last_delivery, { status: 'failed', status_code: 500, outcome: 'http_error', at: newest.last_attempt_at });

      const list = await request(app).get(`${API}/webhooks`).set(ACME);
      const byId = new Map<string, any>(list.body.webhooks.map((w: any) => [w.id, w.health]));
      assert.deepEqual(byId.get(hook.id).last_delivery, one.body.health.last_delivery);
      assert.deepEqual(byId.get(hook.id).recent.success_rate, 0.5);
      assert.equal(byId.get(idle.id).last_delivery, null);
      assert.equal(byId.get(idle.id).recent.success_rate, null);

      // What the reads return is what the OpenAPI document describes.
      const ajv = new Ajv2020.default({ strict: false, validateFormats: false, allErrors: true });
      ajv.addSchema({ $id: 'https://webhooks.invalid/admin-api.json', components: buildOpenApiDocument().components });
      const validRead = ajv.compile({ allOf: [{ $ref: 'https://webhooks.invalid/admin-api.json#/components/schemas/Webhook' }, { required: ['health'] }] });
      for (const w of [one.body, ...list.body.webhooks]) assert.ok(validRead(w), ajv.errorsText(validRead.errors));
      const created = await create({ name: 'Later' });
      assert.equal('health' in created.body, false, 'create and update answers carry no health');
    });

    it('retries one delivery and recovers every failure since a time', async () => {
      receiver.respondWith((_r, response) => { response.writeHead(500).end(); });
      const { body: hook } = await create({ events: ['USER_*'] });
      await plugin.hooks.userLogin({ user: { id: 'u1' } }, { tenantId: 'acme' });
      await plugin.hooks.userLogin({ user: { id: 'u2' } }, { tenantId: 'acme' });
      const failed = await eventually(async () => {
        const r = await request(app).get(`${API}/webhooks/${hook.id}/deliveries`).query({ status: 'failed' }).set(ACME);
        return r.body.deliveries.length === 2 ? r.body.deliveries : null;
      });
      receiver.respondWith((_r, response) => { response.writeHead(200).end('ok'); });
      const before = receiver.requests.length;
      const retry = await request(app).post(`${API}/deliveries/${failed[0].id}/retry`).set(ACME);
      assert.equal(retry.status, 202);
      await receiver.waitFor(before + 1);
      const recovered = await request(app).post(`${API}/webhooks/${hook.id}/recover`).set(ACME).send({ since: new Date(Date.now() - 60_000).toISOString() });
      assert.equal(recovered.status, 202);
      assert.equal(recovered.body.requeued, 1);
      await receiver.waitFor(before + 2);
      const future = await request(app).post(`${API}/webhooks/${hook.id}/recover`).set(ACME).send({ since: '2999-01-01T00:00:00Z' });
      assert.equal(future.status, 400);
    });

    it('answers a retry of a delivery being sent right now with 409 delivery_in_flight, and sends it again once that attempt is over', async () => {
      const { advance } = await withoutWorker();
      const { body: hook } = await create();
      await plugin.hooks.userLogin({ user: { id: 'u1' } }, { tenantId: 'acme' });
      // Another worker has claimed the delivery and is sending it: its lease is live.
      const [claimed] = await plugin.store.claimDueDeliveries({ now: plugin.clock(), limit: 10, leaseMs: 60_000, owner: 'worker-elsewhere' });
      assert.equal(claimed.delivery.webhookId, hook.id);
      const retry = () => request(app).post(`${API}/deliveries/${claimed.delivery.id}/retry`);

      const busy = await retry().set(ACME);
      assert.equal(busy.status, 409, JSON.stringify(busy.body));
      assert.deepEqual(busy.body.error, {
        code: 'delivery_in_flight', message: 'This delivery is being sent right now; its result appears in the log shortly', details: [],
      });
      const held = await plugin.store.findDelivery('acme', claimed.delivery.id);
      assert.deepEqual([held?.status, held?.leaseOwner, held?.attempts], ['pending', 'worker-elsewhere', 0], 'the running attempt keeps its lease');
      assert.equal((await retry().set(GLOBEX)).status, 404, 'another tenant\'s delivery is not found, in flight or not');
      const missing = await request(app).post(`${API}/deliveries/msg_${'A'.repeat(22)}/retry`).set(ACME);
      assert.deepEqual([missing.status, missing.body.error.code], [404, 'not_found']);

      // The lease ran out (the worker died mid-attempt): a retry goes ahead.
      advance(60_001);
      const requeued = await retry().set(ACME);
      assert.equal(requeued.status, 202, JSON.stringify(requeued.body));
      const after = await plugin.store.findDelivery('acme', claimed.delivery.id);
      assert.deepEqual([after?.status, after?.leaseOwner, after?.nextAttemptAt?.getTime()], ['pending', null, plugin.clock().getTime()]);
    });

    it('keeps a disabled webhook\'s deliveries waiting, counts them in its health, and discards them on request', async () => {
      const { advance } = await withoutWorker();
      const { body: hook } = await create();
      const { body: bystander } = await create({ name: 'Bystander' });
      for (let i = 0; i < 4; i += 1) await plugin.hooks.userLogin({ user: { id: `u${i}` } }, { tenantId: 'acme' });
      // One of the paused webhook's deliveries is being sent as it is disabled.
      const [inFlight] = await plugin.store.claimDueDeliveries({
        now: plugin.clock(), limit: 1, leaseMs: 60_000, owner: 'worker-elsewhere', webhookLimits: new Map([[bystander.id, 0]]),
      });
      assert.equal(inFlight.delivery.webhookId, hook.id);
      assert.equal((await request(app).patch(`${API}/webhooks/${hook.id}`).set(ACME).send({ enabled: false })).status, 200);

      const health = async (id = hook.id) => (await request(app).get(`${API}/webhooks/${id}`).set(ACME)).body.health;
      assert.equal((await health()).waiting, 4);
      assert.equal((await health(bystander.id)).waiting, 4);
      const listed = (await request(app).get(`${API}/webhooks`).set(ACME)).body.webhooks;
      assert.deepEqual(listed.map((w: any) => w.health.waiting), [4, 4]);

      // Only its own tenant may discard, and only with the CSRF token when signed in by cookie.
      const other = await request(app).post(`${API}/webhooks/${hook.id}/discard-pending`).set(GLOBEX);
      assert.deepEqual([other.status, other.body.error.code], [404, 'not_found']);
      const noToken = await request(app).post(`${API}/webhooks/${hook.id}/discard-pending`).set('cookie', ACME_COOKIE);
      assert.deepEqual([noToken.status, noToken.body.error.code], [403, 'csrf_failed']);
      assert.equal((await request(app).post(`${API}/webhooks/${hook.id}/discard-pending`)).status, 401);
      const withBody = await request(app).post(`${API}/webhooks/${hook.id}/discard-pending`).set(ACME).send({ all: true });
      assert.equal(withBody.status, 400);
      const pendingOf = async (id: string) => (await plugin.store.listDeliveries('acme', id, { status: 'pending', limit: 100 })).length;
      assert.equal(await pendingOf(hook.id), 4, 'nothing was discarded by the refused calls');

      const discarded = await request(app).post(`${API}/webhooks/${hook.id}/discard-pending`).set(ACME);
      assert.equal(discarded.status, 200, JSON.stringify(discarded.body));
      assert.deepEqual(discarded.body, { discarded: 3 });
      const deliveries = await plugin.store.listDeliveries('acme', hook.id, { limit: 100 });
      for (const d of deliveries) {
        if (d.id === inFlight.delivery.id) assert.deepEqual([d.status, d.leaseOwner], ['pending', 'worker-elsewhere'], 'the attempt in flight is left to finish');
        else assert.deepEqual([d.status, d.lastOutcome, d.nextAttemptAt], ['failed', 'discarded', null]);
      }
      assert.equal(await pendingOf(bystander.id), 4, 'other webhooks keep theirs');
      const after = await health();
      assert.equal(after.waiting, 1);
      assert.equal(after.recent.failed, 3);
      assert.equal((await health(bystander.id)).waiting, 4);
      const log = (await request(app).get(`${API}/webhooks/${hook.id}/deliveries?status=failed`).set(ACME)).body.deliveries;
      assert.deepEqual(log.map((d: any) => d.last_outcome), ['discarded', 'discarded', 'discarded']);
      assert.deepEqual((await request(app).post(`${API}/webhooks/${hook.id}/discard-pending`).set(ACME)).body, { discarded: 0 });
      const gone = await request(app).post(`${API}/webhooks/wh_${'A'.repeat(22)}/discard-pending`).set(ACME);
      assert.deepEqual([gone.status, gone.body.error.code], [404, 'not_found']);

      // `waiting` counts however old they are; the 24-hour window's `pending` does not.
      advance(25 * 3_600_000);
      const aged = await health();
      assert.deepEqual([aged.waiting, aged.recent.pending], [1, 0]);

      // What the API returned is what the OpenAPI document describes.
      const ajv = new Ajv2020.default({ strict: false, validateFormats: false, allErrors: true });
      ajv.addSchema({ $id: 'https://webhooks.invalid/admin-api.json', ...buildOpenApiDocument() });
      const schemaOf = (path: string) => ajv.compile({ $ref: `https://webhooks.invalid/admin-api.json#/paths/${path}` });
      const discardAnswer = schemaOf('~1webhooks~1{id}~1discard-pending/post/responses/200/content/application~1json/schema');
      assert.ok(discardAnswer(discarded.body), ajv.errorsText(discardAnswer.errors));
      const page = schemaOf('~1webhooks~1{id}~1deliveries/get/responses/200/content/application~1json/schema');
      assert.ok(page({ deliveries: log, next_cursor: null }), ajv.errorsText(page.errors));
      const read = schemaOf('~1webhooks~1{id}/get/responses/200/content/application~1json/schema');
      assert.ok(read((await request(app).get(`${API}/webhooks/${hook.id}`).set(ACME)).body), ajv.errorsText(read.errors));
    });
  });

  describe('audit events', () => {
    it('emits WEBHOOK_CREATED, _UPDATED and _DELETED with the actor and without secrets', async () => {
      await create({ name: 'auditor', events: ['WEBHOOK_*'] });
      const { body: hook } = await create({ name: 'target', api_key: { value: 'api-key-0123456789abcdef' }, authorization: 'Bearer super-secret-token' });
      await request(app).patch(`${API}/webhooks/${hook.id}`).set(ACME).send({ description: 'changed' });
      await request(app).post(`${API}/webhooks/${hook.id}/rotate-secret`).set(ACME);
      await request(app).delete(`${API}/webhooks/${hook.id}`).set(ACME);
      await receiver.waitFor(5);
      const events = receiver.requests.map((r) => JSON.parse(r.body));
      // The auditor hears its own creation too.
      assert.deepEqual(events.map((e) => e.event_type).sort(), ['WEBHOOK_CREATED', 'WEBHOOK_CREATED', 'WEBHOOK_DELETED', 'WEBHOOK_UPDATED', 'WEBHOOK_UPDATED']);
      const created = events.find((e) => e.event_type === 'WEBHOOK_CREATED' && e.data.webhook.id === hook.id);
      assert.deepEqual(created.current_context.actor, { id: 'op-1', type: 'admin', username: 'alice' });
      assert.equal(created.data.webhook.id, hook.id);
      assert.equal(created.data.webhook.has_authorization, true);
      assert.equal('health' in created.data.webhook, false, 'audit events carry the webhook, not its health');
      const text = receiver.requests.map((r) => r.body).join('\n');
      // Not even masked (`****cdef`); the URL's path is masked as `/****` (audit-view.ts).
      for (const secret of ['api-key-0123', 'super-secret-token', 'whsec_', '****cdef', '****oken']) assert.ok(!text.includes(secret), secret);
    });
  });

  describe('malformed input', () => {
    it('never answers 5xx or leaks a stack trace, whatever it is sent', async () => {
      const { body: hook } = await create();
      const ids = [hook.id, 'wh_x', "' OR 1=1 --", '%00', '..%2F..%2Fetc', 'a'.repeat(5000), '{}', 'msg_' + 'A'.repeat(22)];
      const bodies: unknown[] = [
        '{', '[]', '"str"', 'null', '123', '{"name":', JSON.stringify({ name: 1 }), JSON.stringify({ events: 'USER_LOGIN' }),
        JSON.stringify({ name: 'x', url: 'javascript:alert(1)', events: ['*'] }), JSON.stringify({ name: 'x', url: 'http://169.254.169.254/', events: ['*'] }),
        JSON.stringify({ name: 'x'.repeat(10_000), url: 'https://e.com', events: ['*'] }), JSON.stringify({ headers: { 'bad header': 'v' } }),
        JSON.stringify({ headers: { 'x-ok': 'line\r\nInjected: 1' } }), JSON.stringify({ api_key: { value: '' } }), JSON.stringify({ events: Array(500).fill('*') }),
        JSON.stringify({ __proto__: { admin: true }, constructor: { prototype: {} } }), JSON.stringify({ since: 'yesterday' }), JSON.stringify({ since: 12 }),
        JSON.stringify({ since: '-271821-04-20T00:00:00Z' }), JSON.stringify({ since: '+275760-09-13T00:00:00Z' }), JSON.stringify({ since: '0000-01-01T00:00:00Z' }),
        'x'.repeat(100_000), JSON.stringify({ enabled: 'yes' }), JSON.stringify({ url: ['https://e.com'] }),
      ];
      const queries = ['', '?limit=0', '?limit=abc', '?limit=1000', '?status=nope', '?cursor=!!', '?cursor=eyJ4Ijox', '?event_type=lower', '?x=1', '?limit[]=1', '?status[$ne]=x',
        ...[[-8640000000000000, 'msg_0123456789abcdefghijkl'], ['+275760-09-13T00:00:00.000Z', 'msg_0123456789abcdefghijkl'], [1e300, 'x']]
          .map((c) => `?cursor=${Buffer.from(JSON.stringify(c)).toString('base64url')}`)];
      const routes: Array<[string, string]> = [];
      for (const id of ids) {
        const e = encodeURIComponent(id);
        routes.push(['get', `/webhooks/${e}`], ['patch', `/webhooks/${e}`], ['delete', `/webhooks/${e}`], ['post', `/webhooks/${e}/rotate-secret`],
          ['post', `/webhooks/${e}/test`], ['get', `/webhooks/${e}/deliveries`], ['post', `/webhooks/${e}/recover`], ['get', `/deliveries/${e}`],
          ['post', `/deliveries/${e}/retry`], ['post', `/webhooks/${e}/discard-pending`]);
      }
      routes.push(['get', '/webhooks'], ['post', '/webhooks'], ['get', '/event-types'], ['get', '/nope'], ['put', '/webhooks']);
      app = createAdminHost(plugin, { rateLimit: false });
      let count = 0;
      for (const [method, path] of routes) {
        for (const query of method === 'get' ? queries : ['', '?x=1']) {
          for (const body of method === 'get' || method === 'delete' ? [undefined] : bodies) {
            for (const contentType of body === undefined ? [undefined] : ['application/json', 'text/plain']) {
              let req = (request(app) as any)[method](`${API}${path}${query}`).set(ACME);
              if (contentType) req = req.set('content-type', contentType).send(body as string);
              const res = await req;
              count += 1;
              assert.ok(res.status < 500, `${method.toUpperCase()} ${path}${query} ${String(body).slice(0, 60)} -> ${res.status} ${res.text.slice(0, 200)}`);
              if (res.status >= 400) {
                assert.equal(typeof res.body.error?.code, 'string', `${method} ${path}: ${res.text.slice(0, 200)}`);
                assert.ok(!/\n\s+at /.test(res.text), 'no stack trace');
              }
            }
          }
        }
      }
      assert.ok(count > 1000, `swept ${count} requests`);
    });

    it('answers odd headers with 4xx JSON', async () => {
      const cases = [
        request(app).post(`${API}/webhooks`).set(ACME).set('content-type', 'application/json; charset=utf-16').send('{}'),
        request(app).post(`${API}/webhooks`).set(ACME).set('content-type', 'application/json').set('content-encoding', 'gzip').send('{}'),
        request(app).get(`${API}/webhooks`).set('authorization', 'Bearer'),
        request(app).get(`${API}/webhooks`).set('authorization', 'Basic Zm9vOmJhcg=='),
        request(app).get(`${API}/webhooks`).set({ cookie: 'sid=%E0%A4%A; webhooks_csrf=%' }),
        request(app).post(`${API}/webhooks`).set({ cookie: `${ACME_COOKIE}; webhooks_csrf=%E0%A4%A` }).set('x-csrf-token', '%E0%A4%A').send({}),
      ];
      for (const res of await Promise.all(cases)) {
        assert.ok(res.status >= 400 && res.status < 500, `${(res as any).request?.url} ${res.status} ${res.text}`);
        assert.equal(typeof res.body.error.code, 'string');
      }
    });
  });

  describe('OpenAPI document', () => {
    it('is valid OpenAPI 3.1', async () => {
      const res = await request(app).get(`${API}/openapi.json`);
      assert.equal(res.status, 200);
      const result = await new Validator().validate(res.body);
      assert.equal(result.valid, true, JSON.stringify(result.errors));
    });

    it('describes exactly the routes the router serves', () => {
      const router = (app as any).router.stack.find((l: any) => l.name === 'router').handle;
      const served = new Set<string>();
      for (const layer of router.stack) {
        if (!layer.route) continue;
        for (const method of Object.keys(layer.route.methods)) served.add(`${method} ${layer.route.path.replace(/:(\w+)/g, '{$1}')}`);
      }
      const documented = new Set<string>();
      for (const [path, item] of Object.entries(buildOpenApiDocument().paths)) {
        for (const method of Object.keys(item as object)) if (method !== 'parameters') documented.add(`${method} ${path}`);
      }
      assert.deepEqual([...served].sort(), [...documented].sort());
    });
  });
});
