import { stopPostgres } from './postgres-fixture.js';

/** Mocha root hooks: stop the shared PostgreSQL after the last test. */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    // pg's pool.end() resolves before its sockets are closed; a server stopping under them
    // makes their clients emit "terminating connection due to administrator command".
    await new Promise((resolve) => setTimeout(resolve, 300));
    await stopPostgres();
  },
};
