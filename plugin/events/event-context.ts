import { trace } from '@opentelemetry/api';
import Joi from 'joi';
import { ValidationError } from '../errors.js';
import type { Actor, ClientInfo, RequestMetadata } from './envelope.js';
import { isUsableSubject } from './event-subject.js';
import { joiDetails } from '../validation-details.js';
import type { HostTransaction } from '../store/store-port.js';
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
  /**
   * The host's open transaction, so the event is written in it (a transactional outbox): rolled
   * back, nothing is ever sent; committed, it is delivered. A `pg` client inside BEGIN on the
   * plugin's PostgreSQL database, or a mongoose `ClientSession` with a transaction started on
   * the plugin's connection (MongoDB transactions need a replica set). Anything else is refused
   * with `ForeignTransactionError`, before anything is written.
   */
  transaction?: HostTransaction;
  /**
   * What the event is about, as `<kind>:<id>` (1-200 printable characters). Default: read from
   * the data (`user:<id>`, else `role:<id>`, else the first object with an id). Events about one
   * subject are numbered per tenant (`current_context.sequence`), and webhooks with
   * `ordering: "per_subject"` receive them in that order.
   */
  subject?: string;
}

export interface NormalizedContext {
  tenantId: string;
  request: RequestMetadata | null;
  actor: Actor | null;
  client: ClientInfo | null;
  idempotencyKey: string | null;
  /** The event's trace context (see observability/trace-context.ts); absent or null: none. */
  trace?: TraceContext | null;
  /** The host's transaction to write the event in; absent or null: the plugin's own. */
  transaction?: HostTransaction | null;
  /** The subject the host named; absent or null: read from the data (event-subject.ts). */
  subject?: string | null;
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
  subject: Joi.string().custom((value, helpers) => (isUsableSubject(value) ? value : helpers.error('any.invalid')))
    .messages({ 'any.invalid': '{{#label}} must be 1-200 characters, without control characters or lone surrogates' }),
}).default({});

function header(req: HookContext['req'], name: string): string | null {
  const value = req?.headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first.slice(0, 1024) : null;
}

export function normalizeContext(input: unknown, defaultTenantId: string): NormalizedContext {
  // The transaction is passed on as it is: joi would validate a copy, and a copy of a pg client
  // or a ClientSession is not the host's transaction. The store checks it.
  const { transaction, rest } = withoutTransaction(input);
  if (transaction !== undefined && (transaction === null || typeof transaction !== 'object')) {
    throw new ValidationError('Invalid hook context: "context.transaction" must be a pg client or a ClientSession',
      [{ path: 'context.transaction', message: 'must be a pg client or a ClientSession' }]);
  }
  const { value, error } = contextSchema.validate(rest, { abortEarly: false });
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
    transaction: (transaction as HostTransaction | undefined) ?? null,
    subject: ctx.subject ?? null,
  };
}

function withoutTransaction(input: unknown): { transaction: unknown; rest: unknown } {
  if (input === null || typeof input !== 'object' || !('transaction' in input)) return { transaction: undefined, rest: input };
  const { transaction, ...rest } = input as Record<string, unknown>;
  return { transaction, rest };
}
