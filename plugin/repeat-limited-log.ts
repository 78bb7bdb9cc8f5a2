import type { Logger } from './options.js';

/**
 * A log call for errors that repeat while a fault lasts (a database outage makes every poll,
 * pool and channel fail, several times a second). The first occurrence of a message is logged
 * at once; repeats within `windowMs` are counted, and the next one logged after the window
 * carries how many were held back (`repeated`). Operators see the fault and that it goes on,
 * without a flood.
 */
export type RepeatLimitedLog = (level: 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export function repeatLimitedLog(logger: Logger, windowMs = 30_000, now: () => number = Date.now): RepeatLimitedLog {
  const runs = new Map<string, { until: number; held: number }>();
  return (level, message, fields) => {
    const t = now();
    const run = runs.get(message);
    if (run && t < run.until) {
      run.held += 1;
      return;
    }
    runs.set(message, { until: t + windowMs, held: 0 });
    logger[level](message, run && run.held > 0 ? { ...fields, repeated: run.held } : fields);
  };
}
