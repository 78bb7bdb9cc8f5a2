import type { Logger } from '../options.js';
import type { AttemptCompletion, DeliveryRelease, WebhookStore } from '../store/store-port.js';

/** Results are written back in bulk at most this long after the attempt ended. */
const FLUSH_DELAY_MS = 50;
/** A failed write-back is tried again after this long, doubling up to FLUSH_RETRY_MAX_MS. */
const FLUSH_RETRY_MS = 100;
const FLUSH_RETRY_MAX_MS = 2_000;

/** One attempt's result on its way to the store. */
export interface PendingResult {
  completion: AttemptCompletion;
  /** The claim's lease end: past it, another worker may have the delivery, and the result is moot. */
  leaseExpiresAt: Date | null;
}

export interface ResultWriterDeps<T extends PendingResult> {
  store: WebhookStore;
  logger: Logger;
  clock: () => Date;
  /** Writes at once rather than after FLUSH_DELAY_MS once this many results wait. */
  batchSize: number;
  /** Runs after each successful write with the results it wrote (webhook health). */
  afterWrite: (written: T[]) => Promise<void>;
  /** Told whenever a write ends, so the pump can tell whether it is idle. */
  onSettled: () => void;
}

/**
 * Writes attempt results and released claims back to the store in bulk: one round trip for
 * many deliveries. A failed write (a dropped connection, a database restart) is kept and tried
 * again with backoff while the leases last: dropping it would have every one of those
 * deliveries sent a second time when its lease ran out.
 */
export class ResultWriter<T extends PendingResult> {
  private results: T[] = [];
  private releases: DeliveryRelease[] = [];
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  /** After stop(): one last try, and nothing is kept if it fails. */
  private stopping = false;

  constructor(private readonly deps: ResultWriterDeps<T>) {}

  /** Results or releases are waiting or being written. */
  get busy(): boolean {
    return this.results.length > 0 || this.releases.length > 0 || this.writing !== null || this.timer !== null;
  }

  add(result: T): void {
    this.results.push(result);
    this.schedule();
  }

  release(release: DeliveryRelease): void {
    this.releases.push(release);
    this.schedule();
  }

  /** The worker is stopping: failed writes are no longer retried (leases bring the work back). */
  stop(): void {
    this.stopping = true;
  }

  private schedule(): void {
    if (this.timer || this.writing) return;
    const delay = this.failures > 0
      ? Math.min(FLUSH_RETRY_MAX_MS, FLUSH_RETRY_MS * 2 ** (this.failures - 1))
      : this.results.length >= this.deps.batchSize ? 0 : FLUSH_DELAY_MS;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.writing = this.write().finally(() => {
        this.writing = null;
        if (this.results.length > 0 || this.releases.length > 0) this.schedule();
        this.deps.onSettled();
      });
    }, delay);
  }

  /** What the last successful write wrote (all of its results, unless one was set apart). */
  private lastWritten: T[] = [];

  /**
   * Writes the batch in one round trip. After two failures in a row it writes each result on
   * its own instead: a result the store refuses whatever the connection (one PostgreSQL cannot
   * store) would otherwise hold back every other result of its batch until their leases ran
   * out, and all those deliveries would be sent again. Results that still fail alone are kept
   * (and given up with their leases, as always); the rest are written.
   */
  private async completeAll(results: T[]): Promise<void> {
    if (this.failures < 2 || results.length < 2) {
      await this.deps.store.completeAttempts(results.map((r) => r.completion));
      this.lastWritten = results;
      return;
    }
    const written: T[] = [];
    const refused: T[] = [];
    let lastError: unknown;
    for (const result of results) {
      try {
        await this.deps.store.completeAttempts([result.completion]);
        written.push(result);
      } catch (error) {
        refused.push(result);
        lastError = error;
      }
    }
    this.lastWritten = written;
    if (refused.length === 0) return;
    if (written.length > 0) void this.deps.afterWrite(written).catch(() => undefined);
    results.splice(0, results.length, ...refused);
    throw lastError;
  }

  private async write(): Promise<void> {
    const results = this.results;
    const releases = this.releases;
    this.results = [];
    this.releases = [];
    try {
      await this.completeAll(results);
      await this.deps.store.releaseDeliveries(releases);
      if (this.failures > 0) this.deps.logger.info('Writing delivery results works again', { count: results.length });
      this.failures = 0;
    } catch (error) {
      this.failures += 1;
      const now = this.deps.clock().getTime();
      const keep = this.stopping ? [] : results.filter((r) => (r.leaseExpiresAt?.getTime() ?? 0) > now);
      if (this.failures === 1 || keep.length < results.length) {
        this.deps.logger.error('Writing delivery results failed; retrying while their leases last', {
          error: String(error), count: results.length, given_up: results.length - keep.length,
        });
      }
      this.results.unshift(...keep);
      // A lost release costs nothing: the lease runs out and the delivery is due again.
      if (!this.stopping) this.releases.unshift(...releases);
      return;
    }
    try {
      await this.deps.afterWrite(this.lastWritten);
    } catch (error) {
      this.deps.logger.error('Updating webhook health failed', { error: String(error) });
    }
  }
}
