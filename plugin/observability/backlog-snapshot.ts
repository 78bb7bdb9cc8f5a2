import type { BacklogSummary } from '../store/store-port.js';

export interface BacklogSnapshotOptions {
  /** Reads the store (WebhookStore.summarizeBacklog). */
  read: () => Promise<BacklogSummary>;
  /** A read this recent answers again without asking the store. */
  maxAgeMs: number;
  /** Longest a scrape waits for the store; past it the scrape goes on without store figures. */
  timeoutMs: number;
  /** Told once per read that failed or outlived `timeoutMs`. */
  onError: (error: unknown) => void;
  now?: () => number;
}

/**
 * The store-backed figures of a scrape (pending deliveries, webhooks by state), read at most
 * once per `maxAgeMs` and shared by every gauge of the scrape and by scrapers that arrive
 * together (several Prometheus replicas). A slow database never hangs a scrape: past
 * `timeoutMs` the answer is null (the gauges then show no samples rather than stale ones), and
 * while a read is still running no second one is started, so scrapes cannot pile queries onto
 * a struggling database. A failed read is remembered as long as a good one, for the same reason.
 */
export class BacklogSnapshot {
  private current: { summary: BacklogSummary | null; at: number } | null = null;
  private reading: Promise<BacklogSummary> | null = null;
  private answering: Promise<BacklogSummary | null> | null = null;
  private readonly now: () => number;

  constructor(private readonly options: BacklogSnapshotOptions) {
    this.now = options.now ?? Date.now;
  }

  get(): Promise<BacklogSummary | null> {
    if (this.current && this.now() - this.current.at < this.options.maxAgeMs) return Promise.resolve(this.current.summary);
    this.answering ??= this.refresh().finally(() => { this.answering = null; });
    return this.answering;
  }

  private async refresh(): Promise<BacklogSummary | null> {
    this.reading ??= this.options.read().finally(() => { this.reading = null; });
    const read = this.reading;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`The store did not answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    });
    try {
      const summary = await Promise.race([read, expired]);
      this.current = { summary, at: this.now() };
      return summary;
    } catch (error) {
      // A late answer is still kept for the next scrape.
      read.then((summary) => { this.current = { summary, at: this.now() }; }, () => undefined);
      this.options.onError(error);
      this.current = { summary: null, at: this.now() };
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
}
