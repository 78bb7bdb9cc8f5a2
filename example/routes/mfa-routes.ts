import express from 'express';
import Joi from 'joi';
import { currentUser, requireUser } from '../auth/guards.js';
import { newRecoveryCodes } from '../auth/one-time-tokens.js';
import { hookContext } from '../auth/principal.js';
import { newTotpSecret, totpUri, verifyTotp } from '../auth/totp.js';
import { handle, HttpError, parseBody } from '../http-error.js';
import type { RouteDeps } from './route-deps.js';

/**
 * TOTP enrolment: `POST /account/mfa/totp` hands out a secret (to the user only: the
 * MFA_INITIATED event carries none), `POST /account/mfa/totp/confirm` checks the first code,
 * turns MFA on and returns recovery codes once.
 */
export function mfaRoutes(deps: RouteDeps): express.Router {
  const { users, events } = deps;
  const router = express.Router();

  router.post('/account/mfa/totp', requireUser, handle(async (req, res) => {
    const user = currentUser(req);
    if (user.totpSecret) throw new HttpError(409, 'mfa_enabled', 'Two-step verification is already on');
    const secret = newTotpSecret();
    const context = hookContext(req, user);
    const updated = (await users.updateUser(user.id, { totpPendingSecret: secret }, context))!;
    await events.emit('MFA_INITIATED', { user: updated, method: 'totp' }, context);
    res.json({ secret, otpauth_uri: totpUri(secret, `${user.username}@${user.tenantId}`), next: '/account/mfa/totp/confirm' });
  }));

  router.post('/account/mfa/totp/confirm', requireUser, handle(async (req, res) => {
    const user = currentUser(req);
    const { code } = parseBody(Joi.object({ code: Joi.string().trim().required() }), req.body);
    if (!user.totpPendingSecret) throw new HttpError(409, 'no_enrolment', 'Start with POST /account/mfa/totp');
    const step = await verifyTotp(user.totpPendingSecret, code, null);
    if (step === null) throw new HttpError(400, 'wrong_code', 'Wrong code; check the time on your device');
    const { codes, hashes } = newRecoveryCodes();
    const context = hookContext(req, user);
    const updated = (await users.updateUser(user.id, {
      totpSecret: user.totpPendingSecret, totpPendingSecret: null, totpLastStep: step, recoveryCodeHashes: hashes,
    }, context))!;
    await events.call('mfaVerified', { user: updated, method: 'totp' }, context);
    res.json({ mfa_enabled: true, recovery_codes: codes });
  }));

  return router;
}
