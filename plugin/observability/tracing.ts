/**
 * The plugin's OpenTelemetry spans, through `@opentelemetry/api` only: the host registers an
 * SDK (or none - then every span here is a free no-op and events still carry the request's
 * `traceparent`). Every span, its attributes and its parent are listed in docs/tracing.md;
 * attributes are ids, types, counts and outcomes, never secrets, bodies or URLs.
 */
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { toRemoteSpanContext, traceContextOfSpan, type TraceContext } from './trace-context.js';

export const TRACER_NAME = 'identity-webhooks-plugin';
export const TRACER_VERSION = '0.1.0';

/** Attribute names, in one place so docs/tracing.md and the tests name the same ones. */
export const ATTR = {
  eventType: 'webhooks.event_type',
  eventId: 'webhooks.event_id',
  tenantId: 'webhooks.tenant_id',
  deliveries: 'webhooks.deliveries',
  duplicate: 'webhooks.duplicate',
  webhookId: 'webhooks.webhook_id',
  deliveryId: 'webhooks.delivery_id',
  attempt: 'webhooks.attempt',
  outcome: 'webhooks.outcome',
  httpStatus: 'http.response.status_code',
  claimLimit: 'webhooks.claim.limit',
  claimed: 'webhooks.claim.count',
  errorCode: 'error.type',
} as const;

/** Looked up per span, not cached: a host may register its provider after building the plugin. */
const tracer = () => trace.getTracer(TRACER_NAME, TRACER_VERSION);

function fail(span: Span, error: unknown): void {
  // The error's stable code (plugin/errors.ts) or class name; its message may quote user data.
  const code = (error as { code?: unknown })?.code;
  const type = typeof code === 'string' ? code : (error as Error)?.name ?? 'Error';
  span.setAttribute(ATTR.errorCode, type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
}

/** Runs `work` inside an active span that ends with it; a rejection marks the span failed. */
async function inSpan<T>(name: string, options: { kind?: SpanKind; attributes?: Attributes; parent?: Context },
  work: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes },
    options.parent ?? context.active(), async (span) => {
      try {
        return await work(span);
      } catch (error) {
        fail(span, error);
        throw error;
      } finally {
        span.end();
      }
    });
}

/**
 * `webhooks.hook <TYPE>`: one hook call. Its parent is the host's active span, else (no SDK
 * span active, e.g. a host without HTTP instrumentation) the event's incoming trace context,
 * so the hook still joins the login's trace. `work` gets the trace context to store with the
 * event: the hook span's own when a tracer records it in that trace (attempts then hang under
 * the hook), else the incoming one unchanged.
 */
export function traceHookCall<T extends { event_id: string; deliveries: number; duplicate: boolean }>(
  type: string, tenantId: string, incoming: TraceContext | null, work: (eventTrace: TraceContext | null) => Promise<T>,
): Promise<T> {
  const active = context.active();
  const remote = incoming ? toRemoteSpanContext(incoming) : null;
  const parent = trace.getSpan(active) || !remote ? active : trace.setSpanContext(active, remote);
  return inSpan(`webhooks.hook ${type}`, { parent, attributes: { [ATTR.eventType]: type, [ATTR.tenantId]: tenantId } }, async (span) => {
    const own = span.isRecording() ? traceContextOfSpan(span.spanContext()) : null;
    const sameTrace = own && (!incoming || incoming.traceparent.split('-')[1] === span.spanContext().traceId);
    const result = await work(sameTrace ? { traceparent: own.traceparent, tracestate: incoming?.tracestate ?? own.tracestate } : incoming);
    span.setAttributes({ [ATTR.eventId]: result.event_id, [ATTR.deliveries]: result.deliveries, [ATTR.duplicate]: result.duplicate });
    return result;
  });
}

/** `webhooks.record`: the subscription lookup and the durable write of one event (child of the hook span). */
export function traceRecord<T extends { deliveries: number; duplicate: boolean }>(
  event: { id: string; type: string; tenantId: string }, work: () => Promise<T>,
): Promise<T> {
  return inSpan('webhooks.record', {
    attributes: { [ATTR.eventId]: event.id, [ATTR.eventType]: event.type, [ATTR.tenantId]: event.tenantId },
  }, async (span) => {
    const result = await work();
    span.setAttributes({ [ATTR.deliveries]: result.deliveries, [ATTR.duplicate]: result.duplicate });
    return result;
  });
}

/** `webhooks.claim`: one claim of due deliveries by the worker; a root span (the worker's own work). */
export function traceClaim<T extends readonly unknown[]>(limit: number, work: () => Promise<T>): Promise<T> {
  return inSpan('webhooks.claim', { parent: ROOT_CONTEXT, attributes: { [ATTR.claimLimit]: limit } }, async (span) => {
    const claimed = await work();
    span.setAttribute(ATTR.claimed, claimed.length);
    return claimed;
  });
}

/** What an attempt span records once the attempt ended. */
export interface AttemptEnd {
  outcome: string;
  statusCode: number | null;
}

/**
 * `webhooks.attempt`: one HTTP request of one delivery, a CLIENT span that is a child of the
 * event's stored trace context (a root span when the event has none). `work` gets the span's
 * context to put in the request's `traceparent`. A non-success outcome marks it failed.
 */
export function traceAttempt<T extends { result: AttemptEnd }>(
  attributes: { webhookId: string; deliveryId: string; eventType: string; attempt: number },
  stored: TraceContext | null,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const remote = stored ? toRemoteSpanContext(stored) : null;
  const parent = remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : ROOT_CONTEXT;
  return inSpan('webhooks.attempt', {
    kind: SpanKind.CLIENT, parent, attributes: {
      [ATTR.webhookId]: attributes.webhookId, [ATTR.deliveryId]: attributes.deliveryId,
      [ATTR.eventType]: attributes.eventType, [ATTR.attempt]: attributes.attempt,
    },
  }, async (span) => {
    const report = await work(span);
    const { outcome, statusCode } = report.result;
    span.setAttribute(ATTR.outcome, outcome);
    if (statusCode !== null) span.setAttribute(ATTR.httpStatus, statusCode);
    if (outcome !== 'success') {
      span.setAttribute(ATTR.errorCode, outcome);
      span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    }
    return report;
  });
}
