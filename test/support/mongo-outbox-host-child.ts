/**
 * Child process for `test/chaos/mongo-outbox-sigkill.test.ts`: a host that creates users in
 * MongoDB transactions, each with its USER_CREATED event written in the same transaction
 * (`context.transaction`), as fast as it can, until the parent kills it with SIGKILL.
 *
 * Environment: MONGODB_URI, WEBHOOKS_DB (database), WEBHOOKS_KEY_ID / WEBHOOKS_KEY (the parent's
 * encryption key), WEBHOOKS_RUN (prefix of this run's user ids), WEBHOOKS_LANES (transactions in
 * flight at once). Prints `ready` once it starts writing. The truth the parent checks is in the
 * database: the users that exist are the committed transactions.
 */
import mongoose from 'mongoose';
import { createWebhooksPlugin } from '../../plugin/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const connection = await mongoose.createConnection(env('MONGODB_URI'), { dbName: env('WEBHOOKS_DB') }).asPromise();
const plugin = createWebhooksPlugin({
  storage: { mongo: { connection } },
  encryptionKeys: [{ id: env('WEBHOOKS_KEY_ID'), key: env('WEBHOOKS_KEY') }],
  egress: { allow: ['127.0.0.0/8'] },
  // A web node: the parent's worker delivers. The kill then lands in the host's writes only.
  runWorker: false,
  logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
});
await plugin.start();
const users = connection.collection('host_users');
const run = env('WEBHOOKS_RUN');
let next = 0;

async function lane(): Promise<never> {
  for (;;) {
    const id = `${run}-${(next += 1)}`;
    const session = await connection.startSession();
    try {
      session.startTransaction();
      await users.insertOne({ _id: id } as never, { session });
      await plugin.hooks.userCreated({ user: { id, username: id } }, { transaction: session, tenantId: 'default' });
      await session.commitTransaction();
    } catch (error) {
      // A write conflict or a timeout: this user was not created, and neither was its event.
      if (session.inTransaction()) await session.abortTransaction().catch(() => undefined);
      process.stderr.write(`transaction ${id} failed: ${String(error)}\n`);
    } finally {
      await session.endSession();
    }
  }
}

process.stdout.write('ready\n');
await Promise.all(Array.from({ length: Number(env('WEBHOOKS_LANES')) }, () => lane()));
