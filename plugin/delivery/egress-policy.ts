/**
 * The operator's egress policy: the allow-list of exceptions to the forbidden ranges of
 * `address-ranges.ts`, compiled once per list, and the judgement of one connection (address
 * plus the hostname it was reached by) against it.
 */
import { BlockList, isIP } from 'node:net';
import { forbiddenRangeOf, toJudged, type Judged } from './address-ranges.js';

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

/** An {@link EgressPolicy}'s allow-list, parsed once. */
export type AllowList = { v4: BlockList; v6: BlockList; hostnames: ReadonlySet<string> };

const HOSTNAME = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

/** Lower-cased, without IPv6 brackets or a trailing dot: how hostnames are compared. */
export function normalizeHostname(hostname: string): string {
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

/** The compiled allow-list of a policy's `allow` array (built once per array). */
export function compileAllowList(allow: readonly string[]): AllowList {
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
export function blockedRange(allow: AllowList, ip: string, hostname: string): string | undefined {
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
