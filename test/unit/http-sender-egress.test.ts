import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { HttpSender, PRIVATE_RESPONSE_NOTE, type SendResult } from '../../plugin/delivery/http-sender.js';
import type { EgressPolicy } from '../../plugin/security/egress/egress-allow-list.js';
import { createHostResolver, type HostResolver } from '../../plugin/security/egress/host-resolver.js';
import { createTenantAgents, type TenantAgents } from '../../plugin/security/egress/tenant-agents.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';

const BLOCK_ALL: EgressPolicy = { allow: [], httpsOnly: false };
const ALLOW_LOOPBACK: EgressPolicy = { allow: ['127.0.0.0/8'], httpsOnly: false };
/** A multi-tenant host: only acme may reach loopback. */
const ACME_ONLY: EgressPolicy = { allow: [], allowByTenant: { acme: ['127.0.0.0/8'] }, httpsOnly: false };

type Warning = { message: string; fields?: Record<string, unknown> };

describe('HTTP sender and the egress guard', () => {
  let dnsServer: TestDnsServer;
  let resolver: HostResolver;
  // A TCP server that counts accepted connections: proof that no socket was ever opened.
  let tarpit: net.Server;
  let tarpitPort: number;
  let accepted = 0;
  // A real HTTP receiver on 127.0.0.1 standing in for an internal service.
  let receiver: http.Server;
  let receiverPort: number;
  let received = 0;
  let status = 200;
  const agentsToClose: TenantAgents[] = [];

  const senderFor = (egress: EgressPolicy, options: { privateResponseBodies?: boolean; warnings?: Warning[] } = {}) => {
    const agents = createTenantAgents(egress, {}, resolver);
    agentsToClose.push(agents);
    return new HttpSender({
      agents, egress, privateResponseBodies: options.privateResponseBodies ?? false,
      timeoutMs: 3_000, connectTimeoutMs: 1_000, excerptBytes: 1_024, clock: () => new Date(),
      logger: { warn: (message, fields) => options.warnings?.push({ message, fields }) },
    });
  };
  const post = (sender: HttpSender, url: string, tenantId?: string): Promise<SendResult> =>
    sender.send(url, { 'content-type': 'application/json' }, '{}', undefined, tenantId);

  before(async () => {
    dnsServer = await startDnsServer({
      'internal.test': { a: ['10.0.0.5'] },
      'loopback.test': { a: ['127.0.0.1'] },
      'metadata.test': { a: ['169.254.169.254'] },
      'mixed.test': { a: ['93.184.216.34'], aaaa: ['fd00::1'] },
      'nodata.test': {},
      'servfail.test': { rcode: 2 },
    });
    // No system-resolver fallback: every answer comes from the test DNS server.
    resolver = createHostResolver({ timeoutMs: 2_000, servers: [dnsServer.address], fallbackLookup: async () => [] });
    tarpit = net.createServer((socket) => {
      accepted += 1;
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => tarpit.listen(0, '127.0.0.1', resolve));
    tarpitPort = (tarpit.address() as AddressInfo).port;
    receiver = http.createServer((req, res) => {
      received += 1;
      req.resume();
      res.writeHead(status, { 'content-type': 'text/plain' }).end('internal secret');
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverPort = (receiver.address() as AddressInfo).port;
  });

  beforeEach(() => {
    accepted = 0;
    received = 0;
    status = 200;
  });

  after(async () => {
    for (const agents of agentsToClose) agents.destroy();
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await new Promise<void>((resolve) => tarpit.close(() => resolve()));
    await dnsServer.close();
  });

  describe('forbidden literal addresses', () => {
    it('never opens a socket to one, in any spelling', async () => {
      const sender = senderFor(BLOCK_ALL);
      for (const url of [
        `http://127.0.0.1:${tarpitPort}/`,
        `https://127.0.0.1:${tarpitPort}/`,
        `http://[::ffff:127.0.0.1]:${tarpitPort}/`,
        `http://[::ffff:7f00:1]:${tarpitPort}/`,
        `http://2130706433:${tarpitPort}/`,
        `http://0x7f.1:${tarpitPort}/`,
        `http://127.1:${tarpitPort}/`,
      ]) {
        const result = await post(sender, url);
        assert.equal(result.outcome, 'blocked', url);
        assert.match(result.errorMessage ?? '', /forbidden range \(IPv4-mapped loopback\)|forbidden range \(loopback\)/, url);
      }
      // The socket check alone would have refused each one too - after its TCP connection was open.
      assert.equal(accepted, 0, 'a TCP connection reached the forbidden address');
    });

    it('never opens one for a tenant whose lists do not admit the address, while the tenant whose list does is delivered', async () => {
      const sender = senderFor(ACME_ONLY);
      for (const tenant of ['globex', undefined]) {
        const refused = await post(sender, `http://127.0.0.1:${tarpitPort}/`, tenant);
        assert.equal(refused.outcome, 'blocked', String(tenant));
      }
      assert.equal(accepted, 0);
      const delivered = await post(sender, `http://127.0.0.1:${receiverPort}/`, 'acme');
      assert.equal(delivered.outcome, 'success', delivered.errorMessage ?? '');
      assert.equal(received, 1);
    });
  });

  describe('host names that resolve only to forbidden addresses', () => {
    it('fail exactly like names that do not resolve: same outcome, same message, no connection', async () => {
      const sender = senderFor(BLOCK_ALL);
      const results = new Map<string, SendResult>();
      for (const name of ['no-such-host.test', 'nodata.test', 'internal.test', 'loopback.test', 'metadata.test', 'mixed.test']) {
        results.set(name, await post(sender, `http://${name}:${tarpitPort}/`, 'globex'));
      }
      for (const [name, result] of results) {
        assert.deepEqual(
          { outcome: result.outcome, statusCode: result.statusCode, responseExcerpt: result.responseExcerpt, errorMessage: result.errorMessage },
          { outcome: 'dns', statusCode: null, responseExcerpt: null, errorMessage: `Could not resolve ${name} to an allowed address` },
          name,
        );
      }
      assert.equal(accepted, 0);
      assert.ok(dnsServer.queriesFor('internal.test') > 0, 'the answers came from the DNS server');
    });

    it('tell the operator the real reason in the plugin\'s log, and only for refused names', async () => {
      const warnings: Warning[] = [];
      const sender = senderFor(BLOCK_ALL, { warnings });
      await post(sender, `http://internal.test:${tarpitPort}/`, 'globex');
      await post(sender, `http://no-such-host.test:${tarpitPort}/`, 'globex');
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.deepEqual(warnings[0].fields, { tenantId: 'globex', hostname: 'internal.test', address: '10.0.0.5', range: 'private (10.0.0.0/8)' });
    });

    it('keep a DNS server failure apart: it says nothing about where a name points', async () => {
      const result = await post(senderFor(BLOCK_ALL), `http://servfail.test:${tarpitPort}/`);
      assert.equal(result.outcome, 'dns');
      assert.equal(result.errorMessage, 'Could not resolve servfail.test: the DNS server failed');
    });

    it('are judged with the tenant\'s own allow-list when connecting', async () => {
      const sender = senderFor(ACME_ONLY);
      const delivered = await post(sender, `http://loopback.test:${receiverPort}/`, 'acme');
      assert.equal(delivered.outcome, 'success', delivered.errorMessage ?? '');
      assert.equal(received, 1);
      for (const tenant of ['globex', undefined]) {
        const refused = await post(sender, `http://loopback.test:${receiverPort}/`, tenant);
        assert.equal(refused.errorMessage, 'Could not resolve loopback.test to an allowed address', String(tenant));
      }
      assert.equal(received, 1, 'no other tenant reached the receiver');
    });
  });

  describe('response bodies from private addresses', () => {
    it('are not kept: status and timing are, and the result says why', async () => {
      const sender = senderFor(ALLOW_LOOPBACK);
      const ok = await post(sender, `http://127.0.0.1:${receiverPort}/`);
      assert.deepEqual([ok.outcome, ok.statusCode, ok.responseExcerpt, ok.responseNote], ['success', 200, null, PRIVATE_RESPONSE_NOTE]);
      assert.ok(ok.durationMs >= 0);
      status = 500;
      const failed = await post(sender, `http://127.0.0.1:${receiverPort}/`);
      assert.deepEqual([failed.outcome, failed.statusCode, failed.responseExcerpt, failed.responseNote], ['http_error', 500, null, PRIVATE_RESPONSE_NOTE]);
    });

    it('are judged by the address answered from, however the receiver was allowed', async () => {
      const byHostname = senderFor({ allow: ['loopback.test'], httpsOnly: false });
      const result = await post(byHostname, `http://loopback.test:${receiverPort}/`);
      assert.deepEqual([result.outcome, result.responseExcerpt], ['success', null]);
      const byTenant = await post(senderFor(ACME_ONLY), `http://127.0.0.1:${receiverPort}/`, 'acme');
      assert.deepEqual([byTenant.outcome, byTenant.responseExcerpt], ['success', null]);
    });

    it('are kept when the operator opts in with privateResponseBodies', async () => {
      const sender = senderFor(ALLOW_LOOPBACK, { privateResponseBodies: true });
      const result = await post(sender, `http://127.0.0.1:${receiverPort}/`);
      assert.deepEqual([result.outcome, result.responseExcerpt, result.responseNote], ['success', 'internal secret', undefined]);
    });
  });

  describe('tenant agents', () => {
    it('share one pair among tenants without a list of their own, and build one per tenant with a list, once', () => {
      const agents = createTenantAgents(ACME_ONLY, {}, resolver);
      agentsToClose.push(agents);
      const shared = agents.forTenant(undefined);
      assert.equal(agents.forTenant('globex'), shared);
      assert.equal(agents.forTenant('initech'), shared);
      assert.notEqual(agents.forTenant('acme'), shared);
      assert.equal(agents.forTenant('acme'), agents.forTenant('acme'));
    });
  });
});
