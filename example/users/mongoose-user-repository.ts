import { randomUUID } from 'node:crypto';
import { Schema, type ClientSession, type Connection, type Model } from 'mongoose';
import type { HookContext } from '../../plugin/index.js';
import {
  type HostTransaction,
  DuplicateError, type NewUser, type Role, type RolePatch, type SessionRepository, type TokenKind, type User,
  type UserPatch, type UserRepository,
} from './user-repository.js';

const DUPLICATE_KEY = 11000;
/** Where a document carries its request's hook context for the webhooks binding (see mongoose-user-plugin.ts). */
const CONTEXT_LOCAL = 'webhooksContext';

/** A user as stored: the repository's fields with the id as `_id`, plus a lower-cased username for lookups. */
type UserDoc = Omit<User, 'id'> & { _id: string; usernameLower: string };

interface RoleDoc {
  _id: string;
  tenantId: string;
  name: string;
  description: string;
  permissions: string[];
  createdAt: Date;
  updatedAt: Date;
}

const stringId = { type: String, default: () => randomUUID() };

function buildUserSchema(): Schema<UserDoc> {
  const schema = new Schema<UserDoc>({
    _id: stringId,
    tenantId: { type: String, required: true },
    username: { type: String, required: true },
    usernameLower: { type: String, required: true },
    email: { type: String, required: true },
    emailVerified: { type: Boolean, default: false },
    firstName: { type: String, default: null },
    lastName: { type: String, default: null },
    displayName: { type: String, default: null },
    passwordHash: { type: String, required: true },
    enabled: { type: Boolean, default: true },
    totpSecret: { type: String, default: null },
    totpPendingSecret: { type: String, default: null },
    totpLastStep: { type: Number, default: null },
    recoveryCodeHashes: { type: [String], default: [] },
    roles: { type: [String], default: [] },
    lastLoginAt: { type: Date, default: null },
  }, { timestamps: true, collection: 'demo_users' });
  schema.index({ tenantId: 1, usernameLower: 1 }, { unique: true });
  schema.index({ tenantId: 1, email: 1 });
  return schema;
}

const toUser = (d: UserDoc): User => ({
  id: d._id, tenantId: d.tenantId, username: d.username, email: d.email, emailVerified: d.emailVerified,
  firstName: d.firstName ?? null, lastName: d.lastName ?? null, displayName: d.displayName ?? null,
  passwordHash: d.passwordHash, enabled: d.enabled, totpSecret: d.totpSecret ?? null,
  totpPendingSecret: d.totpPendingSecret ?? null, totpLastStep: d.totpLastStep ?? null,
  recoveryCodeHashes: [...(d.recoveryCodeHashes ?? [])], roles: [...(d.roles ?? [])].sort(),
  createdAt: d.createdAt, updatedAt: d.updatedAt, lastLoginAt: d.lastLoginAt ?? null,
});

const toRole = (d: RoleDoc): Role => ({
  id: d._id, tenantId: d.tenantId, name: d.name, description: d.description, permissions: [...d.permissions],
  createdAt: d.createdAt, updatedAt: d.updatedAt,
});

async function unique<T>(what: 'user' | 'role', run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if ((error as { code?: number }).code === DUPLICATE_KEY) throw new DuplicateError(what);
    throw error;
  }
}

interface Models {
  tenants: Model<{ _id: string; name: string }>;
  users: Model<UserDoc>;
  roles: Model<RoleDoc>;
  tokens: Model<{ _id: string; kind: string; userId: string; expiresAt: Date; usedAt: Date | null }>;
  sessions: Model<{ _id: string; sess: Record<string, unknown>; expiresAt: Date }>;
}

/**
 * The directory in MongoDB through the host's mongoose connection. Users are written through
 * documents (`save()`, `deleteOne()`) so a schema plugin on the user model, such as the
 * webhooks plugin's mongoose binding, sees every create, change and delete.
 */
export class MongooseUserRepository implements UserRepository {
  readonly kind = 'mongo';
  readonly sessions: SessionRepository;
  private readonly userSchema = buildUserSchema();
  private models: Models | null = null;

  private transactions: Promise<boolean> | undefined;

  constructor(private readonly connection: Connection) {
    this.sessions = {
      get: async (sid) => (await this.m.sessions.findOne({ _id: sid, expiresAt: { $gt: new Date() } }).lean())?.sess ?? null,
      set: async (sid, sess, expiresAt) => {
        await this.m.sessions.updateOne({ _id: sid }, { $set: { sess, expiresAt } }, { upsert: true });
      },
      touch: async (sid, expiresAt) => {
        await this.m.sessions.updateOne({ _id: sid }, { $set: { expiresAt } });
      },
      destroy: async (sid) => {
        await this.m.sessions.deleteOne({ _id: sid });
      },
    };
  }

