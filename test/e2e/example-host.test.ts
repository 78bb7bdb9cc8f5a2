import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { generate } from 'otplib';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import request from 'supertest';
import { inboxSecrets, seedDirectory, seedInboxWebhook } from '../../example/demo/seed.js';
import { createHostApp, type HostApp } from '../../example/host-app.js';
import { memoryLogger } from '../../example/host-logger.js';
import { InboxStore } from '../../example/inbox/inbox-store.js';
import { memoryMailer } from '../../example/mail/mailer.js';
import { PostgresUserRepository } from '../../example/users/postgres-user-repository.js';
import { eventually, FAST_DELIVERY, TEST_KEY } from '../support/plugin-fixture.js';
import { freshPostgresDatabase } from '../support/postgres-fixture.js';
import { TestReceiver, type ReceivedRequest } from '../support/receiver.js';

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADMIN_TOKEN = 'e2e-admin-token-0123456789';
const ADMIN_PASSWORD = 'e2e-admin-password';
const BEARER = { authorization: `Bearer ${ADMIN_TOKEN}` };
const PASSWORDS = ['alice-first-password', 'alice-second-password', 'alice-third-password', ADMIN_PASSWORD];

interface Envelope {
  event_time: string;
  event_type: string;
  current_context: {
    event_id: string;
    tenant_id: string;
    source: string;
    request: { ip: string | null; user_agent: string | null; request_id: string | null } | null;
    actor: { id: string; type: string; username?: string } | null;
    client: unknown;
  };
  data: Record<string, any>;
}

/** Words no event may carry as a key: credentials and what protects them. */
const SENSITIVE_KEY = /pass(word)?|hash|secret|totp|otp|recovery|token|salt/i;

function sensitiveKeys(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => sensitiveKeys(v, `${path}[${i}]`));
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, v]) => [
    ...(SENSITIVE_KEY.test(key) ? [`${path}.${key}`] : []),
    ...sensitiveKeys(v, `${path}.${key}`),
  ]);
}

