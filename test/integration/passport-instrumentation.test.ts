import assert from 'node:assert/strict';
import express from 'express';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import request from 'supertest';
import type { WebhooksPlugin } from '../../plugin/index.js';
import { eventually, startTestPlugin } from '../support/plugin-fixture.js';
import { TestReceiver } from '../support/receiver.js';

const USERS = [{ id: 'u-7', username: 'jdoe', password: 'correct horse', passwordHash: 'h', email: 'j@example.com' }];

/** A host as customers write them: express + passport-local, a JSON login route. */
function createHost(authenticator: passport.Authenticator) {
  authenticator.use(new LocalStrategy((username, password, done) => {
    const user = USERS.find((u) => u.username === username);
    if (!user || user.password !== password) return done(null, false, { message: 'Invalid username or password' });
    return done(null, user);
  }));
  const app = express();
  app.use(express.json());
  app.use(authenticator.initialize());
  app.post('/login', authenticator.authenticate('local', { session: false, failWithError: false }), (req, res) => {
    res.json({ ok: true, user: (req.user as { id: string }).id });
  });
  return app;
}

describe('passport instrumentation', function () {
  this.timeout(30_000);
  let plugin: WebhooksPlugin;
  let receiver: TestReceiver;

  beforeEach(async () => {
    receiver = await new TestReceiver().start();
    ({ plugin } = await startTestPlugin());
    await plugin.webhooks.create({ name: 'siem', url: `${receiver.url}/siem`, events: ['USER_LOGIN', 'USER_LOGIN_FAILURE'] }, plugin.context({}, 'default'));
  });
  afterEach(async () => {
    await plugin.stop();
    await receiver.stop();
  });

  it('emits USER_LOGIN and USER_LOGIN_FAILURE for a passport-local login without changing its responses', async () => {
    const authenticator = new passport.Passport();
    plugin.instrumentPassport(authenticator);
    const app = createHost(authenticator);

    const ok = await request(app).post('/login').set('user-agent', 'curl/8').send({ username: 'jdoe', password: 'correct horse' });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { ok: true, user: 'u-7' });
    const bad = await request(app).post('/login').send({ username: 'jdoe', password: 'wrong' });
    assert.equal(bad.status, 401);

    await receiver.waitFor(2);
    const events = receiver.requests.map((r) => JSON.parse(r.body)).sort((a, b) => a.event_type.localeCompare(b.event_type));
    assert.equal(events[0].event_type, 'USER_LOGIN');
    assert.deepEqual(events[0].data, { user: { id: 'u-7', username: 'jdoe', email: 'j@example.com' }, strategy: 'local' });
    assert.equal(events[0].current_context.request.user_agent, 'curl/8');
    assert.ok(events[0].current_context.request.ip, 'the client IP is recorded');
    assert.equal(events[1].event_type, 'USER_LOGIN_FAILURE');
    assert.deepEqual(events[1].data, { username: 'jdoe', strategy: 'local', reason: 'Invalid username or password' });
    assert.ok(!receiver.requests.some((r) => r.body.includes('correct horse') || r.body.includes('passwordHash')));
  });

  it('instruments strategies registered before it and keeps logins working when recording fails', async () => {
    const authenticator = new passport.Passport();
    const app = createHost(authenticator); // strategy registered first
    plugin.instrumentPassport(authenticator);
    await plugin.stop(); // every hook now rejects: recording fails
    const ok = await request(app).post('/login').send({ username: 'jdoe', password: 'correct horse' });
    assert.equal(ok.status, 200);
    const bad = await request(app).post('/login').send({ username: 'nobody', password: 'x' });
    assert.equal(bad.status, 401);
  });

  it('emits for strategies registered before instrumentation', async () => {
    const authenticator = new passport.Passport();
    const app = createHost(authenticator);
    plugin.instrumentPassport(authenticator);
    await request(app).post('/login').send({ username: 'jdoe', password: 'correct horse' }).expect(200);
    await eventually(async () => receiver.requests.length === 1);
  });
});
