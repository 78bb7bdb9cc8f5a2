import assert from 'node:assert/strict';
import { QUICK, runSlowDns } from '../../bench/chaos/scenarios/slow-dns.js';
import { assertNoCrash, assertNothingLost, chaosTestEnv } from '../support/chaos-env.js';

describe('chaos: slow DNS for one endpoint', function () {
  this.timeout(QUICK.maxMs + 30_000);

  it('delivers every event to the endpoint whose name resolves at once while another name answers too late', async function () {
    const result = await runSlowDns(QUICK, chaosTestEnv());
    if (!result.supported) {
      console.log(`      (not supported yet: ${result.report.figures[0]?.value})`);
      this.skip();
    }
    assertNoCrash(result.crashes);
    assert.ok(result.ledger, 'the scenario did not run');
    assert.ok(result.dnsQueries.fast > 0, 'the plugin never asked the test DNS server for the healthy name');
    assert.ok(result.dnsQueries.slow > 0, 'the plugin never asked the test DNS server for the slow name');
    assertNothingLost(result.ledger);
  });
});
