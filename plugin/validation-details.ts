import type Joi from 'joi';
import type { ErrorDetail } from './errors.js';

/** A joi error as the `details` of our errors: one `{ path, message }` per problem, under `prefix`. */
export function joiDetails(error: Joi.ValidationError, prefix: string[] = []): ErrorDetail[] {
  return error.details.map((d) => ({ path: [...prefix, ...d.path].join('.'), message: d.message }));
}