  /**
   * Adds a schema plugin to the user model; only before `init()`, which compiles the model.
   * The host uses it for the webhooks plugin's mongoose binding.
   */
  applyUserSchemaPlugin(plugin: (schema: Schema<any>, options: any) => void, options: unknown): void {
    if (this.models) throw new Error('applyUserSchemaPlugin() must be called before init()');
    this.userSchema.plugin(plugin, options);
  }

  private get m(): Models {
    if (!this.models) throw new Error('MongooseUserRepository.init() has not run');
    return this.models;
  }

  async init(): Promise<void> {
    if (!this.models) {
      const c = this.connection;
      const model = <T>(name: string, schema: Schema<T>) => (c.models[name] as Model<T> | undefined) ?? c.model<T>(name, schema);
      this.models = {
        tenants: model('DemoTenant', new Schema({ _id: String, name: String }, { collection: 'demo_tenants', timestamps: true })),
        users: model('DemoUser', this.userSchema),
        roles: model('DemoRole', (() => {
          const s = new Schema<RoleDoc>({
            _id: stringId, tenantId: { type: String, required: true }, name: { type: String, required: true },
            description: { type: String, default: '' }, permissions: { type: [String], default: [] },
          }, { collection: 'demo_roles', timestamps: true });
          s.index({ tenantId: 1, name: 1 }, { unique: true });
          return s;
        })()),
        tokens: model('DemoToken', new Schema({
          _id: String, kind: String, userId: String, expiresAt: Date, usedAt: { type: Date, default: null },
        }, { collection: 'demo_tokens' })),
        sessions: model('DemoSession', (() => {
          const s = new Schema({ _id: String, sess: Schema.Types.Mixed, expiresAt: Date }, { collection: 'demo_sessions' });
          // MongoDB drops expired sessions itself, in its TTL pass (about once a minute).
          s.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });
          return s;
        })()),
      };
    }
    await this.connection.asPromise();
    await Promise.all(Object.values(this.models).map((m: Model<unknown>) => m.syncIndexes()));
  }

  async ensureTenant(id: string, name: string): Promise<void> {
    await this.m.tenants.updateOne({ _id: id }, { $setOnInsert: { name } }, { upsert: true });
  }

  async tenantExists(id: string): Promise<boolean> {
    return (await this.m.tenants.exists({ _id: id })) !== null;
  }

  /**
   * In `connection.transaction()` (which retries on transient errors) when the deployment runs
   * transactions (a replica set or a sharded cluster); a standalone server has none, and `work`
   * then runs with undefined, each write on its own as before.
   */
  async inTransaction<T>(work: (transaction: HostTransaction | undefined) => Promise<T>): Promise<T> {
    this.transactions ??= supportsTransactions(this.connection);
    if (!(await this.transactions)) return work(undefined);
    return this.connection.transaction((session) => work(session));
  }

  /** The session of the caller's transaction (see inTransaction), if any. */
  private sessionOf(context?: HookContext): ClientSession | null {
    return (context?.transaction as ClientSession | undefined) ?? null;
  }

  private withContext<T extends { $locals: Record<string, unknown> }>(doc: T, context?: HookContext): T {
    if (context) doc.$locals[CONTEXT_LOCAL] = context;
    return doc;
  }

  async createUser(input: NewUser, context?: HookContext): Promise<User> {
    const doc = this.withContext(new this.m.users({
      tenantId: input.tenantId, username: input.username, usernameLower: input.username.toLowerCase(), email: input.email,
      emailVerified: input.emailVerified ?? false, firstName: input.firstName ?? null, lastName: input.lastName ?? null,
      displayName: input.displayName ?? null, passwordHash: input.passwordHash,
    }), context);
    await unique('user', () => doc.save({ session: this.sessionOf(context) }));
    return toUser(doc.toObject());
  }

  async findUserById(id: string): Promise<User | null> {
    const doc = await this.m.users.findById(id).lean<UserDoc>();
    return doc ? toUser(doc) : null;
  }

  async findUserByUsername(tenantId: string, username: string): Promise<User | null> {
    const doc = await this.m.users.findOne({ tenantId, usernameLower: username.toLowerCase() }).lean<UserDoc>();
    return doc ? toUser(doc) : null;
  }

  async findUserByEmail(tenantId: string, email: string): Promise<User | null> {
    // Exact match on the stored address; the PostgreSQL adapter compares case-insensitively.
    const doc = await this.m.users.findOne({ tenantId, email: { $regex: `^${email.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, $options: 'i' } }).lean<UserDoc>();
    return doc ? toUser(doc) : null;
  }

  async listUsers(tenantId: string): Promise<User[]> {
    const docs = await this.m.users.find({ tenantId }).sort({ createdAt: 1 }).lean<UserDoc[]>();
    return docs.map(toUser);
  }

  async updateUser(id: string, patch: UserPatch, context?: HookContext): Promise<User | null> {
    // A document read in a session saves in it (mongoose keeps the session on the document).
    const doc = await this.m.users.findById(id).session(this.sessionOf(context));
    if (!doc) return null;
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    doc.set(defined);
    await this.withContext(doc, context).save();
    return toUser(doc.toObject());
  }

  async deleteUser(id: string, context?: HookContext): Promise<User | null> {
    const session = this.sessionOf(context);
    const doc = await this.m.users.findById(id).session(session);
    if (!doc) return null;
    const user = toUser(doc.toObject());
    await this.withContext(doc, context).deleteOne();
    await this.m.tokens.deleteMany({ userId: id }, { session: session ?? undefined });
    return user;
  }

  async createRole(tenantId: string, input: Pick<Role, 'name' | 'description' | 'permissions'>): Promise<Role> {
    const doc = await unique('role', () => this.m.roles.create({ tenantId, ...input }));
    return toRole(doc.toObject());
  }

  async findRole(tenantId: string, id: string): Promise<Role | null> {
    const doc = await this.m.roles.findOne({ tenantId, _id: id }).lean<RoleDoc>();
    return doc ? toRole(doc) : null;
  }

  async findRoleByName(tenantId: string, name: string): Promise<Role | null> {
    const doc = await this.m.roles.findOne({ tenantId, name }).lean<RoleDoc>();
    return doc ? toRole(doc) : null;
  }

  async listRoles(tenantId: string): Promise<Role[]> {
    return (await this.m.roles.find({ tenantId }).sort({ name: 1 }).lean<RoleDoc[]>()).map(toRole);
  }

  async updateRole(tenantId: string, id: string, patch: RolePatch): Promise<Role | null> {
    const before = await this.findRole(tenantId, id);
    if (!before) return null;
    const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const doc = await unique('role', () => this.m.roles.findOneAndUpdate({ tenantId, _id: id }, { $set: set }, { returnDocument: 'after' }).lean<RoleDoc>());
    if (!doc) return null;
    if (patch.name !== undefined && patch.name !== before.name) {
      // Users hold role names; a rename is a bulk write on purpose (no per-user USER_MODIFIED).
      await this.m.users.updateMany({ tenantId, roles: before.name }, { $set: { 'roles.$': patch.name } });
    }
    return toRole(doc);
  }

  async deleteRole(tenantId: string, id: string): Promise<Role | null> {
    const doc = await this.m.roles.findOneAndDelete({ tenantId, _id: id }).lean<RoleDoc>();
    if (!doc) return null;
    await this.m.users.updateMany({ tenantId, roles: doc.name }, { $pull: { roles: doc.name } });
    return toRole(doc);
  }

  // Assignments are single-document atomic updates; ROLE_ASSIGNED/UNASSIGNED describe them,
  // so they deliberately bypass the model's save middleware (no extra USER_MODIFIED).
  async assignRole(userId: string, role: Role): Promise<boolean> {
    const result = await this.m.users.updateOne({ _id: userId, tenantId: role.tenantId }, { $addToSet: { roles: role.name } });
    return result.modifiedCount === 1;
  }

  async unassignRole(userId: string, role: Role): Promise<boolean> {
    const result = await this.m.users.updateOne({ _id: userId, tenantId: role.tenantId }, { $pull: { roles: role.name } });
    return result.modifiedCount === 1;
  }

  async createToken(kind: TokenKind, tokenHash: string, userId: string, expiresAt: Date): Promise<void> {
    await this.m.tokens.create({ _id: tokenHash, kind, userId, expiresAt, usedAt: null });
  }

  async consumeToken(kind: TokenKind, tokenHash: string, now: Date): Promise<string | null> {
    const doc = await this.m.tokens.findOneAndUpdate(
      { _id: tokenHash, kind, usedAt: null, expiresAt: { $gt: now } },
      { $set: { usedAt: now } },
      { returnDocument: 'after' },
    ).lean<{ userId: string }>();
    return doc?.userId ?? null;
  }
}

/** Whether the deployment runs multi-document transactions: a replica set member or a mongos. */
async function supportsTransactions(connection: Connection): Promise<boolean> {
  await connection.asPromise();
  const admin = connection.db!.admin();
  // `hello` since MongoDB 4.4.2; servers before it (and some compatible ones) know only `isMaster`.
  const hello = await admin.command({ hello: 1 }).catch(() => admin.command({ isMaster: 1 })).catch((): Record<string, unknown> => ({}));
  return typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
}
