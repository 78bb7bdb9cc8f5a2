import type mongoose from 'mongoose';
import { ForeignTransactionError } from '../../errors.js';
import type { HostTransaction } from '../store-port.js';

/**
 * Checks that a host's `context.transaction` can carry the plugin's writes: a ClientSession
 * (mongoose's `startSession()`, or the driver's) of the very MongoClient the store's connection
 * uses, with a transaction in progress. Transactions need a replica set or a sharded cluster;
 * a standalone server refuses `startTransaction()` before the plugin ever sees the session.
 */
export function sessionOf(transaction: HostTransaction, connection: mongoose.Connection): mongoose.mongo.ClientSession {
  const session = transaction as Partial<mongoose.mongo.ClientSession>;
  if (typeof session.inTransaction !== 'function' || !('client' in session)) {
    throw new ForeignTransactionError('the MongoDB store takes a ClientSession (connection.startSession()) with a transaction started');
  }
  if (session.client !== connection.getClient()) {
    throw new ForeignTransactionError('the session belongs to another MongoClient than the plugin\'s connection');
  }
  if (!session.inTransaction()) {
    throw new ForeignTransactionError('the session has no transaction in progress (call session.startTransaction() or use connection.transaction())');
  }
  return session as mongoose.mongo.ClientSession;
}
