import assert from 'node:assert/strict';
import { QUICK, runWorkerSigkill } from '../../bench/chaos/scenarios/worker-sigkill.js';
import { assertNoCrash, assertNothingLost, chaosTestEnv } from '../support/chaos-env.js';

describe('chaos: worker killed with SIGKILL mid-delivery', function () {
  this.timeout(QUICK.maxMs + 30_000);

  it('delivers everything the killed host accepted or stored once a new host runs (duplicates allowed)', async () => {
    const result = await runWorkerSigkill(QUICK, chaosTestEnv());
    assertNoCrash(result.crashes);
    assert.ok(result.atKill.pending > 0, 'nothing was left pending at the kill: it did not hit mid-delivery');
    assertNothingLost(result.ledger);
  });
});
