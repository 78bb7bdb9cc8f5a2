import express, { type Request, type Response } from 'express';
import Joi from 'joi';
import { hashToken } from '../auth/one-time-tokens.js';
import { loginTenant } from '../auth/passport-setup.js';
import { hookContext, type Principal } from '../auth/principal.js';
import { currentUser, requireUser } from '../auth/guards.js';
import { SESSION_COOKIE } from '../auth/session-store.js';
import { verifyTotp } from '../auth/totp.js';
import { html } from '../console/html.js';
import { sendPage } from '../console/layout.js';
import { badRequest, handle, HttpError, parseBody } from '../http-error.js';
import type { User } from '../users/user-repository.js';
import { userView } from '../users/user-view.js';
import type { RouteDeps } from './route-deps.js';

const TENANT = Joi.string().pattern(/^[A-Za-z0-9._:@-]{1,128}$/);
const MFA_WINDOW_MS = 5 * 60_000;
const MFA_MAX_TRIES = 5;

declare module 'express-session' {
  interface SessionData {
    /** Set after the password step for a user with MFA; cleared by the second step. */
    pendingMfa?: { userId: string; expiresAt: number; tries: number };
  }
}

/** A browser form (answered with pages and redirects) rather than an API call (answered with JSON). */
const isForm = (req: Request) => req.is('application/x-www-form-urlencoded') === 'application/x-www-form-urlencoded';

function loginPage(res: Response, options: { status?: number; error?: string; tenant?: string; username?: string }) {
  sendPage(res, { title: 'Sign in', status: options.status }, html`
    ${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
    <form method="post" action="/login" class="stack">
      <label>Username <input name="username" autocomplete="username" required value="${options.username ?? ''}"></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
      <label>Tenant <input name="tenant" value="${options.tenant ?? 'default'}"></label>
      <button type="submit">Sign in</button>
    </form>`);
}

function mfaPage(res: Response, status = 200, error?: string) {
  sendPage(res, { title: 'Two-step verification', status }, html`
    ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
    <form method="post" action="/login/mfa" class="stack">
      <label>Code from your authenticator app, or a recovery code
        <input name="code" autocomplete="one-time-code" inputmode="numeric" required></label>
      <button type="submit">Verify</button>
    </form>`);
}

/**
 * Sign-in (`POST /login`, JSON or form; 401 on failure), the TOTP second step
 * (`POST /login/mfa`) and sign-out (`POST /logout`). Logins and failed logins are reported
 * by the webhooks plugin's Passport instrumentation; the rest here calls the hooks itself.
 */
export function sessionRoutes(deps: RouteDeps): express.Router {
  const { users, events, authenticator, defaultTenant } = deps;
  const router = express.Router();

  const signIn = async (req: Request, user: User) => {
    await new Promise<void>((resolve, reject) => req.login(user, (error) => (error ? reject(error) : resolve())));
    await users.updateUser(user.id, { lastLoginAt: deps.clock() });
  };
  const regenerate = (req: Request) => new Promise<void>((resolve, reject) => req.session.regenerate((e) => (e ? reject(e) : resolve())));

  router.get('/login', (_req, res) => {
    loginPage(res, {});
  });

  router.post('/login', (req, res, next) => {
    const tenant = (req.body as Record<string, unknown> | undefined)?.tenant;
    if (tenant !== undefined && tenant !== '' && TENANT.validate(tenant).error) return next(badRequest('tenant must be 1-128 letters, digits or . _ : @ -'));
    authenticator.authenticate('local', { session: false }, (error: unknown, user: User | false, _info: unknown, status?: number) => {
      if (error) return next(error);
      (async () => {
        if (!user) {
          const missing = status === 400;
          const message = missing ? 'username and password are required' : 'Invalid username or password';
          if (isForm(req)) return loginPage(res, { status: missing ? 400 : 401, error: message, tenant: loginTenant(req, defaultTenant) });
          return res.status(missing ? 400 : 401).json({ error: { code: missing ? 'invalid_request' : 'invalid_credentials', message } });
        }
        if (user.totpSecret) {
          // A fresh session id before it carries anything, against session fixation.
          await regenerate(req);
          req.session.pendingMfa = { userId: user.id, expiresAt: Date.now() + MFA_WINDOW_MS, tries: 0 };
          await events.emit('MFA_REQUIRED', { user, method: 'totp' }, hookContext(req, user));
          if (isForm(req)) return res.redirect(303, '/login/mfa');
          return res.json({ mfa_required: true, methods: ['totp', 'recovery_code'], next: '/login/mfa' });
        }
        await signIn(req, user);
        if (isForm(req)) return res.redirect(303, user.roles.includes('admin') ? '/admin' : '/');
        return res.json({ user: userView(user) });
      })().catch(next);
    })(req, res, next);
  });

  router.get('/login/mfa', (req, res) => {
    if (!req.session.pendingMfa) return res.redirect(303, '/login');
    mfaPage(res);
  });

  router.post('/login/mfa', handle(async (req, res) => {
    const { code } = parseBody(Joi.object({ code: Joi.string().trim().max(64).required() }), req.body);
    const pending = req.session.pendingMfa;
    const fail = (message: string, status = 401) => {
      if (isForm(req)) return mfaPage(res, status, message);
      throw new HttpError(status, 'mfa_failed', message);
    };
    if (!pending || pending.expiresAt < Date.now()) {
      delete req.session.pendingMfa;
      return fail('Sign in with your password first');
    }
    const user = await users.findUserById(pending.userId);
    if (!user || !user.enabled || !user.totpSecret) {
      delete req.session.pendingMfa;
      return fail('Sign in with your password first');
    }
    const context = hookContext(req, user);
    const step = await verifyTotp(user.totpSecret, code, user.totpLastStep);
    let method: string | null = null;
    if (step !== null) {
      await users.updateUser(user.id, { totpLastStep: step });
      method = 'totp';
    } else {
      const hash = hashToken(code.toLowerCase());
      if (user.recoveryCodeHashes.includes(hash)) {
        await users.updateUser(user.id, { recoveryCodeHashes: user.recoveryCodeHashes.filter((h) => h !== hash) });
        method = 'recovery_code';
      }
    }
    if (method === null) {
      pending.tries += 1;
      if (pending.tries >= MFA_MAX_TRIES) delete req.session.pendingMfa;
      await events.call('userLoginFailure', { username: user.username, reason: 'invalid MFA code', strategy: 'totp', user }, context);
      return fail(pending.tries >= MFA_MAX_TRIES ? 'Too many wrong codes; sign in again' : 'Wrong or already used code');
    }
    await events.call('mfaVerified', { user, method }, context);
    await signIn(req, user);
    if (isForm(req)) return res.redirect(303, user.roles.includes('admin') ? '/admin' : '/');
    return res.json({ user: userView(user), method });
  }));

  router.post('/logout', requireUser, handle(async (req, res) => {
    const user = currentUser(req);
    await events.call('userLogout', { user }, hookContext(req, user as Principal));
    await new Promise<void>((resolve, reject) => req.logout((e) => (e ? reject(e) : resolve())));
    await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
    res.clearCookie(SESSION_COOKIE);
    if (isForm(req)) return res.redirect(303, '/');
    res.json({ ok: true });
  }));

  return router;
}
