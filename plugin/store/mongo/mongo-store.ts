import type mongoose from 'mongoose';
import type { AgendaBackend } from 'agenda';
import type {
  AttemptCompletion, AttemptRecord, ClaimOptions, ClaimedDelivery, DeliveryRelease, RequeueResult, WebhookStore,
} from '../store-port.js';
import { ComposedStore } from '../composed-store.js';
import { toAttemptDoc } from './mongo-documents.js';
import { MongoDeliveryQueue } from './mongo-delivery-queue.js';
import { MongoDeliveryLog } from './mongo-delivery-log.js';
import { MongoEvents } from './mongo-events.js';
import { MongoWebhooks } from './mongo-webhooks.js';
import { createMongoAgendaBackend, createNewDeliveryListener } from './mongo-notifications.js';
import { DEFAULT_COLLECTION_PREFIX, type MongoModels, registerMongoModels } from './mongo-models.js';

export interface MongoStoreOptions {
  /** The host's mongoose connection. The store registers its models on it and never closes it. */
  connection: mongoose.Connection;
  /** Prefix of every collection the plugin creates, Agenda's included. Default `webhook_`. */
  collectionPrefix?: string;
  /** Told about connection errors no operation is waiting for; logged, never thrown. */
  onConnectionError?: (error: unknown, where: string) => void;
}

/**
 * The MongoDB store, for a standalone server as well as a replica set: without a host
 * transaction it uses no multi-document transaction. What Postgres does in one statement is
 * done here with single-document atomic updates, unique indexes and idempotent writes; each
 * part (webhooks, events, the delivery queue, the delivery log) is in its own file and says how.
 */
export class MongoStore extends ComposedStore implements WebhookStore {
  readonly kind = 'mongo';
  /** The mongoose models on the host's connection (for diagnostics and tests). */
  readonly models: MongoModels;
  private readonly connection: mongoose.Connection;
  private readonly prefix: string;
  private readonly queue: MongoDeliveryQueue;
  private readonly newDeliveries: ReturnType<typeof createNewDeliveryListener>;

  constructor(options: MongoStoreOptions) {
    super();
    if (!options?.connection) throw new Error('MongoStore needs a mongoose connection');
    this.connection = options.connection;
    // A dropped connection cannot end the host (read from mongoose 9.12 and driver 7.8): the
    // driver reconnects by itself, and an operation meanwhile waits for a server up to
    // serverSelectionTimeoutMS, then rejects to its caller. The driver's MongoClient and
    // Topology keep a no-op 'error' listener of their own, and a mongoose Connection emits
    // 'error' only when it has listeners (e.g. a failed initial connection). This listener
    // reports such errors; with it mongoose also counts a failed initial connection as handled
    // (gh-14377) rather than an unhandled rejection, while init() still rejects (asPromise()).
    const onConnectionError = options.onConnectionError ?? (() => undefined);
    this.connection.on('error', (error: unknown) => onConnectionError(error, 'mongoose connection'));
    this.prefix = options.collectionPrefix ?? DEFAULT_COLLECTION_PREFIX;
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,30}$/.test(this.prefix)) throw new Error(`Invalid collection prefix "${this.prefix}"`);
    this.models = registerMongoModels(this.connection, this.prefix);
    this.queue = new MongoDeliveryQueue(this.models);
    this.webhooks = new MongoWebhooks(this.models);
    this.events = new MongoEvents(this.models, this.connection);
    this.log = new MongoDeliveryLog(this.models, this.queue);
    this.newDeliveries = createNewDeliveryListener(
      () => this.openDb().collection(this.models.deliveries.collection.collectionName), () => this.openDb());
  }

  /** Needs the host's connection open, or being opened (it waits for it). */
  async init(): Promise<void> {
    // Resolves at once when connected; waits for a connection the host is still opening.
    await this.connection.asPromise();
    for (const model of Object.values(this.models) as mongoose.Model<unknown>[]) {
      // init(): the collection (mongoose's autoCreate); createIndexes(): every schema index,
      // whatever the host's autoIndex setting. createIndex is a no-op for an identical index,
      // and nothing here drops an index (unlike syncIndexes), which suits a shared database.
      await model.init();
      await model.createIndexes();
    }
  }

  /** Nothing to release: the connection is the host's. */
  async close(): Promise<void> {}

  createAgendaBackend(): AgendaBackend {
    return createMongoAgendaBackend(this.openDb(), this.prefix);
  }

  /**
   * A change stream on the deliveries collection where the deployment has them (a replica set or
   * a sharded cluster); elsewhere resolves with a no-op and workers poll (mongo-notifications.ts).
   */
  listenForNewWork(onWork: () => void, onError: (error: unknown) => void): Promise<() => Promise<void>> {
    return this.newDeliveries(onWork, onError);
  }

  private openDb(): mongoose.mongo.Db {
    const db = this.connection.db;
    if (!db) throw new Error('MongoStore needs an open connection: await store.init() first');
    return db;
  }

  // ---------------------------------------------------------------------------------------------
  // Delivery queue (see mongo-delivery-queue.ts)

  claimDueDeliveries(options: ClaimOptions): Promise<ClaimedDelivery[]> {
    return this.queue.claim(options);
  }

  releaseDeliveries(releases: readonly DeliveryRelease[]): Promise<void> {
    return this.queue.release(releases);
  }

  releaseClaim(owner: string, leaseUntil: Date, now: Date): Promise<number> {
    return this.queue.releaseClaim(owner, leaseUntil, now);
  }

  nextDueAt(): Promise<Date | null> {
    return this.queue.nextDueAt();
  }

  completeAttempts(completions: readonly AttemptCompletion[]): Promise<void> {
    return this.queue.complete(completions);
  }

  async insertAttempt(attempt: AttemptRecord): Promise<void> {
    await this.models.attempts.insertOne(toAttemptDoc(attempt));
  }

  requeueDelivery(tenantId: string, id: string, now: Date): Promise<RequeueResult> {
    return this.queue.requeue(tenantId, id, now);
  }

  discardPendingDeliveries(tenantId: string, webhookId: string, now: Date): Promise<number> {
    return this.queue.discardPending(tenantId, webhookId, now);
  }

  requeueFailedSince(tenantId: string, webhookId: string, since: Date, now: Date): Promise<number> {
    return this.queue.requeueFailedSince(tenantId, webhookId, since, now);
  }
}
