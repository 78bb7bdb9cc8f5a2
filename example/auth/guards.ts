import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type passport from 'passport';
import { forbidden, unauthorized } from '../http-error.js';
import type { User } from '../users/user-repository.js';
import { isAdmin, isApiToken, type Principal } from './principal.js';

/** The signed-in person (session), never the API token. */
export function currentUser(req: Request): User {
  const principal = req.user as Principal | undefined;
  if (!principal || isApiToken(principal)) throw unauthorized();
  return principal;
}

export const requireUser: RequestHandler = (req, _res, next) => {
  const principal = req.user as Principal | undefined;
  next(principal && !isApiToken(principal) ? undefined : unauthorized());
};

/**
 * A session (set by passport.session()) or else `Authorization: Bearer <DEMO_ADMIN_TOKEN>`.
 * The bearer check runs with a callback so a bad token gets the host's JSON 401, not
 * Passport's bare one; it is not instrumented, so API calls are not reported as logins.
 */
export function authenticateAdmin(authenticator: passport.Authenticator): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.user || !req.headers.authorization) return next();
    authenticator.authenticate('bearer', { session: false }, (error: unknown, user: Principal | false) => {
      if (error) return next(error);
      if (user) req.user = user;
      next();
    })(req, res, next);
  };
}

export function requireAdmin(authenticator: passport.Authenticator): RequestHandler[] {
  return [authenticateAdmin(authenticator), (req, _res, next) => {
    const principal = req.user as Principal | undefined;
    if (!principal) return next(unauthorized());
    next(isAdmin(principal) ? undefined : forbidden('Administrators only'));
  }];
}
