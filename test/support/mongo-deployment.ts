import type mongoose from 'mongoose';

/**
 * What the MongoDB deployment at MONGODB_URI offers, found by trying it rather than by its
 * version or name: MongoDB-compatible servers differ, and real MongoDB decides what the plugin
 * may rely on. Suites gate the tests that need a feature on these answers and say why they
 * skipped. Written independently of the store's own detection (mongo-notifications.ts), so a
 * wrong answer there cannot also silence the test that would catch it.
 */

export type Capability = { available: true } | { available: false; reason: string };

/** `hello` (or the legacy `isMaster`): a replica set member names its set, a mongos says `isdbgrid`. */
export async function deploymentKind(connection: mongoose.Connection): Promise<string> {
  const admin = connection.db!.admin();
  const reply = await admin.command({ hello: 1 }).catch(() => admin.command({ isMaster: 1 }));
  if (typeof reply.setName === 'string') return `replica set ${reply.setName}`;
  if (reply.msg === 'isdbgrid') return 'sharded cluster';
  return 'standalone server';
}

/**
 * Multi-document transactions, by a trial: a write in a transaction that is then aborted must
 * be gone, and one that is committed must be there. A server that takes the transaction fields
 * but applies the writes at once fails the first half.
 */
export async function transactionSupport(connection: mongoose.Connection): Promise<Capability> {
  const kind = await deploymentKind(connection);
  if (kind === 'standalone server') {
    return { available: false, reason: `MONGODB_URI is a ${kind} (hello reports no replica set): transactions need a replica set or a sharded cluster` };
  }
  const scratch = connection.db!.collection(`transaction_trial_${process.pid}`);
  let session: mongoose.mongo.ClientSession | null = null;
  try {
    session = await connection.startSession();
    session.startTransaction();
    await scratch.insertOne({ _id: 'aborted' } as never, { session });
    await session.abortTransaction();
    session.startTransaction();
    await scratch.insertOne({ _id: 'committed' } as never, { session });
    await session.commitTransaction();
    const left = (await scratch.find({}).toArray()).map((d) => String(d._id));
    if (left.join() !== 'committed') return { available: false, reason: `a trial transaction on the ${kind} did not roll back (found ${left.join() || 'nothing'})` };
    return { available: true };
  } catch (error) {
    return { available: false, reason: `a trial transaction on the ${kind} failed: ${String(error)}` };
  } finally {
    if (session?.inTransaction()) await session.abortTransaction().catch(() => undefined);
    await session?.endSession().catch(() => undefined);
    await scratch.drop().catch(() => undefined);
  }
}

/**
 * Change streams, by a trial: one opened on a scratch collection must stay open and report an
 * insert made after it opened.
 */
export async function changeStreamSupport(connection: mongoose.Connection): Promise<Capability> {
  const kind = await deploymentKind(connection).catch((error: unknown) => `unknown deployment (${String(error)})`);
  const scratch = connection.db!.collection(`change_stream_trial_${process.pid}`);
  const stream = scratch.watch([{ $match: { operationType: 'insert' } }]);
  try {
    await stream.tryNext();
    if (stream.closed) return { available: false, reason: `the ${kind} ended a change stream as soon as it was opened` };
    await scratch.insertOne({ probe: 1 });
    for (let round = 0; round < 20; round += 1) {
      if (await stream.tryNext()) return { available: true };
    }
    return { available: false, reason: `a change stream on the ${kind} did not report an insert` };
  } catch (error) {
    return { available: false, reason: `the ${kind} refused a change stream: ${String(error)}` };
  } finally {
    await stream.close().catch(() => undefined);
    await scratch.drop().catch(() => undefined);
  }
}
