import assert from 'node:assert/strict';
import { BacklogSnapshot } from '../../plugin/observability/backlog-snapshot.js';
import type { BacklogSummary } from '../../plugin/store/store-port.js';

const SUMMARY: BacklogSummary = { pending: [{ webhookId: 'wh_1', count: 2, oldestCreatedAt: new Date(0) }], webhooks: { enabled: 1, failing: 0, disabled: 0 } };

describe('BacklogSnapshot (the store figures of a metrics scrape)', () => {
  it('answers within its timeout when the store hangs, and starts no second read while one runs', async () => {
    let reads = 0;
    let now = 0;
    const errors: unknown[] = [];
    const snapshot = new BacklogSnapshot({
      read: () => { reads += 1; return new Promise<BacklogSummary>(() => undefined); },
      maxAgeMs: 5_000, timeoutMs: 50, onError: (e) => errors.push(e), now: () => now,
    });
    const started = performance.now();
    assert.equal(await snapshot.get(), null);
    assert.ok(performance.now() - started < 1_000, 'a hung store does not hang the scrape');
    assert.equal(errors.length, 1);
    assert.equal(await snapshot.get(), null, 'the failure is remembered for maxAgeMs');
    now += 6_000;
    assert.equal(await snapshot.get(), null);
    assert.equal(reads, 1, 'the hung read is not joined by another');
  });

  it('reads once for the gauges of one scrape, and again once the answer is older than maxAgeMs', async () => {
    let reads = 0;
    let now = 0;
    const snapshot = new BacklogSnapshot({
      read: async () => { reads += 1; return SUMMARY; }, maxAgeMs: 5_000, timeoutMs: 1_000, onError: () => undefined, now: () => now,
    });
    const answers = await Promise.all([snapshot.get(), snapshot.get(), snapshot.get()]);
    assert.deepEqual(answers, [SUMMARY, SUMMARY, SUMMARY]);
    assert.equal(reads, 1);
    now += 4_999;
    await snapshot.get();
    assert.equal(reads, 1);
    now += 1;
    await snapshot.get();
    assert.equal(reads, 2);
  });
});
