import type { AttemptOutcome } from '../store/store-port.js';
import { CircuitBreakers, type CircuitBreakerOptions } from './circuit-breaker.js';
import { RateLimiter } from './rate-limiter.js';

/**
 * What may be sent to each webhook right now, in this worker: the per-webhook cap on requests
 * in flight, its circuit breaker and its rate limit, in one place. The pump asks it how many
 * deliveries each webhook may take before claiming (so the store never hands out what could
 * not be sent), and asks it again for each claimed delivery before sending it.
 *
 * Isolation is the point: a webhook that hangs holds at most `maxInFlight` of the worker's
 * `concurrency` slots, however deep its backlog.
 */
export interface EndpointGateOptions {
  /** Most requests in flight to one webhook. */
  maxInFlight: number;
  /** The worker's request slots (delivery.concurrency). */
  concurrency: number;
  breaker: CircuitBreakerOptions;
}

/**
 * Share of the worker's slots that busy webhooks (those using half their cap or more) may hold
 * together. The rest stays free for the others: without it, a handful of slow receivers (slow
 * but answering, so no circuit opens) at their caps would fill the worker.
 */
const BUSY_SHARE = 0.75;

export type Admission = { admitted: true } | { admitted: false; retryInMs: number; reason: 'circuit_open' | 'rate_limited' | 'busy' };

export class EndpointGate {
  private readonly inFlight = new Map<string, number>();
  private readonly rateLimits = new Map<string, number | null>();
  readonly breakers: CircuitBreakers;
  private readonly limiter = new RateLimiter();

  constructor(private readonly options: EndpointGateOptions) {
    this.breakers = new CircuitBreakers(options.breaker);
  }

  get maxInFlight(): number {
    return this.options.maxInFlight;
  }

  /** Requests in flight to one webhook now. */
  inFlightOf(webhookId: string): number {
    return this.inFlight.get(webhookId) ?? 0;
  }

  /** Remembers a webhook's rate limit, so the next claim can respect it before anything is claimed. */
  knowRateLimit(webhookId: string, rate: number | null): void {
    if (rate) this.rateLimits.set(webhookId, rate);
    else this.rateLimits.delete(webhookId);
  }

  /**
   * Webhooks that may take fewer than `maxInFlight` deliveries in the next claim, with how
   * many (0: none). Webhooks not listed may take up to `maxInFlight`.
   */
  claimLimits(now: number): Map<string, number> {
    const limits = new Map<string, number>();
    const ids = new Set([...this.inFlight.keys(), ...this.rateLimits.keys(), ...this.breakers.openCircuits(now)]);
    const busyRoom = this.busyRoom();
    for (const id of ids) {
      const room = Math.min(
        this.roomUnderShare(this.inFlight.get(id) ?? 0, busyRoom),
        this.breakers.allowance(id, now),
        this.limiter.available(id, this.rateLimits.get(id) ?? null, now),
      );
      if (room < this.options.maxInFlight) limits.set(id, Math.max(0, room));
    }
    this.limiter.sweep(now);
    return limits;
  }

  /** What a webhook with nothing in flight (not in {@link claimLimits}) may take in the next claim. */
  defaultClaimLimit(): number {
    return this.roomUnderShare(0, this.busyRoom());
  }

  /**
   * A webhook may always fill up to half its cap (it stays "not busy"); beyond that it draws on
   * the slots the busy share has left, which all busy webhooks share.
   */
  private roomUnderShare(own: number, busyRoom: number): number {
    const busyAt = Math.max(1, Math.floor(this.options.maxInFlight / 2));
    return Math.min(this.options.maxInFlight - own, Math.max(0, busyAt - own) + Math.max(0, busyRoom));
  }

  private busyRoom(): number {
    return Math.floor(this.options.concurrency * BUSY_SHARE) - this.heldByBusy();
  }

  /** Slots held by webhooks that `limits` (from {@link claimLimits}) lets take no more (at their cap, circuit open, busy share used up). */
  heldByBlocked(limits: ReadonlyMap<string, number>): number {
    let held = 0;
    for (const [id, n] of limits) if (n === 0) held += this.inFlight.get(id) ?? 0;
    return held;
  }

  private isBusy(inFlight: number): boolean {
    return inFlight >= Math.max(1, Math.floor(this.options.maxInFlight / 2));
  }

  private heldByBusy(): number {
    let held = 0;
    for (const n of this.inFlight.values()) if (this.isBusy(n)) held += n;
    return held;
  }

  /** Takes a slot (and a rate-limit token) for one request, or says when to try again. */
  admit(webhookId: string, rate: number | null, now: number): Admission {
    this.knowRateLimit(webhookId, rate);
    if ((this.inFlight.get(webhookId) ?? 0) >= this.options.maxInFlight) return { admitted: false, retryInMs: 0, reason: 'busy' };
    if (this.breakers.allowance(webhookId, now) < 1) {
      // Due again at once: claims leave it alone while the circuit is open, and it keeps its
      // place in line for when the circuit closes.
      return { admitted: false, retryInMs: 0, reason: 'circuit_open' };
    }
    const wait = this.limiter.take(webhookId, rate, now);
    if (wait > 0) return { admitted: false, retryInMs: wait, reason: 'rate_limited' };
    this.breakers.starting(webhookId, now);
    this.inFlight.set(webhookId, (this.inFlight.get(webhookId) ?? 0) + 1);
    return { admitted: true };
  }

  /** A request admitted by {@link admit} ended; returns true when its outcome opened the circuit. */
  finished(webhookId: string, outcome: AttemptOutcome, now: number): boolean {
    const left = (this.inFlight.get(webhookId) ?? 1) - 1;
    if (left > 0) this.inFlight.set(webhookId, left);
    else this.inFlight.delete(webhookId);
    return this.breakers.record(webhookId, outcome, now);
  }
}
