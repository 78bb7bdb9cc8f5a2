/**
 * A corpus of credential-shaped field names and values, sent every way an event can be made
 * (emit() into built-in types and into a host type without a schema, the typed hooks), to a
 * real receiver on 127.0.0.1. Not one corpus value may reach it; the harmless fields beside
 * them must.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import type { WebhooksPlugin } from '../../plugin/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startTestPlugin } from '../support/plugin-fixture.js';
import { TestReceiver } from '../support/receiver.js';

/** A fresh random core per value, so a leak can never be confused with legitimate content. */
const core = (bytes = 12) => randomBytes(bytes).toString('hex');
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (header: object, payload: object) => `${b64url(header)}.${b64url(payload)}.${randomBytes(32).toString('base64url')}`;
const base32 = () => randomBytes(10).toString('hex').toUpperCase().replace(/[0189]/g, 'A');
const pem = (label: string) => `-----BEGIN ${label}-----\n${randomBytes(48).toString('base64')}\n-----END ${label}-----`;

/** Credential-shaped values: every one must be refused wherever it is put. */
const CREDENTIAL_VALUES: string[] = [
  // otpauth:// URLs with their TOTP/HOTP secrets (the MFA_INITIATED report)
  `otpauth://totp/Acme:jane@example.com?secret=${base32()}&issuer=Acme`,
  `otpauth://totp/${core(4)}?secret=${base32()}&algorithm=SHA1&digits=6&period=30`,
  `otpauth://hotp/Acme?secret=${base32()}&counter=7`,
  `otpauth-migration://offline?data=${randomBytes(24).toString('base64url')}`,
  // JWTs and a JWE, bare and inside text
  jwt({ alg: 'HS256', typ: 'JWT' }, { sub: core(), scope: 'openid' }),
  jwt({ alg: 'RS256', kid: core(4) }, { sub: core(), exp: 1_900_000_000 }),
  jwt({ alg: 'ES256' }, { sid: core() }),
  jwt({ alg: 'PS512', typ: 'at+jwt' }, { client_id: core() }),
  `${b64url({ alg: 'none' })}.${b64url({ sub: core() })}.`,
  `${b64url({ alg: 'RSA-OAEP-256', enc: 'A256GCM' })}.${core()}.${core()}.${core()}.${core()}`,
  `session restored from ${jwt({ alg: 'HS512' }, { sub: core() })} after refresh`,
  jwt({ alg: 'EdDSA', typ: 'logout+jwt' }, { events: { [core(4)]: {} } }),
  // password-reset and sign-in links with their tokens
  `https://id.example.com/reset-password?token=${core()}`,
  `https://id.example.com/account/recover?reset_token=${core()}&user=jane`,
  `https://portal.example.com/callback?code=${core()}&state=${core(4)}`,
  `https://portal.example.com/callback#access_token=${core()}&token_type=Bearer&expires_in=3600`,
  `https://id.example.com/reset-password/${core(16)}`,
  `https://id.example.com/verify-email/a1${core(10)}`,
  `https://id.example.com/invitations/accept/${core(12)}`,
  `https://id.example.com/magic?passcode=${core(3)}&email=jane%40example.com`,
  // private keys
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  pem('RSA PRIVATE KEY'),
  pem('OPENSSH PRIVATE KEY'),
  pem('ENCRYPTED PRIVATE KEY'),
  // authorization header values
  `Bearer ${core()}.${core()}`,
  `Authorization: Bearer a${core(20)}`,
  `bearer ${randomBytes(24).toString('base64url')}`,
  `Basic ${Buffer.from(`jane:${core()}`).toString('base64')}`,
  `Basic ${Buffer.from(`svc-${core(3)}:${core()}`).toString('base64')}`,
  `token ${core(20)}`,
  `Digest username="jane", realm="api", nonce="${core()}", response="${core(16)}"`,
  // Standard Webhooks secrets
  `whsec_${randomBytes(24).toString('base64')}`,
  `whsec_${randomBytes(32).toString('base64')}`,
  `whsk_${randomBytes(32).toString('base64')}`,
  // password hashes
  `$2b$10$${randomBytes(40).toString('base64').replace(/[+=]/g, '.').slice(0, 53)}`,
  `$2y$12$${randomBytes(40).toString('base64').replace(/[+=]/g, '/').slice(0, 53)}`,
  `$argon2id$v=19$m=65536,t=3,p=4$${randomBytes(16).toString('base64url')}$${randomBytes(32).toString('base64url')}`,
  `scrypt$32768$8$1$${randomBytes(16).toString('base64url')}$${randomBytes(32).toString('base64url')}`,
  `pbkdf2_sha256$600000$${core(8)}$${randomBytes(32).toString('base64')}`,
  `$6$${core(8)}$${randomBytes(48).toString('base64url')}`,
  // provider tokens
  `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x').slice(0, 36)}`,
  `github_pat_11A${randomBytes(30).toString('hex').slice(0, 30)}`,
  `xoxb-${core(6)}-${core(6)}-${core(12)}`,
  `sk_live_${core(16)}`,
  `AKIA${randomBytes(16).toString('hex').toUpperCase().slice(0, 16)}`,
  `AIza${randomBytes(30).toString('base64url').slice(0, 35)}`,
  `glpat-${core(12)}`,
  `npm_${randomBytes(20).toString('hex').slice(0, 36)}`,
  // signed storage URLs
  `https://bucket.s3.amazonaws.com/avatars/jane.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${core(8)}&X-Amz-Signature=${core(32)}`,
  `https://acct.blob.core.windows.net/c/jane.png?sv=2024-05-04&se=2026-02-01&sp=r&sig=${randomBytes(32).toString('base64url')}`,
  `https://storage.googleapis.com/b/o.png?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature=${core(32)}`,
  // URLs with a password, and name=value credentials in text
  `postgres://identity:${core()}@db.internal:5432/identity`,
  `https://admin:${core()}@intranet.example.com/`,
  `retrying with password=${core(8)} for jane`,
  `client_secret=${core()}`,
];

