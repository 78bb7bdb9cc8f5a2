/**
 * The endpoints chaos scenarios deliver to, all on 127.0.0.1 in the harness process (the
 * plugin runs in its host child, so receiving costs it nothing):
 * - {@link RecordingReceiver}: answers a fixed status, optionally after a delay, and records
 *   every request's `webhook-id`, event id, `event_time` and receipt time;
 * - {@link BlackHoleServer}: accepts TCP connections and never answers.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';

const now = (): number => performance.timeOrigin + performance.now();
const EVENT_ID = /"event_id":"([^"]+)"/;
const EVENT_TIME = /"event_time":"([^"]+)"/;

export interface Receipt {
  /** The delivery id (`webhook-id` header); the same on every retry of one delivery. */
  webhookId: string;
  eventId: string;
  /** `event_time` from the body, as epoch ms (when the plugin recorded the event). */
  eventTime: number;
  receivedAt: number;
}

export interface RecordingReceiverOptions {
  /** Status answered to every request. Default 200. */
  status?: number;
  /** Wait this long before answering (the request counts as received at once). Default 0. */
  delayMs?: number;
}

export class RecordingReceiver {
  readonly receipts: Receipt[] = [];
  /** First receipt time per event id. */
  readonly firstReceipt = new Map<string, number>();
  readonly webhookIds = new Set<string>();
  url = '';
  port = 0;
  private server: Server | null = null;

  private constructor(private readonly options: RecordingReceiverOptions) {}

  static async start(options: RecordingReceiverOptions = {}): Promise<RecordingReceiver> {
    const receiver = new RecordingReceiver(options);
    const status = options.status ?? 200;
    const delayMs = options.delayMs ?? 0;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        receiver.record(req.headers['webhook-id'], Buffer.concat(chunks).toString('utf8'));
        const answer = () => {
          if (res.destroyed || res.socket?.destroyed) return;
          res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'chaos says no');
        };
        if (delayMs > 0) setTimeout(answer, delayMs);
        else answer();
      });
    });
    // Long keep-alive: a socket closed under the plugin between requests costs it a retry.
    server.keepAliveTimeout = 120_000;
    server.headersTimeout = 130_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver.server = server;
    receiver.port = (server.address() as AddressInfo).port;
    receiver.url = `http://127.0.0.1:${receiver.port}`;
    return receiver;
  }

  private record(webhookIdHeader: string | string[] | undefined, body: string): void {
    const at = now();
    const webhookId = Array.isArray(webhookIdHeader) ? webhookIdHeader[0] : (webhookIdHeader ?? '');
    const eventId = EVENT_ID.exec(body)?.[1] ?? '';
    const time = EVENT_TIME.exec(body)?.[1];
    this.receipts.push({ webhookId, eventId, eventTime: time ? Date.parse(time) : Number.NaN, receivedAt: at });
    this.webhookIds.add(webhookId);
    if (!this.firstReceipt.has(eventId)) this.firstReceipt.set(eventId, at);
  }

  /** Requests beyond the first for the same delivery (at-least-once repeats). */
  get duplicates(): number {
    return this.receipts.length - this.webhookIds.size;
  }

  get status(): number {
    return this.options.status ?? 200;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    await closeServer(server);
  }
}

/** Closes a receiver's server at once, dropping its keep-alive connections; null: nothing to close. */
export async function closeServer(server: Server | null): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Accepts connections, reads and drops whatever arrives, never writes a byte. */
export class BlackHoleServer {
  connections = 0;
  bytesReceived = 0;
  url = '';
  private readonly sockets = new Set<Socket>();
  private server: TcpServer | null = null;

  static async start(): Promise<BlackHoleServer> {
    const hole = new BlackHoleServer();
    const server = createTcpServer((socket) => {
      hole.connections += 1;
      hole.sockets.add(socket);
      socket.on('data', (chunk: Buffer) => {
        hole.bytesReceived += chunk.length;
      });
      socket.on('error', () => undefined);
      socket.on('close', () => hole.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    hole.server = server;
    hole.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return hole;
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
