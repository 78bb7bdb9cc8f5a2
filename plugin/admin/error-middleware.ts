import type { ErrorRequestHandler } from 'express';
import { WebhooksError } from '../errors.js';
import type { Logger } from '../options.js';

/**
 * Turns every error into `{ error: { code, message, details } }` with the right status.
 * 5xx answers never carry internals: the message is generic and the cause goes to the log.
 */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const { status, body } = toErrorResponse(error);
    if (status >= 500) logger.error('Admin API request failed', { method: req.method, path: req.originalUrl, error: String(error?.stack ?? error) });
    if (res.headersSent) return;
    res.status(status).json(body);
  };
}

export function toErrorResponse(error: any): { status: number; body: { error: { code: string; message: string; details: Array<{ path: string; message: string }> } } } {
  if (error instanceof WebhooksError) {
    const expose = error.expose && error.status < 500;
    return {
      status: error.status,
      body: { error: { code: error.code, message: expose ? error.message : 'Internal error', details: expose ? error.details : [] } },
    };
  }
  // Passport's `failWithError: true` hands us its AuthenticationError (401 or the strategy's status).
  if (error?.name === 'AuthenticationError') {
    return { status: 401, body: { error: { code: 'unauthenticated', message: 'Sign in to manage webhooks', details: [] } } };
  }
  // body-parser's errors: malformed JSON, a body over the limit, a bad charset.
  // (http-errors marks client errors `expose: true`; some, like a bad gzip body, carry no type.)
  if (error && typeof error.status === 'number' && error.status >= 400 && error.status < 500 && (typeof error.type === 'string' || error.expose === true)) {
    const code = error.type === 'entity.too.large' ? 'payload_too_large' : error.type === 'entity.parse.failed' ? 'malformed_json' : 'bad_request';
    const message = code === 'malformed_json' ? 'The request body is not valid JSON' : code === 'payload_too_large' ? 'The request body is too large' : 'The request body could not be read';
    return { status: error.status, body: { error: { code, message, details: [] } } };
  }
  return { status: 500, body: { error: { code: 'internal_error', message: 'Internal error', details: [] } } };
}
