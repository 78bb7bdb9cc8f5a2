import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import {
  toAttemptDoc,
  toAttemptRecord,
  toDeliveryDoc,
  toDeliveryRecord,
  toEventDoc,
  toEventRecord,
  toWebhookDoc,
  toWebhookRecord,
} from '../../plugin/store/mongo/mongo-documents.js';
import { modelName, registerMongoModels } from '../../plugin/store/mongo/mongo-models.js';
import { MongoStore } from '../../plugin/store/mongo/mongo-store.js';
import { attemptRecord, deliveryRecord, eventRecord, webhookRecord } from '../support/records.js';

/**
 * What can be checked of the MongoDB store without a server (none can run here; the contract
 * suite runs against one when MONGODB_URI is set): the record <-> document mappers, the models
 * registered on a connection, their indexes, and documents going through mongoose casting and
 * BSON the way an insert and a lean read do.
 */
const { BSON } = mongoose.mongo;
const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);

/** A document as an insert stores it and a lean query returns it: mongoose casting, then BSON. */
function throughMongo<T>(model: mongoose.Model<T>, doc: object): T {
  const cast = new model(doc).toObject({ depopulate: true, virtuals: false, getters: false, transform: false });
  return BSON.deserialize(BSON.serialize(cast)) as T;
}

