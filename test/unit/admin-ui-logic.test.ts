import assert from 'node:assert/strict';
import { ApiError } from '../../admin-ui/src/api-client.js';
import type { EventType, WebhookHealth } from '../../admin-ui/src/api-types.js';
import {
  coveredCount, coveringSelector, groupByCategory, normalizeSelection, prefixPatterns, selectorMatches,
} from '../../admin-ui/src/event-selection.js';
import { mapApiErrors } from '../../admin-ui/src/field-errors.js';
import { NO_DELIVERIES_YET, statsFromHealth } from '../../admin-ui/src/webhook-stats.js';
import { resendResult } from '../../admin-ui/src/resend-result.js';

const type = (t: string, category: string): EventType => ({ type: t, category, description: `${t} happened`, built_in: true });
const CATALOGUE = [
  type('USER_CREATED', 'USER'), type('EMAIL_CHANGED', 'USER'), type('USER_LOGIN', 'AUTH'), type('TOKEN_RENEWED', 'AUTH'),
  type('ROLE_CREATED', 'ROLE'), type('ROLE_DELETED', 'ROLE'), type('TENANT_CREATED', 'TENANT'),
];

describe('admin UI logic', () => {
  describe('event selection', () => {
    it('offers PREFIX_* patterns for first words shared by two or more types', () => {
      assert.deepEqual(prefixPatterns(CATALOGUE).map((p) => [p.selector, p.count]), [['ROLE_*', 2], ['USER_*', 2]]);
    });

    it('matches on the type name, not the category, like the server', () => {
      assert.ok(selectorMatches('USER_*', 'USER_LOGIN'));
      assert.ok(!selectorMatches('USER_*', 'EMAIL_CHANGED'));
      assert.ok(selectorMatches('*', 'TENANT_CREATED'));
      assert.equal(coveringSelector(['USER_*', 'USER_LOGIN'], 'USER_LOGIN'), 'USER_*');
      assert.equal(coveredCount(['USER_*', 'TENANT_CREATED'], CATALOGUE), 3);
    });

    it('saves * alone, or patterns and the exact types no pattern covers', () => {
      assert.deepEqual(normalizeSelection(['ROLE_CREATED', '*', 'USER_*']), ['*']);
      assert.deepEqual(normalizeSelection(['USER_LOGIN', 'TENANT_CREATED', 'USER_*', 'TENANT_CREATED']), ['USER_*', 'TENANT_CREATED']);
    });

    it('groups by category in the API order, then any category it did not list', () => {
      const groups = groupByCategory([...CATALOGUE, type('ORDER_PLACED', 'CUSTOM')], ['AUTH', 'USER', 'ROLE', 'TENANT']);
      assert.deepEqual(groups.map((g) => g.category), ['AUTH', 'USER', 'ROLE', 'TENANT', 'CUSTOM']);
    });
  });

  describe('API errors to fields', () => {
    it('puts each detail next to its field', () => {
      const error = new ApiError(400, 'validation_failed', 'Invalid webhook', [
        { path: 'events.1', message: '"events[1]" is not a known event type, a PREFIX_* pattern or *' },
        { path: 'api_key.value', message: '"api_key.value" must be printable text without line breaks' },
        { path: 'headers.webhook-signature', message: '"headers.webhook-signature" is a header the plugin sets itself' },
        { path: 'name', message: '"name" is not allowed to be empty' },
        { path: 'extra', message: '"extra" is not allowed' },
      ]);
      const mapped = mapApiErrors(error, ['USER_*', 'NOPE']);
      assert.equal(mapped.fields.events, 'NOPE: is not a known event type, a PREFIX_* pattern or *');
      assert.equal(mapped.fields['api_key.value'], 'Must be printable text without line breaks');
      assert.equal(mapped.headers['webhook-signature'], 'Is a header the plugin sets itself');
      assert.equal(mapped.fields.name, 'Is not allowed to be empty');
      assert.deepEqual(mapped.general, ['extra: Is not allowed']);
    });

    it('explains URL refusals in words, from the reason code', () => {
      const error = new ApiError(400, 'invalid_url', 'The webhook URL points to 10.0.0.5, which is in a forbidden range', [{ path: 'url', message: 'forbidden_address' }]);
      assert.match(mapApiErrors(error).fields.url!, /private or reserved range/);
    });

    it('puts a refused rate limit next to the rate limit field', () => {
      const error = new ApiError(400, 'validation_failed', 'Invalid webhook', [
        { path: 'rate_limit_per_second', message: '"rate_limit_per_second" must be a whole number from 1 to 10000, or null for no limit' },
      ]);
      const mapped = mapApiErrors(error);
      assert.equal(mapped.fields.rate_limit_per_second, 'Must be a whole number from 1 to 10000, or null for no limit');
      assert.deepEqual(mapped.general, []);
    });

    it('keeps errors without details as one general message', () => {
      assert.deepEqual(mapApiErrors(new ApiError(400, 'malformed_json', 'The request body is not valid JSON')).general, ['The request body is not valid JSON']);
    });
  });

  describe('webhook health', () => {
    const NOW = Date.parse('2026-05-01T12:00:00Z');
    const health = (recent: Partial<WebhookHealth['recent']>, last: WebhookHealth['last_delivery'] = null, waiting = 0): WebhookHealth => ({
      last_delivery: last,
      recent: { since: new Date(NOW - 24 * 3_600_000).toISOString(), succeeded: 0, failed: 0, pending: 0, success_rate: null, ...recent },
      waiting,
    });

    it('shows the API\'s success rate over finished deliveries, with pending ones apart, and the last delivery', () => {
      const at = '2026-05-01T11:59:00Z';
      const stats = statsFromHealth(health({ succeeded: 3, failed: 1, pending: 1, success_rate: 0.75 },
        { status: 'pending', status_code: 503, outcome: 'http_error', at }, 7), NOW);
      assert.deepEqual(stats, {
        last: { status: 'pending', statusCode: 503, outcome: 'http_error', at },
        successRate: 0.75, succeeded: 3, finished: 4, pending: 1, waiting: 7, windowHours: 24,
      });
    });

    it('has no rate when nothing finished, and a new webhook has nothing at all', () => {
      const stats = statsFromHealth(health({ pending: 2 }), NOW);
      assert.equal(stats.successRate, null);
      assert.equal(stats.finished, 0);
      assert.equal(stats.pending, 2);
      assert.equal(stats.last, null);
      assert.deepEqual(NO_DELIVERIES_YET, { last: null, successRate: null, succeeded: 0, finished: 0, pending: 0, waiting: 0, windowHours: 24 });
    });

    it('counts every waiting delivery, and none when a server sends no count', () => {
      assert.equal(statsFromHealth(health({}, null, 3), NOW).waiting, 3);
      const { waiting: _omitted, ...older } = health({});
      assert.equal(statsFromHealth(older as WebhookHealth, NOW).waiting, 0);
    });

    it('labels the window from `since`, falling back to 24 h when it cannot tell', () => {
      assert.equal(statsFromHealth(health({ since: new Date(NOW - 6 * 3_600_000).toISOString() }), NOW).windowHours, 6);
      assert.equal(statsFromHealth(health({ since: 'garbage' }), NOW).windowHours, 24);
    });
  });
});

