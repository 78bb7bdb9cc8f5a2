import assert from 'node:assert/strict';
import request from 'supertest';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import type express from 'express';
import type { WebhooksPlugin } from '../../plugin/index.js';
import { ACME, createAdminHost } from '../support/admin-host.js';
import { startTestPlugin, TEST_STORES } from '../support/plugin-fixture.js';
import { TestReceiver } from '../support/receiver.js';

const API = '/admin/webhooks/api';
const ctx = { tenantId: 'acme' };

function strictAjv() {
  return new Ajv2020.default({
    strict: true, allErrors: true,
    formats: { 'date-time': (v: string) => !Number.isNaN(Date.parse(v)), email: /^[^@\s]+@[^@\s]+$/, uri: (v: string) => URL.canParse(v) },
  });
}

const ORDER_PLACED = {
  type: 'ORDER_PLACED', category: 'SHOP', description: 'An order was placed.',
  schema: {
    type: 'object', required: ['order'],
    properties: { order: { type: 'object', required: ['id'], properties: { id: { type: 'string' }, total: { type: 'number' } } }, customer: { $ref: '#/$defs/User' } },
  },
  example: { order: { id: 'ord_1', total: 12.5 } },
};
const LEGACY = { type: 'LEGACY_SYNC', description: 'Free-form, no schema.' };

/** A host user with everything a user model carries, credentials included. */
const HOST_USER = {
  _id: 'u-1', username: 'jdoe', email: 'jane@example.com', emailVerified: true, firstName: 'Jane', lastName: 'Doe', displayName: 'Jane Doe',
  phone: '+48123456789', groups: [{ id: 'g1', name: 'finance', secret: 'x' }], roles: ['auditor'], isAdmin: false, enabled: true,
  createdAt: new Date('2026-01-02T03:04:05Z'), passwordHash: '$2b$10$abcdefghijklmnopqrstuv', mfa: { key: 'JBSWY3DPEHPK3PXP' },
};
const ROLE = { id: 'r-1', name: 'auditor', description: 'Reads logs', permissions: ['logs:read'], internalNote: 'x' };

/** One call per typed hook, each with every argument it takes. */
const TYPED_HOOK_CALLS: Array<[string, (p: WebhooksPlugin) => Promise<unknown>]> = [
  ['userLogin', (p) => p.hooks.userLogin({ user: HOST_USER, strategy: 'local', mfa: true }, ctx)],
  ['userLoginFailure', (p) => p.hooks.userLoginFailure({ username: 'jdoe', reason: 'bad password', strategy: 'local', user: HOST_USER }, ctx)],
  ['userLogout', (p) => p.hooks.userLogout({ user: HOST_USER }, ctx)],
  ['userCreated', (p) => p.hooks.userCreated({ user: HOST_USER }, ctx)],
  ['userModified', (p) => p.hooks.userModified({ user: HOST_USER, changedFields: ['email'] }, ctx)],
  ['userDeleted', (p) => p.hooks.userDeleted({ user: HOST_USER }, ctx)],
  ['mfaVerified', (p) => p.hooks.mfaVerified({ user: HOST_USER, method: 'totp' }, ctx)],
  ['roleCreated', (p) => p.hooks.roleCreated({ role: ROLE }, ctx)],
  ['roleUpdated', (p) => p.hooks.roleUpdated({ role: ROLE, changedFields: ['permissions'] }, ctx)],
  ['roleDeleted', (p) => p.hooks.roleDeleted({ role: ROLE }, ctx)],
  ['roleAssigned', (p) => p.hooks.roleAssigned({ user: HOST_USER, role: ROLE }, ctx)],
  ['roleUnassigned', (p) => p.hooks.roleUnassigned({ user: HOST_USER, role: { id: 7, name: 'editor' } }, ctx)],
];

