/**
 * The benchmark's webhook receiver, run in its own process (forked by `bench/receiver.ts`) so
 * that receiving costs no CPU time in the process under test. A plain Node HTTP server on
 * 127.0.0.1 that answers 200 'ok' as soon as a request's body has arrived, and records:
 * - for `/hook...` paths: the receipt time of each request, keyed by the event id found in the
 *   body (`current_context.event_id`), and its `webhook-id` header (to spot duplicates);
 * - for `/got...` paths: a count only (the HTTP-client ceiling run).
 *
 * The parent talks to it over the IPC channel (see `ReceiverCommand` / `ReceiverReply`).
 * Timestamps are `performance.timeOrigin + performance.now()`: wall-clock milliseconds with
 * sub-millisecond resolution, comparable with the same expression in the parent process.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceiverCommand =
  | { id: number; cmd: 'reset' }
  | { id: number; cmd: 'stats' }
  | { id: number; cmd: 'collect' }
  | { id: number; cmd: 'sample' }
  /** Replies once `count` hook requests have arrived (at once if they already have). */
  | { id: number; cmd: 'notifyAt'; count: number }
  | { id: number; cmd: 'close' };

export interface ReceiverStats {
  hookRequests: number;
  uniqueWebhookIds: number;
  gotRequests: number;
  firstHookAt: number | null;
  lastHookAt: number | null;
  /** CPU time this receiver process has used so far (user + system), in microseconds. */
  cpuMicros: number;
}

export type ReceiverReply =
  | { type: 'listening'; port: number }
  | { type: 'reply'; id: number; stats: ReceiverStats }
  | { type: 'reply'; id: number; stats: ReceiverStats; eventIds: string[]; times: number[] }
  | { type: 'reply'; id: number; sample: { body: string; headers: Record<string, string> } | null }
  | { type: 'reply'; id: number; reachedAt: number; stats: ReceiverStats };

const now = () => performance.timeOrigin + performance.now();
const EVENT_ID = /"event_id":"([^"]+)"/;

let eventIds: string[] = [];
let times: number[] = [];
let webhookIds = new Set<string>();
let gotRequests = 0;
let sample: { body: string; headers: Record<string, string> } | null = null;
let waiters: Array<{ id: number; count: number }> = [];

const send = (message: ReceiverReply) => process.send?.(message);

function stats(): ReceiverStats {
  return {
    hookRequests: times.length,
    uniqueWebhookIds: webhookIds.size,
    gotRequests,
    firstHookAt: times.length > 0 ? times[0] : null,
    lastHookAt: times.length > 0 ? times[times.length - 1] : null,
    cpuMicros: (({ user, system }) => user + system)(process.cpuUsage()),
  };
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const at = now();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' }).end('ok');
    const url = req.url ?? '';
    if (url.startsWith('/got')) {
      gotRequests += 1;
      return;
    }
    const body = Buffer.concat(chunks).toString('utf8');
    times.push(at);
    eventIds.push(EVENT_ID.exec(body)?.[1] ?? '');
    const webhookId = req.headers['webhook-id'];
    if (typeof webhookId === 'string') webhookIds.add(webhookId);
    if (!sample) {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
      sample = { body, headers };
    }
    if (waiters.length > 0) {
      const count = times.length;
      waiters = waiters.filter((w) => {
        if (count < w.count) return true;
        send({ type: 'reply', id: w.id, reachedAt: at, stats: stats() });
        return false;
      });
    }
  });
});
// Long keep-alive: a socket the server closes between phases would make the plugin's next
// request on it fail with ECONNRESET, and its retry would come 5 s later.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;
server.maxRequestsPerSocket = 0;

process.on('message', (message: ReceiverCommand) => {
  switch (message.cmd) {
    case 'reset':
      eventIds = [];
      times = [];
      webhookIds = new Set();
      gotRequests = 0;
      sample = null;
      waiters = [];
      send({ type: 'reply', id: message.id, stats: stats() });
      break;
    case 'stats':
      send({ type: 'reply', id: message.id, stats: stats() });
      break;
    case 'collect':
      send({ type: 'reply', id: message.id, stats: stats(), eventIds, times });
      break;
    case 'sample':
      send({ type: 'reply', id: message.id, sample });
      break;
    case 'notifyAt':
      if (times.length >= message.count) send({ type: 'reply', id: message.id, reachedAt: times[message.count - 1], stats: stats() });
      else waiters.push({ id: message.id, count: message.count });
      break;
    case 'close':
      server.closeAllConnections();
      server.close(() => process.exit(0));
      break;
  }
});
// The parent went away: never outlive it.
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  send({ type: 'listening', port: (server.address() as AddressInfo).port });
});
