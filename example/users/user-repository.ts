/**
 * The host's directory: tenants, users, roles, one-time tokens and sessions, behind one port
 * with a PostgreSQL and a mongoose implementation. Routes never know which one runs.
 */
import type { HookContext } from '../../plugin/index.js';

/** A transaction of the directory's database, as the plugins' hook context takes it. */
export type HostTransaction = NonNullable<HookContext['transaction']>;

// A type alias, not an interface: the hooks take `Record<string, unknown>`, which only
// object type aliases satisfy implicitly.
export type User = {
  id: string;
  tenantId: string;
  username: string;
  email: string;
  emailVerified: boolean;
  firstName: string | null;
  lastName: string | null;
  displayName: string | null;
  /** scrypt hash (see auth/passwords.ts); never leaves the host. */
  passwordHash: string;
  enabled: boolean;
  /** Base32 TOTP secret once enrolment is confirmed. */
  totpSecret: string | null;
  /** Secret handed out by enrolment, until the first code confirms it. */
  totpPendingSecret: string | null;
  /** Last TOTP time step accepted, so a code cannot be used twice. */
  totpLastStep: number | null;
  /** Hashes of the unused recovery codes. */
  recoveryCodeHashes: string[];
  /** Names of the roles assigned to the user. */
  roles: string[];
  createdAt: Date;
  updatedAt: Date;
  lastLoginAt: Date | null;
};

export type NewUser = Pick<User, 'tenantId' | 'username' | 'email' | 'passwordHash'>
  & Partial<Pick<User, 'firstName' | 'lastName' | 'displayName' | 'emailVerified'>>;

export type UserPatch = Partial<Pick<User,
  'email' | 'emailVerified' | 'firstName' | 'lastName' | 'displayName' | 'passwordHash' | 'enabled'
  | 'totpSecret' | 'totpPendingSecret' | 'totpLastStep' | 'recoveryCodeHashes' | 'lastLoginAt'>>;

export interface Role {
  id: string;
  tenantId: string;
  name: string;
  description: string;
  permissions: string[];
  createdAt: Date;
  updatedAt: Date;
}

export type RolePatch = Partial<Pick<Role, 'name' | 'description' | 'permissions'>>;

export type TokenKind = 'email_verification' | 'password_reset';

/** A unique constraint refused the write (same username, or same role name, in the tenant). */
export class DuplicateError extends Error {
  constructor(readonly what: 'user' | 'role') {
    super(`A ${what} with that name already exists in this tenant`);
    this.name = 'DuplicateError';
  }
}

/** express-session's store operations, on the host's database. */
export interface SessionRepository {
  get(sid: string): Promise<Record<string, unknown> | null>;
  set(sid: string, session: Record<string, unknown>, expiresAt: Date): Promise<void>;
  touch(sid: string, expiresAt: Date): Promise<void>;
  destroy(sid: string): Promise<void>;
}

/**
 * `context` on writes is the hook context of the request that caused them; a storage that
 * records lifecycle events itself (the mongoose binding) passes it on to the event.
 */
export interface UserRepository {
  readonly kind: 'postgres' | 'mongo';
  readonly sessions: SessionRepository;
  /** Creates tables or indexes; idempotent. */
  init(): Promise<void>;
  /**
   * Runs `work` in one transaction of the directory's database and hands it the transaction,
   * to pass as `context.transaction` to the writes and to the plugins' hooks (the webhooks
   * plugin's transactional outbox: the user change and its event commit together or not at
   * all). A database without transactions (a standalone MongoDB) runs `work` with undefined.
   */
  inTransaction<T>(work: (transaction: HostTransaction | undefined) => Promise<T>): Promise<T>;

  ensureTenant(id: string, name: string): Promise<void>;
  tenantExists(id: string): Promise<boolean>;

  /** @throws {DuplicateError} when the username is taken in the tenant. */
  createUser(input: NewUser, context?: HookContext): Promise<User>;
  findUserById(id: string): Promise<User | null>;
  findUserByUsername(tenantId: string, username: string): Promise<User | null>;
  findUserByEmail(tenantId: string, email: string): Promise<User | null>;
  listUsers(tenantId: string): Promise<User[]>;
  updateUser(id: string, patch: UserPatch, context?: HookContext): Promise<User | null>;
  /** Removes the user with their role assignments and tokens; returns what was removed. */
  deleteUser(id: string, context?: HookContext): Promise<User | null>;

  /** @throws {DuplicateError} when the name is taken in the tenant. */
  createRole(tenantId: string, input: Pick<Role, 'name' | 'description' | 'permissions'>): Promise<Role>;
  findRole(tenantId: string, id: string): Promise<Role | null>;
  findRoleByName(tenantId: string, name: string): Promise<Role | null>;
  listRoles(tenantId: string): Promise<Role[]>;
  /** @throws {DuplicateError} when renaming onto a taken name. */
  updateRole(tenantId: string, id: string, patch: RolePatch): Promise<Role | null>;
  /** Removes the role and every assignment of it; returns what was removed. */
  deleteRole(tenantId: string, id: string): Promise<Role | null>;
  /** False when the user already had the role. */
  assignRole(userId: string, role: Role, context?: HookContext): Promise<boolean>;
  /** False when the user did not have the role. */
  unassignRole(userId: string, role: Role, context?: HookContext): Promise<boolean>;

  /** Stores a one-time token by its hash; the token itself only goes to the user. */
  createToken(kind: TokenKind, tokenHash: string, userId: string, expiresAt: Date): Promise<void>;
  /** Marks an unexpired, unused token used, once; returns its user id or null. */
  consumeToken(kind: TokenKind, tokenHash: string, now: Date): Promise<string | null>;
}