describe('example identity server (end to end over HTTP)', function () {
  this.timeout(60_000);

  let pool: pg.Pool;
  let host: HostApp;
  let server: Server;
  let base: string;
  let receiver: TestReceiver;
  let verifier: Webhook;
  let inbox: { webhookId: string; secret: string } | null = null;
  const inboxStore = new InboxStore();
  const mailer = memoryMailer();
  const logger = memoryLogger();
  /** Values that must never appear in any delivery: passwords, TOTP secrets, recovery codes, mailed tokens. */
  const secrets = new Set<string>(PASSWORDS);
  let alice: { id: string };
  /** Alice's recovery codes; sign-ins after the TOTP test use these (one TOTP code per 30 s step). */
  let recoveryCodes: string[] = [];

  const envelopes = () => receiver.requests.map((r) => ({ request: r, envelope: JSON.parse(r.body) as Envelope }));
  const ofType = (type: string) => envelopes().filter((e) => e.envelope.event_type === type);

  /** Waits for the `n`-th delivery of `type` (1-based) matching `match`, and checks it like every delivery. */
  async function delivered(type: string, match: (e: Envelope) => boolean = () => true, n = 1): Promise<Envelope> {
    const found = await eventually(async () => {
      const hits = ofType(type).filter((e) => match(e.envelope));
      return hits.length >= n ? hits[n - 1] : undefined;
    }, 15_000).catch(() => {
      throw new Error(`no ${type} delivery #${n}; got ${envelopes().map((e) => e.envelope.event_type).join(', ')}`);
    });
    checkDelivery(found.request, found.envelope);
    return found.envelope;
  }

  function checkDelivery(req: ReceivedRequest, envelope: Envelope): void {
    // The signature, checked by the reference implementation of Standard Webhooks.
    assert.deepEqual(verifier.verify(req.body, req.headers as Record<string, string>), envelope);
    assert.match(String(req.headers['webhook-id']), /^msg_/);
    assert.equal(req.headers['x-webhook-event'], envelope.event_type);
    assert.equal(req.headers['content-type'], 'application/json');
    assert.deepEqual(Object.keys(envelope).sort(), ['current_context', 'data', 'event_time', 'event_type']);
    assert.equal(new Date(envelope.event_time).toISOString(), envelope.event_time);
    assert.match(envelope.current_context.event_id, /^evt_/);
    assert.equal(envelope.current_context.source, 'host');
    assert.equal(envelope.current_context.tenant_id, 'default');
    assert.deepEqual(sensitiveKeys(envelope.data), [], `${envelope.event_type} carries sensitive keys`);
    for (const secret of secrets) assert.ok(!req.body.includes(secret), `${envelope.event_type} leaks a secret value`);
    assert.ok(!req.body.includes('scrypt$'), `${envelope.event_type} leaks a password hash`);
  }

  before(async () => {
    receiver = await new TestReceiver().start();
    pool = new pg.Pool({ connectionString: await freshPostgresDatabase() });
    const users = new PostgresUserRepository(pool);
    host = await createHostApp({
      users,
      database: { postgres: pool },
      plugins: [{
        root: PACKAGE_ROOT,
        options: { encryptionKeys: [TEST_KEY], egress: { allow: ['127.0.0.0/8'] }, delivery: FAST_DELIVERY },
      }],
      preferSource: true,
      adminToken: ADMIN_TOKEN,
      sessionSecret: 'e2e-session-secret',
      mailer,
      logger,
      publicUrl: () => base,
      inbox: { store: inboxStore, secrets: () => inboxSecrets(inbox) },
    });
    await seedDirectory(users, ADMIN_PASSWORD, logger);
    server = host.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await seedInboxWebhook(host.webhooks, `${base}/inbox/receive`, undefined, logger, (seeded) => {
      inbox = seeded;
    });

    // The operator subscribes a receiver to everything, through the plugin's admin API.
    const created = await request(base).post('/admin/webhooks/api/webhooks').set(BEARER)
      .send({ name: 'e2e receiver', url: `${receiver.url}/hook`, events: ['*'] }).expect(201);
    assert.match(created.body.secret, /^whsec_/);
    verifier = new Webhook(created.body.secret);
  });

  after(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await host?.stop();
    await pool?.end();
    await receiver?.stop();
  });

  it('serves /healthz (liveness, no details) and /readyz (the store answers)', async () => {
    const live = await request(base).get('/healthz').expect(200);
    assert.deepEqual(live.body, { status: 'ok' });
    const ready = await request(base).get('/readyz').expect(200);
    assert.deepEqual(ready.body, { status: 'ready' });
  });

  it('mounts the plugin from its manifest: admin API, console tab and element module', async () => {
    assert.equal(host.plugins[0].manifest.id, 'identity-webhooks');
    await request(base).get('/admin/webhooks/api/webhooks').expect(401);
    const list = await request(base).get('/admin/webhooks/api/webhooks').set(BEARER).expect(200);
    assert.deepEqual(list.body.webhooks.map((w: { name: string }) => w.name).sort(), ['Demo inbox', 'e2e receiver']);

    const admin = request.agent(base);
    await admin.post('/login').send({ username: 'admin', password: ADMIN_PASSWORD }).expect(200);
    const tab = await admin.get('/admin/webhooks').expect(200);
    assert.match(tab.text, /<script type="module" src="\/admin\/webhooks\/api\/ui\/webhook-settings\.js"><\/script>/);
    assert.match(tab.text, /<webhook-settings api-base="\/admin\/webhooks\/api"\s*><\/webhook-settings>/);
    assert.match(String(tab.headers['content-security-policy']), /script-src 'self'/);
    const settings = await admin.get('/admin/settings').expect(200);
    assert.match(settings.text, /href="\/admin\/webhooks">Webhook Settings</);
    // The session reaches the plugin's admin API too (what the element uses).
    await admin.get('/admin/webhooks/api/webhooks').expect(200);
    await request(base).get('/admin/webhooks').expect(303).expect('location', '/login');
  });

  it('a sign-up whose transaction fails at commit leaves neither the user nor its event (the outbox)', async () => {
    // A deferred check that fails at COMMIT, after the user row and its USER_CREATED event
    // were both written in the sign-up's transaction.
    await pool.query(`CREATE FUNCTION e2e_refuse_doomed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.username = 'doomed' THEN RAISE EXCEPTION 'refused at commit'; END IF; RETURN NEW; END $$`);
    await pool.query(`CREATE CONSTRAINT TRIGGER e2e_refuse_doomed AFTER INSERT ON demo_users
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION e2e_refuse_doomed()`);
    try {
      await request(base).post('/signup').send({ username: 'doomed', password: PASSWORDS[0], email: 'doomed@example.test' }).expect(500);
    } finally {
      await pool.query('DROP TRIGGER e2e_refuse_doomed ON demo_users');
      await pool.query('DROP FUNCTION e2e_refuse_doomed()');
    }
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM webhook_events WHERE type = 'USER_CREATED' AND body LIKE '%"doomed"%'`);
    assert.equal(rows[0].n, 0);
    assert.equal((await pool.query(`SELECT count(*)::int AS n FROM demo_users WHERE username = 'doomed'`)).rows[0].n, 0);
  });

  it('sign-up emits USER_CREATED and the mailed link USER_EMAIL_VERIFIED', async () => {
    const res = await request(base).post('/signup').set('user-agent', 'e2e-test/1')
      .send({ username: 'alice', password: PASSWORDS[0], email: 'alice@example.test', first_name: 'Alice' }).expect(201);
    alice = res.body.user;
    const created = await delivered('USER_CREATED', (e) => e.data.user.username === 'alice');
    assert.deepEqual(created.data, {
      user: {
        id: alice.id, username: 'alice', email: 'alice@example.test', email_verified: false, first_name: 'Alice',
        roles: [], enabled: true, tenant_id: 'default', created_at: created.data.user.created_at, updated_at: created.data.user.updated_at,
      },
    });
    assert.equal(created.current_context.request?.user_agent, 'e2e-test/1');
    assert.ok(created.current_context.request?.ip, 'the client IP is recorded');
    assert.deepEqual(created.current_context.actor, { id: alice.id, type: 'user', username: 'alice' });

    await request(base).post('/signup').send({ username: 'alice', password: 'another-password', email: 'a2@example.test' }).expect(409);

    const token = mailer.last('alice@example.test', 'verify_email')!.action!.token;
    secrets.add(token);
    await request(base).post('/verify-email').send({ token }).expect(200);
    const verified = await delivered('USER_EMAIL_VERIFIED');
    assert.equal(verified.data.user.id, alice.id);
    assert.equal(verified.data.user.email_verified, true);
    await request(base).post('/verify-email').send({ token }).expect(400); // once only
  });

  it('logs in with JSON and with a form (USER_LOGIN), and answers a failed login 401 (USER_LOGIN_FAILURE)', async () => {
    const json = await request(base).post('/login').send({ username: 'alice', password: PASSWORDS[0] }).expect(200);
    assert.equal(json.body.user.id, alice.id);
    assert.ok(json.headers['set-cookie']?.[0]?.startsWith('demo.sid='));
    const login = await delivered('USER_LOGIN', (e) => e.data.user.id === alice.id);
    assert.equal(login.data.strategy, 'local');
    assert.equal(login.data.user.username, 'alice');

    await request(base).post('/login').type('form').send({ username: 'alice', password: PASSWORDS[0] })
      .expect(303).expect('location', '/');
    await delivered('USER_LOGIN', (e) => e.data.user.id === alice.id, 2);

    const wrong = await request(base).post('/login').send({ username: 'alice', password: 'not-her-password' }).expect(401);
    assert.deepEqual(wrong.body, { error: { code: 'invalid_credentials', message: 'Invalid username or password' } });
    const failure = await delivered('USER_LOGIN_FAILURE', (e) => e.data.reason === 'wrong password');
    assert.deepEqual(failure.data, { username: 'alice', strategy: 'local', reason: 'wrong password' });

    const form = await request(base).post('/login').type('form').send({ username: 'nobody', password: 'whatever-it-is' }).expect(401);
    assert.match(form.text, /Invalid username or password/);
    await delivered('USER_LOGIN_FAILURE', (e) => e.data.reason === 'unknown user' && e.data.username === 'nobody');
  });

  it('carries the trace of a login to the receiver: the USER_LOGIN delivery has the request\'s trace id', async () => {
    const traceId = '5c0ffee15c0ffee15c0ffee15c0ffee1';
    await request(base).post('/login').set('traceparent', `00-${traceId}-1122334455667788-01`)
      .send({ username: 'alice', password: PASSWORDS[0] }).expect(200);
    const traced = await eventually(async () => ofType('USER_LOGIN')
      .find((e) => String(e.request.headers.traceparent ?? '').split('-')[1] === traceId), 15_000);
    checkDelivery(traced.request, traced.envelope);
    assert.equal(traced.envelope.data.user.id, alice.id);
  });

  it('profile edit emits USER_MODIFIED with the changed fields', async () => {
    const agent = request.agent(base);
    await agent.post('/login').send({ username: 'alice', password: PASSWORDS[0] }).expect(200);
    const res = await agent.patch('/account').send({ first_name: 'Alice', last_name: 'Liddell', display_name: 'Alice L.' }).expect(200);
    assert.deepEqual(res.body.changed_fields, ['last_name', 'display_name']);
    const modified = await delivered('USER_MODIFIED');
    assert.deepEqual(modified.data.changed_fields, ['last_name', 'display_name']);
    assert.equal(modified.data.user.display_name, 'Alice L.');
    assert.equal(modified.data.user.last_name, 'Liddell');
  });

  it('enrols TOTP (MFA_INITIATED, MFA_VERIFIED), then signs in with the second step (MFA_REQUIRED, MFA_VERIFIED)', async () => {
    const agent = request.agent(base);
    await agent.post('/login').send({ username: 'alice', password: PASSWORDS[0] }).expect(200);
    await agent.post('/logout').expect(200);
    await delivered('USER_LOGOUT', (e) => e.data.user.id === alice.id);

    await agent.post('/login').send({ username: 'alice', password: PASSWORDS[0] }).expect(200);
    const enrol = await agent.post('/account/mfa/totp').expect(200);
    const secret: string = enrol.body.secret;
    secrets.add(secret);
    assert.match(enrol.body.otpauth_uri, /^otpauth:\/\/totp\//);
    const initiated = await delivered('MFA_INITIATED');
    assert.equal(initiated.data.method, 'totp');
    assert.equal(initiated.data.user.id, alice.id);

    const valid = await generate({ secret });
    await agent.post('/account/mfa/totp/confirm').send({ code: String((Number(valid) + 1) % 1_000_000).padStart(6, '0') }).expect(400);
    const confirmed = await agent.post('/account/mfa/totp/confirm').send({ code: await generate({ secret }) }).expect(200);
    recoveryCodes = confirmed.body.recovery_codes;
    assert.equal(recoveryCodes.length, 8);
    recoveryCodes.forEach((c) => secrets.add(c));
    const enrolled = await delivered('MFA_VERIFIED', (e) => e.data.user.id === alice.id);
    assert.equal(enrolled.data.method, 'totp');
    await agent.post('/logout').expect(200);

    // Second sign-in: the password step asks for the code.
    const second = request.agent(base);
    const step1 = await second.post('/login').send({ username: 'alice', password: PASSWORDS[0] }).expect(200);
    assert.deepEqual(step1.body, { mfa_required: true, methods: ['totp', 'recovery_code'], next: '/login/mfa' });
    await delivered('MFA_REQUIRED', (e) => e.data.user.id === alice.id);
    await second.get('/account').expect(401); // not signed in until the code

    await second.post('/login/mfa').send({ code: '12345' }).expect(401);
    const badCode = await delivered('USER_LOGIN_FAILURE', (e) => e.data.reason === 'invalid MFA code');
    assert.equal(badCode.data.strategy, 'totp');
    assert.equal(badCode.data.user.id, alice.id);

    // The enrolment used the current time step; the next one is a fresh code.
    const code = await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
    const step2 = await second.post('/login/mfa').send({ code }).expect(200);
    assert.equal(step2.body.method, 'totp');
    await delivered('MFA_VERIFIED', (e) => e.data.user.id === alice.id, 2);
    const account = await second.get('/account').expect(200);
    assert.equal(account.body.user.mfa_enabled, true);
    await second.post('/login/mfa').send({ code }).expect(401); // no pending step any more

    // A recovery code works once.
    const third = request.agent(base);
    await third.post('/login').send({ username: 'alice', password: PASSWORDS[0] }).expect(200);
    const recovered = await third.post('/login/mfa').send({ code: recoveryCodes[0] }).expect(200);
    assert.equal(recovered.body.method, 'recovery_code');
    await delivered('MFA_VERIFIED', (e) => e.data.method === 'recovery_code');
  });

  it('password change (USER_PASSWORD_CHANGED) and reset by mailed token (USER_PASSWORD_RESET_INITIATE, USER_PASSWORD_RESET)', async () => {
    const agent = request.agent(base);
    await agent.post('/login').send({ username: 'alice', password: PASSWORDS[0] }).expect(200);
    await agent.post('/login/mfa').send({ code: recoveryCodes[1] }).expect(200);
    await agent.post('/account/password').send({ current_password: 'wrong-password-x', new_password: PASSWORDS[1] }).expect(403);
    await agent.post('/account/password').send({ current_password: PASSWORDS[0], new_password: 'short' }).expect(400);
    await agent.post('/account/password').send({ current_password: PASSWORDS[0], new_password: PASSWORDS[1] }).expect(200);
    const changed = await delivered('USER_PASSWORD_CHANGED');
    assert.equal(changed.data.user.id, alice.id);

    await request(base).post('/password-reset').send({ username: 'nobody-here' }).expect(202);
    await request(base).post('/password-reset').send({ username: 'alice' }).expect(202);
    const initiated = await delivered('USER_PASSWORD_RESET_INITIATE');
    assert.equal(initiated.data.user.id, alice.id);
    assert.equal(ofType('USER_PASSWORD_RESET_INITIATE').length, 1, 'an unknown user triggers no event');
    const token = mailer.last('alice@example.test', 'reset_password')!.action!.token;
    secrets.add(token);
    await request(base).post('/password-reset/confirm').send({ token, new_password: PASSWORDS[2] }).expect(200);
    const reset = await delivered('USER_PASSWORD_RESET');
    assert.equal(reset.data.user.id, alice.id);
    await request(base).post('/password-reset/confirm').send({ token, new_password: PASSWORDS[2] }).expect(400);
    await request(base).post('/login').send({ username: 'alice', password: PASSWORDS[2] }).expect(200)
      .expect((res) => assert.equal(res.body.mfa_required, true));
  });

  it('an admin disables and enables a user (USER_DISABLED, USER_ENABLED); a disabled user cannot sign in', async () => {
    await request(base).post(`/api/admin/users/${alice.id}/disable`).expect(401);
    await request(base).post(`/api/admin/users/${alice.id}/disable`).set(BEARER).expect(200);
    const disabled = await delivered('USER_DISABLED');
    assert.equal(disabled.data.user.enabled, false);
    assert.equal(disabled.current_context.actor?.type, 'api_client');
    await request(base).post('/login').send({ username: 'alice', password: PASSWORDS[2] }).expect(401);
    await delivered('USER_LOGIN_FAILURE', (e) => e.data.reason === 'account disabled');
    await request(base).post(`/api/admin/users/${alice.id}/enable`).set(BEARER).expect(200);
    const enabled = await delivered('USER_ENABLED');
    assert.equal(enabled.data.user.enabled, true);

    // A signed-in person without the admin role may not.
    const agent = request.agent(base);
    await agent.post('/login').send({ username: 'alice', password: PASSWORDS[2] }).expect(200);
    await agent.post('/login/mfa').send({ code: recoveryCodes[3] }).expect(200);
    await agent.post(`/api/admin/users/${alice.id}/disable`).expect(403);
    await agent.get('/admin/webhooks/api/webhooks').expect(403);
  });

  it('role create, update, assign, unassign and delete emit the ROLE_* events', async () => {
    const admin = request.agent(base);
    await admin.post('/login').send({ username: 'admin', password: ADMIN_PASSWORD }).expect(200);
    const created = await admin.post('/api/admin/roles').send({ name: 'auditor', description: 'Audits', permissions: ['logs:read'] }).expect(201);
    const roleId: string = created.body.role.id;
    const roleCreated = await delivered('ROLE_CREATED');
    assert.deepEqual(roleCreated.data.role, { id: roleId, name: 'auditor', description: 'Audits', permissions: ['logs:read'] });
    assert.equal(roleCreated.current_context.actor?.type, 'admin');
    assert.equal(roleCreated.current_context.actor?.username, 'admin');

    await request(base).patch(`/api/admin/roles/${roleId}`).set(BEARER)
      .send({ description: 'Reads the audit log', permissions: ['logs:read', 'logs:export'] }).expect(200);
    const updated = await delivered('ROLE_UPDATED');
    assert.deepEqual(updated.data.changed_fields, ['description', 'permissions']);
    assert.deepEqual(updated.data.role.permissions, ['logs:read', 'logs:export']);

    await request(base).post(`/api/admin/users/${alice.id}/roles`).set(BEARER).send({ role_id: roleId }).expect(201);
    const assigned = await delivered('ROLE_ASSIGNED');
    assert.equal(assigned.data.user.id, alice.id);
    assert.deepEqual(assigned.data.user.roles, ['auditor']);
    assert.equal(assigned.data.role.name, 'auditor');
    await request(base).post(`/api/admin/users/${alice.id}/roles`).set(BEARER).send({ role: 'auditor' }).expect(200); // already has it

    await request(base).delete(`/api/admin/users/${alice.id}/roles/${roleId}`).set(BEARER).expect(200);
    const unassigned = await delivered('ROLE_UNASSIGNED');
    assert.deepEqual(unassigned.data.user.roles, []);

    await request(base).delete(`/api/admin/roles/${roleId}`).set(BEARER).expect(204);
    const deleted = await delivered('ROLE_DELETED');
    assert.equal(deleted.data.role.id, roleId);
    assert.equal(ofType('ROLE_ASSIGNED').length, 1);
  });

  it('account deletion emits USER_DELETED', async () => {
    const agent = request.agent(base);
    await agent.post('/login').send({ username: 'alice', password: PASSWORDS[2] }).expect(200);
    await agent.post('/login/mfa').send({ code: recoveryCodes[2] }).expect(200);
    await agent.delete('/account').send({ password: 'not-the-password' }).expect(403);
    await agent.delete('/account').send({ password: PASSWORDS[2] }).expect(204);
    const deleted = await delivered('USER_DELETED');
    assert.equal(deleted.data.user.id, alice.id);
    await agent.get('/account').expect(401);
    await request(base).post('/login').send({ username: 'alice', password: PASSWORDS[2] }).expect(401);
  });

  it('every delivery verified, and bearer-token API calls were never reported as logins', async () => {
    for (const { request: req, envelope } of envelopes()) checkDelivery(req, envelope);
    const logins = ofType('USER_LOGIN');
    assert.ok(logins.every((e) => e.envelope.data.strategy === 'local'));
    assert.ok(!logins.some((e) => e.envelope.data.user.username === 'admin-api-token'));
  });

  it('the demo inbox received the same events on this server and verified every signature', async () => {
    assert.ok(inbox, 'the inbox webhook was seeded');
    await eventually(async () => inboxStore.list('default').some((e) => e.event_type === 'USER_DELETED'), 15_000);
    const entries = (await request(base).get('/inbox/deliveries').set(BEARER).expect(200)).body.deliveries as Array<{ verified: boolean; event_type: string }>;
    assert.ok(entries.length >= 20);
    assert.ok(entries.every((e) => e.verified), 'every inbox delivery verified');
    for (const type of ['USER_CREATED', 'USER_LOGIN', 'MFA_VERIFIED', 'ROLE_ASSIGNED', 'USER_DELETED']) {
      assert.ok(entries.some((e) => e.event_type === type), `inbox has ${type}`);
    }
    // A forged request is recorded as unverified and refused, as a receiver must.
    const forged = await request(base).post('/inbox/receive').set('content-type', 'application/json')
      .set('webhook-id', 'msg_forged').set('webhook-timestamp', String(Math.floor(Date.now() / 1000))).set('webhook-signature', 'v1,AAAA')
      .send('{"event_type":"USER_DELETED","current_context":{"tenant_id":"default"}}').expect(401);
    assert.equal(forged.body.error.code, 'bad_signature');
    // (Found by id: real deliveries may still be arriving around it.)
    assert.equal(inboxStore.list('default').find((e) => e.message_id === 'msg_forged')?.verified, false);

    const page = await request(base).get('/inbox').set(BEARER).expect(200);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    assert.ok(!/<script>/.test(page.text), 'no inline script');
    await request(base).get('/inbox').expect(303);
  });
});
