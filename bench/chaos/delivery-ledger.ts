/**
 * The books of a chaos scenario: which events the hosts accepted, what the store holds for
 * them, and what the healthy receivers got. "Lost" is an event whose hook call resolved
 * (accepted) but that never reached a healthy receiver within the grace period; the store
 * says why (still pending, failed, or no row at all - the last is a durability bug).
 *
 * Reads the plugin's PostgreSQL tables directly (default prefix `webhook_`): the harness must
 * see the truth even when the plugin cannot.
 */
import { percentile } from '../measure.js';
import type { HookCall } from './host-protocol.js';
import { queryOnce } from './postgres-control.js';
import type { RecordingReceiver } from './receivers.js';

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const TABLE_PREFIX = 'webhook_';
/** The event type of the hook calls the hosts make (other events, e.g. WEBHOOK_CREATED, are not counted). */
export const LOAD_EVENT_TYPE = 'USER_LOGIN';

/** A webhook whose endpoint works: everything accepted must arrive there. */
export interface HealthyEndpoint {
  name: string;
  webhookId: string;
  receiver: RecordingReceiver;
}

export interface EndpointAudit {
  name: string;
  webhookId: string;
  /** Accepted events this endpoint received at least once. */
  delivered: number;
  /** Accepted events it never received, by what the store says about them. */
  lost: number;
  lostBecause: { pendingInStore: number; failedInStore: number; noDeliveryRow: number; noEventRow: number; succeededButNeverReceived: number };
  /**
   * Accepted events the endpoint received whose delivery the store does not show as succeeded
   * at the end (still leased by a dead worker, or recorded as failed although the endpoint
   * answered 200): the plugin does not know they arrived.
   */
  receivedButNotSucceeded: number;
  receipts: number;
  /** Receipts beyond the first of each delivery (`webhook-id`): at-least-once repeats. */
  duplicates: number;
  /** First receipt minus the event's `event_time`, per accepted event; Infinity when it never arrived. */
  latencies: number[];
  p50: number;
  p99: number;
  max: number;
  /** The store's deliveries for this webhook, by status. */
  storeStatus: Record<string, number>;
}

export interface LedgerAudit {
  accepted: number;
  rejected: number;
  /** Rejections by error code (or name). */
  rejectedBy: Record<string, number>;
  /** Accepted events with no row in the events table: the hook said "stored" and it was not. */
  acceptedMissingFromStore: number;
  /**
   * Events in the store no host reported as accepted: hook calls that were rejected (a timeout
   * while the write still went through) or were in flight when a host died.
   */
  recordedUnacknowledged: number;
  /** Of those, how many some healthy endpoint has not received (they are the plugin's to deliver too). */
  recordedUnacknowledgedUndelivered: number;
  endpoints: EndpointAudit[];
  /** Sum of `lost` over the healthy endpoints. */
  lost: number;
  duplicates: number;
}

export function acceptedCalls(calls: readonly HookCall[]): HookCall[] {
  return calls.filter((c) => c.eventId !== null);
}

/**
 * Waits until the store has no pending delivery for any healthy endpoint and each endpoint has
 * received every accepted event, or `graceMs` passes. Returns how long it waited, or null if
 * the grace period ran out.
 */
export async function settle(connectionString: string, healthy: readonly HealthyEndpoint[], calls: readonly HookCall[], graceMs: number): Promise<number | null> {
  const started = now();
  const deadline = started + graceMs;
  const eventIds = acceptedCalls(calls).map((c) => c.eventId!);
  for (;;) {
    const allReceived = healthy.every((h) => eventIds.every((id) => h.receiver.firstReceipt.has(id)));
    if (allReceived) {
      try {
        const rows = await queryOnce<{ n: number }>(connectionString,
          `SELECT count(*)::int AS n FROM "${TABLE_PREFIX}deliveries" WHERE webhook_id = ANY($1) AND status = 'pending'`,
          [healthy.map((h) => h.webhookId)]);
        if (rows[0].n === 0) return now() - started;
      } catch {
        // The database may be down in this very scenario; try again.
      }
    }
    if (now() > deadline) return null;
    await sleep(200);
  }
}

