import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpSender } from '../../plugin/delivery/http-sender.js';
import type { EgressPolicy } from '../../plugin/security/egress/egress-allow-list.js';
import { createHostResolver } from '../../plugin/security/egress/host-resolver.js';
import { createTenantAgents, type TenantAgents } from '../../plugin/security/egress/tenant-agents.js';
import { cleanupAfterEach } from '../support/cleanups.js';

const ALLOW_LOOPBACK: EgressPolicy = { allow: ['127.0.0.0/8'], httpsOnly: false };

/**
 * The worker passes one shutdown signal to every request it sends. Each request listens on it
 * only while it runs: a listener left behind per request made a long-running worker slower with
 * every request (adding a listener walks the ones already there) and kept every request alive.
 */
describe('HTTP sender and the shutdown signal', () => {
  const cleanup = cleanupAfterEach();

  async function receiver(handler: http.RequestListener): Promise<{ url: string; connections: () => number }> {
    let connections = 0;
    const server = http.createServer(handler);
    server.on('connection', () => {
      connections += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup(() => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, connections: () => connections };
  }

  function sender(): HttpSender {
    const agents: TenantAgents = createTenantAgents(ALLOW_LOOPBACK, { maxSockets: 4 }, createHostResolver({ timeoutMs: 2_000 }));
    return new HttpSender({
      agents, egress: ALLOW_LOOPBACK, privateResponseBodies: true, timeoutMs: 3_000, connectTimeoutMs: 1_000,
      excerptBytes: 1_024, clock: () => new Date(),
    });
  }

  it('leaves no listener on the signal once each answer is in, and keeps reusing its connections', async () => {
    const target = await receiver((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    const shutdown = new AbortController();
    const http = sender();
    // 4 loops of 25 requests: at most 4 in flight, 100 sent in all.
    const results = await Promise.all(Array.from({ length: 4 }, async () => {
      const outcomes: string[] = [];
      for (let i = 0; i < 25; i += 1) outcomes.push((await http.send(target.url, { 'content-type': 'application/json' }, '{}', shutdown.signal)).outcome);
      return outcomes;
    }));
    assert.deepEqual(new Set(results.flat()), new Set(['success']));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(getEventListeners(shutdown.signal, 'abort').length, 0);
    assert.ok(target.connections() <= 4, `${target.connections()} connections for 100 requests, 4 at a time`);
  });

  it('leaves no listener behind for a request that failed, and still aborts one in flight', async () => {
    const hanging = await receiver(() => undefined);
    const shutdown = new AbortController();
    const http = sender();
    const refused = await http.send('http://127.0.0.1:1/hook', {}, '{}', shutdown.signal);
    assert.equal(refused.outcome, 'connection_refused');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(getEventListeners(shutdown.signal, 'abort').length, 0);

    const inFlight = http.send(hanging.url, {}, '{}', shutdown.signal);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(getEventListeners(shutdown.signal, 'abort').length, 1);
    shutdown.abort();
    const aborted = await inFlight;
    assert.equal(aborted.outcome, 'network');
    assert.ok(aborted.durationMs < 2_000, `aborted after ${aborted.durationMs} ms, not at the timeout`);
  });
});
