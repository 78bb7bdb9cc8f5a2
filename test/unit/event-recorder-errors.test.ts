import assert from 'node:assert/strict';
import { EventNotRecordedError, ForeignTransactionError } from '../../plugin/errors.js';
import { EventCatalogue } from '../../plugin/events/catalogue.js';
import { EventRecorder } from '../../plugin/events/event-recorder.js';
import { PayloadShaper } from '../../plugin/events/payload-schemas/payload-shaper.js';
import { mapUser } from '../../plugin/events/user-mapper.js';
import type { SubscriptionCache } from '../../plugin/events/subscription-cache.js';
import type { WebhookStore } from '../../plugin/store/store-port.js';
import { eventRecord } from '../support/records.js';

/**
 * How the recorder reports a store that fails a write: as EventNotRecordedError, except what the
 * host must see as it is - a transaction the store refused, and a transient transaction conflict
 * that the host's withTransaction() retries only when it carries the driver's label. The store
 * here is a stand-in that fails on purpose: these are the recorder's decisions, whatever store.
 */
describe('event recorder: store errors', () => {
  const catalogue = new EventCatalogue([]);
  function recorderFailingWith(error: unknown) {
    const store = { recordEvent: async () => { throw error; } } as unknown as WebhookStore;
    return new EventRecorder({
      store, subscriptions: {} as SubscriptionCache, catalogue, clock: () => new Date(), retentionMs: 86_400_000,
      firstAttemptDelayMs: 0, maxEventBytes: 65_536, announceToOtherWorkers: false, onDeliveriesRecorded: () => undefined,
      timeoutMs: 1_000, shaper: new PayloadShaper({ catalogue, mapUser, logger: { info() {}, warn() {}, error() {} } }),
    });
  }
  const transient = Object.assign(new Error('WriteConflict'), { hasErrorLabel: (label: string) => label === 'TransientTransactionError' });

  it('passes a transient transaction conflict through as the driver raised it, inside a host transaction', async () => {
    await assert.rejects(recorderFailingWith(transient).persist(eventRecord(), [], 1_000, {}), (e) => e === transient);
  });

  it('wraps the same error outside a transaction, where nothing retries a transaction', async () => {
    await assert.rejects(recorderFailingWith(transient).persist(eventRecord(), [], 1_000), EventNotRecordedError);
  });

  it('passes a refused transaction through, and wraps any other failure', async () => {
    const refused = new ForeignTransactionError('not ours');
    await assert.rejects(recorderFailingWith(refused).persist(eventRecord(), [], 1_000, {}), (e) => e === refused);
    await assert.rejects(recorderFailingWith(new Error('boom')).persist(eventRecord(), [], 1_000, {}), EventNotRecordedError);
  });
});
