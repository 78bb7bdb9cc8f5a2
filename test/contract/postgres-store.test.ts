import { PostgresStore } from '../../plugin/store/postgres/postgres-store.js';
import { freshPostgresDatabase } from '../support/postgres-fixture.js';
import { orderingContract } from './ordering-contract.js';
import { sequenceContract } from './sequence-contract.js';
import { storeContract } from './store-contract.js';

describe('store contract: PostgreSQL (embedded, started by the tests)', function () {
  this.timeout(60_000);
  const createStore = async () => {
    const store = new PostgresStore({ connectionString: await freshPostgresDatabase() });
    await store.init();
    return store;
  };
  storeContract(createStore);
  describe('per-subject sequences', () => sequenceContract(createStore));
  describe('per-subject ordering in claims', () => orderingContract(createStore));
});
