import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import { isSensitiveKey, scrubEventData } from '../../plugin/events/sensitive-data.js';
import { mapUser } from '../../plugin/events/user-mapper.js';

describe('emit() data scrubbing', () => {
  it('drops keys that name credentials, however they are spelled', () => {
    for (const key of ['password', 'passwordHash', 'password_hash', 'apiToken', 'api_key', 'apiKey', 'API-KEY', 'clientSecret',
      'totpSecret', 'mfa_seed', 'backupCodes', 'recovery_codes', 'pin', 'refreshToken', 'Authorization', 'cookie', 'privateKey', 'salt']) {
      assert.equal(isSensitiveKey(key), true, key);
    }
  });

  it('keeps ordinary keys that merely contain such letters', () => {
    for (const key of ['footprint', 'compass', 'session_id', 'passport_number', 'spinner', 'hashtag', 'email', 'tokenizer_version', 'keyboard']) {
      assert.equal(isSensitiveKey(key), false, key);
    }
  });

  it('drops the names seen leaking: code, passcode, jwt, bearer, pw, twoFactorKey, signingKey, key, reset links', () => {
    for (const key of ['code', 'passcode', 'jwt', 'bearer', 'pw', 'twoFactorKey', 'signingKey', 'key', 'keys', 'otpauth', 'verificationCode',
      'backup_code_value', 'api_key_value', 'resetLink', 'reset_url', 'magicLink', 'inviteUrl', 'sig', 'signature', 'clientAssertion',
      'twofactorkey', 'signingkey', 'secret_key', 'sshKey', 'licenseKey', 'cvv', 'passwords']) {
      assert.equal(isSensitiveKey(key), true, key);
    }
  });

  it('keeps keys where key or code is followed by more words or names something ordinary', () => {
    for (const key of ['api_key_header', 'key_id', 'keyId', 'key_name', 'public_key', 'sort_key', 'idempotencyKey', 'zipCode', 'country_code',
      'postalCode', 'currency_code', 'status_code', 'errorCode', 'http_code', 'code_challenge_method', 'keyword', 'encode', 'barcode_format',
      'session_id', 'phone_country_code']) {
      assert.equal(isSensitiveKey(key), false, key);
    }
  });

  it('drops credential-shaped values under harmless names, and maps user-shaped objects anywhere', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJlLXZhbHVl';
    const dropped: string[] = [];
    const out = scrubEventData({
      note: jwt,
      links: ['https://id.example.com/reset?token=abcdef12', 'https://example.com/help'],
      before: { _id: 'u1', username: 'ann', mfa: { key: 'K' } },
      after: { id: 'u1', email: 'a@example.com', passwordHash: 'h', nickname: 'annie' },
      users: [{ userId: 'u2', password: 'p' }],
      user_list: [{ sub: 'u3', email: 'c@example.com' }],
      order: { id: 'o1', total: 5, lines: [{ sku: 'A' }] },
      [jwt]: true,
    }, mapUser, (path, reason) => dropped.push(`${path}: ${reason}`)) as Record<string, any>;
    assert.deepEqual(out, {
      links: ['https://example.com/help'],
      before: { id: 'u1', username: 'ann' },
      after: { id: 'u1', email: 'a@example.com' },
      users: [{ id: 'u2' }],
      user_list: [{ id: 'u3', email: 'c@example.com' }],
      order: { id: 'o1', total: 5, lines: [{ sku: 'A' }] },
    });
    assert.deepEqual(dropped, [
      'note: credential-shaped value (jwt)',
      'links[]: credential-shaped value (url-with-credential)',
      '<key>: credential-shaped key (jwt)',
    ]);
  });

  it('maps users through the allow-list and reduces documents to plain data without internals', () => {
    const Member = new mongoose.Schema({ name: String, pin: String, backupCodes: [String] });
    const Model = mongoose.model('ScrubMember', Member);
    const doc = new Model({ name: 'Ann', pin: '1234', backupCodes: ['x'] });
    const out = scrubEventData({
      user: { id: 'u1', email: 'a@example.com', passwordHash: 'h' },
      member: doc,
      nested: [{ apiToken: 't', ok: 1 }],
      when: new Date('2026-01-01T00:00:00Z'),
    }, mapUser) as Record<string, any>;
    assert.deepEqual(out.user, { id: 'u1', email: 'a@example.com' });
    assert.equal(out.member.name, 'Ann');
    assert.equal(out.member.pin, undefined);
    assert.equal(out.member.backupCodes, undefined);
    assert.ok(!JSON.stringify(out).includes('$__') && !JSON.stringify(out).includes('_doc'));
    assert.deepEqual(out.nested, [{ ok: 1 }]);
    assert.equal(out.when, '2026-01-01T00:00:00.000Z');
  });
});
