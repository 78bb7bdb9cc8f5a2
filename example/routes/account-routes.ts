import express, { type Request } from 'express';
import Joi from 'joi';
import { currentUser, requireUser } from '../auth/guards.js';
import { newOneTimeToken, hashToken } from '../auth/one-time-tokens.js';
import { hashPassword, passwordProblem, verifyPassword } from '../auth/passwords.js';
import { hookContext } from '../auth/principal.js';
import { SESSION_COOKIE } from '../auth/session-store.js';
import { html } from '../console/html.js';
import { sendPage } from '../console/layout.js';
import { badRequest, handle, HttpError, parseBody } from '../http-error.js';
import { DuplicateError, type User, type UserPatch } from '../users/user-repository.js';
import { userView } from '../users/user-view.js';
import type { RouteDeps } from './route-deps.js';

const EMAIL_TOKEN_TTL_MS = 24 * 3_600_000;

const name = Joi.string().trim().max(100).allow(null);
const signUpSchema = Joi.object({
  username: Joi.string().trim().pattern(/^[A-Za-z0-9._-]{3,64}$/).required()
    .messages({ 'string.pattern.base': 'username must be 3-64 letters, digits or . _ -' }),
  password: Joi.string().required(),
  email: Joi.string().trim().email({ tlds: false }).max(254).required(),
  first_name: name,
  last_name: name,
  display_name: name,
  tenant: Joi.string().pattern(/^[A-Za-z0-9._:@-]{1,128}$/),
});
const profileSchema = Joi.object({
  email: Joi.string().trim().email({ tlds: false }).max(254),
  first_name: name,
  last_name: name,
  display_name: name,
}).min(1);

/** Profile fields as the API (and USER_MODIFIED's changed_fields) name them. */
const PROFILE_FIELDS = { email: 'email', first_name: 'firstName', last_name: 'lastName', display_name: 'displayName' } as const;

/** Sign-up, the signed-in user's profile, account deletion and email verification. */
export function accountRoutes(deps: RouteDeps): express.Router {
  const { users, events, mailer } = deps;
  const router = express.Router();

  async function sendVerification(user: User) {
    const { token, hash } = newOneTimeToken();
    await users.createToken('email_verification', hash, user.id, new Date(deps.clock().getTime() + EMAIL_TOKEN_TTL_MS));
    await mailer.send({
      to: user.email,
      subject: 'Confirm your email address',
      text: `Open ${deps.publicUrl()}/verify-email?token=${token}\nor: curl -X POST ${deps.publicUrl()}/verify-email -H 'content-type: application/json' -d '{"token":"${token}"}'`,
      action: { kind: 'verify_email', token },
    });
  }

  router.post('/signup', handle(async (req, res) => {
    const input = parseBody(signUpSchema, req.body);
    const problem = passwordProblem(input.password);
    if (problem) throw badRequest(problem, [{ path: 'password', message: problem }]);
    const tenantId = input.tenant ?? deps.defaultTenant;
    if (!(await users.tenantExists(tenantId))) throw badRequest(`Unknown tenant "${tenantId}"`, [{ path: 'tenant', message: 'no such tenant' }]);
    let user: User;
    const passwordHash = await hashPassword(input.password);
    try {
      // The user and its USER_CREATED event commit together (the webhooks plugin's outbox):
      // a sign-up that fails leaves no event behind, and one that succeeds cannot lose it.
      user = await users.inTransaction(async (transaction) => {
        const created = await users.createUser({
          tenantId, username: input.username, email: input.email, passwordHash,
          firstName: input.first_name ?? null, lastName: input.last_name ?? null, displayName: input.display_name ?? null,
        }, { req, tenantId, transaction });
        await events.call('userCreated', { user: created }, { ...hookContext(req, created), transaction });
        return created;
      });
    } catch (error) {
      if (error instanceof DuplicateError) throw new HttpError(409, 'username_taken', 'That username is taken in this tenant');
      throw error;
    }
    await sendVerification(user);
    res.status(201).json({ user: userView(user) });
  }));

  router.get('/account', requireUser, (req, res) => {
    res.json({ user: userView(currentUser(req)) });
  });

  router.patch('/account', requireUser, handle(async (req, res) => {
    const user = currentUser(req);
    const input = parseBody(profileSchema, req.body);
    const patch: UserPatch = {};
    const changed: string[] = [];
    for (const [field, key] of Object.entries(PROFILE_FIELDS) as Array<[keyof typeof PROFILE_FIELDS, (typeof PROFILE_FIELDS)[keyof typeof PROFILE_FIELDS]]>) {
      const value = input[field];
      if (value === undefined || value === user[key]) continue;
      (patch as Record<string, unknown>)[key] = value;
      changed.push(field);
    }
    if (changed.length === 0) return res.json({ user: userView(user), changed_fields: [] });
    const emailChanged = patch.email !== undefined && patch.email.toLowerCase() !== user.email.toLowerCase();
    if (emailChanged) patch.emailVerified = false;
    // The change and its events commit together (see sign-up).
    const updated = await users.inTransaction(async (transaction) => {
      const context = { ...hookContext(req, user), transaction };
      const saved = (await users.updateUser(user.id, patch, context))!;
      await events.call('userModified', { user: saved, changedFields: changed }, context);
      if (emailChanged) await events.emit('EMAIL_CHANGED', { user: saved }, context);
      return saved;
    });
    if (emailChanged) await sendVerification(updated);
    res.json({ user: userView(updated), changed_fields: changed });
  }));

  router.delete('/account', requireUser, handle(async (req, res) => {
    const user = currentUser(req);
    const { password } = parseBody(Joi.object({ password: Joi.string().required() }), req.body);
    if (!(await verifyPassword(password, user.passwordHash))) throw new HttpError(403, 'wrong_password', 'The password is wrong');
    await users.inTransaction(async (transaction) => {
      const context = { ...hookContext(req, user), transaction };
      const deleted = await users.deleteUser(user.id, context);
      if (deleted) await events.call('userDeleted', { user: deleted }, context);
    });
    await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
    res.clearCookie(SESSION_COOKIE);
    res.status(204).end();
  }));

  // The link in the mail opens a page whose button posts the token: a GET that consumed it
  // would let mail scanners, which prefetch links, verify addresses nobody confirmed.
  router.get('/verify-email', (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    sendPage(res, { title: 'Confirm your email address' }, html`
      <form method="post" action="/verify-email" class="stack">
        <input type="hidden" name="token" value="${token}">
        <button type="submit">Confirm my email address</button>
      </form>`);
  });

  router.post('/verify-email', handle(async (req: Request, res) => {
    const { token } = parseBody(Joi.object({ token: Joi.string().max(200).required() }), req.body);
    const userId = await users.consumeToken('email_verification', hashToken(token), deps.clock());
    const user = userId ? await users.findUserById(userId) : null;
    if (!user) throw new HttpError(400, 'invalid_token', 'This link is invalid, used or expired');
    const context = hookContext(req, user);
    const updated = (await users.updateUser(user.id, { emailVerified: true }, context))!;
    await events.emit('USER_EMAIL_VERIFIED', { user: updated }, context);
    if (req.is('application/x-www-form-urlencoded')) {
      return sendPage(res, { title: 'Email address confirmed' }, html`<p>Thank you, ${updated.email} is confirmed.</p>`);
    }
    res.json({ user: userView(updated) });
  }));

  return router;
}
