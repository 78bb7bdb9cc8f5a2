/**
 * SSRF protection for outgoing webhook requests.
 *
 * A webhook URL is chosen by an administrator but fetched by the server, from inside its
 * network. Without a guard it can reach loopback services, the cloud metadata endpoint
 * (169.254.169.254) or anything on a private network. Checks happen twice:
 *
 * - at save time ({@link checkUrlAtSave}): cheap, friendly errors for obviously bad URLs;
 * - at connect time ({@link createGuardedAgents}): the resolved address is checked inside the
 *   socket's own DNS lookup, and the connected socket's remote address once more. A check made
 *   on an earlier, separate lookup would be defeated by DNS rebinding (public address when
 *   checked, private one when connecting); checking the address the socket actually uses is not.
 *
 * Addresses outside the public unicast space are forbidden unless the operator allow-lists
 * them (by CIDR or exact hostname), e.g. to deliver to a receiver on the same host in tests.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, Socket, type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebhooksError } from '../errors.js';

/** Where outgoing webhook requests may go. */
export type EgressPolicy = {
  /**
   * Exceptions to the block on private, loopback and reserved addresses: CIDRs
   * (`127.0.0.0/8`, `::1/128`), single addresses (`10.1.2.3`) or exact hostnames
   * (`receiver.internal`, no wildcards). A hostname entry trusts whatever that name resolves
   * to. Default `[]`.
   */
  allow: readonly string[];
  /**
   * Refuse plain `http:` URLs at save time. No default here: the plugin's options set it
   * (and their defaults live with them).
   */
  httpsOnly: boolean;
};

/** Why a URL was refused at save time. */
export type InvalidUrlReason =
  | 'unparseable'
  | 'unsupported_scheme'
  | 'https_required'
  | 'credentials_in_url'
  | 'forbidden_address'
  | 'localhost';

/** A webhook URL that must not be saved. */
export class InvalidWebhookUrlError extends WebhooksError {
  /** Machine-readable cause, also given as `details[0].message`. */
  readonly reason: InvalidUrlReason;

  constructor(reason: InvalidUrlReason, message: string) {
    super('invalid_url', message, { status: 400, details: [{ path: 'url', message: reason }] });
    this.reason = reason;
  }
}

/**
 * A connection was refused because its address is forbidden and not allow-listed.
 * Raised from the socket's DNS lookup or from its `connect` event; `got` wraps it in a
 * `RequestError` whose `code` is `'egress_blocked'` and whose `cause` is this error.
 */
export class EgressBlockedError extends WebhooksError {
  /** The IP address that was refused. */
  readonly address: string;
  /** The hostname being connected to (the address itself for literal-IP URLs). */
  readonly hostname: string;
  /** The forbidden range the address fell in, e.g. `loopback (127.0.0.0/8)`. */
  readonly range: string;

  constructor(address: string, hostname: string, range: string) {
    const target = hostname && hostname !== address ? `${hostname} (${address})` : address;
    super(
      'egress_blocked',
      `Refused to connect to ${target}: the address is in a forbidden range, ${range}. ` +
        'Add the address or hostname to the egress allow-list to permit it.',
      { status: 400 },
    );
    this.address = address;
    this.hostname = hostname;
    this.range = range;
  }
}

type Family = 'ipv4' | 'ipv6';
type Range = { cidr: string; label: string };

