import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import { mapUser } from '../../plugin/events/user-mapper.js';

describe('user allow-list mapper', () => {
  it('reduces role and group objects to their names (or ids), never their own fields', () => {
    const out = mapUser({
      id: 'u1',
      roles: [
        { id: 'r1', name: 'auditor', description: 'Reads logs', permissions: ['logs:read'], apiKey: 'ROLEKEY' },
        { _id: 'r2', signingSecret: 'ROLESECRET' },
        'editor',
        { description: 'no name or id' },
      ],
      groups: [{ id: 'g1', name: 'finance', members: [{ id: 'u9', passwordHash: 'GROUPHASH' }] }, { id: 7 }],
    });
    assert.deepEqual(out, { id: 'u1', roles: ['auditor', 'r2', 'editor'], groups: ['finance', '7'] });
    for (const leaked of ['ROLEKEY', 'ROLESECRET', 'GROUPHASH', 'Reads logs', 'logs:read']) {
      assert.ok(!JSON.stringify(out).includes(leaked), leaked);
    }
  });

  it('reads a mongoose document through its getters (no database needed) and leaves its secrets behind', () => {
    const schema = new mongoose.Schema({
      username: String, email: String, emailVerified: Boolean, firstName: String, passwordHash: String,
      mfa: { key: String, enabled: Boolean }, roles: [{ name: String, secret: String }], createdAt: Date,
    });
    schema.virtual('displayName').get(function () { return `${this.firstName} (${this.username})`; });
    const Member = mongoose.model('MapperMember', schema);
    const doc = new Member({
      username: 'ann', email: 'ann@example.com', emailVerified: true, firstName: 'Ann', passwordHash: 'DOCHASH',
      mfa: { key: 'DOCMFAKEY', enabled: true }, roles: [{ name: 'auditor', secret: 'DOCROLESECRET' }], createdAt: new Date('2026-01-02T03:04:05Z'),
    });
    const out = mapUser(doc as unknown as Record<string, unknown>);
    assert.deepEqual(out, {
      id: doc._id.toHexString(), username: 'ann', email: 'ann@example.com', email_verified: true, first_name: 'Ann',
      display_name: 'Ann (ann)', roles: ['auditor'], created_at: '2026-01-02T03:04:05.000Z',
    });
    const text = JSON.stringify(out);
    for (const leaked of ['DOCHASH', 'DOCMFAKEY', 'DOCROLESECRET', '$__', '_doc']) assert.ok(!text.includes(leaked), leaked);
  });

  it('sends ids as strings, whatever the host stores', () => {
    assert.deepEqual(mapUser({ id: 42 }), { id: '42' });
    assert.deepEqual(mapUser({ _id: new mongoose.Types.ObjectId('65a1b2c3d4e5f6a7b8c9d0e1') }), { id: '65a1b2c3d4e5f6a7b8c9d0e1' });
  });
});
