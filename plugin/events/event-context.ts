import { trace } from '@opentelemetry/api';
import Joi from 'joi';
import { ValidationError } from '../errors.js';
import type { Actor, ClientInfo, RequestMetadata } from './envelope.js';
import { joiDetails } from '../validation-details.js';
import { isValidTraceparent, MAX_TRACESTATE_LENGTH, resolveTraceContext, type TraceContext } from '../observability/trace-context.js';

/**
 * What a host passes as the last argument of every hook: who did it, from where, for which
 * tenant. Everything is optional; `req` (an Express request) fills in the request metadata.
 */
export interface HookContext {
  /** Tenant the event belongs to; only that tenant's webhooks receive it. Default: options.defaultTenantId. */
  tenantId?: string;
  /** The Express request that caused the event; its IP, user agent and request id are copied. */
  req?: { ip?: string; headers?: Record<string, unknown>; id?: unknown; socket?: { remoteAddress?: string } };
  /** Request metadata, for hosts without an Express request at hand. Overrides what `req` gives. */
  request?: { ip?: string; userAgent?: string; requestId?: string };
  actor?: { id: string; type?: Actor['type']; username?: string };
  client?: ClientInfo;
  /** Repeating a call with the same key (per tenant) records nothing new. */
  idempotencyKey?: string;
  /**
   * W3C `traceparent` of the work that caused the event, sent to receivers on every attempt.
   * Default: the `traceparent` header of `req`, else the active OpenTelemetry span. Example:
   * `'00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'`.
   */
  traceparent?: string;
  /** W3C `tracestate` that goes with `traceparent` (at most 512 characters). Default: none. */
  tracestate?: string;
}

export interface NormalizedContext {
  tenantId: string;
  request: RequestMetadata | null;
  actor: Actor | null;
  client: ClientInfo | null;
  idempotencyKey: string | null;
  /** The event's trace context (see observability/trace-context.ts); absent or null: none. */
  trace?: TraceContext | null;
}

export const TENANT_ID_SCHEMA = Joi.string().pattern(/^[A-Za-z0-9._:@-]{1,128}$/).message('{{#label}} must be 1-128 letters, digits or . _ : @ -');

const text = (max: number) => Joi.string().max(max);

const contextSchema = Joi.object({
  tenantId: TENANT_ID_SCHEMA,
  req: Joi.object().unknown(true),
  request: Joi.object({ ip: text(64), userAgent: text(1024), requestId: text(200) }),
  actor: Joi.object({
    id: Joi.alternatives(Joi.string().min(1).max(200), Joi.number()).required(),
    type: Joi.string().valid('user', 'admin', 'system', 'api_client').default('user'),
    username: text(200),
  }),
  client: Joi.object({ id: Joi.string().min(1).max(200).required(), name: text(200) }),
  // Stored in its own column, where PostgreSQL cannot keep U+0000: refused here, not failed there.
  idempotencyKey: Joi.string().min(1).max(200).pattern(/^[^\u0000-\u001f\u007f]*$/).message('{{#label}} must not contain control characters'),
  traceparent: Joi.string().custom((value, helpers) => (isValidTraceparent(value) ? value : helpers.error('any.invalid')))
    .messages({ 'any.invalid': '{{#label}} must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>, ids not all zero)' }),
  tracestate: Joi.string().max(MAX_TRACESTATE_LENGTH).pattern(/^[\x20-\x7e]*$/).message('{{#label}} must be printable ASCII'),
}).default({});

function header(req: HookContext['req'], name: string): string | null {
  const value = req?.headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first.slice(0, 1024) : null;
}

export function normalizeContext(input: unknown, defaultTenantId: string): NormalizedContext {
  const { value, error } = contextSchema.validate(input, { abortEarly: false });
  if (error) {
    throw new ValidationError(`Invalid hook context: ${error.message}`,
      joiDetails(error, ['context']));
  }
  const ctx = value as HookContext;
  const req = ctx.req;
  const fromReq = req
    ? { ip: req.ip ?? req.socket?.remoteAddress ?? null, user_agent: header(req, 'user-agent'),
        request_id: header(req, 'x-request-id') ?? (typeof req.id === 'string' ? req.id : null) }
    : null;
  const request = fromReq || ctx.request
    ? {
        ip: ctx.request?.ip ?? fromReq?.ip ?? null,
        user_agent: ctx.request?.userAgent ?? fromReq?.user_agent ?? null,
        request_id: ctx.request?.requestId ?? fromReq?.request_id ?? null,
      }
    : null;
  return {
    tenantId: ctx.tenantId ?? defaultTenantId,
    request,
    actor: ctx.actor ? { ...ctx.actor, id: String(ctx.actor.id), type: ctx.actor.type ?? 'user' } : null,
    client: ctx.client ?? null,
    idempotencyKey: ctx.idempotencyKey ?? null,
    trace: resolveTraceContext({
      explicit: ctx.traceparent ? { traceparent: ctx.traceparent, tracestate: ctx.tracestate } : undefined,
      headers: req?.headers, active: trace.getActiveSpan()?.spanContext(),
    }),
  };
}
