/** The host's logger; the same shape the webhooks plugin takes as its `logger` option. */
export interface HostLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const format = (fields?: Record<string, unknown>) => (fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '');

/** One line per message on stdout/stderr, prefixed with a scope such as `host` or `webhooks`. */
export function consoleLogger(scope: string): HostLogger {
  const stamp = () => new Date().toISOString().slice(11, 23);
  return {
    info: (message, fields) => console.log(`${stamp()} [${scope}] ${message}${format(fields)}`),
    warn: (message, fields) => console.warn(`${stamp()} [${scope}] WARN ${message}${format(fields)}`),
    error: (message, fields) => console.error(`${stamp()} [${scope}] ERROR ${message}${format(fields)}`),
  };
}

/** Keeps every line in memory: for tests that assert on warnings. */
export function memoryLogger(): HostLogger & { lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> } {
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  return {
    lines,
    info: (message, fields) => lines.push({ level: 'info', message, fields }),
    warn: (message, fields) => lines.push({ level: 'warn', message, fields }),
    error: (message, fields) => lines.push({ level: 'error', message, fields }),
  };
}