describe('resend announcement', () => {
  const NOW = Date.parse('2026-05-01T10:00:00Z');
  const after = (ms: number) => new Date(NOW + ms).toISOString();

  it('announces a delivered resend as a success', () => {
    assert.deepEqual(resendResult({ status: 'succeeded', last_outcome: 'success', last_status_code: 204, next_attempt_at: null }, NOW),
      { message: 'Resent delivery succeeded (HTTP 204).', tone: 'success' });
  });

  it('announces a failed attempt with a retry still to come as a failure, with its reason and the retry', () => {
    const result = resendResult({ status: 'pending', last_outcome: 'http_error', last_status_code: 401, next_attempt_at: after(5 * 60_000) }, NOW);
    assert.equal(result.tone, 'error');
    assert.match(result.message, /^Resend failed: HTTP error \(HTTP 401\)\. It will be retried in 5 minutes\.$/);
    assert.doesNotMatch(result.message, /pending|succeeded/i);
  });

  it('announces an attempt that got no response as a failure, naming why', () => {
    const result = resendResult({ status: 'pending', last_outcome: 'connection_refused', last_status_code: null, next_attempt_at: null }, NOW);
    assert.deepEqual(result, { message: 'Resend failed: Connection refused.', tone: 'error' });
  });

  it('announces a resend whose delivery failed for good as a failure with no retries left', () => {
    assert.deepEqual(resendResult({ status: 'failed', last_outcome: 'http_error', last_status_code: 500, next_attempt_at: null }, NOW),
      { message: 'Resend failed: HTTP error (HTTP 500). No retries are left.', tone: 'error' });
  });
});
