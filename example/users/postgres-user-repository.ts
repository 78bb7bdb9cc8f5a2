import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { HookContext } from '../../plugin/index.js';
import {
  DuplicateError, type HostTransaction, type NewUser, type Role, type RolePatch, type SessionRepository, type TokenKind, type User,
  type UserPatch, type UserRepository,
} from './user-repository.js';

const UNIQUE_VIOLATION = '23505';

// Tables live in the host's database beside the plugin's (`webhook_*`); the prefix keeps them apart.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS demo_tenants (
  id text PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS demo_users (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES demo_tenants(id),
  username text NOT NULL,
  email text NOT NULL,
  email_verified boolean NOT NULL DEFAULT false,
  first_name text,
  last_name text,
  display_name text,
  password_hash text NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  totp_secret text,
  totp_pending_secret text,
  totp_last_step bigint,
  recovery_code_hashes text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS demo_users_tenant_username ON demo_users (tenant_id, lower(username));
CREATE INDEX IF NOT EXISTS demo_users_tenant_email ON demo_users (tenant_id, lower(email));
CREATE TABLE IF NOT EXISTS demo_roles (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES demo_tenants(id),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  permissions text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);
CREATE TABLE IF NOT EXISTS demo_user_roles (
  user_id text NOT NULL REFERENCES demo_users(id) ON DELETE CASCADE,
  role_id text NOT NULL REFERENCES demo_roles(id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, role_id)
);
CREATE TABLE IF NOT EXISTS demo_tokens (
  token_hash text PRIMARY KEY,
  kind text NOT NULL,
  user_id text NOT NULL REFERENCES demo_users(id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE TABLE IF NOT EXISTS demo_sessions (
  sid text PRIMARY KEY,
  sess jsonb NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS demo_sessions_expires ON demo_sessions (expires_at);
`;

const USER_COLUMNS: Record<keyof UserPatch, string> = {
  email: 'email',
  emailVerified: 'email_verified',
  firstName: 'first_name',
  lastName: 'last_name',
  displayName: 'display_name',
  passwordHash: 'password_hash',
  enabled: 'enabled',
  totpSecret: 'totp_secret',
  totpPendingSecret: 'totp_pending_secret',
  totpLastStep: 'totp_last_step',
  recoveryCodeHashes: 'recovery_code_hashes',
  lastLoginAt: 'last_login_at',
};

const SELECT_USER = `
  SELECT u.*, coalesce(array_agg(r.name ORDER BY r.name) FILTER (WHERE r.name IS NOT NULL), '{}') AS role_names
  FROM demo_users u
  LEFT JOIN demo_user_roles ur ON ur.user_id = u.id
  LEFT JOIN demo_roles r ON r.id = ur.role_id`;

interface UserRow {
  id: string; tenant_id: string; username: string; email: string; email_verified: boolean;
  first_name: string | null; last_name: string | null; display_name: string | null; password_hash: string;
  enabled: boolean; totp_secret: string | null; totp_pending_secret: string | null; totp_last_step: string | null;
  recovery_code_hashes: string[]; role_names: string[]; created_at: Date; updated_at: Date; last_login_at: Date | null;
}

interface RoleRow {
  id: string; tenant_id: string; name: string; description: string; permissions: string[]; created_at: Date; updated_at: Date;
}

const toUser = (r: UserRow): User => ({
  id: r.id, tenantId: r.tenant_id, username: r.username, email: r.email, emailVerified: r.email_verified,
  firstName: r.first_name, lastName: r.last_name, displayName: r.display_name, passwordHash: r.password_hash,
  enabled: r.enabled, totpSecret: r.totp_secret, totpPendingSecret: r.totp_pending_secret,
  totpLastStep: r.totp_last_step === null ? null : Number(r.totp_last_step), recoveryCodeHashes: r.recovery_code_hashes,
  roles: r.role_names, createdAt: r.created_at, updatedAt: r.updated_at, lastLoginAt: r.last_login_at,
});

const toRole = (r: RoleRow): Role => ({
  id: r.id, tenantId: r.tenant_id, name: r.name, description: r.description, permissions: r.permissions,
  createdAt: r.created_at, updatedAt: r.updated_at,
});

async function unique<T>(what: 'user' | 'role', run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw new DuplicateError(what);
    throw error;
  }
}

class PostgresSessions implements SessionRepository {
  constructor(private readonly pool: pg.Pool) {}

  async get(sid: string) {
    const { rows } = await this.pool.query('SELECT sess FROM demo_sessions WHERE sid = $1 AND expires_at > now()', [sid]);
    return rows[0]?.sess ?? null;
  }

  async set(sid: string, session: Record<string, unknown>, expiresAt: Date) {
    await this.pool.query(
      `INSERT INTO demo_sessions (sid, sess, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (sid) DO UPDATE SET sess = excluded.sess, expires_at = excluded.expires_at`,
      [sid, JSON.stringify(session), expiresAt],
    );
    // Expired rows go on writes, so the table never needs a separate sweeper.
    if (Math.random() < 0.05) await this.pool.query('DELETE FROM demo_sessions WHERE expires_at < now()');
  }

  async touch(sid: string, expiresAt: Date) {
    await this.pool.query('UPDATE demo_sessions SET expires_at = $2 WHERE sid = $1', [sid, expiresAt]);
  }

  async destroy(sid: string) {
    await this.pool.query('DELETE FROM demo_sessions WHERE sid = $1', [sid]);
  }
}

/** The directory in PostgreSQL, on a pool the host owns (the same one the plugin uses). */
export class PostgresUserRepository implements UserRepository {
  readonly kind = 'postgres';
  readonly sessions: SessionRepository;

  constructor(private readonly pool: pg.Pool) {
    this.sessions = new PostgresSessions(pool);
  }

  async init(): Promise<void> {
    const client = await this.pool.connect();
    try {
      // Two host processes starting together must not race on CREATE ... IF NOT EXISTS.
      await client.query('SELECT pg_advisory_lock(7401533)');
      await client.query(SCHEMA);
    } finally {
      await client.query('SELECT pg_advisory_unlock(7401533)').catch(() => undefined);
      client.release();
    }
  }

  async ensureTenant(id: string, name: string): Promise<void> {
    await this.pool.query('INSERT INTO demo_tenants (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [id, name]);
  }

  async tenantExists(id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM demo_tenants WHERE id = $1', [id]);
    return rowCount === 1;
  }

  async inTransaction<T>(work: (transaction: HostTransaction | undefined) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** The client of the caller's transaction (see inTransaction), else the pool. */
  private db(context?: HookContext): pg.Pool | pg.PoolClient {
    return (context?.transaction as pg.PoolClient | undefined) ?? this.pool;
  }

  async createUser(input: NewUser, context?: HookContext): Promise<User> {
    const id = randomUUID();
    await unique('user', () => this.db(context).query(
      `INSERT INTO demo_users (id, tenant_id, username, email, email_verified, first_name, last_name, display_name, password_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [id, input.tenantId, input.username, input.email, input.emailVerified ?? false, input.firstName ?? null,
        input.lastName ?? null, input.displayName ?? null, input.passwordHash],
    ));
    return (await this.findOne('u.id = $1', [id], context))!;
  }

  private async findOne(where: string, params: unknown[], context?: HookContext): Promise<User | null> {
    const { rows } = await this.db(context).query<UserRow>(`${SELECT_USER} WHERE ${where} GROUP BY u.id`, params);
    return rows[0] ? toUser(rows[0]) : null;
  }

  findUserById(id: string) {
    return this.findOne('u.id = $1', [id]);
  }

  findUserByUsername(tenantId: string, username: string) {
    return this.findOne('u.tenant_id = $1 AND lower(u.username) = lower($2)', [tenantId, username]);
  }

  findUserByEmail(tenantId: string, email: string) {
    return this.findOne('u.tenant_id = $1 AND lower(u.email) = lower($2)', [tenantId, email]);
  }

  async listUsers(tenantId: string): Promise<User[]> {
    const { rows } = await this.pool.query<UserRow>(`${SELECT_USER} WHERE u.tenant_id = $1 GROUP BY u.id ORDER BY u.created_at`, [tenantId]);
    return rows.map(toUser);
  }

  async updateUser(id: string, patch: UserPatch, context?: HookContext): Promise<User | null> {
    const entries = Object.entries(patch).filter(([, v]) => v !== undefined) as Array<[keyof UserPatch, unknown]>;
    if (entries.length > 0) {
      const sets = entries.map(([key], i) => `${USER_COLUMNS[key]} = $${i + 2}`);
      const { rowCount } = await this.db(context).query(
        `UPDATE demo_users SET ${sets.join(', ')}, updated_at = now() WHERE id = $1`,
        [id, ...entries.map(([, v]) => v)],
      );
      if (rowCount === 0) return null;
    }
    return this.findOne('u.id = $1', [id], context);
  }

  async deleteUser(id: string, context?: HookContext): Promise<User | null> {
    const user = await this.findOne('u.id = $1', [id], context);
    if (!user) return null;
    const { rowCount } = await this.db(context).query('DELETE FROM demo_users WHERE id = $1', [id]);
    return rowCount === 1 ? user : null;
  }

  async createRole(tenantId: string, input: Pick<Role, 'name' | 'description' | 'permissions'>): Promise<Role> {
    const { rows } = await unique('role', () => this.pool.query<RoleRow>(
      'INSERT INTO demo_roles (id, tenant_id, name, description, permissions) VALUES ($1, $2, $3, $4, $5) RETURNING *',
      [randomUUID(), tenantId, input.name, input.description, input.permissions],
    ));
    return toRole(rows[0]);
  }

  async findRole(tenantId: string, id: string): Promise<Role | null> {
    const { rows } = await this.pool.query<RoleRow>('SELECT * FROM demo_roles WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
    return rows[0] ? toRole(rows[0]) : null;
  }

  async findRoleByName(tenantId: string, name: string): Promise<Role | null> {
    const { rows } = await this.pool.query<RoleRow>('SELECT * FROM demo_roles WHERE tenant_id = $1 AND name = $2', [tenantId, name]);
    return rows[0] ? toRole(rows[0]) : null;
  }

  async listRoles(tenantId: string): Promise<Role[]> {
    const { rows } = await this.pool.query<RoleRow>('SELECT * FROM demo_roles WHERE tenant_id = $1 ORDER BY name', [tenantId]);
    return rows.map(toRole);
  }

  async updateRole(tenantId: string, id: string, patch: RolePatch): Promise<Role | null> {
    const { rows } = await unique('role', () => this.pool.query<RoleRow>(
      `UPDATE demo_roles SET name = coalesce($3, name), description = coalesce($4, description),
         permissions = coalesce($5, permissions), updated_at = now()
       WHERE tenant_id = $1 AND id = $2 RETURNING *`,
      [tenantId, id, patch.name ?? null, patch.description ?? null, patch.permissions ?? null],
    ));
    return rows[0] ? toRole(rows[0]) : null;
  }

  async deleteRole(tenantId: string, id: string): Promise<Role | null> {
    const { rows } = await this.pool.query<RoleRow>('DELETE FROM demo_roles WHERE tenant_id = $1 AND id = $2 RETURNING *', [tenantId, id]);
    return rows[0] ? toRole(rows[0]) : null;
  }

  async assignRole(userId: string, role: Role): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'INSERT INTO demo_user_roles (user_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [userId, role.id]);
    return rowCount === 1;
  }

  async unassignRole(userId: string, role: Role): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM demo_user_roles WHERE user_id = $1 AND role_id = $2', [userId, role.id]);
    return rowCount === 1;
  }

  async createToken(kind: TokenKind, tokenHash: string, userId: string, expiresAt: Date): Promise<void> {
    await this.pool.query('INSERT INTO demo_tokens (token_hash, kind, user_id, expires_at) VALUES ($1, $2, $3, $4)',
      [tokenHash, kind, userId, expiresAt]);
  }

  async consumeToken(kind: TokenKind, tokenHash: string, now: Date): Promise<string | null> {
    const { rows } = await this.pool.query<{ user_id: string }>(
      `UPDATE demo_tokens SET used_at = $3 WHERE token_hash = $1 AND kind = $2 AND used_at IS NULL AND expires_at > $3
       RETURNING user_id`,
      [tokenHash, kind, now],
    );
    return rows[0]?.user_id ?? null;
  }
}
