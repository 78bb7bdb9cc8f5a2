/**
 * When to try a failed delivery again. Pure: no clock, no randomness of its own, so the
 * queue can compute the next run time and tests can pin every value.
 */

/**
 * Delay before each attempt, in milliseconds: attempt 1 at once, then 5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h and 10 h (Svix's schedule: eight attempts over about 27.5 hours, long
 * enough to ride out a receiver's overnight outage).
 */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = Object.freeze([
  0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
]);

/** How retries are spaced. */
export interface RetryPolicyOptions {
  /**
   * Delay before each attempt in ms; entry `i` is the wait before attempt `i + 1`, so the
   * length is the total number of attempts. Default {@link DEFAULT_RETRY_SCHEDULE_MS}.
   * Example: `[0, 1_000, 60_000]` tries three times.
   */
  schedule: readonly number[];
  /**
   * Random spread as a fraction of each scheduled delay, applied symmetrically (0.2 means
   * +/-20 %), so endpoints that failed together are not retried in one burst.
   * Default 0.2.
   */
  jitter: number;
  /**
   * Longest `Retry-After` honoured, in ms, so a receiver cannot park a delivery for days.
   * Default 3_600_000 (1 hour).
   */
  maxRetryAfterMs: number;
}

/** Defaults for {@link RetryPolicyOptions}, all in one place. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicyOptions> = Object.freeze({
  schedule: DEFAULT_RETRY_SCHEDULE_MS,
  jitter: 0.2,
  maxRetryAfterMs: 3_600_000,
});

/**
 * The wait before the next attempt, after `attemptsMade` attempts have failed.
 *
 * The scheduled delay is spread by +/- `jitter` using `random` (0 gives the low end,
 * 0.5 the exact schedule, 1 the high end) and never goes below zero. A `Retry-After` from
 * the receiver, capped at `maxRetryAfterMs`, acts as a floor: the result is
 * `max(jittered, min(retryAfterMs, maxRetryAfterMs))`. It never shortens the schedule
 * (a receiver asking for 1 s after our 2 h wait still gets 2 h) and never adds attempts.
 *
 * @param attemptsMade Attempts already made and failed (0 asks for the first attempt's delay).
 * @param opts Overrides of {@link DEFAULT_RETRY_POLICY}.
 * @param random Source of uniform numbers in [0, 1); inject a constant in tests.
 * @param retryAfterMs The receiver's `Retry-After`, already parsed (see {@link parseRetryAfter}).
 * @returns Milliseconds to wait (an integer), or `null` when the schedule is exhausted and
 *   the delivery should be marked failed.
 */
export function nextAttemptDelay(
  attemptsMade: number,
  opts: Partial<RetryPolicyOptions> = {},
  random: () => number = Math.random,
  retryAfterMs?: number,
): number | null {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 0) {
    throw new RangeError(`attemptsMade must be a non-negative integer, got ${attemptsMade}`);
  }
  const { schedule, jitter, maxRetryAfterMs } = { ...DEFAULT_RETRY_POLICY, ...opts };
  if (attemptsMade >= schedule.length) return null;

  const scheduled = schedule[attemptsMade];
  // Map random's [0, 1] onto [-1, +1] so the spread is symmetric around the schedule.
  const spread = scheduled * jitter * (2 * random() - 1);
  const jittered = Math.max(0, Math.round(scheduled + spread));

  if (retryAfterMs === undefined || !(retryAfterMs > 0)) return jittered;
  return Math.max(jittered, Math.round(Math.min(retryAfterMs, maxRetryAfterMs)));
}

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

// RFC 9110 section 5.6.7: senders use IMF-fixdate, but recipients must also accept the
// obsolete RFC 850 and asctime forms. Date.parse is not used because it accepts almost
// anything ("5", "tomorrow 2030") and would turn garbage into a real delay.
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC850_DATE = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} (\\d{2}| \\d) ${TIME} (\\d{4})$`);

/**
 * Parses a `Retry-After` header into milliseconds from `now`.
 *
 * @param header Either delay-seconds (`"120"`) or an HTTP-date
 *   (`"Wed, 21 Oct 2015 07:28:00 GMT"`, or the obsolete RFC 850 / asctime forms).
 * @param now The current time, injected so callers and tests control the clock.
 * @returns Milliseconds (0 for a negative number or a date in the past), or `undefined`
 *   when the header is absent or not valid, in which case the schedule alone applies.
 */
export function parseRetryAfter(header: string | undefined, now: Date): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();

  if (/^-?\d+$/.test(value)) {
    const seconds = Number(value);
    // Strictly "1*DIGIT" in the RFC; a negative value is read as "now" rather than
    // discarded, since the receiver evidently means "no need to wait".
    return seconds <= 0 ? 0 : Math.min(seconds * 1000, Number.MAX_SAFE_INTEGER);
  }

  const date = parseHttpDate(value, now);
  if (date === undefined) return undefined;
  return Math.max(0, date - now.getTime());
}

/** Milliseconds since the epoch for an HTTP-date, or undefined if it is not one. */
function parseHttpDate(value: string, now: Date): number | undefined {
  let match = IMF_FIXDATE.exec(value);
  if (match) {
    const [, day, month, year, h, m, s] = match;
    return utc(Number(year), month, Number(day), h, m, s);
  }
  match = RFC850_DATE.exec(value);
  if (match) {
    const [, day, month, yy, h, m, s] = match;
    // RFC 9110: a two-digit year more than 50 years ahead means the previous century.
    const thisYear = now.getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + Number(yy);
    if (year > thisYear + 50) year -= 100;
    return utc(year, month, Number(day), h, m, s);
  }
  match = ASCTIME_DATE.exec(value);
  if (match) {
    const [, month, day, h, m, s, year] = match;
    return utc(Number(year), month, Number(day.trim()), h, m, s);
  }
  return undefined;
}

function utc(year: number, monthName: string, day: number, h: string, m: string, s: string): number | undefined {
  const month = MONTHS.indexOf(monthName);
  const hours = Number(h);
  const minutes = Number(m);
  const seconds = Number(s);
  // 60 seconds is a leap second, which the grammar allows.
  if (hours > 23 || minutes > 59 || seconds > 60) return undefined;
  const minute = Date.UTC(year, month, day, hours, minutes);
  // Date.UTC rolls "31 Feb" over into March; a date that does not round-trip is invalid.
  // Seconds are added afterwards so a leap second at 23:59:60 does not fail the check.
  const check = new Date(minute);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month || check.getUTCDate() !== day) {
    return undefined;
  }
  return minute + seconds * 1000;
}
