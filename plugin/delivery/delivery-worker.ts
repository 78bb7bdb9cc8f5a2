import { Agenda, type AgendaBackend } from 'agenda';
import type { Logger, DeliveryOptions } from '../options.js';
import type { RepeatLimitedLog } from '../repeat-limited-log.js';
import type { WebhookStore } from '../store/store-port.js';
import type { DeliveryPump } from './delivery-pump.js';

/**
 * Agenda job names; prefixed so they never collide with a host's own Agenda jobs. The deliver
 * job is named per worker process (`webhooks:deliver:<workerName>`): see {@link DeliveryWorker}.
 */
export const JOB_DELIVER = 'webhooks:deliver';
export const JOB_SWEEP = 'webhooks:sweep';
export const JOB_PRUNE = 'webhooks:prune';

/** One deliver job hands over after this long, so no Agenda lock is held for ages under load. */
const MAX_JOB_RUN_MS = 30_000;
const PRUNE_EVERY_MS = 3_600_000;
/** Longest stop() waits to remove this process's queued deliver job. */
const CANCEL_ON_STOP_MS = 1_000;
/** Another worker's deliver job still queued after this long belongs to a process that is gone. */
const ORPHAN_DELIVER_JOB_MS = 600_000;
/** A queued deliver job that nobody here started within this time is queued again. */
const KICK_STALE_MS = 2_000;
/**
 * Floor of the sweep's Agenda lock lifetime. Agenda locks a recurring job ahead of its run, so
 * a worker killed (SIGKILL, OOM) at almost any moment dies holding the sweep's lock, and until
 * that lock expires no other worker sweeps: with the default lifetime (2+ minutes) a dead
 * worker's leased deliveries and every due retry waited that long. The sweep is a few quick
 * queries and safe to run twice, so a short lifetime costs nothing.
 */
const SWEEP_LOCK_MIN_MS = 5_000;

export interface DeliveryWorkerDeps {
  store: WebhookStore;
  pump: DeliveryPump;
  options: DeliveryOptions;
  logger: Logger;
  /** For errors that repeat while the database is down (see repeat-limited-log.ts). */
  faultLog: RepeatLimitedLog;
  clock: () => Date;
  name: string;
}

/**
 * Runs delivery as Agenda jobs on the plugin's own store:
 * - `webhooks:deliver` runs the {@link DeliveryPump}: it claims due deliveries in batches and
 *   sends them, and is queued (coalesced) whenever an event is recorded;
 * - `webhooks:sweep`, every `pollIntervalMs`, finishes writes a crash interrupted and queues a
 *   deliver job when retries fall due or a dead worker's leases expire;
 * - `webhooks:prune`, hourly, deletes what outlived its retention.
 * Agenda's locks make each sweep and prune happen in one process; the per-delivery leases in
 * the store make sure no two processes send the same delivery.
 *
 * The deliver job wakes *this* process's pump, so its name carries the worker's name and only
 * this process defines (and so locks) it. With one name for all, Agenda 6 locks every queued
 * job of a name it defines, however many it may run at once (concurrency 1 here), and keeps them
 * queued locally: a busy worker took the wake-ups of the idle ones and sat on them for up to
 * MAX_JOB_RUN_MS while those idled (in the scale-out benchmark, 1 or 2 of 4 worker processes
 * used no CPU at all through a drain).
 */
export class DeliveryWorker {
  private readonly agenda: Agenda;
  private readonly backend: AgendaBackend;
  private kickedAt = 0;
  private started = false;
  private readonly running = new Set<Promise<void>>();
  private stopListening: (() => Promise<void>) | null = null;
  private readonly deliverJob: string;

  constructor(private readonly deps: DeliveryWorkerDeps) {
    this.backend = deps.store.createAgendaBackend();
    this.agenda = new Agenda({
      backend: this.backend,
      name: deps.name,
      // A number: Agenda reads a string through human-interval ('100ms' would become 5 s).
      processEvery: deps.options.pollIntervalMs,
      defaultLockLifetime: Math.max(deps.options.leaseMs * 2, MAX_JOB_RUN_MS * 4),
      removeOnComplete: true,
    });
    this.agenda.on('error', (error: unknown) => deps.faultLog('error', 'Agenda error', { error: String(error) }));
    // No lockLimit: with lockLimit 1 Agenda refuses to lock a freshly queued deliver job while
    // the previous one still counts as locked and waits for its next scan (p99 ~0.9 s, measured).
    this.deliverJob = `${JOB_DELIVER}:${deps.name}`;
    this.agenda.define(this.deliverJob, () => this.track(this.deliver()), { concurrency: 1, removeOnComplete: true });
    this.agenda.define(JOB_SWEEP, () => this.track(this.sweep()), {
      concurrency: 1,
      lockLifetime: Math.max(SWEEP_LOCK_MIN_MS, deps.options.pollIntervalMs * 5),
    });
    this.agenda.define(JOB_PRUNE, () => this.track(this.prune()), { concurrency: 1 });
  }

