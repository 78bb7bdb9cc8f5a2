/**
 * The W3C trace context an event carries from the request that caused it to every delivery
 * attempt, so one trace runs from a user's login through the identity server to the receiver.
 *
 * The rule (docs/tracing.md): an event's trace context is, in this order, the hook context's
 * explicit `traceparent`, else the `traceparent` header of the hook context's `req`, else the
 * active OpenTelemetry span's context; none of them, none stored. Only well-formed values are
 * kept: a malformed header from the internet is dropped, never stored or echoed to receivers.
 * Pure functions over strings; nothing here needs an OpenTelemetry SDK.
 */
import type { SpanContext } from '@opentelemetry/api';

/** `version-traceid-parentid-flags`, lower-case hex (W3C Trace Context, level 1). */
export const TRACEPARENT_PATTERN = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
/** Longest `tracestate` kept; the W3C limit is 32 members, which fits in 512 characters of typical use. */
export const MAX_TRACESTATE_LENGTH = 512;
/** Printable ASCII without the characters W3C tracestate never holds. */
const TRACESTATE_PATTERN = /^[\x20-\x7e]*$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/** The trace context stored with an event. */
export interface TraceContext {
  /** A valid W3C `traceparent`. */
  traceparent: string;
  /** The vendor `tracestate` that came with it, or null. */
  tracestate: string | null;
}

export interface ParsedTraceparent {
  version: string;
  traceId: string;
  parentId: string;
  flags: string;
}

/**
 * Parses a W3C `traceparent`; null when it is malformed, when the trace id or parent id is all
 * zeros (invalid by the spec), or when the version is `ff` (forbidden).
 */
export function parseTraceparent(value: unknown): ParsedTraceparent | null {
  if (typeof value !== 'string' || !TRACEPARENT_PATTERN.test(value)) return null;
  const [version, traceId, parentId, flags] = value.split('-') as [string, string, string, string];
  if (version === 'ff' || traceId === ZERO_TRACE_ID || parentId === ZERO_SPAN_ID) return null;
  return { version, traceId, parentId, flags };
}

/** True for a `traceparent` this module would keep. */
export function isValidTraceparent(value: unknown): value is string {
  return parseTraceparent(value) !== null;
}

/** A `tracestate` fit to store and send again (bounded, printable, trimmed), or null. */
export function sanitizeTracestate(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  if (trimmed === '' || trimmed.length > MAX_TRACESTATE_LENGTH || !TRACESTATE_PATTERN.test(trimmed)) return null;
  return trimmed;
}

export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/** The `traceparent` naming a span context, or null for an invalid (e.g. no-op) span context. */
export function traceparentOf(span: SpanContext | undefined): string | null {
  if (!span) return null;
  const value = formatTraceparent(span.traceId, span.spanId, (span.traceFlags & 1) === 1);
  return isValidTraceparent(value) ? value : null;
}

/** The trace context of a span context (with its trace state), or null when it is not valid. */
export function traceContextOfSpan(span: SpanContext | undefined): TraceContext | null {
  const traceparent = traceparentOf(span);
  return traceparent ? { traceparent, tracestate: sanitizeTracestate(span?.traceState?.serialize()) } : null;
}

/** The first value of a request header (Node joins most repeats, but arrays are possible). */
function headerValue(headers: Record<string, unknown> | undefined, name: string): unknown {
  const value = headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * An event's trace context by the rule above. `explicit` has been validated already (the hook
 * context schema refuses a malformed one); a malformed header falls through to the next source.
 */
export function resolveTraceContext(sources: {
  explicit?: { traceparent?: string; tracestate?: string };
  headers?: Record<string, unknown>;
  active?: SpanContext;
}): TraceContext | null {
  const { explicit, headers } = sources;
  if (isValidTraceparent(explicit?.traceparent)) {
    return { traceparent: explicit.traceparent, tracestate: sanitizeTracestate(explicit.tracestate) };
  }
  const fromHeader = headerValue(headers, 'traceparent');
  if (isValidTraceparent(fromHeader)) {
    return { traceparent: fromHeader, tracestate: sanitizeTracestate(headerValue(headers, 'tracestate')) };
  }
  return traceContextOfSpan(sources.active);
}

/** A stored trace context as the remote parent span context the attempt span continues. */
export function toRemoteSpanContext(context: TraceContext): SpanContext | null {
  const parsed = parseTraceparent(context.traceparent);
  if (!parsed) return null;
  return { traceId: parsed.traceId, spanId: parsed.parentId, traceFlags: parseInt(parsed.flags, 16) & 1, isRemote: true };
}

/**
 * The trace headers of one attempt: the stored trace id, with the attempt span's id as the
 * parent when a tracer records it in the same trace (the receiver's spans then hang under the
 * attempt), else the stored parent id unchanged.
 */
export function attemptTraceHeaders(stored: TraceContext | null, attemptSpan: SpanContext | undefined): Record<string, string> {
  if (!stored) return {};
  const parsed = parseTraceparent(stored.traceparent);
  if (!parsed) return {};
  const own = traceparentOf(attemptSpan);
  const traceparent = own && attemptSpan?.traceId === parsed.traceId ? own : stored.traceparent;
  return stored.tracestate ? { traceparent, tracestate: stored.tracestate } : { traceparent };
}
