import assert from 'node:assert/strict';
import { QUICK, runFailingEndpoint } from '../../bench/chaos/scenarios/failing-endpoint.js';
import { assertNoCrash, assertNothingLost, chaosTestEnv } from '../support/chaos-env.js';

describe('chaos: 5xx endpoint beside a healthy one', function () {
  this.timeout(QUICK.maxMs + 30_000);

  it('delivers every event to the healthy endpoint while the other answers 500', async () => {
    const result = await runFailingEndpoint(QUICK, chaosTestEnv());
    assertNoCrash(result.crashes);
    assert.ok(result.ledger, 'the scenario did not run');
    assertNothingLost(result.ledger);
    assert.ok((result.bad?.outcomes.http_error ?? 0) > 0, 'the 5xx endpoint was never tried');
  });
});
