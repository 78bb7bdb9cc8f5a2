import mongoose from 'mongoose';
import type { AttemptDoc, DeliveryDoc, EventDoc, SequenceDoc, WebhookDoc } from './mongo-documents.js';

const { Schema } = mongoose;

/**
 * Mongoose schemas and models of the Mongo store.
 *
 * Models are registered on the connection the host passes in (`connection.model()`), never
 * on the global mongoose instance, so the plugin's models cannot collide with the host's and
 * two plugin instances with different prefixes can share one connection. Model names carry
 * the collection name; a store created again on the same connection reuses the models.
 *
 * Schema options:
 * - string `_id` (our prefixed ids), no `__v`, no mongoose timestamps (the caller sets dates);
 * - `strict: 'throw'`: a field outside the schema is a bug, so it fails loudly;
 * - `minimize: false`: empty objects (an attempt's `requestHeaders: {}`) are stored as such;
 * - `autoIndex: false`: indexes are built by `MongoStore.init()` (`Model.createIndexes()`),
 *   awaited, so an index error surfaces there instead of as a background model event.
 * - no `required` on strings: mongoose's required validator rejects '' (e.g. a description).
 *
 * No TTL index anywhere: a pending delivery must never expire, and `pruneExpired()` is the one
 * place that deletes (its counts are exact, and the events it deletes depend on the deliveries
 * it deleted just before).
 */

const SCHEMA_OPTIONS = {
  versionKey: false,
  strict: 'throw',
  minimize: false,
  autoIndex: false,
  timestamps: false,
} as const;

export const DEFAULT_COLLECTION_PREFIX = 'webhook_';

