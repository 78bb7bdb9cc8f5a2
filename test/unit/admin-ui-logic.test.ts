import assert from 'node:assert/strict';
import { ApiError } from '../../admin-ui/src/api-client.js';
import type { Delivery, EventType } from '../../admin-ui/src/api-types.js';
import {
  coveredCount, coveringSelector, groupByCategory, normalizeSelection, prefixPatterns, selectorMatches,
} from '../../admin-ui/src/event-selection.js';
import { mapApiErrors } from '../../admin-ui/src/field-errors.js';
import { computeStats } from '../../admin-ui/src/webhook-stats.js';

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

    it('keeps errors without details as one general message', () => {
      assert.deepEqual(mapApiErrors(new ApiError(400, 'malformed_json', 'The request body is not valid JSON')).general, ['The request body is not valid JSON']);
    });
  });

  it('computes the recent success rate from finished deliveries only', () => {
    const d = (status: Delivery['status']) => ({ status } as Delivery);
    const stats = computeStats([d('pending'), d('succeeded'), d('failed'), d('succeeded'), d('succeeded')]);
    assert.equal(stats.last?.status, 'pending');
    assert.equal(stats.successRate, 0.75);
    assert.equal(stats.finished, 4);
    assert.equal(computeStats([]).successRate, null);
  });
});
