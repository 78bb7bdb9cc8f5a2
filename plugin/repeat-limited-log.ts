import type { Logger } from './options.js';

/**
 * A log call for errors that repeat while a fault lasts (a database outage makes every poll,
 * pool and channel fail, several times a second). The first occurrence of a message is logged
 * at once; repeats within `windowMs` are counted, and the next one logged after the window
 * carries how many were held back (`repeated`). Operators see the fault and that it goes on,
 * without a flood. `key` (default: the message) limits each source of one message on its own,
 * e.g. failed attempts per webhook.
 */
export type RepeatLimitedLog = (level: 'warn' | 'error', message: string, fields?: Record<string, unknown>, key?: string) => void;

export function repeatLimitedLog(logger: Logger, windowMs = 30_000, now: () => number = Date.now): RepeatLimitedLog {
  const runs = new Map<string, { until: number; held: number }>();
  return (level, message, fields, key = message) => {
    const t = now();
    const run = runs.get(key);
    if (run && t < run.until) {
      run.held += 1;
      return;
    }
    // Keys may be many (one per webhook): forget finished runs now and then.
    if (runs.size >= 10_000) for (const [k, r] of runs) if (t >= r.until) runs.delete(k);
    runs.set(key, { until: t + windowMs, held: 0 });
    logger[level](message, run && run.held > 0 ? { ...fields, repeated: run.held } : fields);
  };
}
