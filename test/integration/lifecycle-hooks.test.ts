import { subjectOf } from '../../plugin/events/event-subject.js';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { createWebhooksPlugin, EventNotRecordedError, InvalidOptionsError, ValidationError, type WebhooksPlugin } from '../../plugin/index.js';
import { TestReceiver } from '../support/receiver.js';
import { startTestPlugin, TEST_KEY, TEST_STORES } from '../support/plugin-fixture.js';

const ctx = (over: Record<string, unknown> = {}) => ({ tenantId: 'acme', ...over }) as any;
const SENSITIVE_USER = {
  _id: 'u-1', username: 'jdoe', email: 'jane@example.com', emailVerified: true, firstName: 'Jane', lastName: 'Doe',
  phone: '+48123456789', groups: ['admin'], isAdmin: false, createdAt: new Date('2026-01-02T03:04:05Z'),
  password: 'hunter2', passwordHash: '$2b$10$abcdefghijkl', mfaSecret: 'JBSWY3DPEHPK3PXP', totpSecret: 'x',
  recoveryCodes: ['a-b-c'], resetToken: 'tok', refreshToken: 'rt', apiKey: 'k', pgp_key: 'k2', ssh_key: 'k3',
};
const MAPPED_USER = {
  id: 'u-1', username: 'jdoe', email: 'jane@example.com', email_verified: true, first_name: 'Jane', last_name: 'Doe',
  phone: '+48123456789', groups: ['admin'], is_admin: false, created_at: '2026-01-02T03:04:05.000Z',
};
const ROLE = { id: 'r-1', name: 'auditor', description: 'Reads logs', permissions: ['logs:read'] };
const SECRET_WORDS = ['hunter2', '$2b$10', 'JBSWY3DPEHPK3PXP', 'a-b-c', 'tok', '"rt"', 'passwordHash', 'mfaSecret', 'recovery', 'pgp_key', 'ssh_key'];