/** Counts everything; call after {@link settle}. */
export async function audit(connectionString: string, tenantId: string, healthy: readonly HealthyEndpoint[], calls: readonly HookCall[]): Promise<LedgerAudit> {
  const accepted = acceptedCalls(calls);
  const rejectedCalls = calls.filter((c) => c.error !== null);
  const rejectedBy: Record<string, number> = {};
  for (const c of rejectedCalls) {
    const key = c.error!.code ?? c.error!.name;
    rejectedBy[key] = (rejectedBy[key] ?? 0) + 1;
  }
  const acceptedIds = new Set(accepted.map((c) => c.eventId!));
  const eventRows = await queryOnce<{ id: string }>(connectionString,
    `SELECT id FROM "${TABLE_PREFIX}events" WHERE tenant_id = $1 AND type = $2`, [tenantId, LOAD_EVENT_TYPE]);
  const storedIds = new Set(eventRows.map((r) => r.id));
  const unacknowledged = [...storedIds].filter((id) => !acceptedIds.has(id));

  const endpoints: EndpointAudit[] = [];
  for (const h of healthy) {
    const rows = await queryOnce<{ event_id: string; status: string }>(connectionString,
      `SELECT event_id, status FROM "${TABLE_PREFIX}deliveries" WHERE webhook_id = $1`, [h.webhookId]);
    const statusByEvent = new Map(rows.map((r) => [r.event_id, r.status]));
    const storeStatus: Record<string, number> = {};
    for (const r of rows) storeStatus[r.status] = (storeStatus[r.status] ?? 0) + 1;
    const lostBecause = { pendingInStore: 0, failedInStore: 0, noDeliveryRow: 0, noEventRow: 0, succeededButNeverReceived: 0 };
    const latencies: number[] = [];
    let delivered = 0;
    let receivedButNotSucceeded = 0;
    // The latency is measured from the event's own event_time, as the receiver saw it in the body.
    const eventTime = new Map<string, number>();
    for (const r of h.receiver.receipts) if (!eventTime.has(r.eventId)) eventTime.set(r.eventId, r.eventTime);
    for (const id of acceptedIds) {
      const at = h.receiver.firstReceipt.get(id);
      if (at !== undefined) {
        delivered += 1;
        if (statusByEvent.get(id) !== 'succeeded') receivedButNotSucceeded += 1;
        latencies.push(at - (eventTime.get(id) ?? Number.NaN));
        continue;
      }
      latencies.push(Number.POSITIVE_INFINITY);
      const status = statusByEvent.get(id);
      if (!storedIds.has(id)) lostBecause.noEventRow += 1;
      else if (status === undefined) lostBecause.noDeliveryRow += 1;
      else if (status === 'pending') lostBecause.pendingInStore += 1;
      else if (status === 'failed') lostBecause.failedInStore += 1;
      else lostBecause.succeededButNeverReceived += 1;
    }
    endpoints.push({
      name: h.name, webhookId: h.webhookId, delivered, lost: acceptedIds.size - delivered, lostBecause, receivedButNotSucceeded,
      receipts: h.receiver.receipts.length, duplicates: h.receiver.duplicates, latencies,
      p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: percentile(latencies, 100), storeStatus,
    });
  }
  const undelivered = unacknowledged.filter((id) => healthy.some((h) => !h.receiver.firstReceipt.has(id))).length;
  return {
    accepted: accepted.length,
    rejected: rejectedCalls.length,
    rejectedBy,
    acceptedMissingFromStore: [...acceptedIds].filter((id) => !storedIds.has(id)).length,
    recordedUnacknowledged: unacknowledged.length,
    recordedUnacknowledgedUndelivered: undelivered,
    endpoints,
    lost: endpoints.reduce((sum, e) => sum + e.lost, 0),
    duplicates: endpoints.reduce((sum, e) => sum + e.duplicates, 0),
  };
}

/** Enqueue-to-receipt p50 / p99 of the accepted calls among `calls` (Infinity for one never received). */
export function latencyOf(calls: readonly HookCall[], receiver: RecordingReceiver): { count: number; p50: number; p99: number } {
  const eventTime = new Map<string, number>();
  for (const r of receiver.receipts) if (!eventTime.has(r.eventId)) eventTime.set(r.eventId, r.eventTime);
  const latencies = acceptedCalls(calls).map((c) => {
    const at = receiver.firstReceipt.get(c.eventId!);
    return at === undefined ? Number.POSITIVE_INFINITY : at - (eventTime.get(c.eventId!) ?? Number.NaN);
  });
  return { count: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** Deliveries and attempts of one (unhealthy) webhook, for the report. */
export async function webhookActivity(connectionString: string, webhookId: string): Promise<{ status: Record<string, number>; attempts: number; outcomes: Record<string, number> }> {
  const status: Record<string, number> = {};
  for (const r of await queryOnce<{ status: string; n: number }>(connectionString,
    `SELECT status, count(*)::int AS n FROM "${TABLE_PREFIX}deliveries" WHERE webhook_id = $1 GROUP BY status`, [webhookId])) {
    status[r.status] = r.n;
  }
  const outcomes: Record<string, number> = {};
  let attempts = 0;
  for (const r of await queryOnce<{ outcome: string; n: number }>(connectionString,
    `SELECT outcome, count(*)::int AS n FROM "${TABLE_PREFIX}attempts" WHERE webhook_id = $1 GROUP BY outcome`, [webhookId])) {
    outcomes[r.outcome] = r.n;
    attempts += r.n;
  }
  return { status, attempts, outcomes };
}
