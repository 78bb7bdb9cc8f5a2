import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import { ValidationError } from '../../plugin/errors.js';
import { EventCatalogue, type CustomEventTypeInput } from '../../plugin/events/catalogue.js';
import { PayloadShaper } from '../../plugin/events/payload-schemas/payload-shaper.js';
import { mapUser, type UserMapper } from '../../plugin/events/user-mapper.js';
import type { Logger } from '../../plugin/options.js';

const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1LTEifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const OTPAUTH = 'otpauth://totp/Acme:jane?secret=JBSWY3DPEHPK3PXP&issuer=Acme';

/** A logger that keeps every line, so tests can count and read them. */
function recordingLogger() {
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const logger: Logger = {
    info: (message, fields) => lines.push({ level: 'info', message, fields }),
    warn: (message, fields) => lines.push({ level: 'warn', message, fields }),
    error: (message, fields) => lines.push({ level: 'error', message, fields }),
  };
  return { logger, lines, text: () => lines.map((l) => `${l.message} ${JSON.stringify(l.fields ?? {})}`).join('\n') };
}

const TEAM_TYPE: CustomEventTypeInput = {
  type: 'TEAM_CHANGED',
  description: 'A team changed.',
  schema: {
    type: 'object',
    required: ['team'],
    properties: {
      team: {
        type: 'object', required: ['id'],
        properties: {
          id: { type: 'string' }, size: { type: 'integer' }, active: { type: 'boolean' }, kind: { type: 'string', enum: ['core', 'guest'] },
          code: { type: 'string', maxLength: 8 }, founded_at: { type: 'string', format: 'date-time' },
          owner: { $ref: '#/$defs/User' },
          members: { type: 'array', items: { $ref: '#/$defs/User' } },
          tags: { type: 'array', items: { type: 'string' } },
        },
      },
      note: { type: ['string', 'null'] },
    },
  },
};

function shaperFor(custom: CustomEventTypeInput[] = [TEAM_TYPE], userMapper: UserMapper = mapUser) {
  const log = recordingLogger();
  const shaper = new PayloadShaper({ catalogue: new EventCatalogue(custom), mapUser: userMapper, logger: log.logger });
  log.lines.splice(0); // start-up warnings are tested on their own
  return { shaper, ...log };
}

