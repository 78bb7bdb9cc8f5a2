import express, { type RequestHandler } from 'express';
import { ValidationError } from '../errors.js';

/** Most nesting the walk below follows; the API's own bodies are three levels deep at most. */
const MAX_DEPTH = 32;

/**
 * The admin API's JSON body parser. `JSON.parse` keeps a `__proto__` key as an ordinary own
 * property, and joi's validation skips that name, so `{"__proto__": ...}` was accepted where every
 * other unknown field is refused; a later merge (`Object.assign`, spread into a plain object)
 * would then set a prototype. Such keys are refused here like any unknown field, at any depth.
 */
export function jsonBody(): RequestHandler[] {
  return [
    express.json({ limit: '64kb', strict: true }),
    (req, _res, next) => {
      const path = prototypeKeyPath(req.body, [], 0);
      next(path ? new ValidationError(`Invalid body: "${path}" is not allowed`, [{ path, message: `"${path}" is not allowed` }]) : undefined);
    },
  ];
}

function prototypeKeyPath(value: unknown, at: string[], depth: number): string | undefined {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return undefined;
  for (const key of Object.keys(value)) {
    const path = [...at, key];
    if (key === '__proto__') return path.join('.');
    const nested = prototypeKeyPath((value as Record<string, unknown>)[key], path, depth + 1);
    if (nested) return nested;
  }
  return undefined;
}
