/**
 * The mongoose binding: a schema plugin for a host whose users are mongoose models. It
 * records USER_CREATED, USER_MODIFIED (with the names of the changed fields) and USER_DELETED
 * from the model's own middleware, so every code path that writes users through the model
 * emits, not only the routes someone remembered to instrument.
 *
 * Covered (documented mongoose 9 middleware): `doc.save()` (create and update),
 * `Model.findOneAndUpdate()` / `findByIdAndUpdate()`, `doc.deleteOne()`,
 * `Model.findOneAndDelete()` / `findByIdAndDelete()`. Bulk writes (`updateOne`,
 * `updateMany`, `deleteMany`, `bulkWrite`, `insertMany`) run no per-document middleware and
 * are not seen: use the calls above for users, or call the hooks yourself.
 *
 * In a transaction (a transactional outbox): when the write runs in a session with a
 * transaction in progress - `doc.save({ session })`, `doc.$session(session)`, a query's
 * `.session(session)` or `{ session }` option, inside `connection.transaction()` or
 * `session.withTransaction()` - the session is passed as `context.transaction`, so the event
 * and its deliveries are written in the host's transaction: rolled back, they never existed;
 * committed, they are delivered. Then an event that cannot be recorded fails the write (the
 * post hook throws, and the host's transaction must not commit a change whose event is lost);
 * a write conflict the event met is thrown as the driver's error, with its
 * TransientTransactionError label, so `withTransaction()` retries the whole transaction as it
 * does for its own conflicts. The session must belong to the plugin's MongoClient (the same
 * connection, or one made from it with `useDb()`), else the write fails with
 * ForeignTransactionError. A session without a transaction is not passed (the event is written
 * on its own, as below). mongoose's `transactionAsyncLocalStorage` option hands the session to
 * the driver without showing it to middleware: pass the session explicitly for the outbox.
 *
 * Outside a transaction the write is never failed by its event: the model's write has already
 * happened when the post hook runs, so an event that cannot be recorded is reported to
 * `onError` (default: the plugin's logger) and `save()` still resolves. The post hooks are
 * awaited, so when a write resolves its event is durable (or reported).
 */
import Joi from 'joi';
import type { ClientSession, HydratedDocument, Query, Schema } from 'mongoose';
import { InvalidOptionsError } from '../errors.js';
import { isSensitiveKey } from '../events/sensitive-data.js';
import type { Logger } from '../options.js';
import type { HookContext } from '../events/event-context.js';
import type { LifecycleHooks } from './lifecycle-hooks.js';
import { joiDetails } from '../validation-details.js';

/** What the binding needs from a webhooks plugin (a `WebhooksPlugin` fits). */
export interface UserLifecycleTarget {
  hooks: Pick<LifecycleHooks, 'userCreated' | 'userModified' | 'userDeleted'>;
  logger?: Logger;
}

export interface MongooseUserPluginOptions {
  /**
   * The plugin whose hooks record the events, or a function returning it: schemas are often
   * compiled into models before the host builds the webhooks plugin. Required.
   * @example schema.plugin(mongooseUserPlugin, { webhooks: () => webhooksPlugin })
   */
  webhooks: UserLifecycleTarget | (() => UserLifecycleTarget | undefined);
  /** Tenant of a user document. Default: its `tenantId` (or `tenant_id`), else the plugin's default tenant. */
  tenantOf?: (user: Record<string, unknown>) => string | undefined;
  /**
   * Top-level paths whose changes are not reported (and alone emit no USER_MODIFIED).
   * Default `['updatedAt', 'createdAt']`; `_id` and `__v` are always ignored, and so are
   * paths that name credentials (password, hash, secret, token, otp, recovery...), whose
   * names say more about a user's security state than a receiver needs.
   */
  ignorePaths?: string[];
  /** Called when an event could not be recorded. Default: the plugin's logger (else the console). */
  onError?: (error: unknown, eventType: string) => void;
}

/**
 * `doc.$locals[WEBHOOKS_CONTEXT_LOCAL] = { req, actor }` before `save()` or `deleteOne()`
 * gives that write's event the request's metadata and actor (a {@link HookContext}).
 */
export const WEBHOOKS_CONTEXT_LOCAL = 'webhooksContext';

const STATE_LOCAL = 'webhooksSaveState';
const ALWAYS_IGNORED = ['_id', '__v'];
const DEFAULT_IGNORED = ['updatedAt', 'createdAt'];

const optionsSchema = Joi.object({
  webhooks: Joi.alternatives(
    Joi.function(),
    Joi.object({ hooks: Joi.object().unknown(true).required() }).unknown(true),
  ).required(),
  tenantOf: Joi.function().maxArity(1),
  ignorePaths: Joi.array().items(Joi.string().min(1).max(200)),
  onError: Joi.function(),
}).required();