/** A random, innocuous-looking value per name: only the name may give it away. */
const marker = (i: number) => `fv${String(i).padStart(2, '0')}x${core(6)}`;

/** Field names that name credentials (the report's among them), each carrying its own marker. */
const CREDENTIAL_NAMES = [
  'password', 'passwd', 'pwd', 'pw', 'passphrase', 'passcode', 'secret', 'client_secret', 'clientSecret', 'token', 'access_token',
  'refreshToken', 'id_token', 'resetToken', 'apiKey', 'api_key', 'API-KEY', 'privateKey', 'private_key', 'signingKey', 'twoFactorKey',
  'twofactorkey', 'mfaSecret', 'totpSecret', 'totp_seed', 'otp', 'otpCode', 'otpauth', 'backupCodes', 'recovery_codes', 'recoveryCode',
  'code', 'verificationCode', 'authCode', 'pin', 'jwt', 'bearer', 'authorization', 'cookie', 'sessionKey', 'passwordHash',
  'password_hash', 'hashedPassword', 'salt', 'credential', 'credentials', 'key', 'encryptionKey', 'secretKey', 'accessKey', 'sshKey',
  'resetLink', 'reset_url', 'magicLink', 'inviteLink', 'verificationUrl', 'signature', 'sig', 'clientAssertion', 'cvv', 'webhookSecret',
  'mfa_seed', 'licenseKey',
];
const NAMED = Object.fromEntries(CREDENTIAL_NAMES.map((name, i) => [name, marker(i)]));
const NAMED_VALUES = Object.values(NAMED);

/** What would be in a body if `value` leaked: its JSON-escaped text. */
const inBody = (body: string, value: string) => body.includes(JSON.stringify(value).slice(1, -1));

