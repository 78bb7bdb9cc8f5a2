import assert from 'node:assert/strict';
import { QUICK, runBlackHole } from '../../bench/chaos/scenarios/black-hole.js';
import { assertNoCrash, assertNothingLost, chaosTestEnv } from '../support/chaos-env.js';

describe('chaos: black-hole endpoint beside a healthy one', function () {
  this.timeout(QUICK.maxMs + 30_000);

  it('delivers every event to the healthy endpoint while the black hole swallows requests', async () => {
    const result = await runBlackHole(QUICK, chaosTestEnv());
    assertNoCrash(result.crashes);
    assert.ok(result.ledger, 'the scenario did not run');
    assertNothingLost(result.ledger);
    assert.ok((result.bad?.attempts ?? 0) > 0 || (result.bad?.status.pending ?? 0) > 0, 'the black hole was never tried');
  });
});
