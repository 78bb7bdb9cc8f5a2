import assert from 'node:assert/strict';
import mongoose, { Schema } from 'mongoose';
import { InvalidOptionsError } from '../../plugin/index.js';
import {
  changedPathsOfUpdate, mongooseUserPlugin, reportableFields, WEBHOOKS_CONTEXT_LOCAL, type UserLifecycleTarget,
} from '../../plugin/host/mongoose-user-plugin.js';

/** Records hook calls instead of events. */
function fakeTarget(fail = false) {
  const calls: Array<{ hook: string; args: any; context: any }> = [];
  const hook = (name: string) => async (args: unknown, context: unknown) => {
    calls.push({ hook: name, args, context });
    if (fail) throw new Error('store down');
    return {} as never;
  };
  const errors: string[] = [];
  const target: UserLifecycleTarget = {
    hooks: { userCreated: hook('userCreated'), userModified: hook('userModified'), userDeleted: hook('userDeleted') },
    logger: { info: () => undefined, warn: () => undefined, error: (message) => errors.push(message) },
  };
  return { target, calls, errors };
}

const userSchema = () => new Schema({
  tenantId: String, username: String, email: String, passwordHash: String, totpSecret: String,
  profile: { city: String }, roles: [String],
}, { timestamps: true });

/**
 * Runs the schema's middleware the way mongoose does around a write, without a server (none
 * can run here; test/integration/mongoose-user-plugin.test.ts does the real writes against
 * MONGODB_URI). `schema.s.hooks` is mongoose's hook registry (kareem).
 */
const hooksOf = (schema: Schema) => (schema as unknown as { s: { hooks: any } }).s.hooks;

