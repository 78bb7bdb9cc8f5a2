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
 * Addresses outside the public unicast space are forbidden (`address-ranges.ts`) unless the
 * operator allow-lists them by CIDR or exact hostname (`egress-policy.ts`), e.g. to deliver to
 * a receiver on the same host in tests. Names are resolved by a {@link HostResolver}, off the
 * thread pool and with a deadline (`host-resolver.ts`). This module is the guard's public face:
 * the names of those modules that other code uses are re-exported here.
 */
import type dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, Socket, type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import { EgressBlockedError, InvalidWebhookUrlError } from './egress-errors.js';
import { blockedRange, compileAllowList, normalizeHostname, type AllowList, type EgressPolicy } from './egress-policy.js';
import { createHostResolver, HostResolutionError, type HostResolver, type ResolvedAddress } from './host-resolver.js';

export { describeForbiddenAddress, isForbiddenAddress } from './address-ranges.js';
export { EgressBlockedError, InvalidWebhookUrlError, type InvalidUrlReason } from './egress-errors.js';
export { assertValidEgressPolicy, isAllowListed, type EgressPolicy } from './egress-policy.js';

/**
 * The resolver deadline used when a caller passes no resolver; the same as the plugin's
 * `delivery.dnsTimeoutMs` default.
 */
const DEFAULT_DNS_TIMEOUT_MS = 5_000;

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
 * It resolves with `resolver` (every address of the name; `options.family` then keeps one
 * family) and fails with {@link EgressBlockedError} if ANY of them is forbidden and not
 * allow-listed; a name that mixes public and private answers is a rebinding attempt, and
 * Node's happy-eyeballs connect may try any of them. Otherwise it answers in the form the
 * caller asked for: the address list when `options.all` is set, else the first address
 * and its family (IPv4 first, unless `options.order` is `ipv6first`). Literal IP addresses
 * are checked the same way. DNS errors ({@link HostResolutionError}) pass through.
 * `options.hints` is ignored.
 *
 * Because the socket connects to exactly the address this returns, the check cannot be
 * raced by a DNS answer that changes between check and use. The policy is read once, here.
 *
 * @param resolver Default: a resolver of its own with the system's DNS servers and a 5 s deadline.
 */
export function guardedLookup(
  policy: EgressPolicy,
  resolver: HostResolver = createHostResolver({ timeoutMs: DEFAULT_DNS_TIMEOUT_MS }),
): GuardedLookup {
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
    // Answered on a later tick rather than inside the promise, so that an exception thrown by
    // the callback surfaces as it would from dns.lookup instead of as a rejected promise.
    const answer = (...args: Parameters<AnyLookupCallback>): void => process.nextTick(() => callback(...args));
    resolver.resolve(hostname).then(
      (resolved) => {
        const family = familyOf(options.family);
        const addresses = ordered(family === 0 ? resolved : resolved.filter((a) => a.family === family), options);
        if (addresses.length === 0) {
          answer(new HostResolutionError('ENOTFOUND', hostname, `no IPv${family} address`));
          return;
        }
        for (const { address } of addresses) {
          const range = blockedRange(allow, address, hostname);
          if (range !== undefined) {
            answer(new EgressBlockedError(address, hostname, range));
            return;
          }
        }
        if (options.all) answer(null, addresses);
        else answer(null, addresses[0].address, addresses[0].family);
      },
      (error: NodeJS.ErrnoException) => answer(error),
    );
  }
  return lookup as GuardedLookup;
}

function familyOf(family: dns.LookupOptions['family']): 0 | 4 | 6 {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}

/** The addresses in the order `dns.lookup` options ask for; the resolver's (IPv4 first) by default. */
function ordered(addresses: ResolvedAddress[], options: dns.LookupOptions): ResolvedAddress[] {
  if (options.order !== 'ipv6first') return addresses;
  return [...addresses.filter((a) => a.family === 6), ...addresses.filter((a) => a.family === 4)];
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
 * @param resolver Resolves the names both agents connect to. Default: a resolver of their own
 *   with the system's DNS servers and a 5 s deadline.
 */
export function createGuardedAgents(
  policy: EgressPolicy,
  agentOptions: Omit<https.AgentOptions, 'lookup'> = {},
  resolver: HostResolver = createHostResolver({ timeoutMs: DEFAULT_DNS_TIMEOUT_MS }),
): GuardedAgents {
  const lookup = guardedLookup(policy, resolver);
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