describe('credential corpus', function () {
  this.timeout(60_000);
  const cleanup = cleanupAfterEach();
  let plugin: WebhooksPlugin;
  let receiver: TestReceiver;
  let expected = 0;

  beforeEach(async () => {
    expected = 0;
    receiver = await new TestReceiver().start();
    cleanup(() => receiver.stop());
    ({ plugin } = await startTestPlugin({
      customEventTypes: [{ type: 'LEGACY_SYNC', description: 'A host event without a schema.' }],
    }));
    cleanup(() => plugin.stop());
    await plugin.webhooks.create({ name: 'all', url: `${receiver.url}/hook`, events: ['*'] }, plugin.context({ tenantId: 'acme' }, 'default'));
    expected = 1; // the WEBHOOK_CREATED audit event
  });

  const ctx = { tenantId: 'acme' };
  const record = async (call: Promise<{ deliveries: number }>) => {
    expected += (await call).deliveries;
  };

  /** Every body, once all have arrived, and a check that no corpus value is in any of them. */
  async function bodiesWithoutCorpus(): Promise<string[]> {
    await receiver.waitFor(expected, 20_000);
    const bodies = receiver.requests.map((r) => r.body);
    assert.equal(bodies.length, expected);
    const leaks: string[] = [];
    for (const [i, body] of bodies.entries()) {
      for (const value of [...CREDENTIAL_VALUES, ...NAMED_VALUES]) if (inBody(body, value)) leaks.push(`body ${i}: ${value.slice(0, 60)}`);
    }
    assert.deepEqual(leaks, [], 'corpus values reached the receiver');
    return bodies;
  }

  it('holds at least 50 distinct credential-shaped names and 50 distinct values', () => {
    assert.ok(new Set(CREDENTIAL_NAMES).size >= 50, `${new Set(CREDENTIAL_NAMES).size} names`);
    assert.equal(new Set(CREDENTIAL_NAMES).size, CREDENTIAL_NAMES.length);
    assert.ok(new Set(CREDENTIAL_VALUES).size >= 50, `${new Set(CREDENTIAL_VALUES).size} values`);
    assert.equal(new Set(CREDENTIAL_VALUES).size, CREDENTIAL_VALUES.length);
  });

  it('emit() into built-in types delivers none of them, and the declared fields still arrive', async () => {
    const Account = mongoose.model('CorpusAccount', new mongoose.Schema({
      username: String, email: String, passwordHash: String, mfa: { key: String, enabled: Boolean }, resetToken: String,
    }));
    const doc = new Account({ username: 'mona', email: 'mona@example.com', passwordHash: CREDENTIAL_VALUES[35], mfa: { key: NAMED.key, enabled: true }, resetToken: NAMED.resetToken });
    const hostUser = { _id: 'u-1', username: 'jdoe', email: 'jane@example.com', ...NAMED, mfa: { key: NAMED.twoFactorKey, enabled: true } };

    // The report: MFA_INITIATED with the otpauth URL and its secret, a reset link, codes and keys.
    await record(plugin.hooks.emit('MFA_INITIATED', {
      user: hostUser, method: 'totp', otpauth_url: CREDENTIAL_VALUES[0], qr: CREDENTIAL_VALUES[1], ...NAMED,
      before: { ...hostUser }, users: [hostUser, doc], user_list: [{ ...hostUser }],
    }, ctx));
    await record(plugin.hooks.emit('USER_PASSWORD_RESET_INITIATE', { user: doc, channel: 'email', reset_link: CREDENTIAL_VALUES[12], ...NAMED }, ctx));
    await record(plugin.hooks.emit('USER_MODIFIED', { user: doc, before: doc, after: hostUser, changed_fields: ['email', ...CREDENTIAL_VALUES.slice(0, 5)] }, ctx));
    // Every value in a declared, harmless field of several types.
    for (const [i, value] of CREDENTIAL_VALUES.entries()) {
      await record(plugin.hooks.emit('USER_LOGIN_FAILURE', { username: value, reason: value, strategy: value, user: { id: `u-${i}`, displayName: value, email: 'ok@example.com' } }, ctx));
      await record(plugin.hooks.emit('MFA_RE_INITIATED', { user: { id: `u-${i}`, firstName: value, roles: [value, 'member'] }, method: value }, ctx));
      await record(plugin.hooks.emit('GROUP_NEW_USER_ADDED', {
        group: { id: `g-${i}`, name: 'finance', description: value }, user: { userId: `u-${i}`, lastName: value }, roles: [value],
      }, ctx));
    }
    await record(plugin.hooks.emit('PROFILE_IMAGE_UPDATED', { user: { id: 'u-1' }, image_url: CREDENTIAL_VALUES[49] }, ctx));

    const bodies = await bodiesWithoutCorpus();
    const envelopes = bodies.map((b) => JSON.parse(b));
    const mfa = envelopes.find((e) => e.event_type === 'MFA_INITIATED');
    assert.deepEqual(mfa.data, { user: { id: 'u-1', username: 'jdoe', email: 'jane@example.com' }, method: 'totp' });
    const reset = envelopes.find((e) => e.event_type === 'USER_PASSWORD_RESET_INITIATE');
    assert.deepEqual(reset.data, { user: { id: doc._id.toHexString(), username: 'mona', email: 'mona@example.com' }, channel: 'email' });
    assert.deepEqual(envelopes.find((e) => e.event_type === 'USER_MODIFIED').data.changed_fields, ['email']);
    const failures = envelopes.filter((e) => e.event_type === 'USER_LOGIN_FAILURE');
    assert.equal(failures.length, CREDENTIAL_VALUES.length);
    for (const failure of failures) assert.deepEqual(Object.keys(failure.data.user).sort(), ['email', 'id']);
    const added = envelopes.filter((e) => e.event_type === 'GROUP_NEW_USER_ADDED');
    for (const event of added) assert.deepEqual(event.data.group.name, 'finance');
    for (const event of envelopes.filter((e) => e.event_type === 'MFA_RE_INITIATED')) assert.deepEqual(event.data.user.roles, ['member']);
  });

  it('emit() into a host type without a schema delivers none of them, and the harmless fields still arrive', async () => {
    const Account = mongoose.model('CorpusLegacyAccount', new mongoose.Schema({ username: String, email: String, mfa: { key: String }, password: String }));
    const doc = new Account({ username: 'mona', email: 'mona@example.com', mfa: { key: NAMED.signingKey }, password: NAMED.pw });
    const hostUser = { id: 'u-1', email: 'jane@example.com', ...NAMED, mfa: { key: NAMED.twoFactorKey } };
    const notes = Object.fromEntries(CREDENTIAL_VALUES.map((value, i) => [`note_${i}`, value]));
    await record(plugin.hooks.emit('LEGACY_SYNC', {
      ...NAMED,
      ...notes,
      order_id: 'ord-1', session_id: 'sess-1', api_key_header: 'x-api-key', zipCode: '00-950',
      settings: { ...NAMED, theme: 'dark', mfa: { key: NAMED.key, enabled: true } },
      before: hostUser, after: doc, users: [hostUser, doc], user_list: [{ ...hostUser }],
      history: CREDENTIAL_VALUES.map((value) => ({ at: '2026-01-15T09:30:00.000Z', comment: value })),
    }, ctx));
    const [body] = (await bodiesWithoutCorpus()).filter((b) => JSON.parse(b).event_type === 'LEGACY_SYNC');
    const data = JSON.parse(body!).data;
    assert.deepEqual([data.order_id, data.session_id, data.api_key_header, data.zipCode], ['ord-1', 'sess-1', 'x-api-key', '00-950']);
    assert.deepEqual(data.settings, { theme: 'dark', mfa: { enabled: true } });
    assert.deepEqual(data.before, { id: 'u-1', email: 'jane@example.com' });
    assert.deepEqual(data.after, { id: doc._id.toHexString(), username: 'mona', email: 'mona@example.com' });
    assert.deepEqual(data.users.map((u: any) => u.id), ['u-1', doc._id.toHexString()]);
    assert.deepEqual(data.user_list, [{ id: 'u-1', email: 'jane@example.com' }]);
    assert.equal(data.history.length, CREDENTIAL_VALUES.length);
    for (const entry of data.history) assert.deepEqual(entry, { at: '2026-01-15T09:30:00.000Z' });
  });

  it('the typed hooks deliver none of them, and the declared fields still arrive', async () => {
    for (const [i, value] of CREDENTIAL_VALUES.entries()) {
      const user = { _id: `u-${i}`, username: value, displayName: value, email: 'ok@example.com', ...NAMED };
      // The hooks' own argument checks cap some lengths; a value that long goes where none applies.
      await record(plugin.hooks.userLogin({ user, strategy: value.length <= 200 ? value : 'local' }, ctx));
      await record(plugin.hooks.roleCreated({ role: { id: `r-${i}`, name: 'auditor', description: value, permissions: ['logs:read', ...(value.length <= 200 ? [value] : [])], ...NAMED } }, ctx));
      await record(plugin.hooks.userLoginFailure({ username: value.length <= 200 ? value : 'jdoe', reason: value }, ctx));
    }
    await record(plugin.hooks.mfaVerified({ user: { id: 'u-1', ...NAMED }, method: CREDENTIAL_VALUES[4]! }, {
      ...ctx, actor: { id: 'admin-1', username: CREDENTIAL_VALUES[5]! }, request: { ip: '203.0.113.9', userAgent: CREDENTIAL_VALUES[24]!, requestId: CREDENTIAL_VALUES[6]! },
    }));
    await record(plugin.hooks.userModified({ user: { id: 'u-1', ...NAMED }, changedFields: ['email', CREDENTIAL_VALUES[2]!] }, ctx));
    const envelopes = (await bodiesWithoutCorpus()).map((b) => JSON.parse(b));
    for (const login of envelopes.filter((e) => e.event_type === 'USER_LOGIN')) assert.deepEqual(Object.keys(login.data.user).sort(), ['email', 'id']);
    for (const role of envelopes.filter((e) => e.event_type === 'ROLE_CREATED')) {
      assert.deepEqual([role.data.role.name, role.data.role.permissions], ['auditor', ['logs:read']]);
    }
    const verified = envelopes.find((e) => e.event_type === 'MFA_VERIFIED');
    assert.deepEqual(verified.data, { user: { id: 'u-1' } });
    assert.deepEqual([verified.current_context.actor, verified.current_context.request], [
      { id: 'admin-1', type: 'user' }, { ip: '203.0.113.9', user_agent: null, request_id: null },
    ]);
    assert.deepEqual(envelopes.find((e) => e.event_type === 'USER_MODIFIED').data.changed_fields, ['email']);
  });
});
