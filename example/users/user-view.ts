import type { HostRole } from '../../plugin/index.js';
import type { Role, User } from './user-repository.js';

/** What the host's own API shows of a user: never the hash, the TOTP secret or recovery codes. */
export function userView(user: User) {
  return {
    id: user.id,
    tenant_id: user.tenantId,
    username: user.username,
    email: user.email,
    email_verified: user.emailVerified,
    first_name: user.firstName,
    last_name: user.lastName,
    display_name: user.displayName,
    enabled: user.enabled,
    roles: user.roles,
    mfa_enabled: user.totpSecret !== null,
    created_at: user.createdAt.toISOString(),
    last_login_at: user.lastLoginAt?.toISOString() ?? null,
  };
}

export function roleView(role: Role) {
  return {
    id: role.id,
    tenant_id: role.tenantId,
    name: role.name,
    description: role.description,
    permissions: role.permissions,
    created_at: role.createdAt.toISOString(),
    updated_at: role.updatedAt.toISOString(),
  };
}

/** A role as the lifecycle hooks take it. */
export const hookRole = (role: Role): HostRole => ({ id: role.id, name: role.name, description: role.description, permissions: role.permissions });
