import express from 'express';
import passport from 'passport';
import { createAdminRouter, type AdminRouterOptions } from '../../plugin/admin/admin-router.js';
import type { WebhooksPlugin } from '../../plugin/index.js';

/** Operators of the test host: admins of two tenants and a non-admin. */
export const OPERATORS = {
  'token-acme-admin': { id: 'op-1', username: 'alice', tenantId: 'acme', isAdmin: true },
  'token-globex-admin': { id: 'op-2', username: 'bob', tenantId: 'globex', isAdmin: true },
  'token-acme-viewer': { id: 'op-3', username: 'carol', tenantId: 'acme', isAdmin: false },
} as const;
export const ACME = { authorization: 'Bearer token-acme-admin' };
export const GLOBEX = { authorization: 'Bearer token-globex-admin' };
export const VIEWER = { authorization: 'Bearer token-acme-viewer' };
/** The same alice, signed in with a session cookie instead of a bearer token. */
export const ACME_COOKIE = 'sid=session-alice';

type Operator = (typeof OPERATORS)[keyof typeof OPERATORS];

/** Passport strategy for `Authorization: Bearer <token>`, as a host would register it. */
class BearerStrategy extends passport.Strategy {
  override name = 'bearer';
  override authenticate(req: express.Request): void {
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!match) return this.fail(401);
    const user = OPERATORS[match[1] as keyof typeof OPERATORS];
    return user ? this.success(user) : this.fail(401);
  }
}

/** Stands in for express-session + passport.session(): a cookie that names a signed-in user. */
class CookieSessionStrategy extends passport.Strategy {
  override name = 'cookie-session';
  override authenticate(req: express.Request): void {
    if (/(?:^|;\s*)sid=session-alice(?:;|$)/.test(req.headers.cookie ?? '')) return this.success(OPERATORS['token-acme-admin']);
    return this.fail(401);
  }
}

/** An Express host that mounts the admin router the way the README tells hosts to. */
export function createAdminHost(plugin: WebhooksPlugin, overrides: Partial<AdminRouterOptions> = {}) {
  const authenticator = new passport.Passport();
  authenticator.use(new BearerStrategy());
  authenticator.use(new CookieSessionStrategy());
  const app = express();
  app.use(authenticator.initialize());
  app.use('/admin/webhooks/api', createAdminRouter(plugin, {
    authenticate: authenticator.authenticate(['bearer', 'cookie-session'], { session: false, failWithError: true }),
    authorize: (user, tenantId) => (user as Operator).isAdmin && (user as Operator).tenantId === tenantId,
    tenantOf: (user) => (user as Operator).tenantId,
    ...overrides,
  }));
  return app;
}
