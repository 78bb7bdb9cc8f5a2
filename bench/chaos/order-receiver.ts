/**
 * A receiver for the per-subject ordering scenario: on 127.0.0.1 in the harness process, it
 * answers a fixed share of requests 500 (chosen by a seeded generator, so a run can be told
 * apart from luck) and records every request's subject and sequence (`current_context`) in
 * the order they arrived. {@link orderAudit} then says, per subject, whether anything arrived
 * after a later event about the same subject.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer } from './receivers.js';

/** One request as it arrived. */
export interface OrderedReceipt {
  /** `webhook-id`: the delivery, the same on every attempt. */
  deliveryId: string;
  subject: string | null;
  sequence: number | null;
  /** The status this receiver answered. */
  status: number;
  receivedAt: number;
}

export interface OrderReceiverOptions {
  /** Share of requests answered 500, 0 to 1. */
  failRatio: number;
  /** Seed of the generator that picks them. */
  seed?: number;
}

export class OrderReceiver {
  readonly receipts: OrderedReceipt[] = [];
  url = '';
  private server: Server | null = null;
  private readonly random: () => number;

  private constructor(private readonly options: OrderReceiverOptions) {
    this.random = mulberry32(options.seed ?? 12);
  }

  static async start(options: OrderReceiverOptions): Promise<OrderReceiver> {
    const receiver = new OrderReceiver(options);
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const status = receiver.random() < receiver.options.failRatio ? 500 : 200;
        const context = contextOf(Buffer.concat(chunks).toString('utf8'));
        const id = req.headers['webhook-id'];
        receiver.receipts.push({
          deliveryId: Array.isArray(id) ? id[0] : (id ?? ''), subject: context.subject, sequence: context.sequence,
          status, receivedAt: performance.timeOrigin + performance.now(),
        });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'chaos says no');
      });
    });
    // Long keep-alive: a socket closed under the plugin between requests would cost it a retry.
    server.keepAliveTimeout = 120_000;
    server.headersTimeout = 130_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver.server = server;
    receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return receiver;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    await closeServer(server);
  }
}

export interface OrderAudit {
  subjects: number;
  receipts: number;
  /** Receipts of a sequence lower than one already received about the same subject: must be 0. */
  outOfOrder: number;
  /** Examples of those, for the report. */
  examples: string[];
  /**
   * Receipts of sequence n before n - 1 was answered 200 (only a final failure of n - 1 may let n
   * go first; with a long retry schedule there are none).
   */
  aheadOfPrevious: number;
  /** Receipts of a sequence already answered 200 (its answer was lost to the plugin: at least once). */
  repeatsAfterSuccess: number;
  /** Per subject, sequences 1..n all answered 200 at least once. */
  subjectsComplete: number;
  /** Answered 500 on purpose. */
  failedOnPurpose: number;
}

/**
 * Walks the receipts in arrival order, per subject. A repeat of the same sequence (a retry, or
 * a request whose answer was lost) is allowed; a lower one after a higher one is out of order.
 */
export function orderAudit(receipts: readonly OrderedReceipt[], expectedPerSubject: ReadonlyMap<string, number>): OrderAudit {
  const highest = new Map<string, number>();
  const succeeded = new Map<string, Set<number>>();
  const audit: OrderAudit = {
    subjects: expectedPerSubject.size, receipts: receipts.length, outOfOrder: 0, examples: [], aheadOfPrevious: 0,
    repeatsAfterSuccess: 0, subjectsComplete: 0, failedOnPurpose: 0,
  };
  for (const r of receipts) {
    if (r.status !== 200) audit.failedOnPurpose += 1;
    if (r.subject === null || r.sequence === null) continue;
    const top = highest.get(r.subject) ?? 0;
    if (r.sequence < top) {
      audit.outOfOrder += 1;
      if (audit.examples.length < 5) audit.examples.push(`${r.subject}: #${r.sequence} after #${top}`);
    }
    highest.set(r.subject, Math.max(top, r.sequence));
    const done = succeeded.get(r.subject) ?? new Set<number>();
    if (r.sequence > 1 && !done.has(r.sequence - 1)) audit.aheadOfPrevious += 1;
    if (done.has(r.sequence)) audit.repeatsAfterSuccess += 1;
    if (r.status === 200) done.add(r.sequence);
    succeeded.set(r.subject, done);
  }
  for (const [subject, count] of expectedPerSubject) {
    const done = succeeded.get(subject);
    if (done && Array.from({ length: count }, (_, i) => i + 1).every((n) => done.has(n))) audit.subjectsComplete += 1;
  }
  return audit;
}

function contextOf(body: string): { subject: string | null; sequence: number | null } {
  try {
    const context = (JSON.parse(body) as { current_context?: { subject?: unknown; sequence?: unknown } }).current_context;
    return {
      subject: typeof context?.subject === 'string' ? context.subject : null,
      sequence: typeof context?.sequence === 'number' ? context.sequence : null,
    };
  } catch {
    return { subject: null, sequence: null };
  }
}

/** A small seeded generator (mulberry32): the same seed gives the same answers. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
