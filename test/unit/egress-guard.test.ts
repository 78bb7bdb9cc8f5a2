import assert from 'node:assert/strict';
import dns from 'node:dns';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import got, { RequestError } from 'got';
import { WebhooksError } from '../../plugin/errors.js';
import {
  EgressBlockedError,
  InvalidWebhookUrlError,
  assertLiteralHostAllowed,
  assertValidEgressPolicy,
  checkUrlAtSave,
  createGuardedAgents,
  describeForbiddenAddress,
  guardedLookup,
  isAllowListed,
  isForbiddenAddress,
  type EgressPolicy,
  type GuardedAgents,
  type InvalidUrlReason,
} from '../../plugin/delivery/egress-guard.js';
import { createHostResolver, HostResolutionError, type HostResolver } from '../../plugin/delivery/host-resolver.js';
import { classifyError } from '../../plugin/delivery/http-sender.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';

const BLOCK_ALL: EgressPolicy = { allow: [], httpsOnly: false };
const ALLOW_LOOPBACK_V4: EgressPolicy = { allow: ['127.0.0.0/8'], httpsOnly: false };

describe('egress guard', () => {
  describe('isForbiddenAddress', () => {
    const forbidden: Array<[string, string]> = [
      ['0.0.0.0', '"this network" 0/8'],
      ['0.255.255.255', '"this network" 0/8, last address'],
      ['10.0.0.1', 'private 10/8'],
      ['10.255.255.255', 'private 10/8, last address'],
      ['100.64.0.1', 'carrier-grade NAT 100.64/10'],
      ['100.127.255.255', 'carrier-grade NAT, last address'],
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback, not only 127.0.0.1'],
      ['169.254.169.254', 'cloud metadata endpoint'],
      ['169.254.0.1', 'link-local 169.254/16'],
      ['172.16.0.1', 'private 172.16/12'],
      ['172.31.255.255', 'private 172.16/12, last address'],
      ['192.0.0.1', 'IETF protocol assignments 192.0.0/24'],
      ['192.0.2.1', 'documentation TEST-NET-1'],
      ['192.88.99.1', 'deprecated 6to4 relay anycast'],
      ['192.168.1.1', 'private 192.168/16'],
      ['198.18.0.1', 'benchmarking 198.18/15'],
      ['198.19.255.255', 'benchmarking 198.18/15, last address'],
      ['198.51.100.7', 'documentation TEST-NET-2'],
      ['203.0.113.9', 'documentation TEST-NET-3'],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast (SSDP)'],
      ['240.0.0.1', 'reserved 240/4'],
      ['255.255.255.255', 'limited broadcast'],
      ['::', 'IPv6 unspecified'],
      ['::1', 'IPv6 loopback'],
      ['0:0:0:0:0:0:0:1', 'IPv6 loopback, uncompressed'],
      ['fc00::1', 'unique local fc00::/7'],
      ['fd12:3456:789a::1', 'unique local fd00::/8 half'],
      ['fe80::1', 'link-local fe80::/10'],
      ['fe80::1%eth0', 'link-local with a zone id'],
      ['febf:ffff::1', 'link-local, last /16'],
      ['fec0::1', 'deprecated site-local'],
      ['ff02::1', 'multicast ff00::/8'],
      ['2001:db8::1', 'documentation 2001:db8::/32'],
      ['3fff::1', 'documentation 3fff::/20'],
      ['100::1', 'discard-only 100::/64'],
      ['2001::1', 'Teredo 2001::/32'],
      ['2001:2::1', 'benchmarking, inside 2001::/23'],
      ['2001:1ff::1', 'IETF protocol assignments, last /32 of 2001::/23'],
      ['2002:7f00:1::1', '6to4 2002::/16'],
      ['::ffff:127.0.0.1', 'IPv4-mapped loopback, dotted'],
      ['::ffff:7f00:1', 'IPv4-mapped loopback, hex'],
      ['::ffff:169.254.169.254', 'IPv4-mapped cloud metadata'],
      ['::ffff:a00:1', 'IPv4-mapped private 10.0.0.1'],
      ['0:0:0:0:0:ffff:c0a8:101', 'IPv4-mapped 192.168.1.1, uncompressed'],
      ['64:ff9b::7f00:1', 'NAT64 of loopback'],
      ['64:ff9b::169.254.169.254', 'NAT64 of cloud metadata'],
      ['64:ff9b:1::a00:1', 'local-use NAT64 64:ff9b:1::/48'],
      ['::127.0.0.1', 'deprecated IPv4-compatible ::/96'],
      ['::ffff:0:7f00:1', 'IPv4-translated (SIIT), outside global unicast'],
      ['4000::1', 'unallocated, outside 2000::/3'],
    ];
    for (const [ip, why] of forbidden) {
      it(`forbids ${ip} (${why})`, () => {
        assert.equal(isForbiddenAddress(ip), true);
      });
    }

    const allowed: Array<[string, string]> = [
      ['93.184.216.34', 'public IPv4'],
      ['8.8.8.8', 'public IPv4'],
      ['100.63.255.255', 'just below carrier-grade NAT'],
      ['100.128.0.0', 'just above carrier-grade NAT'],
      ['172.15.255.255', 'just below 172.16/12'],
      ['172.32.0.0', 'just above 172.16/12'],
      ['169.253.255.255', 'just below link-local'],
      ['198.17.255.255', 'just below benchmarking'],
      ['198.20.0.0', 'just above benchmarking'],
      ['223.255.255.255', 'just below multicast'],
      ['2606:4700::1', 'public IPv6'],
      ['2001:4860:4860::8888', 'public IPv6'],
      ['2001:200::1', 'just above 2001::/23'],
      ['2003::1', 'just above 6to4'],
      ['::ffff:93.184.216.34', 'IPv4-mapped public address, dotted'],
      ['::ffff:5db8:d822', 'IPv4-mapped public address, hex'],
      ['64:ff9b::5db8:d822', 'NAT64 of a public address'],
    ];
    for (const [ip, why] of allowed) {
      it(`allows ${ip} (${why})`, () => {
        assert.equal(isForbiddenAddress(ip), false);
      });
    }

    it('fails closed on strings that are not IP addresses', () => {
      for (const notIp of ['', 'example.com', '999.1.1.1', '127.1', '1.2.3.4.5', ':::1']) {
        assert.equal(isForbiddenAddress(notIp), true, notIp);
      }
    });

    it('names the range in describeForbiddenAddress, and returns undefined for public addresses', () => {
      assert.equal(describeForbiddenAddress('169.254.169.254'), 'link-local, incl. cloud metadata (169.254.0.0/16)');
      assert.equal(describeForbiddenAddress('::ffff:7f00:1'), 'IPv4-mapped loopback (127.0.0.0/8)');
      assert.equal(describeForbiddenAddress('64:ff9b::a00:1'), 'NAT64-embedded private (10.0.0.0/8)');
      assert.equal(describeForbiddenAddress('::1'), 'loopback (::1/128)');
      assert.equal(describeForbiddenAddress('nope'), 'not an IP address');
      assert.equal(describeForbiddenAddress('93.184.216.34'), undefined);
    });
  });

  describe('isAllowListed', () => {
    const policy = (...allow: string[]): EgressPolicy => ({ allow, httpsOnly: true });

    it('matches an IPv4 CIDR', () => {
      assert.equal(isAllowListed('10.1.2.3', '', policy('10.1.0.0/16')), true);
      assert.equal(isAllowListed('10.2.0.1', '', policy('10.1.0.0/16')), false);
    });

    it('matches an IPv6 CIDR', () => {
      assert.equal(isAllowListed('::1', '', policy('::1/128')), true);
      assert.equal(isAllowListed('fd00:1::5', '', policy('fd00:1::/32')), true);
      assert.equal(isAllowListed('fd00:2::5', '', policy('fd00:1::/32')), false);
    });

    it('treats a bare address as a single-address CIDR', () => {
      assert.equal(isAllowListed('10.0.0.7', '', policy('10.0.0.7')), true);
      assert.equal(isAllowListed('10.0.0.8', '', policy('10.0.0.7')), false);
      assert.equal(isAllowListed('::1', '', policy('::1')), true);
    });

    it('matches IPv4-mapped IPv6 addresses against IPv4 entries and vice versa', () => {
      assert.equal(isAllowListed('::ffff:127.0.0.1', '', policy('127.0.0.0/8')), true);
      assert.equal(isAllowListed('::ffff:7f00:1', '', policy('127.0.0.0/8')), true);
      assert.equal(isAllowListed('127.0.0.9', '', policy('::ffff:127.0.0.0/104')), true);
    });

    it('does not let an IPv4 entry admit a NAT64 address, which is a different host', () => {
      assert.equal(isAllowListed('64:ff9b::7f00:1', '', policy('127.0.0.0/8')), false);
    });

    it('does not let an IPv6 entry admit IPv4 addresses', () => {
      assert.equal(isAllowListed('127.0.0.1', '', policy('::/0')), false);
    });

    it('matches an exact hostname, ignoring case and a trailing dot, whatever the address', () => {
      assert.equal(isAllowListed('10.0.0.5', 'receiver.internal', policy('receiver.internal')), true);
      assert.equal(isAllowListed('10.0.0.5', 'Receiver.Internal.', policy('receiver.internal')), true);
      assert.equal(isAllowListed('10.0.0.5', 'localhost', policy('LOCALHOST')), true);
    });

    it('does not extend a hostname entry to subdomains or parents', () => {
      assert.equal(isAllowListed('10.0.0.5', 'evil.receiver.internal', policy('receiver.internal')), false);
      assert.equal(isAllowListed('10.0.0.5', 'internal', policy('receiver.internal')), false);
    });

    it('allows nothing with an empty allow-list', () => {
      assert.equal(isAllowListed('127.0.0.1', 'localhost', BLOCK_ALL), false);
    });

    it('rejects allow-list entries that are neither CIDR, address nor hostname, naming the entry', () => {
      for (const bad of ['10.0.0.0/33', '::1/129', '10.0.0.0/8/9', '10.0.0.0/x', '10.0.0.0/', 'nope/8', '*.internal', 'http://x', '', '::ffff:0:0/95']) {
        assert.throws(
          () => assertValidEgressPolicy(policy('127.0.0.0/8', bad)),
          (err: unknown) => err instanceof TypeError && err.message.includes(`allow[1] "${bad}"`),
          bad,
        );
      }
    });

    it('accepts CIDRs, addresses and hostnames', () => {
      assert.doesNotThrow(() =>
        assertValidEgressPolicy(policy('127.0.0.0/8', '::1/128', '10.0.0.1', 'fd00::1', 'receiver.internal', 'my_host')),
      );
    });
  });

  describe('checkUrlAtSave', () => {
    const rejects = (url: string, policy: EgressPolicy, reason: InvalidUrlReason): void => {
      assert.throws(
        () => checkUrlAtSave(url, policy),
        (err: unknown) => {
          assert.ok(err instanceof InvalidWebhookUrlError, `${url}: ${String(err)}`);
          assert.ok(err instanceof WebhooksError);
          assert.equal(err.code, 'invalid_url');
          assert.equal(err.reason, reason, url);
          assert.equal(err.status, 400);
          assert.deepEqual(err.details, [{ path: 'url', message: reason }]);
          return true;
        },
      );
    };
    const httpsOnly: EgressPolicy = { allow: [], httpsOnly: true };

    it('accepts an https URL with a public hostname', () => {
      assert.doesNotThrow(() => checkUrlAtSave('https://hooks.example.com/receive?x=1', httpsOnly));
    });

    it('accepts a public literal IPv4 or IPv6 address', () => {
      assert.doesNotThrow(() => checkUrlAtSave('https://93.184.216.34/', httpsOnly));
      assert.doesNotThrow(() => checkUrlAtSave('https://[2606:4700::1]:8443/', httpsOnly));
    });

    it('accepts a hostname that may resolve anywhere: it is checked when connecting', () => {
      assert.doesNotThrow(() => checkUrlAtSave('https://internal.corp.example/', httpsOnly));
    });

    it('rejects text that is not an absolute URL', () => {
      rejects('not a url', httpsOnly, 'unparseable');
      rejects('/relative/path', httpsOnly, 'unparseable');
      rejects('https://', httpsOnly, 'unparseable');
    });

    it('rejects schemes other than http and https', () => {
      for (const url of ['ftp://example.com/', 'file:///etc/passwd', 'gopher://example.com/', 'javascript:alert(1)', 'ws://example.com/']) {
        rejects(url, BLOCK_ALL, 'unsupported_scheme');
      }
    });

    it('rejects http when httpsOnly is set, and accepts it otherwise', () => {
      rejects('http://hooks.example.com/', httpsOnly, 'https_required');
      assert.doesNotThrow(() => checkUrlAtSave('http://hooks.example.com/', BLOCK_ALL));
    });

    it('rejects credentials in the URL', () => {
      rejects('https://user:pass@hooks.example.com/', httpsOnly, 'credentials_in_url');
      rejects('https://user@hooks.example.com/', httpsOnly, 'credentials_in_url');
      rejects('https://:pass@hooks.example.com/', httpsOnly, 'credentials_in_url');
    });

    it('rejects forbidden literal addresses, including cloud metadata', () => {
      for (const url of [
        'http://127.0.0.1:8080/',
        'http://169.254.169.254/latest/meta-data/',
        'http://10.0.0.1/',
        'http://0.0.0.0/',
        'http://[::1]/',
        'http://[fe80::1]/',
        'http://[::ffff:127.0.0.1]/',
        'http://[::ffff:7f00:1]/',
      ]) {
        rejects(url, BLOCK_ALL, 'forbidden_address');
      }
    });

    it('sees through the alternative IPv4 spellings the URL parser normalises', () => {
      rejects('http://2130706433/', BLOCK_ALL, 'forbidden_address');
      rejects('http://0x7f.1/', BLOCK_ALL, 'forbidden_address');
      rejects('http://0177.0.0.1/', BLOCK_ALL, 'forbidden_address');
      rejects('http://127.1/', BLOCK_ALL, 'forbidden_address');
    });

    it('names the address and range in the message', () => {
      assert.throws(() => checkUrlAtSave('http://169.254.169.254/', BLOCK_ALL), /169\.254\.169\.254.*link-local/);
    });

    it('accepts a forbidden literal address once it is allow-listed', () => {
      assert.doesNotThrow(() => checkUrlAtSave('http://127.0.0.1:8080/', ALLOW_LOOPBACK_V4));
      assert.doesNotThrow(() => checkUrlAtSave('http://[::1]:8080/', { allow: ['::1/128'], httpsOnly: false }));
      assert.doesNotThrow(() => checkUrlAtSave('http://10.0.0.1/', { allow: ['10.0.0.1'], httpsOnly: false }));
    });

    it('rejects localhost and *.localhost in any spelling', () => {
      for (const url of ['http://localhost:3000/', 'http://LOCALHOST/', 'http://localhost./', 'http://api.localhost/']) {
        rejects(url, BLOCK_ALL, 'localhost');
      }
    });

    it('accepts localhost when the hostname or a loopback range is allow-listed', () => {
      assert.doesNotThrow(() => checkUrlAtSave('http://localhost:3000/', { allow: ['localhost'], httpsOnly: false }));
      assert.doesNotThrow(() => checkUrlAtSave('http://localhost:3000/', ALLOW_LOOPBACK_V4));
      assert.doesNotThrow(() => checkUrlAtSave('http://localhost:3000/', { allow: ['::1/128'], httpsOnly: false }));
    });

    it('does not treat names that merely contain localhost as localhost', () => {
      assert.doesNotThrow(() => checkUrlAtSave('http://localhost.example.com/', BLOCK_ALL));
      assert.doesNotThrow(() => checkUrlAtSave('http://mylocalhost/', BLOCK_ALL));
    });
  });

  describe('assertLiteralHostAllowed', () => {
    it('throws EgressBlockedError for a forbidden literal IP', () => {
      assert.throws(
        () => assertLiteralHostAllowed('http://127.0.0.1:9/', BLOCK_ALL),
        (err: unknown) => {
          assert.ok(err instanceof EgressBlockedError);
          assert.equal(err.code, 'egress_blocked');
          assert.equal(err.address, '127.0.0.1');
          assert.equal(err.hostname, '127.0.0.1');
          assert.equal(err.range, 'loopback (127.0.0.0/8)');
          assert.match(err.message, /Refused to connect to 127\.0\.0\.1: .*loopback.*allow-list/);
          return true;
        },
      );
      assert.throws(() => assertLiteralHostAllowed(new URL('http://[::ffff:a9fe:a9fe]/'), BLOCK_ALL), EgressBlockedError);
    });

    it('passes allow-listed and public literal IPs', () => {
      assert.doesNotThrow(() => assertLiteralHostAllowed('http://127.0.0.1:9/', ALLOW_LOOPBACK_V4));
      assert.doesNotThrow(() => assertLiteralHostAllowed('https://93.184.216.34/', BLOCK_ALL));
    });

    it('leaves hostnames to the connect-time lookup', () => {
      assert.doesNotThrow(() => assertLiteralHostAllowed('http://localhost/', BLOCK_ALL));
    });
  });

  describe('guardedLookup', () => {
    type LookupResult = { err: NodeJS.ErrnoException | null; address?: unknown; family?: number };
    const collect = (start: (cb: (...args: unknown[]) => void) => void): Promise<LookupResult> =>
      new Promise((resolve) =>
        start((err, address, family) =>
          resolve({ err: err as NodeJS.ErrnoException | null, address, family: family as number | undefined }),
        ),
      );

    it('fails with EgressBlockedError when a name resolves to loopback (options.all form)', async () => {
      const lookup = guardedLookup(BLOCK_ALL);
      const { err } = await collect((cb) => lookup('localhost', { all: true }, cb));
      assert.ok(err instanceof EgressBlockedError);
      assert.equal(err.hostname, 'localhost');
      assert.ok(isForbiddenAddress(err.address));
    });

    it('fails the same way in the callback-only and family-number forms', async () => {
      const lookup = guardedLookup(BLOCK_ALL);
      assert.ok((await collect((cb) => lookup('localhost', cb))).err instanceof EgressBlockedError);
      assert.ok((await collect((cb) => lookup('localhost', 4, cb))).err instanceof EgressBlockedError);
    });

    it('checks literal addresses too', async () => {
      const lookup = guardedLookup(BLOCK_ALL);
      const blocked = await collect((cb) => lookup('169.254.169.254', {}, cb));
      assert.ok(blocked.err instanceof EgressBlockedError);
      const open = await collect((cb) => lookup('93.184.216.34', {}, cb));
      assert.deepEqual(open, { err: null, address: '93.184.216.34', family: 4 });
    });

    it('answers in the forms dns.lookup does when the addresses are allow-listed', async () => {
      const lookup = guardedLookup({ allow: ['127.0.0.0/8', '::1/128'], httpsOnly: false });
      assert.deepEqual(await collect((cb) => lookup('localhost', { all: true }, cb)), {
        err: null,
        address: [
          { address: '127.0.0.1', family: 4 },
          { address: '::1', family: 6 },
        ],
        family: undefined,
      });
      assert.deepEqual(await collect((cb) => lookup('localhost', {}, cb)), { err: null, address: '127.0.0.1', family: 4 });
      assert.deepEqual(await collect((cb) => lookup('localhost', 4, cb)), { err: null, address: '127.0.0.1', family: 4 });
      assert.deepEqual(await collect((cb) => lookup('localhost', 6, cb)), { err: null, address: '::1', family: 6 });
      assert.deepEqual(await collect((cb) => lookup('localhost', { family: 'IPv6', all: true }, cb)), {
        err: null,
        address: [{ address: '::1', family: 6 }],
        family: undefined,
      });
      assert.deepEqual(await collect((cb) => lookup('localhost', { order: 'ipv6first' }, cb)), { err: null, address: '::1', family: 6 });
    });

    it('judges only the family asked for', async () => {
      // ::1 is not allow-listed, but a connection restricted to IPv4 never uses it.
      const lookup = guardedLookup(ALLOW_LOOPBACK_V4);
      assert.deepEqual(await collect((cb) => lookup('localhost', 4, cb)), { err: null, address: '127.0.0.1', family: 4 });
      assert.ok((await collect((cb) => lookup('localhost', cb))).err instanceof EgressBlockedError);
    });

    it('lets an allow-listed hostname through whatever it resolves to', async () => {
      const lookup = guardedLookup({ allow: ['localhost'], httpsOnly: false });
      const { err, address } = await collect((cb) => lookup('localhost', { all: true }, cb));
      assert.equal(err, null);
      assert.ok(Array.isArray(address) && address.length > 0);
    });

    describe('through the host resolver', () => {
      let dnsServer: TestDnsServer;
      let resolver: HostResolver;

      before(async () => {
        dnsServer = await startDnsServer({
          'private.test': { a: ['10.0.0.1'] },
          'loopback.test': { a: ['127.0.0.1'] },
          'mixed.test': { a: ['93.184.216.34'], aaaa: ['fd00::1'] },
          'public.test': { a: ['93.184.216.34'], aaaa: ['2606:4700::1'] },
          'servfail.test': { rcode: 2 },
        });
        resolver = createHostResolver({
          timeoutMs: 2_000,
          servers: [dnsServer.address],
          fallbackLookup: async () => [],
        });
      });

      after(async () => {
        await dnsServer.close();
      });

      it('refuses names the DNS server maps to forbidden addresses', async () => {
        const lookup = guardedLookup(BLOCK_ALL, resolver);
        for (const [name, address] of [
          ['private.test', '10.0.0.1'],
          ['loopback.test', '127.0.0.1'],
          ['mixed.test', 'fd00::1'],
        ]) {
          const { err } = await collect((cb) => lookup(name, { all: true }, cb));
          assert.ok(err instanceof EgressBlockedError, `${name}: ${String(err)}`);
          assert.equal(err.hostname, name);
          assert.equal(err.address, address);
        }
        assert.ok(dnsServer.queriesFor('private.test') > 0, 'the answer came from the DNS server');
      });

      it('admits them once allow-listed by range or by hostname, and public names always', async () => {
        const byRange = guardedLookup({ allow: ['10.0.0.0/8'], httpsOnly: false }, resolver);
        assert.deepEqual(await collect((cb) => byRange('private.test', {}, cb)), { err: null, address: '10.0.0.1', family: 4 });
        assert.ok((await collect((cb) => byRange('loopback.test', {}, cb))).err instanceof EgressBlockedError);
        const byName = guardedLookup({ allow: ['loopback.test'], httpsOnly: false }, resolver);
        assert.deepEqual(await collect((cb) => byName('loopback.test', { all: true }, cb)), {
          err: null,
          address: [{ address: '127.0.0.1', family: 4 }],
          family: undefined,
        });
        const open = guardedLookup(BLOCK_ALL, resolver);
        assert.deepEqual(await collect((cb) => open('public.test', { all: true }, cb)), {
          err: null,
          address: [
            { address: '93.184.216.34', family: 4 },
            { address: '2606:4700::1', family: 6 },
          ],
          family: undefined,
        });
      });

      it('passes DNS failures through, with codes the sender classes as DNS failures', async () => {
        const lookup = guardedLookup(BLOCK_ALL, resolver);
        for (const [name, code] of [
          ['no-such-host.test', 'ENOTFOUND'],
          ['servfail.test', 'EAI_AGAIN'],
        ]) {
          const { err } = await collect((cb) => lookup(name, {}, cb));
          assert.ok(err instanceof HostResolutionError, `${name}: ${String(err)}`);
          assert.equal(err.code, code);
          assert.equal(classifyError(err), 'dns');
        }
      });

      it('fails a request to a name whose DNS never answers at the resolver deadline, as a DNS failure', async () => {
        dnsServer.set('silent.test', { silent: true });
        const agents = createGuardedAgents(BLOCK_ALL, {}, createHostResolver({ timeoutMs: 300, servers: [dnsServer.address] }));
        try {
          const started = performance.now();
          const err = await got('http://silent.test/', { agent: agents, retry: { limit: 0 } }).then(
            () => assert.fail('should have failed'),
            (e: unknown) => e,
          );
          const took = performance.now() - started;
          assert.ok(err instanceof RequestError, String(err));
          assert.equal(err.code, 'ETIMEOUT');
          assert.equal(classifyError(err), 'dns');
          assert.ok(took < 2_000, `took ${Math.round(took)} ms`);
        } finally {
          agents.http.destroy();
          agents.https.destroy();
        }
      });

      it('makes the guarded agents connect only where the policy permits', async () => {
        const receiver = http.createServer((_req, res) => res.end('ok'));
        await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
        const { port } = receiver.address() as AddressInfo;
        const allowed = createGuardedAgents(ALLOW_LOOPBACK_V4, {}, resolver);
        const blocked = createGuardedAgents(BLOCK_ALL, {}, resolver);
        try {
          const response = await got(`http://loopback.test:${port}/`, { agent: allowed, retry: { limit: 0 } });
          assert.equal(response.body, 'ok');
          const err = await got(`http://loopback.test:${port}/`, { agent: blocked, retry: { limit: 0 } }).then(
            () => assert.fail('should have been blocked'),
            (e: unknown) => e,
          );
          assert.ok(err instanceof RequestError && err.cause instanceof EgressBlockedError, String(err));
          assert.equal(classifyError(err), 'blocked');
        } finally {
          for (const agents of [allowed, blocked]) {
            agents.http.destroy();
            agents.https.destroy();
          }
          receiver.closeAllConnections();
          await new Promise<void>((resolve) => receiver.close(() => resolve()));
        }
      });
    });
  });

  describe('connect-time enforcement', () => {
    // A TCP server that never answers and records what reaches it: proof that a blocked
    // request never connected, or connected and sent nothing.
    type Tarpit = { port: number; connections: Array<{ bytes: number; closed: Promise<void> }>; server: net.Server };
    let tarpit: Tarpit;
    // A real HTTP receiver for the requests that should succeed.
    let receiver: http.Server;
    let receiverPort: number;
    let receiverConnections = 0;
    const agentsToClose: GuardedAgents[] = [];

    const agentsFor = (policy: EgressPolicy): GuardedAgents => {
      const agents = createGuardedAgents(policy);
      agentsToClose.push(agents);
      return agents;
    };

    const expectBlocked = async (request: Promise<unknown>): Promise<EgressBlockedError> => {
      const err = await request.then(
        () => assert.fail('request should have been blocked'),
        (e: unknown) => e,
      );
      // How got surfaces it: a RequestError whose code is copied from the cause
      // ('egress_blocked') and whose cause is our EgressBlockedError.
      assert.ok(err instanceof RequestError, String(err));
      assert.equal(err.code, 'egress_blocked');
      assert.ok(err.cause instanceof EgressBlockedError);
      assert.equal(err.message, err.cause.message);
      return err.cause;
    };

    before(async () => {
      const connections: Tarpit['connections'] = [];
      const server = net.createServer((socket) => {
        const record = { bytes: 0, closed: new Promise<void>((resolve) => socket.on('close', () => resolve())) };
        socket.on('data', (chunk: Buffer) => {
          record.bytes += chunk.length;
        });
        socket.on('error', () => {});
        connections.push(record);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      tarpit = { port: (server.address() as AddressInfo).port, connections, server };

      receiver = http.createServer((req, res) => {
        if (req.url === '/redirect') {
          res.writeHead(302, { location: `http://127.0.0.1:${tarpit.port}/` }).end();
          return;
        }
        res.end('ok');
      });
      receiver.on('connection', () => {
        receiverConnections += 1;
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      receiverPort = (receiver.address() as AddressInfo).port;
    });

    beforeEach(() => {
      tarpit.connections.length = 0;
      receiverConnections = 0;
    });

    after(async () => {
      for (const agents of agentsToClose) {
        agents.http.destroy();
        agents.https.destroy();
      }
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
      await new Promise<void>((resolve) => tarpit.server.close(() => resolve()));
    });

    it('blocks http://localhost in the lookup, before any connection is made', async () => {
      const agent = agentsFor(BLOCK_ALL);
      const cause = await expectBlocked(got(`http://localhost:${tarpit.port}/`, { agent, retry: { limit: 0 } }));
      assert.equal(cause.hostname, 'localhost');
      assert.ok(isForbiddenAddress(cause.address));
      assert.equal(tarpit.connections.length, 0);
    });

    it('blocks a literal http://127.0.0.1 on connect, before a byte is sent', async () => {
      const agent = agentsFor(BLOCK_ALL);
      const cause = await expectBlocked(got(`http://127.0.0.1:${tarpit.port}/`, { agent, retry: { limit: 0 } }));
      assert.equal(cause.address, '127.0.0.1');
      // Node skips lookup for literal IPs, so this was the socket check: the TCP connection
      // was made and then destroyed with nothing written.
      assert.equal(tarpit.connections.length, 1);
      await tarpit.connections[0].closed;
      assert.equal(tarpit.connections[0].bytes, 0);
    });

    it('blocks a literal https://127.0.0.1 on connect, before the TLS handshake starts', async () => {
      const agent = agentsFor(BLOCK_ALL);
      await expectBlocked(got(`https://127.0.0.1:${tarpit.port}/`, { agent, retry: { limit: 0 } }));
      assert.equal(tarpit.connections.length, 1);
      await tarpit.connections[0].closed;
      assert.equal(tarpit.connections[0].bytes, 0, 'no ClientHello was sent');
    });

    it('cannot be bypassed with a per-request DNS lookup', async () => {
      const agent = agentsFor(BLOCK_ALL);
      await expectBlocked(
        got(`http://localhost:${tarpit.port}/`, { agent, dnsLookup: dns.lookup, retry: { limit: 0 } }),
      );
      assert.equal(tarpit.connections.length, 0);
    });

    it('delivers to localhost and 127.0.0.1 once 127.0.0.0/8 is allow-listed', async () => {
      const agent = agentsFor(ALLOW_LOOPBACK_V4);
      // IPv4 only: on hosts where localhost also resolves to ::1, a name with any
      // non-allow-listed answer is refused as a whole.
      const byName = await got(`http://localhost:${receiverPort}/`, { agent, retry: { limit: 0 }, dnsLookupIpVersion: 4 });
      assert.equal(byName.body, 'ok');
      const byAddress = await got(`http://127.0.0.1:${receiverPort}/`, { agent, retry: { limit: 0 } });
      assert.equal(byAddress.body, 'ok');
    });

    it('keeps connections alive between deliveries', async () => {
      const agent = agentsFor(ALLOW_LOOPBACK_V4);
      await got(`http://127.0.0.1:${receiverPort}/`, { agent, retry: { limit: 0 } });
      await got(`http://127.0.0.1:${receiverPort}/`, { agent, retry: { limit: 0 } });
      assert.equal(receiverConnections, 1);
    });

    it('blocks a redirect to a forbidden literal address even when the first hop was allowed', async () => {
      const agent = agentsFor({ allow: ['localhost'], httpsOnly: false });
      const cause = await expectBlocked(
        got(`http://localhost:${receiverPort}/redirect`, { agent, retry: { limit: 0 }, dnsLookupIpVersion: 4 }),
      );
      assert.equal(cause.address, '127.0.0.1');
      assert.equal(tarpit.connections.length, 1);
      await tarpit.connections[0].closed;
      assert.equal(tarpit.connections[0].bytes, 0);
    });

    it('guards plain net.connect when given guardedLookup', async () => {
      const err = await new Promise<Error>((resolve, reject) => {
        const socket = net.connect({ host: 'localhost', port: tarpit.port, lookup: guardedLookup(BLOCK_ALL) });
        socket.on('connect', () => reject(new Error('connected')));
        socket.on('error', resolve);
      });
      assert.ok(err instanceof EgressBlockedError);
      assert.equal(tarpit.connections.length, 0);
    });
  });
});
