import express from 'express';
import Joi from 'joi';
import { currentUser, requireUser } from '../auth/guards.js';
import { hashToken, newOneTimeToken } from '../auth/one-time-tokens.js';
import { hashPassword, passwordProblem, verifyPassword } from '../auth/passwords.js';
import { hookContext } from '../auth/principal.js';
import { badRequest, handle, HttpError, parseBody } from '../http-error.js';
import type { User } from '../users/user-repository.js';
import type { RouteDeps } from './route-deps.js';

const RESET_TOKEN_TTL_MS = 3_600_000;
const TENANT = Joi.string().pattern(/^[A-Za-z0-9._:@-]{1,128}$/);

function checkNewPassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem) throw badRequest(problem, [{ path: 'new_password', message: problem }]);
}

/** Password change (signed in, with the current password) and reset (by a mailed one-time token). */
export function passwordRoutes(deps: RouteDeps): express.Router {
  const { users, events, mailer } = deps;
  const router = express.Router();

  router.post('/account/password', requireUser, handle(async (req, res) => {
    const user = currentUser(req);
    const input = parseBody(Joi.object({ current_password: Joi.string().required(), new_password: Joi.string().required() }), req.body);
    if (!(await verifyPassword(input.current_password, user.passwordHash))) {
      throw new HttpError(403, 'wrong_password', 'The current password is wrong');
    }
    checkNewPassword(input.new_password);
    const passwordHash = await hashPassword(input.new_password);
    // The change and its event commit together (the webhooks plugin's outbox).
    await users.inTransaction(async (transaction) => {
      const context = { ...hookContext(req, user), transaction };
      const updated = (await users.updateUser(user.id, { passwordHash }, context))!;
      await events.emit('USER_PASSWORD_CHANGED', { user: updated }, context);
    });
    res.json({ ok: true });
  }));

  // Always 202, whether or not the account exists: the answer must not tell who has one.
  router.post('/password-reset', handle(async (req, res) => {
    const input = parseBody(Joi.object({ username: Joi.string().max(200), email: Joi.string().max(254), tenant: TENANT }).xor('username', 'email'), req.body);
    const tenantId = input.tenant ?? deps.defaultTenant;
    const user: User | null = input.username
      ? await users.findUserByUsername(tenantId, input.username)
      : await users.findUserByEmail(tenantId, input.email!);
    if (user && user.enabled) {
      const { token, hash } = newOneTimeToken();
      await users.createToken('password_reset', hash, user.id, new Date(deps.clock().getTime() + RESET_TOKEN_TTL_MS));
      await mailer.send({
        to: user.email,
        subject: 'Reset your password',
        text: `curl -X POST ${deps.publicUrl()}/password-reset/confirm -H 'content-type: application/json' -d '{"token":"${token}","new_password":"..."}'`,
        action: { kind: 'reset_password', token },
      });
      await events.emit('USER_PASSWORD_RESET_INITIATE', { user }, { req, tenantId: user.tenantId });
    }
    res.status(202).json({ ok: true, message: 'If the account exists, a reset link is on its way' });
  }));

  router.post('/password-reset/confirm', handle(async (req, res) => {
    const input = parseBody(Joi.object({ token: Joi.string().max(200).required(), new_password: Joi.string().required() }), req.body);
    checkNewPassword(input.new_password);
    const userId = await users.consumeToken('password_reset', hashToken(input.token), deps.clock());
    const user = userId ? await users.findUserById(userId) : null;
    if (!user) throw new HttpError(400, 'invalid_token', 'This reset link is invalid, used or expired');
    const context = { req, tenantId: user.tenantId };
    const updated = (await users.updateUser(user.id, { passwordHash: await hashPassword(input.new_password) }, context))!;
    await events.emit('USER_PASSWORD_RESET', { user: updated }, context);
    res.json({ ok: true });
  }));

  return router;
}