describe('MongoDB store documents (no server needed)', () => {
  const webhook = webhookRecord({ events: ['USER_*', 'ROLE_CREATED'], description: '', failingSince: at(5) });
  const event = eventRecord({ createdAt: at(0), idempotencyKey: 'login-42' });
  const delivery = deliveryRecord(event, webhook, { attempts: 2, lastStatusCode: 503, lastOutcome: 'http_error', lastAttemptAt: at(7) });
  const attempt = attemptRecord(delivery, { startedAt: at(8), expiresAt: at(9), responseExcerpt: null, statusCode: null, outcome: 'timeout' });

  describe('mappers', () => {
    it('round-trips each record type, id <-> _id', () => {
      const wDoc = toWebhookDoc(webhook);
      assert.equal(wDoc._id, webhook.id);
      assert.ok(!('id' in wDoc));
      assert.deepEqual(toWebhookRecord(wDoc), webhook);

      const eDoc = toEventDoc(event);
      assert.equal(eDoc._id, event.id);
      assert.deepEqual(toEventRecord(eDoc), event);

      const dDoc = toDeliveryDoc(delivery);
      assert.equal(dDoc._id, delivery.id);
      assert.ok(!('leaseToken' in dDoc), 'a new delivery has no lease token');
      assert.deepEqual(toDeliveryRecord(dDoc), delivery);

      const aDoc = toAttemptDoc(attempt);
      assert.equal(aDoc._id, attempt.id);
      assert.deepEqual(toAttemptRecord(aDoc), attempt);
    });

    it('preserves nulls, and reads a missing nullable field as null', () => {
      const plain = webhookRecord();
      assert.deepEqual(toWebhookRecord(toWebhookDoc(plain)), plain);
      assert.equal(toEventRecord(toEventDoc(eventRecord())).idempotencyKey, null);
      const { traceParent: _tp, traceState: _ts, ...olderEvent } = toEventDoc(eventRecord());
      assert.deepEqual([toEventRecord(olderEvent).traceParent, toEventRecord(olderEvent).traceState], [null, null]);
      const { lastOutcome: _omitted, ...withoutOutcome } = toDeliveryDoc(deliveryRecord(event, webhook));
      const record = toDeliveryRecord(withoutOutcome as ReturnType<typeof toDeliveryDoc>);
      assert.equal(record.lastOutcome, null);
      assert.equal(record.leaseOwner, null);
      assert.equal(record.nextAttemptAt?.getTime(), event.createdAt.getTime());
    });

    it('never lets store-internal fields reach a record', () => {
      const leased = { ...toDeliveryDoc(delivery), leaseToken: 'secret-token' };
      assert.deepEqual(toDeliveryRecord(leased), delivery);
      assert.ok(!('leaseToken' in toDeliveryRecord(leased)));
      const pendingEvent = { ...toEventDoc(event), fanoutComplete: false, pendingDeliveries: [toDeliveryDoc(delivery)] };
      assert.deepEqual(Object.keys(toEventRecord(pendingEvent)).sort(),
        ['body', 'createdAt', 'expiresAt', 'id', 'idempotencyKey', 'sequence', 'subject', 'tenantId', 'traceParent', 'traceState', 'type']);
      const withVersion = { ...toWebhookDoc(webhook), __v: 0 };
      assert.deepEqual(toWebhookRecord(withVersion), webhook);
    });

    it('reads a webhook stored before it had a rate limit as having none', () => {
      const { rateLimitPerSecond: _absent, ...older } = toWebhookDoc(webhook);
      assert.equal(toWebhookRecord(older).rateLimitPerSecond, null);
      const limited = webhookRecord({ rateLimitPerSecond: 5 });
      assert.deepEqual(toWebhookRecord(toWebhookDoc(limited)), limited);
    });

    it('copies arrays and header maps instead of sharing them', () => {
      const doc = toWebhookDoc(webhook);
      assert.notEqual(doc.events, webhook.events);
      const aDoc = toAttemptDoc(attempt);
      assert.notEqual(aDoc.requestHeaders, attempt.requestHeaders);
      assert.deepEqual(toAttemptRecord({ ...aDoc, requestHeaders: {} }).requestHeaders, {});
    });

    it('stores whole milliseconds of duration, like the PostgreSQL store', () => {
      assert.equal(toAttemptDoc(attemptRecord(delivery, { durationMs: 12.6 })).durationMs, 13);
    });
  });

  describe('models on a connection (not opened)', () => {
    let connection: mongoose.Connection;
    beforeEach(() => {
      connection = mongoose.createConnection();
    });
    afterEach(async () => {
      await connection.close();
    });

    it('registers its models on the given connection, named by prefixed collection', () => {
      const store = new MongoStore({ connection });
      assert.equal(store.kind, 'mongo');
      assert.deepEqual(
        Object.values(store.models).map((m) => m.collection.collectionName),
        ['webhook_webhooks', 'webhook_events', 'webhook_deliveries', 'webhook_attempts', 'webhook_subject_sequences'],
      );
      assert.equal(connection.models[modelName('webhook_events')], store.models.events);
      assert.equal(mongoose.models[modelName('webhook_events')], undefined, 'nothing on the global mongoose');
    });

    it('reuses the models of an earlier store, and keeps other prefixes apart', () => {
      const first = new MongoStore({ connection });
      const second = new MongoStore({ connection });
      assert.equal(second.models.deliveries, first.models.deliveries);
      const other = new MongoStore({ connection, collectionPrefix: 'tenant2_' });
      assert.notEqual(other.models.deliveries, first.models.deliveries);
      assert.equal(other.models.deliveries.collection.collectionName, 'tenant2_deliveries');
    });

    it('rejects a prefix that is not a plain collection-name prefix', () => {
      assert.throws(() => new MongoStore({ connection, collectionPrefix: 'bad$prefix' }), /Invalid collection prefix/);
      assert.throws(() => new MongoStore({ connection, collectionPrefix: '' }), /Invalid collection prefix/);
    });

    it('defines the indexes the queries rely on, and no TTL index', () => {
      const models = registerMongoModels(connection, 'webhook_');
      const indexes = (m: mongoose.Model<any>) => m.schema.indexes().map(([keys, options]) => ({ keys, options }));
      assert.deepEqual(indexes(models.webhooks), [
        { keys: { tenantId: 1, createdAt: 1, _id: 1 }, options: { name: 'webhooks_tenant' } },
        { keys: { enabled: 1, _id: 1 }, options: { name: 'webhooks_enabled' } },
      ]);
      assert.deepEqual(indexes(models.events), [
        {
          keys: { tenantId: 1, idempotencyKey: 1 },
          options: { name: 'events_idempotency', unique: true, partialFilterExpression: { idempotencyKey: { $type: 'string' } } },
        },
        { keys: { expiresAt: 1 }, options: { name: 'events_expiry' } },
        { keys: { createdAt: 1 }, options: { name: 'events_fanout_incomplete', partialFilterExpression: { fanoutComplete: false } } },
      ]);
      assert.deepEqual(indexes(models.deliveries), [
        { keys: { nextAttemptAt: 1 }, options: { name: 'deliveries_due', partialFilterExpression: { status: 'pending' } } },
        { keys: { webhookId: 1, status: 1, nextAttemptAt: 1 }, options: { name: 'deliveries_webhook_due' } },
        { keys: { tenantId: 1, webhookId: 1, createdAt: -1, _id: -1 }, options: { name: 'deliveries_log' } },
        { keys: { eventId: 1 }, options: { name: 'deliveries_event' } },
        { keys: { webhookId: 1, status: 1, subject: 1, sequence: 1 }, options: { name: 'deliveries_subject_order' } },
        {
          keys: { tenantId: 1, webhookId: 1, lastAttemptAt: -1, _id: -1 },
          options: { name: 'deliveries_last_attempt', partialFilterExpression: { lastAttemptAt: { $type: 'date' } } },
        },
        { keys: { expiresAt: 1 }, options: { name: 'deliveries_expiry' } },
        { keys: { leaseToken: 1 }, options: { name: 'deliveries_lease_token', sparse: true } },
      ]);
      assert.deepEqual(indexes(models.sequences), []);
      assert.deepEqual(indexes(models.attempts), [
        { keys: { deliveryId: 1, startedAt: 1 }, options: { name: 'attempts_delivery' } },
        { keys: { expiresAt: 1 }, options: { name: 'attempts_expiry' } },
        { keys: { webhookId: 1 }, options: { name: 'attempts_webhook' } },
      ]);
      for (const model of Object.values(models)) {
        assert.equal(model.schema.get('autoIndex'), false, 'indexes are built by init(), awaited');
        for (const [, options] of model.schema.indexes()) assert.equal(options.expireAfterSeconds, undefined);
      }
    });

    it('uses string ids, no version key and strict schemas', () => {
      const models = registerMongoModels(connection, 'webhook_');
      for (const model of Object.values(models)) {
        assert.equal(model.schema.path('_id').instance, 'String');
        assert.equal(model.schema.get('versionKey'), false);
        assert.equal(model.schema.get('strict'), 'throw');
      }
      assert.equal(models.events.schema.path('type').instance, 'String', 'a field named "type"');
      assert.throws(() => new models.webhooks({ ...toWebhookDoc(webhook), extra: 1 }), /not in schema/);
    });

    it('stores each record unchanged through mongoose casting and BSON', () => {
      const models = registerMongoModels(connection, 'webhook_');
      assert.deepEqual(toWebhookRecord(throughMongo(models.webhooks, toWebhookDoc(webhook))), webhook);
      const disabled = webhookRecord({ enabled: false, disabledReason: 'gone', disabledAt: at(3), rateLimitPerSecond: 20 });
      assert.deepEqual(toWebhookRecord(throughMongo(models.webhooks, toWebhookDoc(disabled))), disabled);
      assert.deepEqual(toDeliveryRecord(throughMongo(models.deliveries, toDeliveryDoc(delivery))), delivery);
      const fresh = deliveryRecord(event, webhook);
      assert.deepEqual(toDeliveryRecord(throughMongo(models.deliveries, toDeliveryDoc(fresh))), fresh);
      assert.deepEqual(toAttemptRecord(throughMongo(models.attempts, toAttemptDoc(attempt))), attempt);
      const noHeaders = attemptRecord(delivery, { requestHeaders: {} });
      const stored = throughMongo(models.attempts, toAttemptDoc(noHeaders));
      assert.deepEqual(stored.requestHeaders, {}, 'an empty header map is kept (minimize: false)');
      assert.deepEqual(toAttemptRecord(stored), noHeaders);
    });

    it('keeps nulls as stored nulls, and adds no field of its own', () => {
      const models = registerMongoModels(connection, 'webhook_');
      const stored = throughMongo(models.deliveries, toDeliveryDoc(deliveryRecord(event, webhook))) as object;
      assert.deepEqual(Object.keys(stored).sort(), Object.keys(toDeliveryDoc(delivery)).sort());
      assert.equal((stored as { leaseOwner: unknown }).leaseOwner, null);
    });

    it('embeds the planned deliveries in an event as complete delivery documents', () => {
      const models = registerMongoModels(connection, 'webhook_');
      const planned = [toDeliveryDoc(delivery), toDeliveryDoc(deliveryRecord(event, webhookRecord()))];
      const stored = throughMongo(models.events, { ...toEventDoc(event), fanoutComplete: false, pendingDeliveries: planned });
      assert.equal(stored.fanoutComplete, false);
      assert.deepEqual(stored.pendingDeliveries, planned, 'string ids kept, no subdocument ObjectIds added');
      assert.deepEqual(toEventRecord(stored), event);
      const complete = throughMongo(models.events, { ...toEventDoc(event), fanoutComplete: true });
      assert.ok(!('pendingDeliveries' in complete), 'no empty plan is stored');
    });

    it('asks for an open connection before creating the Agenda backend', () => {
      const store = new MongoStore({ connection });
      assert.throws(() => store.createAgendaBackend(), /needs an open connection/);
    });
  });
});