describe('payload shaper', () => {
  it('drops fields the schema does not declare, at any depth', () => {
    const { shaper } = shaperFor();
    const out = shaper.shape('TEAM_CHANGED', {
      team: { id: 't1', budget: 5, owner: { id: 'u1', email: 'a@example.com', mfa: { key: 'K' } }, members: [{ id: 'u2', passwordHash: 'h' }] },
      secretNote: 'x',
      note: 'fine',
    });
    assert.deepEqual(out, { team: { id: 't1', owner: { id: 'u1', email: 'a@example.com' }, members: [{ id: 'u2' }] }, note: 'fine' });
    const login = shaper.shape('USER_LOGIN', { user: { id: 'u1' }, strategy: 'local', tokens: { access: 'a' }, extra: { nested: true } });
    assert.deepEqual(login, { user: { id: 'u1' }, strategy: 'local' });
  });

  it('logs each dropped path once per event type, with the path and never the value', () => {
    const { shaper, lines, text } = shaperFor();
    for (let i = 0; i < 3; i += 1) shaper.shape('USER_LOGIN', { user: { id: 'u1' }, resetLink: 'https://x.example.com/r?token=SECRETVALUE1' });
    shaper.shape('USER_LOGOUT', { user: { id: 'u1' }, resetLink: 'SECRETVALUE2' });
    assert.deepEqual(lines.map((l) => [l.fields?.eventType, l.fields?.path]), [['USER_LOGIN', 'resetLink'], ['USER_LOGOUT', 'resetLink']]);
    assert.match(lines[0]!.message, /Dropped resetLink from USER_LOGIN event data: not declared in the schema/);
    assert.ok(!text().includes('SECRETVALUE'), 'values are never logged');
  });

  it('logs the same path again for another plugin instance', () => {
    const first = shaperFor();
    const second = shaperFor();
    for (const { shaper } of [first, second]) shaper.shape('USER_LOGIN', { user: { id: 'u1' }, pin: '1234' });
    assert.equal(first.lines.length, 1);
    assert.equal(second.lines.length, 1);
  });

  it('drops values of the wrong JSON type or outside enum and length bounds; numbers become strings where strings are declared', () => {
    const { shaper, lines } = shaperFor();
    const out = shaper.shape('TEAM_CHANGED', {
      team: { id: 42, size: 'big', active: 'yes', kind: 'admin', code: 'far-too-long', founded_at: 'last year', tags: ['a', 7, { x: 1 }, 'b'] },
      note: null,
    });
    assert.deepEqual(out, { team: { id: '42', tags: ['a', '7', 'b'] }, note: null });
    assert.deepEqual(lines.map((l) => l.fields?.path).sort(),
      ['team.active', 'team.code', 'team.founded_at', 'team.kind', 'team.size', 'team.tags[]']);
    assert.deepEqual(shaper.shape('TEAM_CHANGED', { team: { id: 't', size: 2.5 } }), { team: { id: 't' } }, 'a fraction is no integer');
  });

  it('turns Dates, ObjectIds and documents into their JSON form first', () => {
    const { shaper } = shaperFor();
    const id = new mongoose.Types.ObjectId();
    const out = shaper.shape('TEAM_CHANGED', { team: { id, founded_at: new Date('2026-01-02T03:04:05Z') } });
    assert.deepEqual(out, { team: { id: id.toHexString(), founded_at: '2026-01-02T03:04:05.000Z' } });
  });

  it('maps users through the mapper wherever the schema declares one: nested, in arrays, mongoose documents', () => {
    const calls: unknown[] = [];
    const { shaper } = shaperFor([TEAM_TYPE], (user) => {
      calls.push(user);
      return mapUser(user);
    });
    const Member = mongoose.model('ShaperMember', new mongoose.Schema({ username: String, email: String, mfa: { key: String }, passwordHash: String }));
    const doc = new Member({ username: 'doc', email: 'doc@example.com', mfa: { key: 'MFAKEY' }, passwordHash: 'h' });
    const out = shaper.shape('TEAM_CHANGED', {
      team: {
        id: 't1',
        owner: { _id: 'u1', firstName: 'Ann', totpSecret: 'S' },
        members: [{ userId: 'u2', lastName: 'Bee', recoveryCodes: ['c'] }, doc, 'not a user'],
      },
    }) as any;
    assert.deepEqual(out.team.owner, { id: 'u1', first_name: 'Ann' });
    assert.deepEqual(out.team.members, [{ id: 'u2', last_name: 'Bee' }, { id: doc._id.toHexString(), username: 'doc', email: 'doc@example.com' }]);
    assert.equal(calls.length, 3);
    assert.ok(!JSON.stringify(out).includes('MFAKEY'));
  });

  it('drops what a replacement mapper adds beyond the User fields', () => {
    const { shaper, lines } = shaperFor([TEAM_TYPE], (user) => ({ id: String(user.id), display_name: 'Ann', department: 'R&D', passwordHash: 'h' }));
    assert.deepEqual(shaper.shape('USER_CREATED', { user: { id: 'u1' } }), { user: { id: 'u1', display_name: 'Ann' } });
    assert.deepEqual(lines.map((l) => l.fields?.path).sort(), ['user.department', 'user.passwordHash']);
  });

  it('maps a user once: what its mapper returned is not mapped again', () => {
    // A host mapper that reads camelCase only would lose every field on a second pass.
    const camelOnly: UserMapper = (user) => ({ id: user.id, first_name: user.firstName });
    const { shaper } = shaperFor([TEAM_TYPE], camelOnly);
    const mapped = shaper.mapUser({ id: 'u1', firstName: 'Ann' });
    assert.deepEqual(shaper.shape('USER_CREATED', { user: mapped }), { user: { id: 'u1', first_name: 'Ann' } });
  });

  it('drops credential-shaped values wherever they are, logging the kind, and still shapes the event', () => {
    const { shaper, lines, text } = shaperFor();
    const out = shaper.shape('ROLE_ASSIGNED', {
      user: { id: 'u1', displayName: JWT, email: 'a@example.com' },
      role: { id: 'r1', name: 'auditor', description: `Bearer ${JWT}`, permissions: ['logs:read', OTPAUTH] },
    });
    assert.deepEqual(out, { user: { id: 'u1', email: 'a@example.com' }, role: { id: 'r1', name: 'auditor', permissions: ['logs:read'] } });
    assert.deepEqual(lines.map((l) => [l.fields?.path, l.fields?.reason]), [
      ['user.display_name', 'credential-shaped value (jwt)'],
      ['role.description', 'credential-shaped value (jwt)'],
      ['role.permissions[]', 'credential-shaped value (otpauth-url)'],
    ]);
    assert.ok(!text().includes('JBSWY3DPEHPK3PXP') && !text().includes(JWT));
  });

  it('rejects data missing a required field, naming it, but not when the field was a refused credential', () => {
    const { shaper } = shaperFor();
    assert.throws(() => shaper.shape('MFA_INITIATED', { user: { id: 'u1' } }),
      (e: unknown) => e instanceof ValidationError && e.details.some((d) => d.path === 'data.method') && /method/.test(e.message));
    assert.throws(() => shaper.shape('USER_LOGIN', { user: { email: 'no-id@example.com' } }),
      (e: unknown) => e instanceof ValidationError && e.details.some((d) => d.path === 'data.user.id'));
    assert.throws(() => shaper.shape('USER_LOGIN', { user: 'u1' }), (e: unknown) => e instanceof ValidationError && e.details[0]!.path === 'data.user');
    // A role name set to a token must not suppress the event.
    assert.deepEqual(shaper.shape('ROLE_CREATED', { role: { id: 'r1', name: JWT } }), { role: { id: 'r1' } });
  });

  it('scrubs a host type without a schema by name and value, maps users found anywhere, and warns at start-up', () => {
    const log = recordingLogger();
    const shaper = new PayloadShaper({
      catalogue: new EventCatalogue([{ type: 'LEGACY_SYNC', description: 'Free-form.' }, TEAM_TYPE]), mapUser, logger: log.logger,
    });
    assert.equal(log.lines.length, 1, 'one warning, for the type without a schema');
    assert.match(log.lines[0]!.message, /LEGACY_SYNC has no data schema.*only declared fields leave the host/);
    const out = shaper.shape('LEGACY_SYNC', {
      before: { _id: 'u1', email: 'a@example.com', mfa: { key: 'MFAKEY' }, password: 'p' },
      users: [{ id: 'u2', username: 'bo', passwordHash: 'h' }],
      user_list: [{ user_id: 'u3', email: 'c@example.com', twoFactorKey: 'TFK' }],
      note: OTPAUTH,
      session_id: 's-1',
      twoFactorKey: 'TFK2',
    }) as any;
    assert.deepEqual(out, {
      before: { id: 'u1', email: 'a@example.com' },
      users: [{ id: 'u2', username: 'bo' }],
      user_list: [{ id: 'u3', email: 'c@example.com' }],
      session_id: 's-1',
    });
  });

  it('drops credential-shaped host strings from the context', () => {
    const { shaper } = shaperFor();
    const context = shaper.shapeContext('USER_LOGIN', {
      event_id: 'evt_x', tenant_id: 'acme', subject: `user:${JWT}`, sequence: 0, source: 'host',
      request: { ip: '203.0.113.9', user_agent: `Bearer ${JWT}`, request_id: 'req-1' },
      actor: { id: 'u1', type: 'user', username: JWT },
      client: { id: 'c1', name: 'Portal' },
    });
    assert.deepEqual(context.request, { ip: '203.0.113.9', user_agent: null, request_id: 'req-1' });
    assert.deepEqual(context.actor, { id: 'u1', type: 'user' });
    assert.deepEqual(context.client, { id: 'c1', name: 'Portal' });
    assert.equal(context.subject, null);
  });
});
