import assert from 'node:assert/strict';
import {
  DEFAULT_RETRY_POLICY,
  DEFAULT_RETRY_SCHEDULE_MS,
  nextAttemptDelay,
  parseRetryAfter,
} from '../../plugin/delivery/retry-policy.js';

// random() = 0.5 sits in the middle of the jitter range, i.e. exactly on the schedule.
const middle = (): number => 0.5;
const lowest = (): number => 0;
const highest = (): number => 1;

describe('retry-policy', () => {
  describe('DEFAULT_RETRY_SCHEDULE_MS', () => {
    it('is Svix\'s schedule: now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h', () => {
      const s = 1000;
      const min = 60 * s;
      const h = 60 * min;
      assert.deepEqual(DEFAULT_RETRY_SCHEDULE_MS, [0, 5 * s, 5 * min, 30 * min, 2 * h, 5 * h, 10 * h, 10 * h]);
    });

    it('cannot be changed at run time', () => {
      assert.ok(Object.isFrozen(DEFAULT_RETRY_SCHEDULE_MS));
      assert.ok(Object.isFrozen(DEFAULT_RETRY_POLICY));
    });

    it('defaults to 20 % jitter and a 1 hour cap on Retry-After', () => {
      assert.equal(DEFAULT_RETRY_POLICY.jitter, 0.2);
      assert.equal(DEFAULT_RETRY_POLICY.maxRetryAfterMs, 3_600_000);
      assert.equal(DEFAULT_RETRY_POLICY.schedule, DEFAULT_RETRY_SCHEDULE_MS);
    });
  });

  describe('nextAttemptDelay', () => {
    it('follows the schedule exactly when random() is 0.5', () => {
      const delays = DEFAULT_RETRY_SCHEDULE_MS.map((_, made) => nextAttemptDelay(made, {}, middle));
      assert.deepEqual(delays, [...DEFAULT_RETRY_SCHEDULE_MS]);
    });

    it('gives the first attempt no delay whatever the jitter', () => {
      assert.equal(nextAttemptDelay(0, {}, highest), 0);
      assert.equal(nextAttemptDelay(0, {}, lowest), 0);
    });

    it('returns null once every scheduled attempt has been made', () => {
      assert.equal(nextAttemptDelay(DEFAULT_RETRY_SCHEDULE_MS.length, {}, middle), null);
      assert.equal(nextAttemptDelay(100, {}, middle), null);
      assert.equal(nextAttemptDelay(3, { schedule: [0, 1000, 2000] }, middle), null);
    });

    it('stays null when exhausted even if the receiver sent Retry-After', () => {
      assert.equal(nextAttemptDelay(8, {}, middle, 1000), null);
    });

    it('jitters down to the scheduled delay minus 20 % when random() is 0', () => {
      assert.equal(nextAttemptDelay(1, {}, lowest), 4_000);
      assert.equal(nextAttemptDelay(4, {}, lowest), 5_760_000);
    });

    it('jitters up to the scheduled delay plus 20 % when random() is 1', () => {
      assert.equal(nextAttemptDelay(1, {}, highest), 6_000);
      assert.equal(nextAttemptDelay(7, {}, highest), 43_200_000);
    });

    it('keeps every jittered delay within +/- jitter of the schedule', () => {
      for (let made = 0; made < DEFAULT_RETRY_SCHEDULE_MS.length; made++) {
        const scheduled = DEFAULT_RETRY_SCHEDULE_MS[made];
        for (let i = 0; i < 50; i++) {
          const delay = nextAttemptDelay(made, {}) as number;
          assert.ok(delay >= Math.floor(scheduled * 0.8) && delay <= Math.ceil(scheduled * 1.2), `${delay}`);
        }
      }
    });

    it('returns whole milliseconds', () => {
      assert.ok(Number.isInteger(nextAttemptDelay(1, {}, () => 0.123456)));
    });

    it('never returns a negative delay, even with jitter above 1', () => {
      assert.equal(nextAttemptDelay(1, { jitter: 1.5 }, lowest), 0);
    });

    it('uses a custom schedule and jitter', () => {
      const opts = { schedule: [0, 1_000, 10_000], jitter: 0.5 };
      assert.equal(nextAttemptDelay(1, opts, lowest), 500);
      assert.equal(nextAttemptDelay(2, opts, highest), 15_000);
      assert.equal(nextAttemptDelay(2, { ...opts, jitter: 0 }, highest), 10_000);
    });

    it('waits for Retry-After when it is longer than the scheduled delay', () => {
      assert.equal(nextAttemptDelay(1, {}, middle, 120_000), 120_000);
    });

    it('keeps the scheduled delay when Retry-After is shorter', () => {
      assert.equal(nextAttemptDelay(4, {}, middle, 60_000), 7_200_000);
    });

    it('caps Retry-After at maxRetryAfterMs', () => {
      assert.equal(nextAttemptDelay(1, {}, middle, 86_400_000), 3_600_000);
      assert.equal(nextAttemptDelay(1, { maxRetryAfterMs: 60_000 }, middle, 86_400_000), 60_000);
    });

    it('does not apply jitter to a Retry-After that wins', () => {
      assert.equal(nextAttemptDelay(1, {}, lowest, 120_000), 120_000);
      assert.equal(nextAttemptDelay(1, {}, highest, 120_000), 120_000);
    });

    it('ignores a zero, negative or NaN Retry-After', () => {
      assert.equal(nextAttemptDelay(1, {}, middle, 0), 5_000);
      assert.equal(nextAttemptDelay(1, {}, middle, -10), 5_000);
      assert.equal(nextAttemptDelay(1, {}, middle, Number.NaN), 5_000);
    });

    it('rejects a negative or fractional attempt count', () => {
      assert.throws(() => nextAttemptDelay(-1), RangeError);
      assert.throws(() => nextAttemptDelay(1.5), RangeError);
    });
  });

  describe('parseRetryAfter', () => {
    const now = new Date('2015-10-21T07:00:00.000Z');

    it('reads delay-seconds as milliseconds', () => {
      assert.equal(parseRetryAfter('120', now), 120_000);
      assert.equal(parseRetryAfter('0', now), 0);
      assert.equal(parseRetryAfter(' 30 ', now), 30_000);
    });

    it('reads a negative number of seconds as zero', () => {
      assert.equal(parseRetryAfter('-5', now), 0);
    });

    it('reads an IMF-fixdate as the time left until it', () => {
      assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', now), 28 * 60_000);
    });

    it('reads a date in the past as zero', () => {
      assert.equal(parseRetryAfter('Wed, 21 Oct 2015 06:00:00 GMT', now), 0);
    });

    it('accepts the obsolete RFC 850 date form', () => {
      assert.equal(parseRetryAfter('Wednesday, 21-Oct-15 07:00:10 GMT', now), 10_000);
    });

    it('reads an RFC 850 two-digit year more than 50 years ahead as last century', () => {
      // From 2015, "94" would be 2094 (79 years ahead), so it is 1994: in the past.
      assert.equal(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', now), 0);
      // "64" is 2064, within 50 years, so it stays in this century.
      assert.equal(
        parseRetryAfter('Monday, 21-Oct-64 07:00:00 GMT', now),
        Date.UTC(2064, 9, 21, 7) - now.getTime(),
      );
    });

    it('accepts the obsolete asctime date form, with a space-padded day', () => {
      const early = new Date('2015-10-01T00:00:00.000Z');
      assert.equal(parseRetryAfter('Fri Oct  2 00:00:00 2015', early), 86_400_000);
      assert.equal(parseRetryAfter('Wed Oct 21 07:01:00 2015', now), 60_000);
    });

    it('returns undefined when the header is absent', () => {
      assert.equal(parseRetryAfter(undefined, now), undefined);
    });

    it('returns undefined for garbage that Date.parse would accept', () => {
      for (const garbage of ['', 'soon', '1.5', '5s', '1e3', 'tomorrow 2030', '2015-10-21T07:28:00Z', 'Oct 21 2015']) {
        assert.equal(parseRetryAfter(garbage, now), undefined, garbage);
      }
    });

    it('returns undefined for impossible calendar dates and times', () => {
      assert.equal(parseRetryAfter('Mon, 31 Feb 2015 07:28:00 GMT', now), undefined);
      assert.equal(parseRetryAfter('Wed, 21 Oct 2015 24:00:00 GMT', now), undefined);
      assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:60:00 GMT', now), undefined);
    });

    it('returns undefined for a date in a time zone other than GMT', () => {
      assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 PST', now), undefined);
    });

    it('feeds nextAttemptDelay: a 503 with Retry-After 120 waits two minutes', () => {
      assert.equal(nextAttemptDelay(1, {}, middle, parseRetryAfter('120', now)), 120_000);
    });
  });
});
