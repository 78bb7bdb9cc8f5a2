import assert from 'node:assert/strict';
import { CircuitBreakers } from '../../plugin/delivery/circuit-breaker.js';
import { EndpointGate } from '../../plugin/delivery/endpoint-gate.js';
import { RateLimiter } from '../../plugin/delivery/rate-limiter.js';

describe('circuit breakers', () => {
  const breakers = () => new CircuitBreakers({ threshold: 3, cooldownMs: 1_000 });

  it('opens after `threshold` consecutive unanswered attempts, not before', () => {
    const b = breakers();
    assert.equal(b.record('w', 'timeout', 0), false);
    assert.equal(b.record('w', 'connection_refused', 0), false);
    assert.equal(b.allowance('w', 0), Number.POSITIVE_INFINITY);
    assert.equal(b.record('w', 'network', 0), true);
    assert.equal(b.state('w', 0), 'open');
    assert.equal(b.allowance('w', 999), 0);
    assert.deepEqual(b.openCircuits(10), ['w']);
  });

  it('counts only consecutive failures: any HTTP answer, a 5xx included, resets the count', () => {
    const b = breakers();
    b.record('w', 'timeout', 0);
    b.record('w', 'timeout', 0);
    b.record('w', 'http_error', 0);
    b.record('w', 'timeout', 0);
    b.record('w', 'timeout', 0);
    assert.equal(b.state('w', 0), 'closed');
    b.record('w', 'blocked', 0); // neither an answer nor a dead endpoint: changes nothing
    assert.equal(b.record('w', 'dns', 0), true);
  });

  it('lets one probe through after the cool-down; a success closes it', () => {
    const b = breakers();
    for (let i = 0; i < 3; i += 1) b.record('w', 'timeout', 0);
    assert.equal(b.state('w', 1_000), 'half_open');
    assert.equal(b.allowance('w', 1_000), 1);
    b.starting('w', 1_000);
    assert.equal(b.allowance('w', 1_001), 0, 'only one probe at a time');
    b.record('w', 'success', 1_200);
    assert.equal(b.state('w', 1_200), 'closed');
    assert.deepEqual(b.openCircuits(1_200), []);
  });

  it('reopens for twice as long after a failed probe, up to 8x the cool-down', () => {
    const b = breakers();
    for (let i = 0; i < 3; i += 1) b.record('w', 'timeout', 0);
    let now = 1_000;
    const cooldowns = [];
    for (let i = 0; i < 5; i += 1) {
      b.starting('w', now);
      assert.equal(b.record('w', 'timeout', now), true);
      let until = now;
      while (b.state('w', until) === 'open') until += 100;
      cooldowns.push(until - now);
      now = until;
    }
    assert.deepEqual(cooldowns, [2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it('lets another probe through when a probe ends without a verdict (refused by the egress guard, TLS)', () => {
    const b = breakers();
    for (let i = 0; i < 3; i += 1) b.record('w', 'timeout', 0);
    b.starting('w', 1_000);
    b.record('w', 'blocked', 1_100);
    assert.equal(b.state('w', 1_100), 'half_open', 'not stuck open');
    assert.equal(b.allowance('w', 1_100), 1);
  });

  it('is not extended by failures of requests that were in flight when it opened', () => {
    const b = breakers();
    for (let i = 0; i < 3; i += 1) b.record('w', 'timeout', 0);
    assert.equal(b.record('w', 'timeout', 500), false);
    assert.equal(b.state('w', 1_000), 'half_open');
  });
});

describe('rate limiter', () => {
  it('allows a burst of `rate`, then `rate` per second, and says how long to wait', () => {
    const r = new RateLimiter();
    assert.equal(r.available('w', 2, 0), 2);
    assert.equal(r.take('w', 2, 0), 0);
    assert.equal(r.take('w', 2, 0), 0);
    assert.equal(r.take('w', 2, 0), 500, 'the next token comes in 500 ms');
    assert.equal(r.available('w', 2, 499), 0);
    assert.equal(r.take('w', 2, 500), 0);
    assert.equal(r.available('w', 2, 10_000), 2, 'never more than one second\'s worth');
  });

  it('does not limit a webhook without a rate', () => {
    const r = new RateLimiter();
    assert.equal(r.available('w', null, 0), Number.POSITIVE_INFINITY);
    for (let i = 0; i < 100; i += 1) assert.equal(r.take('w', null, 0), 0);
  });
});

describe('endpoint gate', () => {
  const gate = () => new EndpointGate({ maxInFlight: 2, concurrency: 100, breaker: { threshold: 1, cooldownMs: 1_000 } });

  it('caps requests in flight per webhook and tells the claim how much room each has', () => {
    const g = gate();
    assert.equal(g.admit('a', null, 0).admitted, true);
    assert.deepEqual([...g.claimLimits(0)], [['a', 1]]);
    assert.equal(g.admit('a', null, 0).admitted, true);
    assert.deepEqual(g.admit('a', null, 0), { admitted: false, retryInMs: 0, reason: 'busy' });
    assert.equal(g.admit('b', null, 0).admitted, true, 'another webhook is not affected');
    assert.deepEqual(g.claimLimits(0).get('a'), 0);
    g.finished('a', 'success', 0);
    assert.deepEqual(g.claimLimits(0).get('a'), 1);
  });

  it('gives an open circuit no room and lets its probe through after the cool-down', () => {
    const g = gate();
    g.admit('a', null, 0);
    assert.equal(g.finished('a', 'timeout', 0), true);
    assert.equal(g.claimLimits(0).get('a'), 0);
    assert.equal(g.admit('a', null, 10).admitted, false);
    assert.equal(g.claimLimits(1_000).get('a'), 1);
    assert.equal(g.admit('a', null, 1_000).admitted, true);
    assert.equal(g.claimLimits(1_000).get('a'), 0, 'one probe only');
  });

  it('keeps a quarter of the slots for webhooks that are not busy, however many slow ones fill their caps', () => {
    const g = new EndpointGate({ maxInFlight: 4, concurrency: 16, breaker: { threshold: 5, cooldownMs: 1_000 } });
    for (const id of ['slow-1', 'slow-2', 'slow-3']) for (let i = 0; i < 4; i += 1) g.admit(id, null, 0);
    // 12 of 16 slots are held by busy webhooks: that is their whole share.
    g.admit('slow-4', null, 0);
    g.admit('slow-4', null, 0);
    const limits = g.claimLimits(0);
    assert.equal(limits.get('slow-4'), 0, 'a busy webhook gets nothing more while the busy share is used up');
    assert.equal(limits.has('fresh'), false);
    assert.equal(g.defaultClaimLimit(), 2, 'a webhook with nothing in flight may still fill half its cap');
    assert.equal(g.heldByBlocked(limits), 14, 'slots of webhooks that may take no more');
  });

  it('limits the claim of a rate-limited webhook to the tokens it has', () => {
    const g = gate();
    g.knowRateLimit('a', 1);
    assert.equal(g.claimLimits(0).get('a'), 1);
    assert.equal(g.admit('a', 1, 0).admitted, true);
    g.finished('a', 'success', 0);
    assert.equal(g.claimLimits(0).get('a'), 0);
    const refused = g.admit('a', 1, 0);
    assert.deepEqual(refused, { admitted: false, retryInMs: 1_000, reason: 'rate_limited' });
  });
});
