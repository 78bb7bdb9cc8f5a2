/**
 * The plugin logs as `logger.warn(message, fields)`. pino (and bunyan, and loggers built on
 * them) take the other order, `(fields, message)`: handed one of those directly, every field
 * would be lost (pino reads the first string as the message and treats the object as a format
 * argument it never uses). This adapter is applied once, when options are resolved, so the
 * many call sites keep one calling convention.
 */
import type { Logger } from './options.js';

/**
 * How the host's logger takes its arguments.
 * - `auto` (default): `fields-first` for a pino logger (see {@link isPinoLogger}), else `message-first`.
 * - `message-first`: `logger.warn(message, fields)`, the plugin's own `Logger` shape (e.g. console, winston).
 * - `fields-first`: `logger.warn(fields, message)`, pino's and bunyan's shape.
 */
export type LoggerStyle = 'auto' | 'message-first' | 'fields-first';

export const LOGGER_STYLES: readonly LoggerStyle[] = Object.freeze(['auto', 'message-first', 'fields-first']);

const LEVELS = ['info', 'warn', 'error'] as const;

/**
 * True for a pino logger or one of its children. All of these come from pino's own prototype:
 * `levels.values` (the level name to number table), `bindings()` and `child()`. Each alone is
 * common (winston has `child()` and a flat `levels` table, no `bindings()`), together they are
 * pino's; a logger that merely resembles it can set `loggerStyle` explicitly.
 */
export function isPinoLogger(logger: object): boolean {
  const candidate = logger as { levels?: { values?: unknown }; bindings?: unknown; child?: unknown };
  return typeof candidate.levels?.values === 'object' && candidate.levels.values !== null
    && typeof candidate.bindings === 'function' && typeof candidate.child === 'function';
}

/**
 * Returns a {@link Logger} that passes each call to `logger` in the order it expects. A
 * message-first logger is returned as it is. Methods are called on `logger` itself (pino's
 * methods read their state from `this`).
 */
export function adaptLogger(logger: Logger, style: LoggerStyle = 'auto'): Logger {
  const fieldsFirst = style === 'fields-first' || (style === 'auto' && isPinoLogger(logger));
  if (!fieldsFirst) return logger;
  const target = logger as unknown as Record<(typeof LEVELS)[number], (...args: unknown[]) => void>;
  const call = (level: (typeof LEVELS)[number]) => (message: string, fields?: Record<string, unknown>) => {
    if (fields === undefined) target[level](message);
    else target[level](fields, message);
  };
  return { info: call('info'), warn: call('warn'), error: call('error') };
}