/** Delivery fields, shared by the deliveries collection and the plan embedded in an event. */
function deliveryFields() {
  return {
    _id: { type: String, required: true },
    tenantId: { type: String },
    webhookId: { type: String },
    eventId: { type: String },
    eventType: { type: String },
    subject: { type: String, default: null },
    sequence: { type: Number, default: null },
    status: { type: String },
    attempts: { type: Number, required: true },
    nextAttemptAt: { type: Date, default: null },
    leaseOwner: { type: String, default: null },
    leaseExpiresAt: { type: Date, default: null },
    lastAttemptAt: { type: Date, default: null },
    lastStatusCode: { type: Number, default: null },
    lastOutcome: { type: String, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  };
}

export function webhookSchema() {
  const schema = new Schema<WebhookDoc>({
    _id: { type: String, required: true },
    tenantId: { type: String },
    name: { type: String },
    description: { type: String },
    url: { type: String },
    events: { type: [String] },
    notificationType: { type: String },
    secrets: { type: String },
    enabled: { type: Boolean, required: true },
    disabledReason: { type: String, default: null },
    disabledAt: { type: Date, default: null },
    failingSince: { type: Date, default: null },
    // Added after the first release; older documents lack it and read as null.
    rateLimitPerSecond: { type: Number, default: null },
    ordering: { type: String, default: 'none' },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  }, SCHEMA_OPTIONS);
  schema.index({ tenantId: 1, createdAt: 1, _id: 1 }, { name: 'webhooks_tenant' });
  // The disabled webhooks' ids, which every claim and nextDueAt() leave out: a covered scan.
  schema.index({ enabled: 1, _id: 1 }, { name: 'webhooks_enabled' });
  return schema;
}

export function eventSchema() {
  // The plan of an event's deliveries. A separate schema without indexes: a sub-schema's
  // indexes would otherwise be created on the events collection.
  const plannedDelivery = new Schema<DeliveryDoc>(deliveryFields(), SCHEMA_OPTIONS);
  const schema = new Schema<EventDoc>({
    _id: { type: String, required: true },
    tenantId: { type: String },
    // `type` is the field's name here, declared in the documented `{ type: { type: String } }` form.
    type: { type: String },
    body: { type: String },
    idempotencyKey: { type: String, default: null },
    traceParent: { type: String, default: null },
    traceState: { type: String, default: null },
    subject: { type: String, default: null },
    sequence: { type: Number, default: null },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    fanoutComplete: { type: Boolean, required: true },
    // No default: the array exists only while a fan-out is incomplete.
    pendingDeliveries: { type: [plannedDelivery], default: undefined },
  }, SCHEMA_OPTIONS);
  // One use of an idempotency key per tenant; events without a key (null) are not indexed.
  schema.index({ tenantId: 1, idempotencyKey: 1 }, {
    name: 'events_idempotency',
    unique: true,
    partialFilterExpression: { idempotencyKey: { $type: 'string' } },
  });
  schema.index({ expiresAt: 1 }, { name: 'events_expiry' });
  // Only the (rare) events whose fan-out a crash interrupted.
  schema.index({ createdAt: 1 }, { name: 'events_fanout_incomplete', partialFilterExpression: { fanoutComplete: false } });
  return schema;
}

export function deliverySchema() {
  const schema = new Schema<DeliveryDoc>({
    ...deliveryFields(),
    leaseToken: { type: String },
  }, SCHEMA_OPTIONS);
  // The queue: only pending deliveries are in this index, however long the log grows.
  schema.index({ nextAttemptAt: 1 }, { name: 'deliveries_due', partialFilterExpression: { status: 'pending' } });
  // One webhook's pending deliveries by due time: the waiting count, discards, and claims that
  // leave webhooks out by id (`$nin` becomes index bounds that skip a paused webhook's backlog
  // instead of reading it). Not partial: `status` leads each webhook's range instead.
  schema.index({ webhookId: 1, status: 1, nextAttemptAt: 1 }, { name: 'deliveries_webhook_due' });
  schema.index({ tenantId: 1, webhookId: 1, createdAt: -1, _id: -1 }, { name: 'deliveries_log' });
  schema.index({ eventId: 1 }, { name: 'deliveries_event' });
  // Per-subject ordering: a webhook's pending deliveries about one subject, in sequence order.
  schema.index({ webhookId: 1, status: 1, subject: 1, sequence: 1 }, { name: 'deliveries_subject_order' });
  // A webhook's last attempted delivery (admin health): the $sort + $group/$first of
  // `summarizeDeliveries`. Never-attempted deliveries stay out (the query repeats the filter).
  schema.index(
    { tenantId: 1, webhookId: 1, lastAttemptAt: -1, _id: -1 },
    { name: 'deliveries_last_attempt', partialFilterExpression: { lastAttemptAt: { $type: 'date' } } },
  );
  schema.index({ expiresAt: 1 }, { name: 'deliveries_expiry' });
  // Documents without a token (all but the ones being claimed) stay out of this index.
  schema.index({ leaseToken: 1 }, { name: 'deliveries_lease_token', sparse: true });
  return schema;
}

export function attemptSchema() {
  const schema = new Schema<AttemptDoc>({
    _id: { type: String, required: true },
    deliveryId: { type: String },
    tenantId: { type: String },
    webhookId: { type: String },
    attemptNumber: { type: Number, required: true },
    startedAt: { type: Date, required: true },
    durationMs: { type: Number, required: true },
    outcome: { type: String },
    statusCode: { type: Number, default: null },
    requestHeaders: { type: Schema.Types.Mixed, default: () => ({}) },
    responseExcerpt: { type: String, default: null },
    errorMessage: { type: String, default: null },
    expiresAt: { type: Date, required: true },
  }, SCHEMA_OPTIONS);
  schema.index({ deliveryId: 1, startedAt: 1 }, { name: 'attempts_delivery' });
  schema.index({ expiresAt: 1 }, { name: 'attempts_expiry' });
  schema.index({ webhookId: 1 }, { name: 'attempts_webhook' });
  return schema;
}

export function sequenceSchema() {
  return new Schema<SequenceDoc>({
    _id: { type: String, required: true },
    tenantId: { type: String },
    subject: { type: String },
    lastSequence: { type: Number, required: true },
  }, SCHEMA_OPTIONS);
}

export interface MongoModels {
  webhooks: mongoose.Model<WebhookDoc>;
  events: mongoose.Model<EventDoc>;
  deliveries: mongoose.Model<DeliveryDoc>;
  attempts: mongoose.Model<AttemptDoc>;
  sequences: mongoose.Model<SequenceDoc>;
}

/** The model name used on the connection for one collection of the plugin. */
export function modelName(collectionName: string): string {
  return `WebhooksPlugin:${collectionName}`;
}

/** Registers (or reuses) the plugin's models on `connection`. */
export function registerMongoModels(connection: mongoose.Connection, prefix: string): MongoModels {
  function model<T>(name: string, build: () => mongoose.Schema<T>): mongoose.Model<T> {
    const collection = `${prefix}${name}`;
    const existing = connection.models[modelName(collection)];
    if (existing) return existing as mongoose.Model<T>;
    return connection.model<T>(modelName(collection), build(), collection);
  }
  return {
    webhooks: model('webhooks', webhookSchema),
    events: model('events', eventSchema),
    deliveries: model('deliveries', deliverySchema),
    attempts: model('attempts', attemptSchema),
    sequences: model('subject_sequences', sequenceSchema),
  };
}