for (const storeKind of TEST_STORES) describe(`lifecycle hooks (${storeKind})`, function () {
  this.timeout(30_000);
  let plugin: WebhooksPlugin;
  let receiver: TestReceiver;
  let secret: string;
  let webhookId: string;

  beforeEach(async () => {
    receiver = await new TestReceiver().start();
    ({ plugin } = await startTestPlugin({ store: storeKind }));
    ({ secret, webhook: { id: webhookId } } = await plugin.webhooks.create({ name: 'all', url: `${receiver.url}/hook`, events: ['*'] }, plugin.context({ tenantId: 'acme' }, 'default')));
  });
  afterEach(async () => {
    await plugin.stop();
    await receiver.stop();
  });

  const receivedEnvelope = async (index: number) => {
    await receiver.waitFor(index + 1);
    const request = receiver.requests[index];
    new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
    return JSON.parse(request.body);
  };

  const cases: Array<[string, (p: WebhooksPlugin) => Promise<unknown>, string, Record<string, unknown>]> = [
    ['userLogin', (p) => p.hooks.userLogin({ user: SENSITIVE_USER, strategy: 'local' }, ctx()), 'USER_LOGIN', { user: MAPPED_USER, strategy: 'local' }],
    ['userLoginFailure', (p) => p.hooks.userLoginFailure({ username: 'jdoe', reason: 'bad password', strategy: 'local' }, ctx()), 'USER_LOGIN_FAILURE',
      { username: 'jdoe', reason: 'bad password', strategy: 'local' }],
    ['userCreated', (p) => p.hooks.userCreated({ user: SENSITIVE_USER }, ctx()), 'USER_CREATED', { user: MAPPED_USER }],
    ['userModified', (p) => p.hooks.userModified({ user: SENSITIVE_USER, changedFields: ['email'] }, ctx()), 'USER_MODIFIED',
      { user: MAPPED_USER, changed_fields: ['email'] }],
    ['userDeleted', (p) => p.hooks.userDeleted({ user: SENSITIVE_USER }, ctx()), 'USER_DELETED', { user: MAPPED_USER }],
    ['userLogout', (p) => p.hooks.userLogout({ user: SENSITIVE_USER }, ctx()), 'USER_LOGOUT', { user: MAPPED_USER }],
    ['mfaVerified', (p) => p.hooks.mfaVerified({ user: SENSITIVE_USER, method: 'totp' }, ctx()), 'MFA_VERIFIED', { user: MAPPED_USER, method: 'totp' }],
    ['roleCreated', (p) => p.hooks.roleCreated({ role: ROLE }, ctx()), 'ROLE_CREATED', { role: ROLE }],
    ['roleUpdated', (p) => p.hooks.roleUpdated({ role: ROLE }, ctx()), 'ROLE_UPDATED', { role: ROLE }],
    ['roleDeleted', (p) => p.hooks.roleDeleted({ role: ROLE }, ctx()), 'ROLE_DELETED', { role: ROLE }],
    ['roleAssigned', (p) => p.hooks.roleAssigned({ user: SENSITIVE_USER, role: ROLE }, ctx()), 'ROLE_ASSIGNED', { user: MAPPED_USER, role: ROLE }],
    ['roleUnassigned', (p) => p.hooks.roleUnassigned({ user: SENSITIVE_USER, role: ROLE }, ctx()), 'ROLE_UNASSIGNED', { user: MAPPED_USER, role: ROLE }],
    ['emit', (p) => p.hooks.emit('GROUP_NEW_USER_ADDED', { group: { id: 'g1', name: 'auditors' }, apiToken: 'zzz', user: SENSITIVE_USER }, ctx()),
      'GROUP_NEW_USER_ADDED', { group: { id: 'g1', name: 'auditors' }, user: MAPPED_USER }],
  ];

  for (const [hook, call, type, data] of cases) {
    it(`${hook}() delivers the exact ${type} envelope, signed, without sensitive fields`, async () => {
      const before = Date.now();
      const result = (await call(plugin)) as { event_id: string; deliveries: number; duplicate: boolean; subject: string | null; sequence: number | null };
      assert.equal(result.deliveries, 1);
      assert.equal(result.duplicate, false);
      const envelope = await receivedEnvelope(1); // index 0 is the WEBHOOK_CREATED audit event
      assert.deepEqual(Object.keys(envelope), ['event_time', 'event_type', 'current_context', 'data']);
      assert.equal(envelope.event_type, type);
      assert.match(envelope.event_time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      assert.ok(Date.parse(envelope.event_time) >= before - 5);
      // A case about a subject (a user, else a role or group) is numbered by the store; a failed
      // login by name only is about no one.
      const subject = subjectOf(data as Record<string, unknown>, null);
      assert.equal(result.subject, subject);
      assert.equal(subject === null ? result.sequence === null : Number.isInteger(result.sequence) && result.sequence! >= 1, true);
      assert.deepEqual(envelope.current_context, {
        event_id: result.event_id, tenant_id: 'acme', subject, sequence: result.sequence, source: 'host', request: null, actor: null, client: null,
      });
      assert.deepEqual(envelope.data, data);
      for (const word of SECRET_WORDS) assert.ok(!receiver.requests[1].body.includes(word), `${word} must not leave the host`);
    });
  }

  it('copies request metadata, actor and client into current_context', async () => {
    const req = { ip: '203.0.113.9', headers: { 'user-agent': 'Firefox/130', 'x-request-id': 'req-77' } };
    await plugin.hooks.userLogin({ user: SENSITIVE_USER }, ctx({ req, actor: { id: 'admin-1', type: 'admin', username: 'root' }, client: { id: 'app-1', name: 'Portal' } }));
    const envelope = await receivedEnvelope(1);
    assert.deepEqual(envelope.current_context.request, { ip: '203.0.113.9', user_agent: 'Firefox/130', request_id: 'req-77' });
    assert.deepEqual(envelope.current_context.actor, { id: 'admin-1', type: 'admin', username: 'root' });
    assert.deepEqual(envelope.current_context.client, { id: 'app-1', name: 'Portal' });
  });

  it('rejects bad hook arguments with a ValidationError naming the field, and records nothing', async () => {
    await assert.rejects(plugin.hooks.userCreated({ user: { email: 'no-id@example.com' } }, ctx()),
      (e: any) => e instanceof ValidationError && e.code === 'validation_failed' && /user/.test(e.details[0].path) && /id/.test(e.message));
    await assert.rejects(plugin.hooks.roleCreated({ role: { id: 'r' } as any }, ctx()), (e: any) => e.details.some((d: any) => d.path === 'role.name'));
    await assert.rejects(plugin.hooks.userLogin({ user: SENSITIVE_USER }, ctx({ tenantId: 'bad tenant!' })), (e: any) => e.details[0].path === 'context.tenantId');
    await assert.rejects(plugin.hooks.emit('NOT_A_TYPE', {}, ctx()), (e: any) => e.code === 'unknown_event_type');
    await assert.rejects(plugin.hooks.emit('USER_CREATED', [] as any, ctx()), (e: any) => e.code === 'validation_failed');
    await assert.rejects(plugin.hooks.emit('USER_LOGIN_FAILURE', { reason: 'x'.repeat(70_000) }, ctx()), (e: any) => /limit is 65536/.test(e.message));
    const recorded = await plugin.store.listDeliveries('acme', webhookId, { limit: 10 });
    assert.deepEqual(recorded.map((d) => d.eventType), ['WEBHOOK_CREATED'], 'only the audit event of the setup was recorded');
  });

  it('treats a repeated idempotency key as a no-op', async () => {
    const first = await plugin.hooks.userCreated({ user: SENSITIVE_USER }, ctx({ idempotencyKey: 'signup-u-1' }));
    const again = await plugin.hooks.userCreated({ user: SENSITIVE_USER }, ctx({ idempotencyKey: 'signup-u-1' }));
    assert.equal(again.event_id, first.event_id);
    assert.equal(again.duplicate, true);
    const recorded = await plugin.store.listDeliveries('acme', webhookId, { eventType: 'USER_CREATED', limit: 10 });
    assert.deepEqual(recorded.map((d) => d.eventId), [first.event_id], 'one event, one delivery');
  });

  it('selects events by exact type, by PREFIX_* pattern and by *', async () => {
    const c = plugin.context({ tenantId: 'acme' }, 'default');
    const roles = await new TestReceiver().start();
    const users = await new TestReceiver().start();
    try {
      await plugin.webhooks.create({ name: 'roles', url: `${roles.url}/r`, events: ['ROLE_CREATED'] }, c);
      await plugin.webhooks.create({ name: 'users', url: `${users.url}/u`, events: ['USER_*'] }, c);
      assert.equal((await plugin.hooks.roleCreated({ role: ROLE }, ctx())).deliveries, 2);
      assert.equal((await plugin.hooks.userLogin({ user: SENSITIVE_USER }, ctx())).deliveries, 2);
      assert.equal((await plugin.hooks.emit('EMAIL_CHANGED', { user: SENSITIVE_USER }, ctx())).deliveries, 1);
      await roles.waitFor(1);
      await users.waitFor(1);
      await receiver.waitFor(6);
      // Each hook's delivery count above is what was recorded; the receivers got exactly those.
      assert.deepEqual(roles.requests.map((r) => JSON.parse(r.body).event_type), ['ROLE_CREATED']);
      assert.deepEqual(users.requests.map((r) => JSON.parse(r.body).event_type), ['USER_LOGIN']);
    } finally {
      await roles.stop();
      await users.stop();
    }
  });

  it('routes an event only to the webhooks of its own tenant', async () => {
    const other = await new TestReceiver().start();
    try {
      await plugin.webhooks.create({ name: 'globex', url: `${other.url}/g`, events: ['*'] }, plugin.context({ tenantId: 'globex' }, 'default'));
      assert.equal((await plugin.hooks.userLogin({ user: SENSITIVE_USER }, ctx({ tenantId: 'globex' }))).deliveries, 1);
      await other.waitFor(2);
      const envelope = JSON.parse(other.requests[1].body);
      assert.equal(envelope.current_context.tenant_id, 'globex');
      assert.equal(receiver.requests.length, 1, 'acme saw only its own audit event');
      assert.equal((await plugin.hooks.userLogin({ user: SENSITIVE_USER })).deliveries, 0, 'the default tenant has no webhooks');
    } finally {
      await other.stop();
    }
  });

  it('rejects with EventNotRecordedError when the store is unreachable', async () => {
    const broken = createWebhooksPlugin({
      storage: { postgres: { connectionString: 'postgresql://nobody:x@127.0.0.1:1/none' } },
      encryptionKeys: [TEST_KEY], runWorker: false,
    });
    await assert.rejects(broken.hooks.userLogin({ user: SENSITIVE_USER }), (e: any) => e instanceof EventNotRecordedError && e.code === 'event_not_recorded');
    await broken.stop();
  });
});

describe('plugin instances', function () {
  this.timeout(30_000);

  it('are independent: catalogues, tenants and stores are not shared', async () => {
    const a = await startTestPlugin({ customEventTypes: [{ type: 'ORDER_PLACED', description: 'An order was placed.' }] });
    const b = await startTestPlugin();
    try {
      assert.equal(a.plugin.catalogue.has('ORDER_PLACED'), true);
      assert.equal(b.plugin.catalogue.has('ORDER_PLACED'), false);
      await a.plugin.webhooks.create({ name: 'x', url: 'https://example.com/h', events: ['ORDER_*'] }, a.plugin.context({}, 'default'));
      assert.equal((await a.plugin.webhooks.list('default')).length, 1);
      assert.equal((await b.plugin.webhooks.list('default')).length, 0);
      await assert.rejects(b.plugin.hooks.emit('ORDER_PLACED', {}), (e: any) => e.code === 'unknown_event_type');
      assert.equal((await a.plugin.hooks.emit('ORDER_PLACED', { order: { id: 1 } })).deliveries, 1);
    } finally {
      await a.plugin.stop();
      await b.plugin.stop();
    }
  });
});

describe('plugin options', () => {
  const valid = { storage: { postgres: { connectionString: 'postgresql://u:p@127.0.0.1:5432/db' } }, encryptionKeys: [TEST_KEY] };
  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ['no storage', { ...valid, storage: undefined }, /"storage" is required/],
    ['two storages', { ...valid, storage: { postgres: valid.storage.postgres, store: {} } }, /storage/],
    ['no keys', { ...valid, encryptionKeys: [] }, /encryptionKeys/],
    ['short key', { ...valid, encryptionKeys: [{ id: 'k', key: Buffer.alloc(16).toString('base64') }] }, /encryptionKeys\[0\]\.key.*32 bytes/],
    ['string poll interval', { ...valid, delivery: { pollIntervalMs: '100ms' } }, /delivery\.pollIntervalMs/],
    ['lease shorter than timeout', { ...valid, delivery: { leaseMs: 5_000, timeoutMs: 10_000 } }, /leaseMs.*timeoutMs/],
    ['unknown option', { ...valid, colour: 'blue' }, /"colour" is not allowed/],
    ['bad custom type', { ...valid, customEventTypes: [{ type: 'bad-name', description: 'x' }] }, /bad-name/],
  ];
  for (const [what, options, message] of invalid) {
    it(`throws at construction naming the option: ${what}`, () => {
      assert.throws(() => createWebhooksPlugin(options as any), (e: any) => (e instanceof InvalidOptionsError || e.code === 'invalid_event_type') && message.test(e.message));
    });
  }
});
