import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { classifyError } from '../../plugin/delivery/http-sender.js';
import {
  createHostResolver,
  HostResolutionError,
  type FallbackLookup,
  type HostResolverOptions,
  type ResolvedAddress,
} from '../../plugin/security/egress/host-resolver.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';

const THIS_FILE = fileURLToPath(import.meta.url);

/** A settable promise, for fallbacks the test releases by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A fallback that records how many calls run at once and answers from `answer`. */
function countingFallback(answer: (hostname: string) => Promise<ResolvedAddress[]>) {
  const stats = { calls: 0, active: 0, maxActive: 0, completed: 0, names: [] as string[] };
  const running: Array<Promise<unknown>> = [];
  const lookup: FallbackLookup = (hostname) => {
    stats.calls += 1;
    stats.active += 1;
    stats.maxActive = Math.max(stats.maxActive, stats.active);
    stats.names.push(hostname);
    const call = answer(hostname).finally(() => {
      stats.active -= 1;
      stats.completed += 1;
    });
    running.push(call.catch(() => {}));
    return call;
  };
  return { lookup, stats, running };
}

const rejection = async (promise: Promise<unknown>): Promise<HostResolutionError> => {
  const error = await promise.then(
    (value) => assert.fail(`expected a rejection, got ${JSON.stringify(value)}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof HostResolutionError, String(error));
  return error;
};

const waitFor = async (condition: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 500; i += 1) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
};

describe('host resolver', () => {
  let dnsServer: TestDnsServer;
  const noFallback: FallbackLookup = () => Promise.reject(new Error('the fallback should not be called'));
  const resolverFor = (options: Partial<HostResolverOptions> = {}) =>
    createHostResolver({ timeoutMs: 3_000, servers: [dnsServer.address], fallbackLookup: noFallback, ...options });

  before(async () => {
    dnsServer = await startDnsServer({
      'public.test': { a: ['93.184.216.34'], aaaa: ['2606:4700::1'], ttl: 60 },
      'two-a.test': { a: ['93.184.216.34', '93.184.216.35'] },
      'v4only.test': { a: ['93.184.216.36'] },
      'no-aaaa-answer.test': { a: ['93.184.216.37'], silent: 'AAAA' },
      'short-ttl.test': { a: ['93.184.216.38'], ttl: 5 },
      'zero-ttl.test': { a: ['93.184.216.39'], ttl: 0 },
      'slow.test': { a: ['93.184.216.40'], delayMs: 5_000 },
      'silent.test': { silent: true },
      'coalesce.test': { a: ['93.184.216.41'], delayMs: 100 },
      'servfail.test': { rcode: 2 },
      'lru-a.test': { a: ['93.184.216.42'] },
      'lru-b.test': { a: ['93.184.216.43'] },
      'lru-c.test': { a: ['93.184.216.44'] },
      ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`slow-${i}.test`, { silent: true }])),
    });
  });

  after(async () => {
    await dnsServer.close();
  });

  describe('through c-ares', () => {
    it('resolves A and AAAA records through the configured DNS server, IPv4 first', async () => {
      const before = dnsServer.queriesFor('public.test');
      assert.deepEqual(await resolverFor().resolve('public.test'), [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:4700::1', family: 6 },
      ]);
      assert.equal(dnsServer.queriesFor('public.test') - before, 2, 'one A and one AAAA query');
    });

    it('answers every record, and a name with only A records without the fallback', async () => {
      const resolver = resolverFor();
      assert.deepEqual(await resolver.resolve('Two-A.Test.'), [
        { address: '93.184.216.34', family: 4 },
        { address: '93.184.216.35', family: 4 },
      ]);
      assert.deepEqual(await resolver.resolve('v4only.test'), [{ address: '93.184.216.36', family: 4 }]);
    });

    it('answers with the A records when AAAA queries are never answered, well before the deadline', async () => {
      const started = performance.now();
      assert.deepEqual(await resolverFor({ timeoutMs: 10_000 }).resolve('no-aaaa-answer.test'), [
        { address: '93.184.216.37', family: 4 },
      ]);
      assert.ok(performance.now() - started < 5_000, 'did not wait for the deadline');
    });

    it('rejects a name whose answer comes after the deadline, at about the deadline, as a DNS failure', async () => {
      for (const name of ['slow.test', 'silent.test']) {
        const started = performance.now();
        const error = await rejection(resolverFor({ timeoutMs: 300 }).resolve(name));
        const took = performance.now() - started;
        assert.equal(error.code, 'ETIMEOUT', name);
        assert.equal(error.hostname, name);
        assert.equal(classifyError(error), 'dns');
        assert.ok(took >= 250 && took < 2_000, `${name}: took ${Math.round(took)} ms`);
      }
    });

    it('resolves a fast name, and lets thread-pool work finish, while 20 names wait on a DNS server that never answers', async function () {
      this.timeout(10_000);
      const resolver = resolverFor({ timeoutMs: 1_500 });
      let slowSettled = 0;
      const slow = Array.from({ length: 20 }, (_, i) =>
        resolver.resolve(`slow-${i}.test`).finally(() => {
          slowSettled += 1;
        }),
      );
      await waitFor(() => dnsServer.queries.filter((q) => q.name.startsWith('slow-')).length >= 40, 'the slow queries');

      const fast = await resolver.resolve('v4only.test');
      const file = await readFile(THIS_FILE, 'utf8');
      const key = await new Promise<Buffer>((resolve, reject) =>
        crypto.pbkdf2('secret', 'salt', 10, 32, 'sha256', (err, derived) => (err ? reject(err) : resolve(derived))),
      );
      assert.equal(slowSettled, 0, 'the fast name and the thread-pool work finished while every slow name was pending');
      assert.deepEqual(fast, [{ address: '93.184.216.36', family: 4 }]);
      assert.ok(file.length > 0 && key.length === 32);

      const outcomes = await Promise.allSettled(slow);
      for (const outcome of outcomes) {
        assert.equal(outcome.status, 'rejected');
        assert.equal((outcome.reason as HostResolutionError).code, 'ETIMEOUT');
      }
    });

    it('classes a DNS server failure as a DNS failure and does not fall back on it', async () => {
      const fallback = countingFallback(async () => [{ address: '93.184.216.50', family: 4 }]);
      const error = await rejection(resolverFor({ fallbackLookup: fallback.lookup }).resolve('servfail.test'));
      assert.equal(error.code, 'EAI_AGAIN');
      assert.match(error.message, /ESERVFAIL/);
      assert.equal(classifyError(error), 'dns');
      assert.equal(fallback.stats.calls, 0);
    });
  });

  describe('without DNS', () => {
    it('answers localhost and *.localhost with loopback', async () => {
      const resolver = resolverFor();
      const before = dnsServer.queries.length;
      for (const name of ['localhost', 'LOCALHOST.', 'api.localhost']) {
        assert.deepEqual(await resolver.resolve(name), [
          { address: '127.0.0.1', family: 4 },
          { address: '::1', family: 6 },
        ]);
      }
      assert.equal(dnsServer.queries.length, before, 'no query reached the DNS server');
    });

    it('passes IP literals through', async () => {
      const resolver = resolverFor();
      const before = dnsServer.queries.length;
      assert.deepEqual(await resolver.resolve('93.184.216.34'), [{ address: '93.184.216.34', family: 4 }]);
      assert.deepEqual(await resolver.resolve('2606:4700::1'), [{ address: '2606:4700::1', family: 6 }]);
      assert.deepEqual(await resolver.resolve('[::1]'), [{ address: '::1', family: 6 }]);
      assert.equal(dnsServer.queries.length, before);
    });
  });

  describe('cache', () => {
    it('serves a cached answer without asking the server again, for at most 30 s whatever the TTL', async () => {
      let now = 1_000_000;
      const resolver = resolverFor({ now: () => now });
      const before = dnsServer.queriesFor('public.test'); // TTL 60
      const first = await resolver.resolve('public.test');
      assert.equal(dnsServer.queriesFor('public.test') - before, 2);
      now += 29_000;
      assert.deepEqual(await resolver.resolve('PUBLIC.test'), first);
      assert.equal(dnsServer.queriesFor('public.test') - before, 2, 'answered from the cache');
      now += 2_000;
      assert.deepEqual(await resolver.resolve('public.test'), first);
      assert.equal(dnsServer.queriesFor('public.test') - before, 4, 'asked again after 30 s');
    });

    it('honours a record TTL shorter than the cap, and does not cache a zero TTL', async () => {
      let now = 1_000_000;
      const resolver = resolverFor({ now: () => now });
      const before = dnsServer.queriesFor('short-ttl.test'); // TTL 5
      await resolver.resolve('short-ttl.test');
      now += 4_900;
      await resolver.resolve('short-ttl.test');
      assert.equal(dnsServer.queriesFor('short-ttl.test') - before, 2);
      now += 200;
      await resolver.resolve('short-ttl.test');
      assert.equal(dnsServer.queriesFor('short-ttl.test') - before, 4);

      const zeroBefore = dnsServer.queriesFor('zero-ttl.test');
      await resolver.resolve('zero-ttl.test');
      await resolver.resolve('zero-ttl.test');
      assert.equal(dnsServer.queriesFor('zero-ttl.test') - zeroBefore, 4);
    });

    it('does not cache failures', async () => {
      const fallback = countingFallback(async () => []);
      const resolver = resolverFor({ fallbackLookup: fallback.lookup });
      const before = dnsServer.queriesFor('unknown.test');
      for (let i = 0; i < 2; i += 1) {
        const error = await rejection(resolver.resolve('unknown.test'));
        assert.equal(error.code, 'ENOTFOUND');
        assert.equal(classifyError(error), 'dns');
      }
      assert.equal(dnsServer.queriesFor('unknown.test') - before, 4);
      assert.equal(fallback.stats.calls, 2);
    });

    it('shares one query among concurrent lookups of a name', async () => {
      const resolver = resolverFor();
      const before = dnsServer.queriesFor('coalesce.test');
      const answers = await Promise.all(Array.from({ length: 5 }, () => resolver.resolve('coalesce.test')));
      for (const answer of answers) assert.deepEqual(answer, [{ address: '93.184.216.41', family: 4 }]);
      assert.equal(dnsServer.queriesFor('coalesce.test') - before, 2, 'one A and one AAAA query for five lookups');
      answers[0][0].address = 'changed by a caller';
      assert.deepEqual(await resolver.resolve('coalesce.test'), [{ address: '93.184.216.41', family: 4 }]);
    });

    it('evicts the least recently used name beyond maxCacheEntries', async () => {
      const resolver = resolverFor({ maxCacheEntries: 2 });
      const count = () => ['lru-a.test', 'lru-b.test', 'lru-c.test'].map((name) => dnsServer.queriesFor(name));
      const before = count();
      await resolver.resolve('lru-a.test');
      await resolver.resolve('lru-b.test');
      await resolver.resolve('lru-a.test'); // a is now the most recently used
      await resolver.resolve('lru-c.test'); // evicts b
      await resolver.resolve('lru-a.test');
      await resolver.resolve('lru-b.test');
      assert.deepEqual(
        count().map((n, i) => n - before[i]),
        [2, 4, 2],
      );
    });
  });

  describe('fallback to the system resolver', () => {
    it('asks the system resolver for names the DNS server does not know', async () => {
      const fallback = countingFallback(async () => [{ address: '10.1.2.3', family: 4 }]);
      const resolver = resolverFor({ fallbackLookup: fallback.lookup });
      assert.deepEqual(await resolver.resolve('receiver'), [{ address: '10.1.2.3', family: 4 }]);
      assert.deepEqual(fallback.stats.names, ['receiver']);
    });

    it('never runs more than 2 system lookups at once, and runs the queued ones as slots free up', async () => {
      const releases: Array<(answer: ResolvedAddress[]) => void> = [];
      const fallback = countingFallback(() => {
        const gate = deferred<ResolvedAddress[]>();
        releases.push(gate.resolve);
        return gate.promise;
      });
      const resolver = resolverFor({ timeoutMs: 10_000, fallbackLookup: fallback.lookup });
      const names = Array.from({ length: 6 }, (_, i) => `queued-${i}.test`);
      const results = names.map((name) => resolver.resolve(name));
      await waitFor(() => fallback.stats.calls === 2, 'two system lookups');
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(fallback.stats.calls, 2, 'the others wait');
      for (let i = 0; i < names.length; i += 1) {
        await waitFor(() => releases.length > i, `system lookup ${i + 1}`);
        releases[i]([{ address: `10.0.0.${i + 1}`, family: 4 }]);
      }
      const answers = await Promise.all(results);
      assert.equal(fallback.stats.calls, 6);
      assert.equal(fallback.stats.maxActive, 2);
      assert.deepEqual(
        answers.map((answer) => answer[0].address).sort(),
        names.map((_, i) => `10.0.0.${i + 1}`).sort(),
      );
    });

    it('gives up on hung system lookups at the deadline, and never starts the queued ones', async function () {
      this.timeout(5_000);
      const fallback = countingFallback(() => new Promise<ResolvedAddress[]>(() => {}));
      const resolver = resolverFor({ timeoutMs: 300, fallbackLookup: fallback.lookup });
      const started = performance.now();
      const errors = await Promise.all(['hung-1.test', 'hung-2.test', 'hung-3.test'].map((name) => rejection(resolver.resolve(name))));
      const took = performance.now() - started;
      for (const error of errors) {
        assert.equal(error.code, 'ETIMEOUT');
        assert.equal(classifyError(error), 'dns');
      }
      assert.ok(took < 2_000, `took ${Math.round(took)} ms`);
      assert.equal(fallback.stats.calls, 2, 'the third lookup expired in the queue');
    });

    it('keeps thread-pool work prompt while 20 names fall back to system lookups that each hold a thread', async function () {
      this.timeout(20_000);
      // Stand-in for a slow getaddrinfo: pbkdf2 also runs on libuv's thread pool, for as
      // long as its iteration count makes it.
      const pbkdf2 = (iterations: number) =>
        new Promise<void>((resolve, reject) =>
          crypto.pbkdf2('secret', 'salt', iterations, 32, 'sha512', (err) => (err ? reject(err) : resolve())),
        );
      const calibration = performance.now();
      await pbkdf2(20_000);
      const iterations = Math.max(20_000, Math.round((20_000 * 200) / Math.max(1, performance.now() - calibration)));
      const fallback = countingFallback(async () => {
        await pbkdf2(iterations); // about 200 ms
        return [];
      });
      const resolver = resolverFor({ timeoutMs: 1_000, fallbackLookup: fallback.lookup });
      const lookups = Array.from({ length: 20 }, (_, i) => resolver.resolve(`pool-${i}.test`).catch(() => {}));
      await waitFor(() => fallback.stats.calls >= 2, 'the first system lookups');
      await new Promise((resolve) => setTimeout(resolve, 50)); // every other name has had its NXDOMAIN by now

      await readFile(THIS_FILE);
      const completedWhenReadDone = fallback.stats.completed;
      assert.ok(
        completedWhenReadDone < 4,
        `a file read waited for ${completedWhenReadDone} of the system lookups: the thread pool was full`,
      );
      await Promise.all(lookups);
      await Promise.all(fallback.running); // leave the thread pool as we found it
      assert.equal(fallback.stats.maxActive, 2);
    });
  });

  it('refuses a timeout that is not a positive number of milliseconds', () => {
    for (const timeoutMs of [0, -1, Number.NaN]) {
      assert.throws(() => createHostResolver({ timeoutMs }), RangeError);
    }
  });
});