describe('mongoose binding (schema plugin, no server)', () => {
  const connection = mongoose.createConnection(); // never opened: models and documents only

  after(async () => {
    await connection.close();
  });

  it('registers the documented middleware: pre/post save, post findOneAndUpdate, document deleteOne, findOneAndDelete', () => {
    const schema = userSchema();
    schema.plugin(mongooseUserPlugin, { webhooks: fakeTarget().target });
    const hooks = hooksOf(schema);
    assert.ok(hooks._pres.has('save'));
    for (const name of ['save', 'findOneAndUpdate', 'deleteOne', 'findOneAndDelete']) assert.ok(hooks._posts.has(name), name);
    const deleteOne = hooks._posts.get('deleteOne').find((h: { fn: unknown }) => typeof h.fn === 'function');
    assert.deepEqual({ document: deleteOne.document, query: deleteOne.query }, { document: true, query: false });
  });

  it('refuses options without a webhooks plugin', () => {
    assert.throws(() => userSchema().plugin(mongooseUserPlugin, {} as never), InvalidOptionsError);
    assert.throws(() => userSchema().plugin(mongooseUserPlugin, { webhooks: { nohooks: true } } as never), /webhooks/);
  });

  it('a new document emits USER_CREATED; a changed one USER_MODIFIED with its changed top-level fields, credentials left out', async () => {
    const { target, calls } = fakeTarget();
    const schema = userSchema();
    schema.plugin(mongooseUserPlugin, { webhooks: () => target });
    const Model = connection.model('BindingUserA', schema);
    const hooks = hooksOf(schema);

    const created = new Model({ tenantId: 'acme', username: 'jdoe', email: 'j@example.com', passwordHash: 'h' });
    created.$locals[WEBHOOKS_CONTEXT_LOCAL] = { actor: { id: 'u-1', type: 'user' } };
    await hooks.execPre('save', created, []);
    created.isNew = false;
    await hooks.execPost('save', created, [created]);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].hook, 'userCreated');
    assert.equal(calls[0].args.user.username, 'jdoe');
    assert.ok(!(calls[0].args.user instanceof mongoose.Document), 'the hook gets a plain object');
    assert.deepEqual(calls[0].context, { actor: { id: 'u-1', type: 'user' }, tenantId: 'acme' });

    const existing = Model.hydrate({ _id: new mongoose.Types.ObjectId(), tenantId: 'acme', username: 'jdoe', email: 'j@example.com', passwordHash: 'h' });
    existing.set({ email: 'new@example.com', passwordHash: 'h2', totpSecret: 'S', 'profile.city': 'Oslo' });
    await hooks.execPre('save', existing, []);
    await hooks.execPost('save', existing, [existing]);
    assert.equal(calls[1].hook, 'userModified');
    assert.deepEqual(calls[1].args.changedFields, ['email', 'profile']);
    assert.equal(calls[1].args.user.email, 'new@example.com');

    // Only a credential changed: nothing to report.
    const passwordOnly = Model.hydrate({ _id: new mongoose.Types.ObjectId(), tenantId: 'acme', username: 'x', passwordHash: 'h' });
    passwordOnly.set({ passwordHash: 'h3' });
    await hooks.execPre('save', passwordOnly, []);
    await hooks.execPost('save', passwordOnly, [passwordOnly]);
    assert.equal(calls.length, 2);
  });

  it('findOneAndUpdate reports the update\'s fields; deletes emit USER_DELETED; a missing document emits nothing', async () => {
    const { target, calls } = fakeTarget();
    const schema = userSchema();
    schema.plugin(mongooseUserPlugin, { webhooks: target, tenantOf: () => 'from-option' });
    const Model = connection.model('BindingUserB', schema);
    const hooks = hooksOf(schema);
    // A stand-in for mongoose's Query; returnDocument 'after' so the hook needs no re-read.
    const query = (update: unknown) => ({ getUpdate: () => update, getOptions: () => ({ returnDocument: 'after' }) });
    const doc = { _id: 'u-9', username: 'jdoe', email: 'j@example.com', passwordHash: 'h' };

    await hooks.execPost('findOneAndUpdate', query({ $set: { email: 'x@example.com', passwordHash: 'z' }, $inc: { __v: 1 } }), [doc]);
    assert.deepEqual(calls.map((c) => [c.hook, c.args.changedFields, c.context.tenantId]), [['userModified', ['email'], 'from-option']]);
    await hooks.execPost('findOneAndUpdate', query({ $set: { email: 'y@example.com' } }), [null]);
    await hooks.execPost('findOneAndUpdate', query({ $set: { passwordHash: 'only' } }), [doc]);
    assert.equal(calls.length, 1);
    // includeResultMetadata: the raw result; an upsert that inserted is a creation.
    await hooks.execPost('findOneAndUpdate', query({ $set: { email: 'z@example.com' } }),
      [{ ok: 1, value: doc, lastErrorObject: { updatedExisting: false, upserted: 'u-9' } }]);
    assert.equal(calls[1].hook, 'userCreated');

    await hooks.execPost('findOneAndDelete', query({}), [doc]);
    assert.equal(calls[2].hook, 'userDeleted');
    const hydrated = Model.hydrate({ _id: new mongoose.Types.ObjectId(), username: 'gone' });
    await hooks.execPost('deleteOne', hydrated, [hydrated]);
    assert.equal(calls[3].hook, 'userDeleted');
    assert.equal(calls[3].args.user.username, 'gone');
  });

  it('never fails the write when the event cannot be recorded: the error goes to the plugin logger', async () => {
    const { target, calls, errors } = fakeTarget(true);
    const schema = userSchema();
    schema.plugin(mongooseUserPlugin, { webhooks: target });
    const Model = connection.model('BindingUserC', schema);
    const doc = new Model({ username: 'jdoe' });
    await hooksOf(schema).execPre('save', doc, []);
    await hooksOf(schema).execPost('save', doc, [doc]);
    assert.equal(calls.length, 1);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /Could not record USER_CREATED from the user model; the write itself succeeded/);

    const reported: string[] = [];
    const lazy = userSchema();
    lazy.plugin(mongooseUserPlugin, { webhooks: () => undefined, onError: (_e, type) => reported.push(type) });
    const Lazy = connection.model('BindingUserD', lazy);
    const early = new Lazy({ username: 'early' });
    await hooksOf(lazy).execPre('save', early, []);
    await hooksOf(lazy).execPost('save', early, [early]);
    assert.deepEqual(reported, ['USER_CREATED']);
  });

  it('passes the write\'s session as context.transaction while a transaction is in progress in it, and only then', async () => {
    const { target, calls } = fakeTarget();
    const schema = userSchema();
    schema.plugin(mongooseUserPlugin, { webhooks: target });
    const Model = connection.model('BindingUserE', schema);
    const hooks = hooksOf(schema);
    // Stand-ins for a ClientSession: the binding asks a session only inTransaction().
    const inTransaction = { inTransaction: () => true };
    const withoutTransaction = { inTransaction: () => false };
    const query = (session: unknown) => ({ getUpdate: () => ({ $set: { email: 'x@example.com' } }), getOptions: () => ({ returnDocument: 'after', session }) });
    const doc = { _id: 'u-1', username: 'jdoe', email: 'x@example.com' };

    for (const session of [inTransaction, withoutTransaction, undefined]) {
      const created = new Model({ username: 'new' });
      if (session) created.$session(session as never);
      await hooks.execPre('save', created, []);
      await hooks.execPost('save', created, [created]);
      await hooks.execPost('findOneAndUpdate', query(session), [doc]);
      await hooks.execPost('findOneAndDelete', query(session), [doc]);
      const existing = Model.hydrate({ _id: new mongoose.Types.ObjectId(), username: 'gone' });
      if (session) existing.$session(session as never);
      await hooks.execPost('deleteOne', existing, [existing]);
    }
    assert.deepEqual(calls.map((c) => c.hook), Array(3).fill(['userCreated', 'userModified', 'userDeleted', 'userDeleted']).flat());
    assert.ok(calls.slice(0, 4).every((c) => c.context.transaction === inTransaction), 'in a transaction: passed');
    assert.ok(calls.slice(4).every((c) => !('transaction' in c.context)), 'no transaction in progress: not passed');

    // A transaction the host named in $locals wins over the session.
    const named = { inTransaction: () => true };
    const explicit = new Model({ username: 'explicit' });
    explicit.$session(inTransaction as never);
    explicit.$locals[WEBHOOKS_CONTEXT_LOCAL] = { transaction: named };
    await hooks.execPre('save', explicit, []);
    await hooks.execPost('save', explicit, [explicit]);
    assert.equal(calls.at(-1)!.context.transaction, named);
  });

  it('in a transaction, an event that cannot be recorded fails the write instead of being reported', async () => {
    const { target, errors } = fakeTarget(true);
    const schema = userSchema();
    schema.plugin(mongooseUserPlugin, { webhooks: target });
    const Model = connection.model('BindingUserF', schema);
    const hooks = hooksOf(schema);
    const session = { inTransaction: () => true };
    const doc = new Model({ username: 'jdoe' });
    doc.$session(session as never);
    await hooks.execPre('save', doc, []);
    await assert.rejects(hooks.execPost('save', doc, [doc]), /store down/);
    const query = { getUpdate: () => ({ $set: { email: 'y' } }), getOptions: () => ({ returnDocument: 'after', session }) };
    await assert.rejects(hooks.execPost('findOneAndUpdate', query, [{ _id: 'u-1', email: 'y' }]), /store down/);
    await assert.rejects(hooks.execPost('findOneAndDelete', query, [{ _id: 'u-1' }]), /store down/);
    const existing = Model.hydrate({ _id: new mongoose.Types.ObjectId(), username: 'gone' });
    existing.$session(session as never);
    await assert.rejects(hooks.execPost('deleteOne', existing, [existing]), /store down/);
    assert.deepEqual(errors, [], 'nothing reported and swallowed');

    // The plugin not built yet is no excuse inside a transaction either.
    const lazy = userSchema();
    lazy.plugin(mongooseUserPlugin, { webhooks: () => undefined, onError: () => assert.fail('reported instead of thrown') });
    const Lazy = connection.model('BindingUserG', lazy);
    const early = new Lazy({ username: 'early' });
    early.$session(session as never);
    await hooksOf(lazy).execPre('save', early, []);
    await assert.rejects(hooksOf(lazy).execPost('save', early, [early]), /not available yet/);
  });

  it('in a transaction, a write conflict behind the failure is thrown as the driver\'s labelled error, so withTransaction() retries', async () => {
    const conflict = new mongoose.mongo.MongoServerError({ message: 'WriteConflict', code: 112, errorLabels: ['TransientTransactionError'] });
    const wrapped = Object.assign(new Error('The USER_CREATED event was not recorded'), { cause: conflict });
    const schema = userSchema();
    schema.plugin(mongooseUserPlugin, {
      webhooks: { hooks: { userCreated: async () => { throw wrapped; }, userModified: async () => ({}) as never, userDeleted: async () => ({}) as never } },
    });
    const Model = connection.model('BindingUserH', schema);
    const doc = new Model({ username: 'jdoe' });
    doc.$session({ inTransaction: () => true } as never);
    await hooksOf(schema).execPre('save', doc, []);
    await assert.rejects(hooksOf(schema).execPost('save', doc, [doc]), (error) => error === conflict);
  });

  it('reads changed paths from update documents and reduces them to reportable top-level fields', () => {
    assert.deepEqual(changedPathsOfUpdate({ email: 'a', $set: { 'profile.city': 'x' }, $unset: { phone: '' }, $setOnInsert: { createdAt: 1 } }),
      ['email', 'profile.city', 'phone']);
    assert.equal(changedPathsOfUpdate([{ $set: { a: 1 } }]), undefined);
    assert.deepEqual(changedPathsOfUpdate(null), []);
    const ignored = new Set(['_id', '__v', 'updatedAt']);
    assert.deepEqual(reportableFields(['profile.city', 'profile', 'updatedAt', 'passwordHash', 'recoveryCodes.0', 'apiToken', 'roles.1'], ignored),
      ['profile', 'roles']);
  });
});