  async start(): Promise<void> {
    await this.agenda.start();
    this.started = true;
    // Deliveries recorded by other processes (web nodes with runWorker: false) wake this
    // worker at once where the store can announce them; elsewhere the sweep finds them.
    this.stopListening = (await this.deps.store.listenForNewWork?.(
      () => this.kick(),
      (error) => this.deps.faultLog('warn', 'Listening for new deliveries failed; polling meanwhile', { error: String(error) }),
    )) ?? null;
    await this.agenda.every(this.deps.options.pollIntervalMs, JOB_SWEEP);
    await this.agenda.every(PRUNE_EVERY_MS, JOB_PRUNE);
    this.kick();
  }

  /**
   * Work was recorded: if this process is already delivering, the running job takes it at
   * once; otherwise queue one deliver job (at most one queued at a time from this process).
   */
  kick(): void {
    if (!this.started) return;
    if (this.deps.pump.active) {
      this.deps.pump.pokeSoon();
      return;
    }
    const now = Date.now();
    if (now - this.kickedAt < KICK_STALE_MS) return;
    this.kickedAt = now;
    this.agenda.now(this.deliverJob).catch((error: unknown) => {
      this.kickedAt = 0;
      // The sweep finds the work at its next run; nothing is lost, it is only later.
      this.deps.logger.warn('Could not queue a delivery job', { error: String(error) });
    });
  }

  /** Stops taking work, lets in-flight deliveries finish and be recorded, then stops Agenda. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    // Each step runs whatever the one before did: with the database down, Agenda's stop()
    // rejects (it unlocks jobs in the database), and the steps after it must still happen.
    await this.stopListening?.().catch((error: unknown) => this.deps.logger.warn('Stopping LISTEN failed', { error: String(error) }));
    await this.deps.pump.drain();
    // Nobody else runs this process's deliver job: a queued one would only be left behind (the
    // prune removes it later if this fails). Bounded: a database that does not answer must not
    // keep Agenda from stopping.
    let cancelWait: NodeJS.Timeout | undefined;
    await Promise.race([
      this.agenda.cancel({ name: this.deliverJob }).catch(() => undefined),
      new Promise((resolve) => { cancelWait = setTimeout(resolve, CANCEL_ON_STOP_MS); }),
    ]);
    clearTimeout(cancelWait);
    // Agenda stops starting jobs; then we wait for our own handlers rather than using
    // agenda.drain(): with removeOnComplete, Agenda 6.2.6 can emit 'complete' before it drops
    // the job from its running list, and its drain() then waits forever. (stop() also unlocks
    // a job still running here; another process may then run it, which the per-delivery
    // leases make harmless.)
    try {
      await this.agenda.stop(false);
    } catch (error) {
      this.deps.logger.warn('Agenda did not stop cleanly (is the database down?); its jobs unlock when their locks expire', {
        error: String(error),
      });
      // Agenda disconnects its LISTEN channel only when stop() succeeds: without this, a
      // stopped plugin would reconnect to the database once it is back.
      await this.backend.notificationChannel?.disconnect().catch(() => undefined);
    }
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private track(run: Promise<void>): Promise<void> {
    this.running.add(run);
    return run.finally(() => this.running.delete(run));
  }

  private async deliver(): Promise<void> {
    this.kickedAt = 0;
    const workLeft = await this.deps.pump.run(MAX_JOB_RUN_MS);
    if (workLeft && this.started) this.kick();
  }

  private async sweep(): Promise<void> {
    const now = this.deps.clock();
    await this.deps.store.completeInterruptedWork(new Date(now.getTime() - 5_000));
    if (this.deps.pump.active) {
      this.deps.pump.pokeSoon();
      return;
    }
    const due = await this.deps.store.nextDueAt();
    if (due && due.getTime() <= now.getTime()) this.kick();
  }

  private async prune(): Promise<void> {
    const removed = await this.deps.store.pruneExpired(this.deps.clock());
    if (removed.events + removed.deliveries + removed.attempts > 0) this.deps.logger.info('Pruned expired records', { ...removed });
    await this.removeOrphanDeliverJobs();
  }

  /** Deliver jobs queued for worker processes that died before running them (nobody else ever will). */
  private async removeOrphanDeliverJobs(): Promise<void> {
    const before = Date.now() - ORPHAN_DELIVER_JOB_MS;
    const { jobs } = await this.agenda.queryJobs({ search: `${JOB_DELIVER}:` });
    const orphans = jobs.filter((job) => job.name.startsWith(`${JOB_DELIVER}:`) && job.name !== this.deliverJob
      && job.nextRunAt !== null && job.nextRunAt !== undefined && new Date(job.nextRunAt).getTime() < before);
    if (orphans.length > 0) await this.agenda.cancel({ ids: orphans.map((job) => String(job._id)) });
  }
}
