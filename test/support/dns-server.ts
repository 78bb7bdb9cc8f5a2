/**
 * A tiny authoritative DNS server on 127.0.0.1 (UDP) for tests: answers A and AAAA queries
 * from a table, optionally after a delay per name or never, and records every query so a
 * test can tell a cache hit from a lookup. Unknown names get NXDOMAIN; a known name without
 * records of the asked type gets an empty NOERROR answer (what c-ares reports as ENODATA).
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';

/** How the server answers one name. */
export interface DnsEntry {
  /** IPv4 addresses for A queries. */
  a?: string[];
  /** IPv6 addresses (no dotted-quad tail) for AAAA queries. */
  aaaa?: string[];
  /** TTL of every record, in seconds. Default 300. */
  ttl?: number;
  /** Answer this long after the query arrives. */
  delayMs?: number;
  /** Never answer: `true` for any query, `'A'` or `'AAAA'` for queries of that type only. */
  silent?: boolean | 'A' | 'AAAA';
  /** Answer with this response code and no records (2 SERVFAIL, 5 REFUSED, ...). */
  rcode?: number;
}

export interface DnsQuery {
  name: string;
  type: 'A' | 'AAAA' | number;
}

export interface TestDnsServer {
  /** `127.0.0.1:<port>`, for a resolver's server list. */
  readonly address: string;
  /** Every query received, in order. */
  readonly queries: DnsQuery[];
  /** Sets (or replaces) the answer for a name. */
  set(name: string, entry: DnsEntry): void;
  /** Queries received for a name (any type). */
  queriesFor(name: string): number;
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;
const NXDOMAIN = 3;

/** Starts a server answering from `records` (names are case-insensitive, no trailing dot). */
export async function startDnsServer(records: Record<string, DnsEntry> = {}): Promise<TestDnsServer> {
  const table = new Map<string, DnsEntry>(Object.entries(records).map(([name, entry]) => [name.toLowerCase(), entry]));
  const queries: DnsQuery[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const socket = dgram.createSocket('udp4');
  let closed = false;

  socket.on('message', (message, peer) => {
    const query = parseQuery(message);
    if (query === undefined) return;
    const type = query.type === TYPE_A ? 'A' : query.type === TYPE_AAAA ? 'AAAA' : query.type;
    queries.push({ name: query.name, type });
    const entry = table.get(query.name);
    if (entry?.silent === true || entry?.silent === type) return;
    const reply = encodeReply(message, query, entry);
    const send = () => {
      if (!closed) socket.send(reply, peer.port, peer.address);
    };
    if (!entry?.delayMs) {
      send();
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      send();
    }, entry.delayMs);
    timers.add(timer);
  });

  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address() as AddressInfo;

  return {
    address: `127.0.0.1:${port}`,
    queries,
    set(name, entry) {
      table.set(name.toLowerCase(), entry);
    },
    queriesFor(name) {
      return queries.filter((q) => q.name === name.toLowerCase()).length;
    },
    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

type Question = { name: string; type: number; end: number };

/** The first question of a standard query, or `undefined` for anything else. */
function parseQuery(message: Buffer): Question | undefined {
  if (message.length < 12 || (message[2] & 0x80) !== 0 || message.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let offset = 12;
  for (;;) {
    if (offset >= message.length) return undefined;
    const length = message[offset];
    offset += 1;
    if (length === 0) break;
    // Queries carry plain labels; a compression pointer (or anything past 63) is not expected.
    if (length > 63 || offset + length > message.length) return undefined;
    labels.push(message.toString('latin1', offset, offset + length));
    offset += length;
  }
  if (offset + 4 > message.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: message.readUInt16BE(offset), end: offset + 4 };
}

function encodeReply(message: Buffer, question: Question, entry: DnsEntry | undefined): Buffer {
  const addresses =
    question.type === TYPE_A ? entry?.a ?? [] : question.type === TYPE_AAAA ? entry?.aaaa ?? [] : [];
  const rcode = entry === undefined ? NXDOMAIN : entry.rcode ?? 0;
  const answers = rcode === 0 ? addresses : [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(message.readUInt16BE(0), 0);
  const queryFlags = message.readUInt16BE(2);
  // QR, the query's opcode and RD, AA, RA, and the response code.
  header.writeUInt16BE(0x8000 | (queryFlags & 0x7800) | 0x0400 | (queryFlags & 0x0100) | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const records = answers.map((address) => {
    const data = question.type === TYPE_A ? ipv4Bytes(address) : ipv6Bytes(address);
    const record = Buffer.alloc(12 + data.length);
    record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    record.writeUInt16BE(question.type, 2);
    record.writeUInt16BE(1, 4); // class IN
    record.writeUInt32BE(entry?.ttl ?? 300, 6);
    record.writeUInt16BE(data.length, 10);
    data.copy(record, 12);
    return record;
  });
  return Buffer.concat([header, message.subarray(12, question.end), ...records]);
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

function ipv6Bytes(address: string): Buffer {
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const [head, tail] = address.split('::');
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? front : [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, index) => bytes.writeUInt16BE(group, index * 2));
  return bytes;
}