for (const storeKind of TEST_STORES) describe(`payload schemas end to end (${storeKind})`, function () {
  this.timeout(30_000);
  let plugin: WebhooksPlugin;
  let receiver: TestReceiver;
  let app: express.Express;
  const warnings: string[] = [];

  beforeEach(async () => {
    warnings.splice(0);
    receiver = await new TestReceiver().start();
    ({ plugin } = await startTestPlugin({
      store: storeKind, customEventTypes: [ORDER_PLACED, LEGACY],
      logger: { info: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined },
    }));
    app = createAdminHost(plugin, { rateLimit: false });
  });
  afterEach(async () => {
    await plugin.stop();
    await receiver.stop();
  });

  /** Every body the receiver got, validated against its type's data schema from the catalogue. */
  function assertReceivedMatchSchemas(): void {
    for (const { body } of receiver.requests) {
      const envelope = JSON.parse(body);
      const schema = plugin.catalogue.get(envelope.event_type)!.schema!;
      const ajv = strictAjv();
      const validate = ajv.compile(schema);
      assert.ok(validate(envelope.data), `${envelope.event_type}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(envelope.data)}`);
    }
  }

  it('sends data that validates against its schema from every typed hook, audit event and test send', async () => {
    const { webhook } = await plugin.webhooks.create({ name: 'all', url: `${receiver.url}/hook`, events: ['*'] }, plugin.context(ctx, 'default'));
    for (const [, call] of TYPED_HOOK_CALLS) await call(plugin);
    await plugin.webhooks.update(webhook.id, { description: 'changed' }, plugin.context(ctx, 'default'));
    await plugin.deliveries.sendTest(webhook.id, plugin.context(ctx, 'default'));
    await receiver.waitFor(TYPED_HOOK_CALLS.length + 3);
    const types = receiver.requests.map((r) => JSON.parse(r.body).event_type);
    for (const type of ['USER_LOGIN', 'USER_LOGIN_FAILURE', 'USER_LOGOUT', 'USER_CREATED', 'USER_MODIFIED', 'USER_DELETED', 'MFA_VERIFIED',
      'ROLE_CREATED', 'ROLE_UPDATED', 'ROLE_DELETED', 'ROLE_ASSIGNED', 'ROLE_UNASSIGNED', 'WEBHOOK_CREATED', 'WEBHOOK_UPDATED', 'WEBHOOK_TEST']) {
      assert.ok(types.includes(type), `${type} was received`);
    }
    assertReceivedMatchSchemas();
    // Valid as received is not enough: the shaper would have dropped what did not fit. Nothing was.
    assert.deepEqual(warnings.filter((w) => /^Dropped /.test(w)), []);
    const text = receiver.requests.map((r) => r.body).join('\n');
    for (const leaked of ['JBSWY3DPEHPK3PXP', '$2b$10$', 'internalNote', 'secret']) assert.ok(!text.includes(leaked), leaked);
  });

  it('warns once at start-up about the host type registered without a schema', () => {
    const about = warnings.filter((w) => /has no data schema/.test(w));
    assert.equal(about.length, 1);
    assert.match(about[0]!, /LEGACY_SYNC/);
  });

  it('GET /event-types returns each type with its data schema and an example body that validates', async () => {
    const res = await request(app).get(`${API}/event-types`).set(ACME);
    assert.equal(res.status, 200);
    const byType = new Map<string, any>(res.body.event_types.map((t: any) => [t.type, t]));
    assert.equal(byType.size, plugin.catalogue.list().length - 1, 'every type but WEBHOOK_TEST');
    for (const entry of byType.values()) {
      assert.deepEqual(Object.keys(entry.example), ['event_time', 'event_type', 'current_context', 'data'], entry.type);
      assert.equal(entry.example.event_type, entry.type);
      if (entry.type === 'LEGACY_SYNC') {
        assert.equal(entry.schema, null);
        continue;
      }
      const ajv = strictAjv();
      const validate = ajv.compile(entry.schema);
      assert.ok(validate(entry.example.data), `${entry.type}: ${ajv.errorsText(validate.errors)}`);
    }
    assert.deepEqual(byType.get('ORDER_PLACED').example.data, ORDER_PLACED.example);
    assert.deepEqual(byType.get('ORDER_PLACED').schema.properties.customer, { $ref: '#/$defs/User' });
    assert.ok(byType.get('ORDER_PLACED').schema.$defs.User);
  });

  it('publishes every event type as an OpenAPI 3.1 webhook whose example body validates against it', async () => {
    const res = await request(app).get(`${API}/openapi.json`);
    assert.equal(res.status, 200);
    const result = await new Validator().validate(res.body);
    assert.equal(result.valid, true, JSON.stringify(result.errors));
    const doc = res.body;
    assert.deepEqual(Object.keys(doc.webhooks).sort(), plugin.catalogue.list().map((d) => d.type).sort());
    const ajv = new Ajv2020.default({ strict: false, allErrors: true, formats: { 'date-time': true, email: true, uri: true } });
    ajv.addSchema({ $id: 'https://webhooks.invalid/openapi.json', components: doc.components });
    for (const [type, item] of Object.entries<any>(doc.webhooks)) {
      const post = item.post;
      assert.deepEqual(post.parameters.map((p: any) => p.name), ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-webhook-event'], type);
      assert.ok(post.responses['2XX'], type);
      const media = post.requestBody.content['application/json'];
      const schema = JSON.parse(JSON.stringify(media.schema).replaceAll('"#/components/', '"https://webhooks.invalid/openapi.json#/components/'));
      const validate = ajv.compile(schema);
      assert.ok(validate(media.example), `${type}: ${ajv.errorsText(validate.errors)}`);
      assert.equal(validate({ ...media.example, data: { ...media.example.data, undeclared: 1 } }), type === 'LEGACY_SYNC', `${type} refuses undeclared data`);
    }
    assert.ok(doc.components.schemas.EventUser, 'shared parts are components');
  });
});