/** Top-level field names of changed paths, minus ignored and credential-naming ones, in first-seen order. */
export function reportableFields(paths: readonly string[], ignored: ReadonlySet<string>): string[] {
  const out = new Set<string>();
  for (const path of paths) {
    const top = path.split('.')[0];
    if (top && !ignored.has(top) && !isSensitiveKey(top)) out.add(top);
  }
  return [...out];
}

/**
 * Paths an update document changes: the keys under each operator (`$set`, `$unset`, `$inc`,
 * `$push`...) and top-level keys mongoose treats as `$set`. `$setOnInsert` changes nothing on
 * an existing document. `undefined` for an aggregation-pipeline update, which cannot be read
 * without running it.
 */
export function changedPathsOfUpdate(update: unknown): string[] | undefined {
  if (Array.isArray(update)) return undefined;
  if (!update || typeof update !== 'object') return [];
  const paths: string[] = [];
  for (const [key, value] of Object.entries(update)) {
    if (!key.startsWith('$')) paths.push(key);
    else if (key !== '$setOnInsert' && value && typeof value === 'object') paths.push(...Object.keys(value));
  }
  return paths;
}

function readPath(user: unknown, key: string): unknown {
  const doc = user as { get?: (path: string) => unknown; toObject?: unknown } & Record<string, unknown>;
  return typeof doc.get === 'function' && typeof doc.toObject === 'function' ? doc.get(key) : doc[key];
}

/**
 * A plain copy of a user document for the hooks: they validate and map plain objects, and a
 * hydrated document's internals (`$__`, `_doc`) are nothing a validator should walk.
 */
function plain(user: Record<string, unknown>): Record<string, unknown> {
  const doc = user as { toObject?: (options?: Record<string, unknown>) => Record<string, unknown> };
  return typeof doc.toObject === 'function' ? doc.toObject({ depopulate: true, virtuals: false, getters: false }) : user;
}

/** `findOneAndUpdate`/`findOneAndDelete` hand post hooks the raw result when `includeResultMetadata` is set. */
function documentOf(result: unknown): { doc: Record<string, unknown> | null; upserted: boolean } {
  if (result && typeof result === 'object' && 'ok' in result && 'value' in result && 'lastErrorObject' in result) {
    const raw = result as { value: Record<string, unknown> | null; lastErrorObject?: { updatedExisting?: boolean; upserted?: unknown } };
    return { doc: raw.value, upserted: raw.lastErrorObject?.updatedExisting === false && raw.lastErrorObject?.upserted !== undefined };
  }
  return { doc: (result as Record<string, unknown> | null) ?? null, upserted: false };
}

/**
 * The schema plugin: `userSchema.plugin(mongooseUserPlugin, { webhooks: () => plugin })`,
 * before the schema is compiled into a model.
 * @throws {InvalidOptionsError} when `webhooks` is missing or an option has the wrong type.
 */
