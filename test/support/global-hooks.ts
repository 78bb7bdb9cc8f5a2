import { stopPostgres } from './postgres-fixture.js';

/** Mocha root hooks: stop the shared PostgreSQL after the last test. */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await stopPostgres();
  },
};
