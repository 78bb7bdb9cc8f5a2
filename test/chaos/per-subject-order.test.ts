import assert from 'node:assert/strict';
import { QUICK, runPerSubjectOrder } from '../../bench/chaos/scenarios/per-subject-order.js';
import { assertNoCrash, chaosTestEnv } from '../support/chaos-env.js';

describe('chaos: per-subject ordering with two worker processes and a receiver failing 20 %', function () {
  this.timeout(QUICK.maxMs + 30_000);

  it('delivers every event, and each subject\'s in increasing sequence (repeats allowed, never a lower one)', async () => {
    const env = chaosTestEnv();
    const result = await runPerSubjectOrder(QUICK, env);
    assertNoCrash(result.crashes);
    const { audit } = result;
    assert.ok(audit.failedOnPurpose > 0, 'the receiver failed nothing: the scenario tested nothing');
    assert.equal(audit.outOfOrder, 0, `receipts out of order: ${audit.examples.join('; ')}`);
    assert.equal(audit.aheadOfPrevious, 0, 'a sequence arrived before the one before it had succeeded');
    assert.notEqual(result.drainedMs, null, `deliveries still pending at the end: ${JSON.stringify(result.storeStatus)}\n${env.lines.join('\n')}`);
    assert.deepEqual(result.storeStatus, { succeeded: QUICK.events });
    assert.equal(audit.subjectsComplete, QUICK.subjects);
  });
});