// IANA special-purpose registries, trimmed to what matters for an outgoing HTTP request.
// Order matters: the first match names the range in error messages, so narrow ranges come
// before the wide ones that contain them.
const FORBIDDEN_IPV4: readonly Range[] = [
  { cidr: '0.0.0.0/8', label: '"this network"' },
  { cidr: '10.0.0.0/8', label: 'private' },
  { cidr: '100.64.0.0/10', label: 'carrier-grade NAT' },
  { cidr: '127.0.0.0/8', label: 'loopback' },
  { cidr: '169.254.0.0/16', label: 'link-local, incl. cloud metadata' },
  { cidr: '172.16.0.0/12', label: 'private' },
  { cidr: '192.0.0.0/24', label: 'IETF protocol assignments' },
  { cidr: '192.0.2.0/24', label: 'documentation' },
  { cidr: '192.88.99.0/24', label: 'deprecated 6to4 relay anycast' },
  { cidr: '192.168.0.0/16', label: 'private' },
  { cidr: '198.18.0.0/15', label: 'benchmarking' },
  { cidr: '198.51.100.0/24', label: 'documentation' },
  { cidr: '203.0.113.0/24', label: 'documentation' },
  { cidr: '224.0.0.0/4', label: 'multicast' },
  { cidr: '255.255.255.255/32', label: 'broadcast' },
  { cidr: '240.0.0.0/4', label: 'reserved' },
];

// IPv6 is judged the other way round: only global unicast (2000::/3) can be public, so
// everything outside it is forbidden (the last three rows), which also covers ::, ::1,
// ULA, link-local, multicast, the deprecated IPv4-compatible ::/96 and site-local without
// relying on a complete list. The named rows above them give precise messages.
// IPv4-mapped (::ffff:0:0/96) and NAT64 (64:ff9b::/96) addresses never reach this table:
// their embedded IPv4 address is judged instead.
const FORBIDDEN_IPV6: readonly Range[] = [
  { cidr: '::/128', label: 'unspecified' },
  { cidr: '::1/128', label: 'loopback' },
  { cidr: '64:ff9b:1::/48', label: 'local-use NAT64' },
  { cidr: '100::/64', label: 'discard-only' },
  // Teredo embeds a (possibly private) IPv4 address behind a public relay; no webhook
  // receiver lives there. The rest of 2001::/23 holds protocol anycast addresses (PCP,
  // TURN, AMT, AS112), benchmarking and ORCHID identifiers: also no receivers, so the
  // whole /23 is refused rather than carving out the few "globally reachable" rows.
  { cidr: '2001::/32', label: 'Teredo tunnelling' },
  { cidr: '2001::/23', label: 'IETF protocol assignments' },
  { cidr: '2001:db8::/32', label: 'documentation' },
  // 6to4 is deprecated (RFC 7526) and tunnels into IPv4 space, like Teredo.
  { cidr: '2002::/16', label: '6to4 tunnelling' },
  { cidr: '3fff::/20', label: 'documentation' },
  { cidr: 'fc00::/7', label: 'unique local' },
  { cidr: 'fe80::/10', label: 'link-local' },
  { cidr: 'fec0::/10', label: 'deprecated site-local' },
  { cidr: 'ff00::/8', label: 'multicast' },
  { cidr: '::/3', label: 'not global unicast' },
  { cidr: '4000::/2', label: 'not global unicast' },
  { cidr: '8000::/1', label: 'not global unicast' },
];

// One BlockList per row (rather than one for all) so a match can say which range it was.
// Each list holds one family only: a BlockList maps IPv4 checks onto IPv4-mapped IPv6
// rules, which would make ::/3 swallow every IPv4 address.
function compileRanges(rows: readonly Range[], family: Family) {
  return rows.map(({ cidr, label }) => {
    const [network, prefix] = cidr.split('/');
    const list = new BlockList();
    list.addSubnet(network, Number(prefix), family);
    return { list, label: `${label} (${cidr})` };
  });
}

const IPV4_RANGES = compileRanges(FORBIDDEN_IPV4, 'ipv4');
const IPV6_RANGES = compileRanges(FORBIDDEN_IPV6, 'ipv6');

/**
 * An IP address reduced to what is judged: zone id dropped, and IPv4-mapped or NAT64
 * IPv6 addresses replaced by the IPv4 address they carry.
 */
type Judged = { address: string; family: Family; embeddedIn?: 'mapped' | 'nat64' };

