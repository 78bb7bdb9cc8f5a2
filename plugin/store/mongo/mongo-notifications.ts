import mongoose from 'mongoose';
import type { Db as AgendaDb } from 'mongodb';
import { MongoBackend } from '@agendajs/mongo-backend';
import { InMemoryNotificationChannel, type AgendaBackend } from 'agenda';
import { withNotificationChannel } from '../agenda-backend-with-channel.js';

/**
 * The MongoDB store's wake-up side: Agenda's backend with an in-process notification channel, and
 * a change stream that wakes idle workers when any process records deliveries.
 *
 * Change streams need a replica set or a sharded cluster (MongoDB's documentation: "Change
 * streams are available for replica sets and sharded clusters"); a standalone server refuses
 * them. That is detected once per store, reported once, and workers then rely on their sweep,
 * every `delivery.pollIntervalMs`, as they always could. Nothing here throws into the host or
 * holds up its start().
 */

/**
 * Agenda's backend on the store's database. Without a notification channel Agenda runs a job
 * queued with `now()` only at its next scan (`processEvery`, here pollIntervalMs: a wake-up would
 * wake nothing); the in-process channel makes this process's own `now()` start the job at once,
 * as the PostgreSQL backend's LISTEN channel does. Other processes are reached by the deliveries
 * change stream below (or find the job at their next scan).
 */
export function createMongoAgendaBackend(db: mongoose.mongo.Db, prefix: string): AgendaBackend {
  // Nothing here emits an unhandled 'error' (read from @agendajs/mongo-backend 4.0.3 and agenda
  // 6.2.6's dist): MongoBackend, its job repository and its logger are no EventEmitters and, given
  // a Db, open no client of their own; their failed operations reject into Agenda, which emits
  // them on the Agenda instance (the delivery worker listens). The in-memory channel emits
  // 'error' only for a handler that throws synchronously (Agenda's handler is async); the
  // listener is there all the same, because an unheard 'error' would end the host.
  const backend = new MongoBackend({
    // `connection.db` is a Db of the driver copy bundled with mongoose (7.8); MongoBackend's type
    // names the top-level `mongodb` package (7.9). Same driver major, same Db API, one shared
    // `bson` (so ObjectIds MongoBackend creates serialise); only the declarations differ
    // (private members make TypeScript treat the two classes as unrelated).
    mongo: db as unknown as AgendaDb,
    collection: `${prefix}agenda_jobs`,
    logCollection: `${prefix}agenda_logs`,
  });
  const channel = new InMemoryNotificationChannel({ channelName: `${prefix}agenda_jobs` });
  channel.on('error', () => undefined);
  return withNotificationChannel(backend, channel);
}

/** Raised (reported, never thrown) once when the deployment refuses change streams. */
export class ChangeStreamsUnavailableError extends Error {
  constructor(deployment: string, cause: unknown) {
    super(`MongoDB refused a change stream (${deployment}: ${messageOf(cause)}). Change streams need a replica set or a `
      + 'sharded cluster; workers find deliveries other processes record by polling, every delivery.pollIntervalMs', { cause });
    this.name = 'ChangeStreamsUnavailableError';
  }
}

/** Inserts only, and of each only its resume token (`_id`, which a change stream must keep): a change is a wake-up, nothing more. */
const NEW_DELIVERIES = [{ $match: { operationType: 'insert' } }, { $project: { _id: 1 } }];
/** How long an empty getMore waits on the server for a change (awaitData); MongoDB's default, said out loud. */
const MAX_AWAIT_MS = 1_000;
/**
 * An empty answer sooner than this means the server does not wait for changes as MongoDB does
 * (some wire-compatible servers answer at once): the next getMore waits out the rest, so such a
 * server gets a few requests a second rather than a busy loop.
 */
const MIN_EMPTY_ROUND_MS = 250;
/** listenForNewWork() returns after this at the latest; a stream not open by then opens in the background. */
const FIRST_OPEN_WAIT_MS = 2_000;
/** The stopper waits this long at most for the server to hear that the stream is closed. */
const CLOSE_WAIT_MS = 2_000;
/** Re-opening after a failure backs off to at most this; polling covers the gap. */
const MAX_RETRY_DELAY_MS = 5_000;

type Stop = () => Promise<void>;
const stopNothing: Stop = async () => undefined;

/**
 * The store's `listenForNewWork` (see EventLog.listenForNewWork): a change stream on the
 * deliveries collection calls `onWork` after every insert another process (or this one) commits;
 * inserts in a transaction appear only once it commits. Built once per store, so the refusal of
 * a standalone server is detected and reported once, whatever the number of workers started.
 *
 * Failures, and what happens to each:
 * - the server refuses the stream at opening, and `hello` says it is neither a replica set member
 *   nor a mongos: reported once with ChangeStreamsUnavailableError; no stream from then on;
 * - a resumable error while open (a dropped connection, a primary stepping down): the driver
 *   resumes the stream by itself after the last change it saw;
 * - anything else (the driver gave up resuming, the server restarted for longer than
 *   serverSelectionTimeoutMS, the collection was dropped): reported, and the stream is opened
 *   anew with backoff, then `onWork` is called once for what may have been recorded meanwhile.
 */
