import mongoose from 'mongoose';
import { MongoStore } from '../../plugin/store/mongo/mongo-store.js';
import type { WebhookStore } from '../../plugin/store/store-port.js';
import { orderingContract } from './ordering-contract.js';
import { sequenceContract } from './sequence-contract.js';
import { storeContract } from './store-contract.js';

/**
 * The shared store contract against MongoDB. No MongoDB server can run on the machines this
 * project is built on, so the suite runs only where `MONGODB_URI` names one (a standalone
 * server is enough: the store uses no transactions and no change streams), e.g.
 * `MONGODB_URI=mongodb://127.0.0.1:27017 npx mocha test/contract/mongo-store.test.ts`.
 * Each store gets a fresh database, dropped when the contract closes the store.
 */
const uri = process.env.MONGODB_URI;
const SKIPPED = 'skipped: set MONGODB_URI to run the contract suite against MongoDB';

if (uri) {
  describe('store contract: MongoDB (MONGODB_URI)', function () {
    this.timeout(60_000);
    let counter = 0;
    const createStore = async (): Promise<WebhookStore> => {
      counter += 1;
      const connection = mongoose.createConnection(uri, {
        dbName: `webhooks_test_${process.pid}_${counter}`,
        serverSelectionTimeoutMS: 10_000,
      });
      await connection.asPromise();
      const store = new MongoStore({ connection });
      await store.init();
      const closeStore = store.close.bind(store);
      // The contract closes every store it creates; the test owns this connection, so closing
      // the store here also drops its database and closes the connection.
      return Object.assign(store, {
        async close(): Promise<void> {
          await closeStore();
          try {
            await connection.dropDatabase();
          } finally {
            await connection.close();
          }
        },
      });
    };
    storeContract(createStore);
    describe('per-subject sequences', () => sequenceContract(createStore));
    describe('per-subject ordering in claims', () => orderingContract(createStore));
  });
} else {
  describe('store contract: MongoDB', () => {
    it(SKIPPED, function () {
      console.log(`      MongoDB store contract ${SKIPPED}`);
      this.skip();
    });
  });
}
