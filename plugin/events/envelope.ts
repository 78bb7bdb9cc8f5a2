/**
 * The body every receiver gets, as seed 003 (cidaas) defines it:
 * `{ event_time, event_type, current_context, data }`.
 */
export type EventSource = 'host' | 'test' | 'replay';

export interface RequestMetadata {
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
}

export interface Actor {
  id: string;
  type: 'user' | 'admin' | 'system' | 'api_client';
  username?: string;
}

export interface ClientInfo {
  id: string;
  name?: string;
}

export interface CurrentContext {
  event_id: string;
  tenant_id: string;
  /** What the event is about (`user:<id>`...), or null (see event-subject.ts). */
  subject: string | null;
  /**
   * The event's number among the tenant's events about `subject` (1, 2, ...; a gap is an event
   * this receiver did not get), or null without a subject. Written by the store as it records
   * the event: the recorder leaves 0 in its place (see SEQUENCE_PLACEHOLDER).
   */
  sequence: number | null;
  source: EventSource;
  request: RequestMetadata | null;
  actor: Actor | null;
  client: ClientInfo | null;
}

export interface Envelope {
  /** ISO 8601, UTC, millisecond precision. */
  event_time: string;
  event_type: string;
  current_context: CurrentContext;
  data: Record<string, unknown>;
}

export function buildEnvelope(input: {
  time: Date;
  type: string;
  context: CurrentContext;
  data: Record<string, unknown>;
}): Envelope {
  return {
    event_time: input.time.toISOString(),
    event_type: input.type,
    current_context: input.context,
    data: input.data,
  };
}
