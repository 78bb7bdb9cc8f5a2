import assert from 'node:assert/strict';
import { DeliveryPump } from '../../plugin/delivery/delivery-pump.js';
import { EndpointGate } from '../../plugin/delivery/endpoint-gate.js';
import { DEFAULT_DELIVERY_OPTIONS } from '../../plugin/options.js';
import type { WebhookStore } from '../../plugin/store/store-port.js';

/** A store with nothing due: enough to drive the pump's own bookkeeping. */
const emptyStore = { claimDueDeliveries: async () => [] } as unknown as WebhookStore;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

function pump(): DeliveryPump {
  return new DeliveryPump({
    store: emptyStore, box: {} as never, sender: {} as never, options: { ...DEFAULT_DELIVERY_OPTIONS }, logger: quiet,
    clock: () => new Date(), random: Math.random, owner: 'test', onWebhookDisabled: () => undefined,
    gate: new EndpointGate({ maxInFlight: 16, concurrency: 128, breaker: { threshold: 5, cooldownMs: 30_000 } }),
  });
}

const settles = (promise: Promise<unknown>, ms = 1_000) =>
  Promise.race([promise.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), ms))]);

describe('delivery pump', () => {
  it('lets a running job finish when stop() cancels a claim that new events had scheduled', async () => {
    const p = pump();
    const run = p.run(30_000);
    p.pokeSoon(); // an event recorded while the job runs: a claim is scheduled a few ms out
    await new Promise((resolve) => setImmediate(resolve)); // the job's own claim has finished by now
    assert.equal(await settles(p.drain()), true, 'drain() resolves');
    assert.equal(await settles(run), true, 'the job\'s run() resolves too, so stop() can finish');
  });

  it('returns from run() once nothing is due', async () => {
    assert.equal(await settles(pump().run(30_000)), true);
  });
});