function toJudged(ip: string): Judged | undefined {
  // A zone id (fe80::1%eth0) only ever accompanies link-local or multicast addresses, which
  // stay forbidden once it is removed; BlockList itself does not understand it.
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const address = bare.split('%', 1)[0];
  const version = isIP(address);
  if (version === 4) return { address, family: 'ipv4' };
  if (version !== 6) return undefined;
  const groups = ipv6Groups(address);
  const embedded = `${groups[6] >> 8}.${groups[6] & 0xff}.${groups[7] >> 8}.${groups[7] & 0xff}`;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return { address: embedded, family: 'ipv4', embeddedIn: 'mapped' };
  }
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) {
    return { address: embedded, family: 'ipv4', embeddedIn: 'nat64' };
  }
  return { address, family: 'ipv6' };
}

/** The eight 16-bit groups of an IPv6 address that `isIP` has already accepted. */
function ipv6Groups(address: string): number[] {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // A dotted-quad tail (::ffff:127.0.0.1) becomes the two groups it stands for.
    const [a, b, c, d] = text.slice(lastColon + 1).split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const [head, tail] = text.split('::');
  if (tail === undefined) return parse(head);
  const front = parse(head);
  const back = parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

function forbiddenRangeOf(judged: Judged): string | undefined {
  const ranges = judged.family === 'ipv4' ? IPV4_RANGES : IPV6_RANGES;
  const hit = ranges.find(({ list }) => list.check(judged.address, judged.family));
  if (hit === undefined) return undefined;
  if (judged.embeddedIn === 'mapped') return `IPv4-mapped ${hit.label}`;
  if (judged.embeddedIn === 'nat64') return `NAT64-embedded ${hit.label}`;
  return hit.label;
}

/**
 * Names the forbidden range an address falls in, for error messages and delivery logs.
 *
 * @returns e.g. `loopback (127.0.0.0/8)`, or `undefined` for a public address.
 *   Anything that is not an IP address is reported as `not an IP address`.
 */
export function describeForbiddenAddress(ip: string): string | undefined {
  const judged = toJudged(ip);
  if (judged === undefined) return 'not an IP address';
  return forbiddenRangeOf(judged);
}

/**
 * Whether an address is private, loopback, link-local, multicast, reserved or otherwise
 * not a public unicast address. IPv4-mapped (`::ffff:127.0.0.1`) and NAT64
 * (`64:ff9b::7f00:1`) addresses are judged by the IPv4 address they carry, so a mapped
 * public address is allowed. Fails closed: a string that is not an IP address is forbidden.
 */
export function isForbiddenAddress(ip: string): boolean {
  return describeForbiddenAddress(ip) !== undefined;
}

/** An {@link EgressPolicy}'s allow-list, parsed once. */
type AllowList = { v4: BlockList; v6: BlockList; hostnames: ReadonlySet<string> };

const HOSTNAME = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

function normalizeHostname(hostname: string): string {
  let host = hostname.trim().toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  // "localhost." and "localhost" name the same host; a trailing dot must not dodge a check.
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/**
 * Compiled lists, per allow-list array: the sender checks every literal-IP request, and
 * rebuilding BlockLists from strings each time would be work on the hot path. A policy's
 * array is not changed after construction; a new array compiles afresh.
 */
const compiled = new WeakMap<readonly string[], AllowList>();

function compileAllowList(allow: readonly string[]): AllowList {
  let list = compiled.get(allow);
  if (!list) {
    list = buildAllowList(allow);
    compiled.set(allow, list);
  }
  return list;
}

function buildAllowList(allow: readonly string[]): AllowList {
  const v4 = new BlockList();
  const v6 = new BlockList();
  const hostnames = new Set<string>();
  allow.forEach((raw, index) => {
    const invalid = (why: string) =>
      new TypeError(`egress allow[${index}] "${raw}" ${why}; expected a CIDR, an IP address or a hostname`);
    const entry = typeof raw === 'string' ? raw.trim() : '';
    const [network, prefixText, extra] = entry.split('/');
    if (prefixText === undefined && isIP(network) === 0) {
      const host = normalizeHostname(entry);
      if (!HOSTNAME.test(host)) throw invalid('is not valid');
      hostnames.add(host);
      return;
    }
    if (extra !== undefined || (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText))) {
      throw invalid('has a malformed prefix length');
    }
    const judged = toJudged(network);
    if (judged === undefined) throw invalid('is not a valid network address');
    const isV4 = judged.family === 'ipv4';
    const given = prefixText === undefined ? (isIP(network) === 4 ? 32 : 128) : Number(prefixText);
    let prefix = given;
    if (judged.embeddedIn === 'mapped') {
      // ::ffff:10.0.0.0/104 is how IPv4 10.0.0.0/8 looks inside IPv6; store it as IPv4,
      // because mapped addresses are judged as IPv4 too.
      if (given < 96) throw invalid('covers more than the IPv4-mapped range');
      prefix = given - 96;
    } else if (judged.embeddedIn === 'nat64') {
      throw invalid('is a NAT64 address; allow the IPv4 address it carries instead');
    }
    if (prefix > (isV4 ? 32 : 128)) throw invalid('has a prefix length out of range');
    (isV4 ? v4 : v6).addSubnet(judged.address, prefix, judged.family);
  });
  return { v4, v6, hostnames };
}

function allowedBy(allow: AllowList, judged: Judged, hostname: string): boolean {
  if (hostname !== '' && allow.hostnames.has(normalizeHostname(hostname))) return true;
  if (judged.embeddedIn === 'nat64') return false;
  return judged.family === 'ipv4' ? allow.v4.check(judged.address, 'ipv4') : allow.v6.check(judged.address, 'ipv6');
}

/** The forbidden range if the connection must be refused, `undefined` if it may proceed. */
function blockedRange(allow: AllowList, ip: string, hostname: string): string | undefined {
  const judged = toJudged(ip);
  if (judged === undefined) return 'not an IP address';
  const range = forbiddenRangeOf(judged);
  if (range === undefined || allowedBy(allow, judged, hostname)) return undefined;
  return range;
}

/**
 * Checks a policy's allow-list, for the plugin's option validation.
 *
 * @throws {TypeError} naming the first entry that is neither a CIDR, an IP address nor a hostname.
 */
export function assertValidEgressPolicy(policy: EgressPolicy): void {
  compileAllowList(policy.allow);
}

/**
 * Whether the operator allow-listed this connection: `ip` is inside an allowed CIDR, or
 * `hostname` is an allowed hostname. IPv4-mapped addresses match IPv4 entries.
 *
 * @param ip The address being connected to.
 * @param hostname The hostname from the URL, or `''` when there is none.
 */
export function isAllowListed(ip: string, hostname: string, policy: EgressPolicy): boolean {
  const allow = compileAllowList(policy.allow);
  const judged = toJudged(ip);
  if (judged === undefined) return hostname !== '' && allow.hostnames.has(normalizeHostname(hostname));
  return allowedBy(allow, judged, hostname);
}

function parseUrl(url: string | URL): URL {
  try {
    return new URL(url);
  } catch {
    throw new InvalidWebhookUrlError('unparseable', 'The webhook URL could not be parsed as an absolute URL');
  }
}

/**
 * Refuses webhook URLs that can never be delivered safely, when an endpoint is saved.
 * Names that need DNS pass here and are checked on every connection instead, since what
 * they resolve to can change after saving.
 *
 * @throws {InvalidWebhookUrlError} with `reason`:
 *   `unparseable`; `unsupported_scheme` (not http/https); `https_required` (http while
 *   `httpsOnly`); `credentials_in_url` (`user:pass@`, which would be logged with the URL -
 *   use custom headers instead); `forbidden_address` (a literal IP that is forbidden and not
 *   allow-listed; the URL parser has already normalised forms like `http://2130706433/`);
 *   `localhost` (`localhost` or `*.localhost`, which always resolve to loopback, unless the
 *   hostname or a loopback address is allow-listed).
 */
export function checkUrlAtSave(url: string, policy: EgressPolicy): void {
  const parsed = parseUrl(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidWebhookUrlError(
      'unsupported_scheme',
      `The webhook URL must use https: or http:, not ${parsed.protocol}`,
    );
  }
  if (parsed.protocol === 'http:' && policy.httpsOnly) {
    throw new InvalidWebhookUrlError('https_required', 'The webhook URL must use https:');
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new InvalidWebhookUrlError(
      'credentials_in_url',
      'The webhook URL must not contain a user name or password; use custom headers for receiver authentication',
    );
  }
  const host = normalizeHostname(parsed.hostname);
  const allow = compileAllowList(policy.allow);
  if (isIP(host) !== 0) {
    const range = blockedRange(allow, host, host);
    if (range !== undefined) {
      throw new InvalidWebhookUrlError(
        'forbidden_address',
        `The webhook URL points to ${host}, which is in a forbidden range, ${range}; allow-list it to permit deliveries there`,
      );
    }
    return;
  }
  // RFC 6761: localhost and its subdomains resolve to loopback. Saying so now beats a
  // delivery that fails on every attempt.
  if (host === 'localhost' || host.endsWith('.localhost')) {
    const loopbackAllowed =
      blockedRange(allow, '127.0.0.1', host) === undefined || blockedRange(allow, '::1', host) === undefined;
    if (!loopbackAllowed) {
      throw new InvalidWebhookUrlError(
        'localhost',
        `The webhook URL points to ${host}, which is this server; allow-list it to permit deliveries there`,
      );
    }
  }
}

/**
 * Refuses a URL whose host is a forbidden literal IP address. Node does not call the
 * agent's `lookup` for literal IPs, so the sender calls this before each request; the
 * guarded agents' socket check is the second line of defence.
 *
 * @throws {EgressBlockedError} for a forbidden, non-allow-listed literal address.
 * @throws {InvalidWebhookUrlError} (`unparseable`) when `url` is not a URL.
 */
export function assertLiteralHostAllowed(url: string | URL, policy: EgressPolicy): void {
  const host = normalizeHostname(parseUrl(url).hostname);
  if (isIP(host) === 0) return;
  const range = blockedRange(compileAllowList(policy.allow), host, host);
  if (range !== undefined) throw new EgressBlockedError(host, host, range);
}

type AnyLookupCallback = (
  err: NodeJS.ErrnoException | null,
  address?: string | dns.LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` like `dns.lookup` for a {@link EgressPolicy}, for `net.connect` and agents.
 */
export interface GuardedLookup extends LookupFunction {
  (hostname: string, callback: LookupFunctionCallback): void;
  (hostname: string, family: number, callback: LookupFunctionCallback): void;
}

/** The callback of {@link GuardedLookup}. */
export type LookupFunctionCallback = Parameters<LookupFunction>[2];

/**
 * Builds a drop-in replacement for `dns.lookup` that refuses forbidden addresses.
 *
 * It resolves with `dns.lookup` (always asking for all addresses, whatever the caller
 * wanted) and fails with {@link EgressBlockedError} if ANY of them is forbidden and not
 * allow-listed; a name that mixes public and private answers is a rebinding attempt, and
 * Node's happy-eyeballs connect may try any of them. Otherwise it answers in the form the
 * caller asked for: the address list when `options.all` is set, else the first address
 * and its family. Literal IP addresses are checked the same way. DNS errors pass through.
 *
 * Because the socket connects to exactly the address this returns, the check cannot be
 * raced by a DNS answer that changes between check and use. The policy is read once, here.
 */
export function guardedLookup(policy: EgressPolicy): GuardedLookup {
  const allow = compileAllowList(policy.allow);
  function lookup(
    hostname: string,
    optionsOrCallback: dns.LookupOptions | number | LookupFunctionCallback,
    maybeCallback?: LookupFunctionCallback,
  ): void {
    let options: dns.LookupOptions;
    let callback: AnyLookupCallback;
    if (typeof optionsOrCallback === 'function') {
      options = {};
      callback = optionsOrCallback as AnyLookupCallback;
    } else {
      options = typeof optionsOrCallback === 'number' ? { family: optionsOrCallback } : { ...optionsOrCallback };
      callback = maybeCallback as AnyLookupCallback;
    }
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) {
        callback(err);
        return;
      }
      if (addresses.length === 0) {
        callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }));
        return;
      }
      for (const { address } of addresses) {
        const range = blockedRange(allow, address, hostname);
        if (range !== undefined) {
          callback(new EgressBlockedError(address, hostname, range));
          return;
        }
      }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0].address, addresses[0].family);
    });
  }
  return lookup as GuardedLookup;
}

/** The agents {@link createGuardedAgents} returns, in the shape `got`'s `agent` option takes. */
export interface GuardedAgents {
  http: http.Agent;
  https: https.Agent;
}

/**
 * Creates HTTP and HTTPS agents that can only reach addresses the policy permits.
 *
 * Two checks: the agents' `lookup` is {@link guardedLookup} (agent options take precedence
 * over request options in Node, so a per-request `lookup` or got's `dnsLookup` cannot
 * bypass it), and every socket's remote address is checked again on `connect`, before a
 * byte is written, destroying the socket with {@link EgressBlockedError}. The second check
 * is what covers literal-IP URLs (including redirects to them), for which Node skips `lookup`.
 *
 * @param agentOptions Extra agent options; `keepAlive` defaults to `true`, `lookup` is
 *   always the guarded one.
 */
export function createGuardedAgents(
  policy: EgressPolicy,
  agentOptions: Omit<https.AgentOptions, 'lookup'> = {},
): GuardedAgents {
  const lookup = guardedLookup(policy);
  const allow = compileAllowList(policy.allow);
  const options = { keepAlive: true, ...agentOptions, lookup };
  const agents = { http: new http.Agent(options), https: new https.Agent(options) };
  guardConnections(agents.http, allow);
  guardConnections(agents.https, allow);
  return agents;
}

type ConnectionArgs = Parameters<http.Agent['createConnection']>;

function guardConnections(agent: http.Agent, allow: AllowList): void {
  const createConnection = agent.createConnection.bind(agent);
  const guarded = new WeakSet<Duplex>();
  const guard = (stream: Duplex, options: ConnectionArgs[0]): void => {
    if (guarded.has(stream)) return;
    guarded.add(stream);
    const hostname = String(options.host ?? options.hostname ?? '');
    if (!(stream instanceof Socket)) {
      // Only net sockets have a remote address to check; fail closed on anything else.
      stream.destroy(new EgressBlockedError('unknown', hostname, 'a connection of unknown kind'));
      return;
    }
    const check = (): void => {
      const address = stream.remoteAddress ?? '';
      const range = blockedRange(allow, address, hostname);
      if (range !== undefined) stream.destroy(new EgressBlockedError(address, hostname, range));
    };
    // Prepended so it runs before the listeners that flush the request (or, for TLS,
    // start the handshake) on 'connect'.
    if (stream.connecting) stream.prependOnceListener('connect', check);
    else check();
  };
  agent.createConnection = (options, callback) => {
    const wrapped: ConnectionArgs[1] =
      callback &&
      ((err, stream) => {
        if (!err && stream) guard(stream, options);
        callback(err, stream);
      });
    const stream = createConnection(options, wrapped);
    if (stream) guard(stream, options);
    return stream;
  };
}
