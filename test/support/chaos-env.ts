import assert from 'node:assert/strict';
import type { LedgerAudit } from '../../bench/chaos/delivery-ledger.js';
import type { CrashReport } from '../../bench/chaos/host-handle.js';
import type { ScenarioEnv } from '../../bench/chaos/scenario-kit.js';
import { freshPostgresDatabase } from './postgres-fixture.js';

/**
 * The environment the chaos scenarios get under mocha: databases on the suite's shared
 * PostgreSQL, and a log kept for failure messages (printed as it goes with CHAOS_VERBOSE=1).
 */
export function chaosTestEnv(): ScenarioEnv & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    databases: { createDatabase: () => freshPostgresDatabase() },
    log: (message: string) => {
      lines.push(message);
      if (process.env.CHAOS_VERBOSE) console.log(`      [chaos] ${message}`);
    },
  };
}

/** The host child processes did not die on their own; the message quotes what killed them. */
export function assertNoCrash(crashes: readonly CrashReport[]): void {
  assert.equal(crashes.length, 0, `host crashed:\n${crashes.map((c) => `${c.host} (code ${c.code}, signal ${c.signal}):\n${c.error}`).join('\n\n')}`);
}

/** Every accepted event reached every healthy endpoint, and the store agrees (its deliveries succeeded). */
export function assertNothingLost(ledger: LedgerAudit): void {
  assert.ok(ledger.accepted > 0, 'no hook call was accepted: the scenario tested nothing');
  for (const e of ledger.endpoints) {
    assert.equal(e.lost, 0, `${e.lost} of ${ledger.accepted} accepted events never reached the ${e.name}; the store says ${JSON.stringify(e.lostBecause)} (deliveries by status: ${JSON.stringify(e.storeStatus)})`);
    assert.equal(e.receivedButNotSucceeded, 0, `${e.receivedButNotSucceeded} events reached the ${e.name} but the store does not show them succeeded (deliveries by status: ${JSON.stringify(e.storeStatus)})`);
  }
  assert.equal(ledger.acceptedMissingFromStore, 0, 'accepted events missing from the store');
  assert.equal(ledger.recordedUnacknowledgedUndelivered, 0, 'events the store holds were never delivered');
}
