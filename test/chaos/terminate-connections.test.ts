import assert from 'node:assert/strict';
import { QUICK, runTerminateConnections } from '../../bench/chaos/scenarios/terminate-connections.js';
import { assertNoCrash, assertNothingLost, chaosTestEnv } from '../support/chaos-env.js';

describe('chaos: every plugin connection terminated', function () {
  this.timeout(QUICK.maxMs + 30_000);

  it('survives pg_terminate_backend on all its connections and delivers every accepted event', async () => {
    const result = await runTerminateConnections(QUICK, chaosTestEnv());
    assertNoCrash(result.crashes);
    assert.ok(result.terminated.every((n) => n > 0), `some round terminated no connection: ${result.terminated.join(', ')}`);
    assert.ok(result.acceptedAfterLast > 0, 'no hook call was accepted after the last round');
    assertNothingLost(result.ledger);
  });
});
