import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import passport from 'passport';
import { Strategy as BearerStrategy } from 'passport-http-bearer';
import { Strategy as LocalStrategy } from 'passport-local';
import type { UserRepository } from '../users/user-repository.js';
import { DUMMY_PASSWORD_HASH, verifyPassword } from './passwords.js';
import { ADMIN_ROLE, type ApiTokenPrincipal, type Principal } from './principal.js';

/** The tenant a login names (`tenant` in the body), else the default one. */
export function loginTenant(req: Request, defaultTenant: string): string {
  const tenant = (req.body as Record<string, unknown> | undefined)?.tenant;
  return typeof tenant === 'string' && tenant !== '' ? tenant : defaultTenant;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export interface AuthenticatorOptions {
  users: UserRepository;
  /** The admin API bearer token (DEMO_ADMIN_TOKEN). */
  adminToken: string;
  defaultTenant: string;
}

/**
 * The host's Passport: `local` for people (username + password, per tenant), `bearer` for
 * the admin API token, sessions keyed by user id. One instance per app, never the global one.
 */
export function createAuthenticator(options: AuthenticatorOptions): passport.Authenticator {
  const { users, defaultTenant } = options;
  const authenticator = new passport.Passport();
  const tokenDigest = digest(options.adminToken);

  authenticator.use('local', new LocalStrategy({ passReqToCallback: true }, (req, username, password, done) => {
    (async () => {
      const user = await users.findUserByUsername(loginTenant(req, defaultTenant), username);
      // The reasons go to the login-failure event (a SIEM wants them); the client sees one message.
      if (!user) {
        await verifyPassword(password, await DUMMY_PASSWORD_HASH);
        return done(null, false, { message: 'unknown user' });
      }
      if (!(await verifyPassword(password, user.passwordHash))) return done(null, false, { message: 'wrong password' });
      if (!user.enabled) return done(null, false, { message: 'account disabled' });
      return done(null, user);
    })().catch(done);
  }));

  authenticator.use('bearer', new BearerStrategy((token, done) => {
    // Comparing digests keeps the comparison constant-time whatever the token's length.
    if (!timingSafeEqual(digest(token), tokenDigest)) return done(null, false);
    const principal: ApiTokenPrincipal = { kind: 'api_token', id: 'admin-api-token', username: 'admin-api-token', tenantId: defaultTenant, roles: [ADMIN_ROLE] };
    return done(null, principal);
  }));

  authenticator.serializeUser((user, done) => done(null, (user as Principal).id));
  authenticator.deserializeUser((id: string, done) => {
    users.findUserById(id).then((user) => done(null, user && user.enabled ? user : false), done);
  });
  return authenticator;
}
