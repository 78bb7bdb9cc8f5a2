import { stopPostgres } from './postgres-fixture.js';

/** Mocha root hooks: stop the shared PostgreSQL after the last test. */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    // Stopping removes the cluster's files too (every suite's database): on a loaded machine that took over 30 s once.
    this.timeout(120_000);
    // pg's pool.end() resolves before its sockets are closed; a server stopping under them
    // makes their clients emit "terminating connection due to administrator command".
    await new Promise((resolve) => setTimeout(resolve, 300));
    await stopPostgres();
  },
};
