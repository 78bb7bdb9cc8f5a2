import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import type Joi from 'joi';
import type { HostLogger } from './host-logger.js';

/** An error the host answers with its own status and a message safe to show. */
export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details: Array<{ path: string; message: string }> = []) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, details: Array<{ path: string; message: string }> = []) => new HttpError(400, 'invalid_request', message, details);
export const unauthorized = (message = 'Sign in first') => new HttpError(401, 'unauthenticated', message);
export const forbidden = (message = 'You may not do this') => new HttpError(403, 'forbidden', message);
export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);

/** Validates a request body against a joi schema; unknown keys are refused, not ignored. */
export function parseBody<T>(schema: Joi.Schema<T>, body: unknown): T {
  const { value, error } = schema.validate(body ?? {}, { abortEarly: false, stripUnknown: false, convert: true });
  if (error) {
    throw badRequest(error.message, error.details.map((d) => ({ path: d.path.join('.'), message: d.message })));
  }
  return value;
}

type AsyncHandler = (req: Request, res: Response, next: NextFunction) => Promise<unknown>;
/** Express 5 forwards rejected promises itself; this only makes the intent explicit and typed. */
export const handle = (fn: AsyncHandler): RequestHandler => (req, res, next) => {
  fn(req, res, next).catch(next);
};

/** `{ error: { code, message, details } }`; a 5xx never shows its internals. */
export function jsonErrors(logger: HostLogger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    if (error instanceof HttpError) {
      res.status(error.status).json({ error: { code: error.code, message: error.message, details: error.details } });
      return;
    }
    const status = typeof error?.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status === 500) logger.error(`${req.method} ${req.path} failed`, { error: String(error?.stack ?? error) });
    const message = status === 500 ? 'Internal error' : String(error?.message ?? 'Bad request');
    res.status(status).json({ error: { code: status === 500 ? 'internal' : 'invalid_request', message, details: [] } });
  };
}
