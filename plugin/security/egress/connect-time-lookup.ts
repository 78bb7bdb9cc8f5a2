/**
 * SSRF protection at connect time: the `lookup` and the agents every webhook request goes
 * through.
 *
 * A webhook URL is chosen by a tenant's administrator but fetched by the server, from inside
 * its network. Without a guard it can reach loopback services, the cloud metadata endpoint
 * (169.254.169.254) or anything on a private network. The URL is judged once when saved
 * (`webhook-url-rules.ts`); here, the resolved address is checked inside the socket's own DNS
 * lookup, and the connected socket's remote address once more. A check made on an earlier,
 * separate lookup would be defeated by DNS rebinding (public address when checked, private
 * one when connecting); checking the address the socket actually uses is not.
 *
 * Addresses outside the public unicast space are forbidden (`address-classes.ts`) unless an
 * allow-list admits them (`egress-allow-list.ts`). The functions here judge by `policy.allow`
 * alone: scope a policy to its tenant with `policyForTenant` first (`tenant-agents.ts` does,
 * per tenant). Names are resolved by a {@link HostResolver}, off the thread pool and with a
 * deadline (`host-resolver.ts`).
 */
import type dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { Socket, type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import { EgressBlockedError } from './egress-errors.js';
import { blockedRange, compileAllowList, type AllowList, type EgressPolicy } from './egress-allow-list.js';
import { createHostResolver, HostResolutionError, type HostResolver, type ResolvedAddress } from './host-resolver.js';

/**
 * The resolver deadline used when a caller passes no resolver; the same as the plugin's
 * `delivery.dnsTimeoutMs` default.
 */
const DEFAULT_DNS_TIMEOUT_MS = 5_000;

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
 * allow-listed - not only the first. A name that mixes public and private answers is refused
 * as a whole rather than trimmed to its public addresses: Node may connect to any address a
 * lookup returns (with `all`, as `autoSelectFamily` asks, it tries them in turn), so the
 * invariant kept is "every address handed to a socket was judged allowed", and a refusal
 * fails closed where a trimmed answer would depend on every caller honouring the trim. Such
 * a name is a misconfiguration or a rebinding attempt either way, and the operator's log
 * says which address was refused. Otherwise it answers in the form the
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
 * is what covers literal-IP URLs (including redirects to them), for which Node skips `lookup`;
 * it runs only once a TCP connection is open, which is why the sender also refuses forbidden
 * literal addresses before asking the agents at all (`assertLiteralHostAllowed`).
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
