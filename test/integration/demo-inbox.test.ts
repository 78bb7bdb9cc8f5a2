import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import passport from 'passport';
import request from 'supertest';
import type { ApiTokenPrincipal } from '../../example/auth/principal.js';
import { inboxPages, inboxReceiver } from '../../example/inbox/inbox-routes.js';
import { InboxStore } from '../../example/inbox/inbox-store.js';

/** Admin tokens of two tenants, as the demo's bearer strategy would resolve them. */
const PRINCIPALS: Record<string, ApiTokenPrincipal> = {
  'token-default': { kind: 'api_token', id: 'api-default', username: 'ops', tenantId: 'default', roles: ['admin'] },
  'token-acme': { kind: 'api_token', id: 'api-acme', username: 'acme-ops', tenantId: 'acme', roles: ['admin'] },
};

class TokenStrategy extends passport.Strategy {
  override name = 'bearer';
  override authenticate(req: express.Request): void {
    const principal = PRINCIPALS[(req.headers.authorization ?? '').replace(/^Bearer /, '')];
    return principal ? this.success(principal) : this.fail(401);
  }
}

function entry(tenant: string, eventType: string) {
  return {
    verified: true, verified_with: 'test', error: null, message_id: `msg_${tenant}_${eventType}`, event_type: eventType,
    event_id: null, tenant_id: tenant, rawBody: JSON.stringify({ event_type: eventType, current_context: { tenant_id: tenant } }),
  };
}

describe('demo inbox', () => {
  let store: InboxStore;
  let app: express.Express;

  beforeEach(() => {
    store = new InboxStore();
    const authenticator = new passport.Passport();
    authenticator.use(new TokenStrategy());
    app = express();
    app.use(authenticator.initialize());
    app.use(inboxReceiver({ store, secrets: () => [{ label: 'demo', secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}` }] }));
    app.use(inboxPages({ store, authenticator, tabs: () => [] }));
  });

  it("shows each tenant's admins only their own tenant's deliveries", async () => {
    store.add(entry('default', 'USER_LOGIN'));
    store.add(entry('acme', 'USER_CREATED'));
    const asDefault = await request(app).get('/inbox/deliveries').set('authorization', 'Bearer token-default').expect(200);
    assert.deepEqual(asDefault.body.deliveries.map((d: { event_type: string }) => d.event_type), ['USER_LOGIN']);
    const asAcme = await request(app).get('/inbox/deliveries').set('authorization', 'Bearer token-acme').expect(200);
    assert.deepEqual(asAcme.body.deliveries.map((d: { event_type: string }) => d.event_type), ['USER_CREATED']);
  });

  it('shows a request that did not verify to the inbox owner only, whatever tenant its body names', async () => {
    store.add({ ...entry('acme', 'USER_DELETED'), verified: false, tenant_id: null });
    const asAcme = await request(app).get('/inbox/deliveries').set('authorization', 'Bearer token-acme').expect(200);
    assert.deepEqual(asAcme.body.deliveries, []);
    const asOwner = await request(app).get('/inbox/deliveries').set('authorization', 'Bearer token-default').expect(200);
    assert.deepEqual(asOwner.body.deliveries.map((d: { verified: boolean }) => d.verified), [false]);
  });

  it('does not let an unsigned request name the tenant whose inbox it lands in', async () => {
    await request(app).post('/inbox/receive').set('content-type', 'application/json').set('webhook-id', 'msg_forged')
      .set('webhook-timestamp', String(Math.floor(Date.now() / 1000))).set('webhook-signature', 'v1,AAAA')
      .send('{"event_type":"USER_DELETED","current_context":{"tenant_id":"acme"}}').expect(401);
    assert.deepEqual(store.list('acme'), []);
    assert.deepEqual(store.list('default').map((e) => [e.message_id, e.verified]), [['msg_forged', false]]);
  });

  it("clears only the caller's tenant", async () => {
    store.add(entry('default', 'USER_LOGIN'));
    store.add(entry('acme', 'USER_CREATED'));
    await request(app).post('/inbox/clear').set('authorization', 'Bearer token-acme').expect(204);
    assert.deepEqual(store.list('acme'), []);
    assert.equal(store.list('default').length, 1);
  });

  it("streams only the caller's tenant's new deliveries", async () => {
    const server = http.createServer(app).listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as AddressInfo;
      const received: string[] = [];
      const firstEvent = new Promise<void>((resolve, reject) => {
        const req = http.get({ port, host: '127.0.0.1', path: '/inbox/events', headers: { authorization: 'Bearer token-default' } }, (res) => {
          res.setEncoding('utf8');
          let text = '';
          res.on('data', (chunk: string) => {
            text += chunk;
            if (text.includes('retry:') && received.length === 0 && !text.includes('event: delivery')) {
              // The stream is open: another tenant's delivery first, then our own.
              received.push('open');
              store.add(entry('acme', 'USER_CREATED'));
              store.add(entry('default', 'USER_LOGIN'));
            }
            if (text.includes('event: delivery')) {
              received.push(...text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)).event_type));
              req.destroy();
              resolve();
            }
          });
        });
        req.on('error', reject);
      });
      await firstEvent;
      assert.deepEqual(received, ['open', 'USER_LOGIN']);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
