/**
 * Per-webhook token buckets for `rate_limit_per_second` (in this worker process).
 *
 * A bucket holds at most one second's worth of tokens (a burst of `rate`) and refills at
 * `rate` tokens per second; each request takes one. Buckets are created on first use and
 * forgotten when full again, so idle webhooks cost nothing.
 */
interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  at: number;
  rate: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /** Whole requests the webhook may start now; Infinity when it has no limit. */
  available(webhookId: string, rate: number | null, now: number): number {
    if (!rate) return Number.POSITIVE_INFINITY;
    return Math.floor(this.refill(webhookId, rate, now).tokens);
  }

  /**
   * Takes a token: returns 0 when the request may start now, otherwise how many ms until a
   * token is free (nothing is taken then).
   */
  take(webhookId: string, rate: number | null, now: number): number {
    if (!rate) return 0;
    const bucket = this.refill(webhookId, rate, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / rate) * 1_000);
  }

  private refill(webhookId: string, rate: number, now: number): Bucket {
    let bucket = this.buckets.get(webhookId);
    if (!bucket || bucket.rate !== rate) {
      bucket = { tokens: rate, at: now, rate };
      this.buckets.set(webhookId, bucket);
      return bucket;
    }
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1_000) * rate);
    bucket.at = now;
    return bucket;
  }

  /** Drops buckets that have refilled completely (they would start full anyway). */
  sweep(now: number): void {
    for (const [id, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1_000) * bucket.rate >= bucket.rate) this.buckets.delete(id);
    }
  }
}
