import type mongoose from 'mongoose';
import type { DeliveryRecord, EventLog, EventRecord, RecordEventOptions, RecordEventResult } from '../store-port.js';
import { withSequence } from '../store-port.js';
import { type DeliveryDoc, toDeliveryDoc, toEventDoc, toEventRecord } from './mongo-documents.js';
import { insertIgnoringDuplicates, isDuplicateKeyError } from './mongo-duplicate-keys.js';
import { sessionOf } from './mongo-host-session.js';
import type { MongoModels } from './mongo-models.js';

/** The events collection, with the deliveries each event fans out to and the per-subject sequences. */
export class MongoEvents implements Omit<EventLog, 'listenForNewWork'> {
  constructor(private readonly models: MongoModels, private readonly connection: mongoose.Connection) {}

  /**
   * In the host's transaction (`options.transaction`, a ClientSession): the subject's number,
   * the event and its deliveries are written in that session, and exist exactly when it commits.
   * A used idempotency key is looked up first and nothing is written for it: a duplicate-key
   * error inside a transaction would abort the host's whole transaction.
   *
   * Without a transaction, in three single-document-atomic steps:
   * 1. insert the event with its planned deliveries embedded and `fanoutComplete: false`: once
   *    this succeeds nothing can be lost, the plan is durable with the event;
   * 2. insert the deliveries (duplicates of an earlier, interrupted run are ignored);
   * 3. mark the fan-out complete and drop the embedded plan.
   * A crash between 1 and 3 is finished by a retry with the same ids (the event insert reports
   * a duplicate `_id`, and the existing event's own plan is completed) or by
   * `completeInterruptedWork()`. A used idempotency key is a duplicate on the unique
   * (tenantId, idempotencyKey) index: nothing is written and the first event is returned.
   * The subject's number is taken before step 1; a crash between the two leaves a gap in the
   * subject's numbers, which is what a gap means to a receiver anyway: an event it never got.
   */
  async recordEvent(event: EventRecord, deliveries: readonly DeliveryRecord[], options: RecordEventOptions = {}): Promise<RecordEventResult> {
    if (options.transaction) return this.recordInTransaction(event, deliveries, sessionOf(options.transaction, this.connection));
    // A repeated idempotency key (a host retrying a call) must not use up a number.
    if (event.subject !== null && event.idempotencyKey !== null) {
      const existing = await this.findConflictingEvent(event);
      if (existing) return this.existingResult(existing);
    }
    const numbered = await this.numbered(event, deliveries);
    const planned = numbered.deliveries.map(toDeliveryDoc);
    // Two passes cover the one race where the conflicting event is pruned between our insert
    // and our lookup; a second conflict then finds its event.
    for (let pass = 0; pass < 2; pass += 1) {
      try {
        if (planned.length === 0) {
          await this.models.events.insertOne({ ...toEventDoc(numbered.event), fanoutComplete: true });
        } else {
          await this.models.events.insertOne({ ...toEventDoc(numbered.event), fanoutComplete: false, pendingDeliveries: planned });
          try {
            await this.finishFanOut(event.id, planned);
          } catch {
            // The event and its planned deliveries are durable in one document now; the sweep's
            // completeInterruptedWork() writes the deliveries. Failing here would tell the host
            // "nothing was recorded" about an event that will be delivered.
          }
        }
        return { eventId: event.id, created: true, deliveryCount: planned.length, sequence: numbered.event.sequence ?? null };
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      const existing = await this.findConflictingEvent(event);
      if (!existing) continue;
      if (existing.fanoutComplete === false) await this.finishFanOut(existing._id, existing.pendingDeliveries ?? []);
      await this.giveBack(numbered.event);
      return this.existingResult(existing);
    }
    throw new Error(`Event ${event.id} conflicts with an event that no longer exists`);
  }

  private async recordInTransaction(event: EventRecord, deliveries: readonly DeliveryRecord[],
    session: mongoose.mongo.ClientSession): Promise<RecordEventResult> {
    const existing = await this.findConflictingEvent(event, session);
    if (existing) return this.existingResult(existing, session);
    const numbered = await this.numbered(event, deliveries, session);
    await this.models.events.insertMany([{ ...toEventDoc(numbered.event), fanoutComplete: true }], { session });
    if (numbered.deliveries.length > 0) await this.models.deliveries.insertMany(numbered.deliveries.map(toDeliveryDoc), { session });
    return { eventId: event.id, created: true, deliveryCount: deliveries.length, sequence: numbered.event.sequence ?? null };
  }

  /**
   * A repeat of an idempotency key that raced the first call took a number before its insert
   * found the conflict: give it back unless a later event has taken the next one meanwhile, so a
   * gap keeps meaning an event the receiver did not get.
   */
  private async giveBack(event: EventRecord): Promise<void> {
    if (event.subject === null || event.sequence === null || event.sequence === undefined) return;
    await this.models.sequences.updateOne(
      { _id: sequenceId(event.tenantId, event.subject), lastSequence: event.sequence }, { $inc: { lastSequence: -1 } });
  }

  /** The event and its deliveries with the subject's next number (unchanged without a subject). */
  private async numbered(event: EventRecord, deliveries: readonly DeliveryRecord[], session?: mongoose.mongo.ClientSession) {
    if (event.subject === null) return { event: { ...event, sequence: null }, deliveries: deliveries.map((d) => ({ ...d, subject: null, sequence: null })) };
    const counter = await this.models.sequences.findOneAndUpdate(
      { _id: sequenceId(event.tenantId, event.subject) },
      { $inc: { lastSequence: 1 }, $setOnInsert: { tenantId: event.tenantId, subject: event.subject } },
      { upsert: true, returnDocument: 'after', session },
    ).lean();
    const sequence = counter!.lastSequence;
    return {
      event: { ...event, sequence, body: withSequence(event.body, sequence) },
      deliveries: deliveries.map((d) => ({ ...d, subject: event.subject, sequence })),
    };
  }

  private async existingResult(existing: { _id: string; sequence?: number | null }, session?: mongoose.mongo.ClientSession): Promise<RecordEventResult> {
    const deliveryCount = await this.models.deliveries.countDocuments({ eventId: existing._id }, { session });
    return { eventId: existing._id, created: false, deliveryCount, sequence: existing.sequence ?? null };
  }

  async findEvent(tenantId: string, id: string): Promise<EventRecord | null> {
    const doc = await this.models.events.findOne({ _id: id, tenantId }, { pendingDeliveries: 0 }).lean();
    return doc ? toEventRecord(doc) : null;
  }

  /** Finishes every fan-out that a crash left incomplete, for events created before `olderThan`. */
  async completeInterruptedWork(olderThan: Date): Promise<number> {
    let finished = 0;
    const cursor = this.models.events
      .find({ fanoutComplete: false, createdAt: { $lt: olderThan } }, { _id: 1, pendingDeliveries: 1 })
      .lean()
      .cursor();
    for await (const doc of cursor) {
      await this.finishFanOut(doc._id, doc.pendingDeliveries ?? []);
      finished += 1;
    }
    return finished;
  }

  /** Steps 2 and 3 of `recordEvent`; idempotent, so any number of runs may overlap. */
  private async finishFanOut(eventId: string, planned: readonly DeliveryDoc[]): Promise<void> {
    if (planned.length > 0) await insertIgnoringDuplicates(this.models.deliveries, planned);
    await this.models.events.updateOne(
      { _id: eventId, fanoutComplete: false },
      { $set: { fanoutComplete: true }, $unset: { pendingDeliveries: 1 } },
    );
  }

  private async findConflictingEvent(event: EventRecord, session?: mongoose.mongo.ClientSession) {
    const projection = { _id: 1, fanoutComplete: 1, pendingDeliveries: 1, sequence: 1 } as const;
    const sameId = await this.models.events.findOne({ _id: event.id }, projection, { session }).lean();
    if (sameId || event.idempotencyKey === null) return sameId;
    return this.models.events
      .findOne({ tenantId: event.tenantId, idempotencyKey: event.idempotencyKey }, projection, { session })
      .lean();
  }
}

/** Tenant ids never contain '/' (see TENANT_ID_SCHEMA), so this id names one (tenant, subject). */
function sequenceId(tenantId: string, subject: string): string {
  return `${tenantId}/${subject}`;
}
