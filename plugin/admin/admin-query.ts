import Joi from 'joi';
import { ValidationError } from '../errors.js';
import { ID_PATTERN } from '../ids.js';
import type { DeliveryQuery } from '../store/store-port.js';
import { joiDetails } from '../validation-details.js';

/** Query and body schemas of the admin API routes that are not webhook bodies. */
const cursorSchema = Joi.string().max(200).pattern(/^[A-Za-z0-9_-]+$/);

const deliveryListSchema = Joi.object({
  status: Joi.string().valid('pending', 'succeeded', 'failed'),
  event_type: Joi.string().pattern(/^[A-Z][A-Z0-9_]{0,63}$/).message('{{#label}} must be an event type such as USER_LOGIN'),
  cursor: cursorSchema,
  limit: Joi.number().integer().min(1).max(100).default(20),
});

const emptySchema = Joi.object({});

const recoverSchema = Joi.object({ since: Joi.date().iso().required() });

function check<T>(schema: Joi.Schema, value: unknown, where: string): T {
  const { value: out, error } = schema.validate(value ?? {}, { abortEarly: false, convert: true });
  if (error) {
    throw new ValidationError(`Invalid ${where}: ${error.details.map((d) => d.message).join('; ')}`,
      joiDetails(error, [where]));
  }
  return out as T;
}

/** Cursors are opaque to clients: base64url of the last row's (created_at, id). */
export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const createdAt = new Date(at);
    if (typeof id !== 'string' || !ID_PATTERN.test(id) || Number.isNaN(createdAt.getTime())) throw new Error('bad cursor');
    return { createdAt, id };
  } catch {
    throw new ValidationError('Invalid query: "cursor" is not a cursor this API returned', [{ path: 'query.cursor', message: 'invalid cursor' }]);
  }
}

export function parseDeliveryListQuery(query: unknown): DeliveryQuery {
  const q = check<{ status?: DeliveryQuery['status']; event_type?: string; cursor?: string; limit: number }>(deliveryListSchema, query, 'query');
  return { status: q.status, eventType: q.event_type, limit: q.limit, before: q.cursor ? decodeCursor(q.cursor) : undefined };
}

/** Routes without query parameters still refuse unknown ones, so typos fail loudly. */
export function assertNoQuery(query: unknown): void {
  check(emptySchema, query, 'query');
}

export function assertEmptyBody(body: unknown): void {
  check(emptySchema, body, 'body');
}

export function parseRecoverBody(body: unknown, now: Date): Date {
  const { since } = check<{ since: Date }>(recoverSchema, body, 'body');
  if (since.getTime() > now.getTime()) {
    throw new ValidationError('Invalid body: "since" is in the future', [{ path: 'body.since', message: 'must not be in the future' }]);
  }
  return since;
}
