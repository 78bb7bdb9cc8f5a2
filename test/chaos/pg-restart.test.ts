import assert from 'node:assert/strict';
import { QUICK, runPgRestart } from '../../bench/chaos/scenarios/pg-restart.js';
import { assertNoCrash, assertNothingLost, chaosTestEnv } from '../support/chaos-env.js';

describe('chaos: PostgreSQL restarted under load', function () {
  this.timeout(QUICK.maxMs + 30_000);

  it('survives, rejects hook calls while the database is down, and delivers every accepted event once it is back', async () => {
    const result = await runPgRestart(QUICK, chaosTestEnv());
    assertNoCrash(result.crashes);
    assert.ok(result.outage.calls > 0, 'no hook call fell into the outage: the scenario tested nothing');
    assert.equal(result.outage.unsettled, 0, 'hook calls made during the outage never settled');
    assert.ok(result.acceptedAfterRestart > 0, 'no hook call was accepted after PostgreSQL came back');
    assertNothingLost(result.ledger);
  });
});