export function mongooseUserPlugin(schema: Schema<any>, input: MongooseUserPluginOptions): void {
  const { value: options, error } = optionsSchema.validate(input);
  if (error) {
    throw new InvalidOptionsError(`Invalid mongooseUserPlugin options: ${error.message}`,
      joiDetails(error));
  }
  // The plugin object itself, not joi's copy of it.
  const opts = { ...(options as MongooseUserPluginOptions), webhooks: input.webhooks };
  const ignored = new Set([...ALWAYS_IGNORED, ...(opts.ignorePaths ?? DEFAULT_IGNORED)]);
  const target = () => (typeof opts.webhooks === 'function' ? opts.webhooks() : opts.webhooks);
  const tenantOf = (user: Record<string, unknown>): string | undefined => {
    const tenant = opts.tenantOf ? opts.tenantOf(user) : (readPath(user, 'tenantId') ?? readPath(user, 'tenant_id'));
    return typeof tenant === 'string' && tenant !== '' ? tenant : undefined;
  };
  const report = (error: unknown, type: string) => {
    if (opts.onError) return opts.onError(error, type);
    const logger = target()?.logger;
    const message = `Could not record ${type} from the user model; the write itself succeeded`;
    if (logger) logger.error(message, { error: String(error) });
    else console.error(`[webhooks] ${message}`, String(error));
  };
  const record = async (type: string, context: HookContext, call: (hooks: UserLifecycleTarget['hooks'], context: HookContext) => Promise<unknown>) => {
    try {
      const plugin = target();
      if (!plugin) throw new Error('the webhooks plugin is not available yet (options.webhooks returned nothing)');
      await call(plugin.hooks, context);
    } catch (err) {
      // In the host's transaction the write must fail with its event (see the header).
      if (context.transaction) throw transientCauseOf(err) ?? err;
      try {
        report(err, type);
      } catch {
        // A failing error reporter must not fail the host's write either.
      }
    }
  };
  const contextOf = (user: Record<string, unknown>, locals: Record<string, unknown> | undefined,
    session: ClientSession | null | undefined): HookContext => {
    const given = (locals?.[WEBHOOKS_CONTEXT_LOCAL] ?? {}) as HookContext;
    const tenantId = given.tenantId ?? tenantOf(user);
    const context: HookContext = tenantId === undefined ? { ...given } : { ...given, tenantId };
    // A transaction the host named itself wins over the write's session.
    const transaction = given.transaction ?? transactionOf(session);
    return transaction ? { ...context, transaction } : context;
  };

  // isNew and the modified paths are gone by the time post('save') runs, so they are kept
  // on the document's $locals (mongoose's documented per-document scratch space).
  schema.pre('save', function (this: HydratedDocument<any>) {
    this.$locals[STATE_LOCAL] = {
      isNew: this.isNew,
      changed: this.isNew ? [] : reportableFields(this.modifiedPaths(), ignored),
    };
  });

  schema.post('save', async function (this: HydratedDocument<any>) {
    const state = this.$locals[STATE_LOCAL] as { isNew: boolean; changed: string[] } | undefined;
    delete this.$locals[STATE_LOCAL];
    if (!state) return;
    const context = contextOf(this, this.$locals, this.$session());
    if (state.isNew) {
      await record('USER_CREATED', context, (hooks, ctx) => hooks.userCreated({ user: plain(this) }, ctx));
    } else if (state.changed.length > 0) {
      await record('USER_MODIFIED', context, (hooks, ctx) => hooks.userModified({ user: plain(this), changedFields: state.changed }, ctx));
    }
  });

  schema.post('findOneAndUpdate', async function (this: Query<unknown, unknown>, result: unknown) {
    const found = documentOf(result);
    const { upserted } = found;
    if (!found.doc) return;
    let doc: Record<string, unknown> = found.doc;
    // By default findOneAndUpdate hands back the document as it was before the update; the
    // event must carry the user as it is now, so read it again unless the query asked for it.
    const options = this.getOptions() as { returnDocument?: string; new?: boolean; session?: ClientSession | null };
    if (!upserted && options.returnDocument !== 'after' && options.new !== true) {
      const id = (doc as { _id?: unknown })._id;
      // In the query's session, so an update inside a transaction reads its own write.
      const fresh = id !== undefined ? await this.model.findById(id).session(options.session ?? null).lean() : null;
      doc = (fresh as Record<string, unknown> | null) ?? doc;
    }
    const context = contextOf(doc, undefined, options.session);
    if (upserted) {
      await record('USER_CREATED', context, (hooks, ctx) => hooks.userCreated({ user: plain(doc) }, ctx));
      return;
    }
    const paths = changedPathsOfUpdate(this.getUpdate());
    const changed = paths === undefined ? undefined : reportableFields(paths, ignored);
    if (changed !== undefined && changed.length === 0) return;
    await record('USER_MODIFIED', context,
      (hooks, ctx) => hooks.userModified({ user: plain(doc), ...(changed ? { changedFields: changed } : {}) }, ctx));
  });

  schema.post('deleteOne', { document: true, query: false }, async function (this: HydratedDocument<any>) {
    const context = contextOf(this, this.$locals, this.$session());
    await record('USER_DELETED', context, (hooks, ctx) => hooks.userDeleted({ user: plain(this) }, ctx));
  });

  schema.post('findOneAndDelete', async function (this: Query<unknown, unknown>, result: unknown) {
    const { doc } = documentOf(result);
    if (!doc) return;
    const { session } = this.getOptions() as { session?: ClientSession | null };
    await record('USER_DELETED', contextOf(doc, undefined, session), (hooks, ctx) => hooks.userDeleted({ user: plain(doc) }, ctx));
  });
}

/** The session when a transaction is in progress in it (`ClientSession.inTransaction()`), else nothing. */
function transactionOf(session: ClientSession | null | undefined): ClientSession | undefined {
  return session && typeof session.inTransaction === 'function' && session.inTransaction() ? session : undefined;
}

/**
 * The driver's error behind a failed hook call when it is labelled TransientTransactionError (a
 * write conflict, a primary stepping down): thrown as it is, the host's `withTransaction()` or
 * `connection.transaction()` sees the label and runs the transaction again.
 */
function transientCauseOf(error: unknown): unknown {
  for (let current: unknown = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth += 1) {
    const labelled = current as { hasErrorLabel?: (label: string) => boolean };
    if (typeof labelled.hasErrorLabel === 'function' && labelled.hasErrorLabel('TransientTransactionError')) return current;
  }
  return undefined;
}
