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
