import assert from 'node:assert/strict';
import dns from 'node:dns';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import got, { RequestError } from 'got';
import { classifyError } from '../../plugin/delivery/http-sender.js';
import { isForbiddenAddress } from '../../plugin/security/egress/address-classes.js';
import { createGuardedAgents, guardedLookup, type GuardedAgents } from '../../plugin/security/egress/connect-time-lookup.js';
import type { EgressPolicy } from '../../plugin/security/egress/egress-allow-list.js';
import { EgressBlockedError } from '../../plugin/security/egress/egress-errors.js';
import { createHostResolver, HostResolutionError, type HostResolver } from '../../plugin/security/egress/host-resolver.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';

const BLOCK_ALL: EgressPolicy = { allow: [], httpsOnly: false };
const ALLOW_LOOPBACK_V4: EgressPolicy = { allow: ['127.0.0.0/8'], httpsOnly: false };

describe('connect-time egress guard', () => {
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

      it('refuses a name whose answers mix public and forbidden addresses, wherever the forbidden one is', async () => {
        dnsServer.set('public-then-private.test', { a: ['93.184.216.34', '10.0.0.1'] });
        const lookup = guardedLookup(BLOCK_ALL, resolver);
        for (const [name, address] of [
          ['public-then-private.test', '10.0.0.1'],
          ['mixed.test', 'fd00::1'],
        ]) {
          // The forbidden address is never the first answer, and each form is asked: a single
          // address (the first, public one) as much as the list happy eyeballs would try.
          for (const options of [{}, { all: true }, { family: 0 }, { order: 'ipv6first' as const }]) {
            const { err } = await collect((cb) => lookup(name, options, cb));
            assert.ok(err instanceof EgressBlockedError, `${name} ${JSON.stringify(options)}: ${String(err)}`);
            assert.equal(err.address, address);
          }
        }
        // Asking for IPv4 only leaves the public address alone when the forbidden one is IPv6.
        assert.deepEqual(await collect((cb) => lookup('mixed.test', 4, cb)), { err: null, address: '93.184.216.34', family: 4 });
      });

      it('never opens a connection to the forbidden address of a name that also resolves to a public one', async () => {
        // The AAAA answer is loopback in IPv4-mapped form, so a connection to it reaches the
        // tarpit on 127.0.0.1; the A answer is public and never answers. With both families,
        // Node's autoSelectFamily asks for every address and tries them in turn.
        dnsServer.set('public-and-loopback.test', { a: ['93.184.216.34'], aaaa: ['::ffff:7f00:1'] });
        let accepted = 0;
        const tarpit = net.createServer((socket) => {
          accepted += 1;
          socket.on('error', () => {});
        });
        await new Promise<void>((resolve) => tarpit.listen(0, '127.0.0.1', resolve));
        const { port } = tarpit.address() as AddressInfo;
        const agents = createGuardedAgents(BLOCK_ALL, {}, resolver);
        try {
          const err = await got(`http://public-and-loopback.test:${port}/`, {
            agent: agents, retry: { limit: 0 }, timeout: { request: 3_000 },
          }).then(() => assert.fail('should have been refused'), (e: unknown) => e);
          assert.ok(err instanceof RequestError && err.cause instanceof EgressBlockedError, String(err));
          assert.equal(err.cause.address, '::ffff:127.0.0.1');
          assert.equal(accepted, 0, 'a TCP connection reached the loopback address');
        } finally {
          agents.http.destroy();
          agents.https.destroy();
          tarpit.close();
        }
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
          // A refused name is answered like one that does not resolve (see http-sender-egress.test.ts).
          assert.equal(classifyError(err), 'dns');
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
