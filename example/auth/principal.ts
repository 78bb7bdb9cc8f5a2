import type { HookContext } from '../../plugin/index.js';
import type { User } from '../users/user-repository.js';

/**
 * Who a request acts as (`req.user`): a person signed in with a session, or the admin API
 * token, which acts as an administrator of the default tenant.
 */
export type Principal = User | ApiTokenPrincipal;

export interface ApiTokenPrincipal {
  kind: 'api_token';
  id: string;
  username: string;
  tenantId: string;
  roles: string[];
}

export const ADMIN_ROLE = 'admin';

export const isApiToken = (p: Principal): p is ApiTokenPrincipal => (p as ApiTokenPrincipal).kind === 'api_token';

export const isAdmin = (p: Principal | undefined): boolean => !!p && p.roles.includes(ADMIN_ROLE) && (isApiToken(p) || p.enabled);

/** The hook context of a request made by `principal`: its tenant, the request metadata and the actor. */
export function hookContext(req: HookContext['req'], principal: Principal, tenantId = principal.tenantId): HookContext {
  const type = isApiToken(principal) ? 'api_client' : principal.roles.includes(ADMIN_ROLE) ? 'admin' : 'user';
  return { req, tenantId, actor: { id: principal.id, type, username: principal.username } };
}
