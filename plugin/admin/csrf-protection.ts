import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { WebhooksError } from '../errors.js';

const COOKIE = 'webhooks_csrf';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key !== name) continue;
    try {
      return decodeURIComponent(rest.join('='));
    } catch {
      return undefined; // a malformed cookie is no token
    }
  }
  return undefined;
}

/**
 * Whether a bearer token, not a cookie, authenticated a request - the default of the admin
 * router's `authenticatedByToken`. An `Authorization: Bearer` header alone proves nothing: with a
 * session cookie beside it, the host's session may have authenticated the request and the token
 * been ignored (an outside review got a cookie-session POST with `Bearer garbage` past the check).
 * A request that carries no cookie at all cannot have been authenticated by one, so only that
 * case is exempt here; hosts that know which strategy ran say so precisely through the option.
 */
export function bearerWithoutCookies(req: Request): boolean {
  return /^Bearer\s/i.test(req.headers.authorization ?? '') && !req.headers.cookie;
}

/**
 * Double-submit CSRF protection for requests authenticated by a cookie (the host's session).
 * `GET /csrf-token` sets a random token in a SameSite=Strict cookie and returns it; an unsafe
 * request must echo it in the `x-csrf-token` header. A cross-site page can neither read the
 * cookie nor add a custom header without a CORS preflight we never grant. Requests that a
 * bearer token authenticated (scripts) cannot be forged by a browser and are exempt; a bearer
 * header on a request the session authenticated exempts nothing.
 *
 * @param authenticatedByToken decides, after authentication, whether a token authenticated `req`.
 */
export function csrfProtection(authenticatedByToken: (req: Request) => boolean = bearerWithoutCookies): { issue: RequestHandler; verify: RequestHandler } {
  return {
    issue(req, res) {
      const existing = readCookie(req.headers.cookie, COOKIE);
      const token = existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : randomBytes(32).toString('base64url');
      const secure = req.secure ? '; Secure' : '';
      res.setHeader('set-cookie', `${COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict${secure}`);
      res.setHeader('cache-control', 'no-store');
      res.json({ token, header: CSRF_HEADER });
    },
    verify(req, _res, next) {
      // Only a bearer token exempts: browsers attach cookies and cached Basic/Digest/NTLM
      // credentials to cross-site requests by themselves, but never a bearer token.
      if (SAFE_METHODS.has(req.method) || authenticatedByToken(req)) return next();
      const cookie = readCookie(req.headers.cookie, COOKIE);
      const header = req.headers[CSRF_HEADER];
      const ok = typeof header === 'string' && cookie !== undefined && header.length === cookie.length
        && timingSafeEqual(Buffer.from(header), Buffer.from(cookie));
      if (ok) return next();
      next(new WebhooksError('csrf_failed', `Missing or wrong ${CSRF_HEADER} header; fetch one from GET /csrf-token`, { status: 403 }));
    },
  };
}
