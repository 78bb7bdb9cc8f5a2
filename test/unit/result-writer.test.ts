import assert from 'node:assert/strict';
import { ResultWriter, type PendingResult } from '../../plugin/delivery/result-writer.js';
import type { AttemptCompletion, DeliveryRelease, WebhookStore } from '../../plugin/store/store-port.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A store whose writes fail `failures` times (as a dropped connection makes them), then succeed. */
function flakyStore(failures: number) {
  const written: string[] = [];
  const released: string[] = [];
  let left = failures;
  const store = {
    async completeAttempts(completions: readonly AttemptCompletion[]) {
      if (left > 0) {
        left -= 1;
        throw new Error('terminating connection due to administrator command');
      }
      written.push(...completions.map((c) => c.attempt.deliveryId));
    },
    async releaseDeliveries(releases: readonly DeliveryRelease[]) {
      released.push(...releases.map((r) => r.id));
    },
  } as unknown as WebhookStore;
  return { store, written, released };
}

const result = (deliveryId: string, leaseExpiresAt: Date): PendingResult => ({
  completion: { owner: 'w', status: 'succeeded', nextAttemptAt: null, attempt: { deliveryId } as AttemptCompletion['attempt'] },
  leaseExpiresAt,
});

function writer(store: WebhookStore, now: () => Date) {
  let settled = 0;
  const w = new ResultWriter<PendingResult>({
    store, logger: quiet, clock: now, batchSize: 100, afterWrite: async () => undefined, onSettled: () => { settled += 1; },
  });
  return { w, settledCount: () => settled };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 300 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
};

describe('result writer', () => {
  it('writes the rest of a batch that one result the store always refuses would hold back', async () => {
    const written: string[] = [];
    const store = {
      async completeAttempts(completions: readonly AttemptCompletion[]) {
        if (completions.some((c) => c.attempt.deliveryId === 'msg_poison')) throw new Error('unsupported Unicode escape sequence');
        written.push(...completions.map((c) => c.attempt.deliveryId));
      },
      async releaseDeliveries() {},
    } as unknown as WebhookStore;
    let now = 0;
    const { w } = writer(store, () => new Date(now));
    for (const id of ['msg_a', 'msg_poison', 'msg_b']) w.add(result(id, new Date(60_000)));
    await until(() => written.length === 2);
    assert.deepEqual(written.sort(), ['msg_a', 'msg_b']);
    now = 61_000; // the refused one's lease ends: it is given up, not retried for ever
    await until(() => !w.busy);
    assert.equal(w.busy, false);
  });

  it('keeps results whose write failed and writes them on a later try, with releases', async () => {
    const { store, written, released } = flakyStore(2);
    const { w } = writer(store, () => new Date(0));
    w.add(result('msg_a', new Date(60_000)));
    w.release({ id: 'msg_r', owner: 'w', nextAttemptAt: new Date(0) });
    await until(() => !w.busy);
    assert.deepEqual(written, ['msg_a'], 'written once the store answered again');
    assert.deepEqual(released, ['msg_r']);
  });

  it('gives up on results whose lease has ended (another worker may have the delivery by now)', async () => {
    const { store, written } = flakyStore(1);
    let now = 0;
    const { w } = writer(store, () => new Date(now));
    w.add(result('msg_live', new Date(60_000)));
    w.add(result('msg_expired', new Date(10)));
    now = 50;
    await until(() => !w.busy);
    assert.deepEqual(written, ['msg_live']);
  });

  it('does not retry once stopping: the leases bring the work back', async () => {
    const { store, written } = flakyStore(1);
    const { w } = writer(store, () => new Date(0));
    w.stop();
    w.add(result('msg_a', new Date(60_000)));
    await until(() => !w.busy);
    assert.deepEqual(written, []);
    assert.equal(w.busy, false, 'idle, so a stopping pump can finish');
  });
});