export function createNewDeliveryListener(deliveries: () => mongoose.mongo.Collection, db: () => mongoose.mongo.Db) {
  let refused = false;

  return async function listenForNewWork(onWork: () => void, onError: (error: unknown) => void): Promise<Stop> {
    if (refused) return stopNothing;
    let closed = false;
    let stream: mongoose.mongo.ChangeStream | null = null;
    let returned = false;
    let firstSettled!: () => void;
    const firstAttempt = new Promise<void>((resolve) => { firstSettled = resolve; });
    const pause = new Pause();

    // A throwing onWork must not pass for a broken stream.
    const wake = () => {
      try {
        onWork();
      } catch (error) {
        onError(error);
      }
    };

    const run = async () => {
      let failures = 0;
      while (!closed) {
        let current: mongoose.mongo.ChangeStream | null = null;
        let open = false;
        try {
          current = deliveries().watch(NEW_DELIVERIES, { maxAwaitTimeMS: MAX_AWAIT_MS });
          stream = current;
          // The first tryNext() sends the aggregate that opens the stream: the server accepts
          // or refuses it here. A stream closed at once was ended by the server: no change
          // stream a worker can wait on.
          let started = Date.now();
          let change = await current.tryNext();
          if (closed) break;
          if (current.closed) throw new StreamEndedAtOnce();
          open = true;
          firstSettled();
          // Opened after a failure, or after the host's start() moved on: deliveries recorded
          // while no stream was open have announced nothing.
          if (failures > 0 || returned) wake();
          failures = 0;
          while (!closed) {
            if (change) {
              // One wake-up per batch: the rest of the batch says nothing more.
              while (current.bufferedCount() > 0) await current.tryNext();
              wake();
            } else {
              await pause.for(MIN_EMPTY_ROUND_MS - (Date.now() - started));
            }
            started = Date.now();
            change = await current.tryNext();
          }
        } catch (error) {
          if (closed) break;
          // Only an answer of the server can be a refusal: a network error says nothing of it.
          if (!open && (error instanceof mongoose.mongo.MongoServerError || error instanceof StreamEndedAtOnce) && await isStandalone(db)) {
            refused = true;
            onError(new ChangeStreamsUnavailableError('a standalone server', error));
            break;
          }
          onError(error);
          failures += 1;
          firstSettled();
          await pause.for(Math.min(MAX_RETRY_DELAY_MS, 100 * 2 ** Math.min(failures, 6)));
        } finally {
          if (stream === current) stream = null;
          // Closed by the driver already after any error it did not resume; a no-op then.
          void current?.close().catch(() => undefined);
        }
      }
      firstSettled();
    };

    const running = run().catch((error: unknown) => onError(error));
    await settledWithin(firstAttempt, FIRST_OPEN_WAIT_MS);
    returned = true;
    return async () => {
      closed = true;
      pause.cancel();
      const current = stream;
      stream = null;
      // close() sends killCursors; a getMore in flight then ends, and the loop with it.
      if (current) await settledWithin(current.close().catch(() => undefined), CLOSE_WAIT_MS);
      await settledWithin(running, CLOSE_WAIT_MS);
    };
  };
}

/**
 * Whether the server is a standalone one, asked with `hello` (the legacy `isMaster` where a
 * server predates it): a replica set member reports `setName`, a mongos `msg: 'isdbgrid'`. A
 * failure to ask counts as "not known to be standalone", so the stream is tried again.
 */
async function isStandalone(db: () => mongoose.mongo.Db): Promise<boolean> {
  try {
    const admin = db().admin();
    const reply = await admin.command({ hello: 1 }).catch((error: unknown) => {
      if (error instanceof mongoose.mongo.MongoServerError) return admin.command({ isMaster: 1 });
      throw error;
    });
    return typeof reply.setName !== 'string' && reply.msg !== 'isdbgrid';
  } catch {
    return false;
  }
}

class StreamEndedAtOnce extends Error {
  constructor() {
    super('the server ended the change stream as soon as it was opened');
  }
}

/** A wait that stop() cuts short. */
class Pause {
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;

  for(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(() => this.cancel(), ms);
    });
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

/** Resolves when `work` settles or after `ms`, whichever comes first; never rejects. */
async function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.then(() => undefined, () => undefined),
    new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); }),
  ]);
  clearTimeout(timer);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
