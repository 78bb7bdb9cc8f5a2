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

/**
 * The dates the API accepts, from any input: JavaScript dates reach +-275,760 years, PostgreSQL
 * timestamps only 4713 BC to 294276 AD, and a date outside the latter answered 500 ("timestamp out
 * of range"). No event of this plugin predates the Unix epoch, and none is dated past year 9999.
 */
export const EARLIEST_ACCEPTED_DATE = new Date('1970-01-01T00:00:00.000Z');
export const LATEST_ACCEPTED_DATE = new Date('9999-12-31T23:59:59.999Z');
const DATE_RANGE_MESSAGE = 'must be a date from 1970-01-01 to 9999-12-31';

const recoverSchema = Joi.object({
  since: Joi.date().iso().min(EARLIEST_ACCEPTED_DATE).max(LATEST_ACCEPTED_DATE).required()
    .messages({ 'date.min': `{{#label}} ${DATE_RANGE_MESSAGE}`, 'date.max': `{{#label}} ${DATE_RANGE_MESSAGE}` }),
});

function isAcceptedDate(date: Date): boolean {
  const time = date.getTime();
  return time >= EARLIEST_ACCEPTED_DATE.getTime() && time <= LATEST_ACCEPTED_DATE.getTime();
}

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
    // Only the ISO strings encodeCursor writes: a number (epoch ms) or an extreme date is no cursor of ours.
    const createdAt = new Date(typeof at === 'string' ? at : Number.NaN);
    if (typeof id !== 'string' || !ID_PATTERN.test(id) || !isAcceptedDate(createdAt)) throw new Error('bad cursor');
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
