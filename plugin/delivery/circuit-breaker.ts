import type { AttemptOutcome } from '../store/store-port.js';

/**
 * Per-webhook circuit breakers (in this worker process).
 *
 * The rule: after `threshold` consecutive attempts that never got an answer (timeout, refused
 * or dropped connection, DNS failure) the circuit opens and the webhook gets no requests for
 * a cool-down; then one probe goes out (half-open). Any HTTP answer - a 5xx included: the
 * endpoint is up, the retry schedule deals with its errors - closes the circuit; a failed
 * probe opens it again for twice as long, up to 8x the cool-down.
 *
 * Why: a receiver that hangs holds a request slot for the whole timeout, and a dead host costs
 * a connect timeout per attempt. Without a breaker such an endpoint burns its deliveries'
 * retry attempts and the worker's time. While the circuit is open the deliveries are simply
 * not claimed, so they wait in the store with their attempts unspent.
 */
export interface CircuitBreakerOptions {
  /** Consecutive unanswered attempts that open the circuit. */
  threshold: number;
  /** First cool-down, in ms. */
  cooldownMs: number;
}

/** Outcomes that say the endpoint did not answer at all. */
const UNANSWERED: ReadonlySet<AttemptOutcome> = new Set(['timeout', 'connection_refused', 'network', 'dns']);
/** Outcomes that say it answered (the circuit closes). Others (blocked, tls, ...) change nothing. */
const ANSWERED: ReadonlySet<AttemptOutcome> = new Set(['success', 'http_error']);
const MAX_COOLDOWN_FACTOR = 8;

interface Circuit {
  /** Consecutive unanswered attempts. */
  failures: number;
  /** Open until this time (ms); 0 while closed. */
  openUntil: number;
  /** How many times in a row it opened (sets the cool-down). */
  opens: number;
  /** A half-open probe is in flight. */
  probing: boolean;
}

export type CircuitState = 'closed' | 'open' | 'half_open';

export class CircuitBreakers {
  private readonly circuits = new Map<string, Circuit>();

  constructor(private readonly options: CircuitBreakerOptions) {}

  state(webhookId: string, now: number): CircuitState {
    const circuit = this.circuits.get(webhookId);
    if (!circuit || circuit.openUntil === 0) return 'closed';
    return now < circuit.openUntil || circuit.probing ? 'open' : 'half_open';
  }

  /** How many requests may start now: unlimited while closed, one probe when half-open, none while open. */
  allowance(webhookId: string, now: number): number {
    const state = this.state(webhookId, now);
    return state === 'closed' ? Number.POSITIVE_INFINITY : state === 'half_open' ? 1 : 0;
  }

  /** A request is starting; when half-open it is the probe, and no other may start until it ends. */
  starting(webhookId: string, now: number): void {
    const circuit = this.circuits.get(webhookId);
    if (circuit && this.state(webhookId, now) === 'half_open') circuit.probing = true;
  }

  /** Feeds an attempt's outcome in; returns true when this outcome opened the circuit. */
  record(webhookId: string, outcome: AttemptOutcome, now: number): boolean {
    const existing = this.circuits.get(webhookId);
    const failedProbe = existing?.probing === true && UNANSWERED.has(outcome);
    // Whatever the outcome, the probe is over: an inconclusive one (blocked, tls) lets the next
    // request probe again rather than leave the circuit open for ever.
    if (existing) existing.probing = false;
    if (ANSWERED.has(outcome)) {
      this.circuits.delete(webhookId);
      return false;
    }
    if (!UNANSWERED.has(outcome)) return false;
    const circuit = existing ?? { failures: 0, openUntil: 0, opens: 0, probing: false };
    this.circuits.set(webhookId, circuit);
    circuit.failures += 1;
    // Attempts that were already in flight when the circuit opened do not extend it.
    if (!failedProbe && (circuit.openUntil !== 0 || circuit.failures < this.options.threshold)) return false;
    circuit.opens += 1;
    const factor = Math.min(MAX_COOLDOWN_FACTOR, 2 ** (circuit.opens - 1));
    circuit.openUntil = now + this.options.cooldownMs * factor;
    return true;
  }

  /** Ids of webhooks whose circuit is open or half-open now. */
  openCircuits(now: number): string[] {
    return [...this.circuits.keys()].filter((id) => this.state(id, now) !== 'closed');
  }
}
