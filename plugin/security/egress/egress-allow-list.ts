/**
 * The operator's allow-lists: the exceptions to the forbidden ranges of `address-classes.ts`,
 * compiled once per list, and the judgement of one connection (address plus the hostname it
 * was reached by) against them.
 *
 * There are two kinds. `allow` applies to every tenant: it is meant for single-tenant hosts
 * and development. `allowByTenant[tenantId]` applies to that tenant only. On a multi-tenant
 * host a private range opened for one tenant's trusted receiver must not become a target for
 * every other tenant's admin, so a tenant may reach exactly the forbidden addresses that the
 * global list or its own list admit, and nothing else. {@link policyForTenant} turns the
 * host's policy into the flat policy one tenant's connections are judged by.
 */
import { BlockList, isIP } from 'node:net';
import { forbiddenRangeOf, toJudged, type Judged } from './address-classes.js';

/** Where outgoing webhook requests may go. */
export type EgressPolicy = {
  /**
   * Exceptions to the block on private, loopback and reserved addresses, for every tenant:
   * CIDRs (`127.0.0.0/8`, `::1/128`), single addresses (`10.1.2.3`) or exact hostnames
   * (`receiver.internal`, no wildcards). A hostname entry trusts whatever that name resolves
   * to. The host's options default it to `[]`.
   */
  allow: readonly string[];
  /**
   * More exceptions, per tenant id, in the same forms as `allow`. Read only by
   * {@link policyForTenant} (and the functions that scope a policy with it, such as
   * `checkUrlAtSave`); the connect-time guards judge by `allow` alone, so a policy must be
   * scoped to its tenant before it reaches them. Default: none.
   */
  allowByTenant?: Readonly<Record<string, readonly string[]>>;
  /**
   * Refuse plain `http:` URLs at save time. No default here: the plugin's options set it
   * (and their defaults live with them).
   */
  httpsOnly: boolean;
};

/** An allow-list, parsed once. */
export type AllowList = { v4: BlockList; v6: BlockList; hostnames: ReadonlySet<string> };

/**
 * An allow-list entry that is neither a CIDR, an IP address nor a hostname. `path` names it
 * the way the plugin's options do, e.g. `egress.allowByTenant.acme[1]`.
 */
export class InvalidAllowListEntryError extends TypeError {
  readonly path: string;

  constructor(path: string, entry: unknown, why: string) {
    super(`${path} "${String(entry)}" ${why}; expected a CIDR, an IP address or a hostname`);
    this.name = 'InvalidAllowListEntryError';
    this.path = path;
  }
}

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
 * arrays are not changed after construction; a new array compiles afresh.
 */
const compiled = new WeakMap<readonly string[], AllowList>();

/** The compiled form of an allow-list array (built once per array). */
export function compileAllowList(allow: readonly string[]): AllowList {
  let list = compiled.get(allow);
  if (!list) {
    list = buildAllowList(allow, 'egress.allow');
    compiled.set(allow, list);
  }
  return list;
}

function buildAllowList(allow: readonly string[], path: string): AllowList {
  const v4 = new BlockList();
  const v6 = new BlockList();
  const hostnames = new Set<string>();
  allow.forEach((raw, index) => {
    const invalid = (why: string) => new InvalidAllowListEntryError(`${path}[${index}]`, raw, why);
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
 * The scoped policies of each host policy, per tenant: built once, so that a tenant's
 * connections always meet the same `allow` array (compiled once) and the same agents.
 */
const scoped = new WeakMap<EgressPolicy, { shared: EgressPolicy; byTenant: Map<string, EgressPolicy> }>();

/**
 * The flat policy a tenant's connections are judged by: `allow` is the global list followed
 * by the tenant's own, and `allowByTenant` is gone. Every tenant without a list of its own
 * (and `tenantId` undefined) gets one shared object whose `allow` is the global array itself.
 * The result is the same object on every call for one policy and tenant.
 */
export function policyForTenant(policy: EgressPolicy, tenantId: string | undefined): EgressPolicy {
  let entry = scoped.get(policy);
  if (!entry) {
    entry = { shared: { allow: policy.allow, httpsOnly: policy.httpsOnly }, byTenant: new Map() };
    scoped.set(policy, entry);
  }
  const own = ownListOf(policy, tenantId);
  if (own === undefined || tenantId === undefined) return entry.shared;
  let forTenant = entry.byTenant.get(tenantId);
  if (!forTenant) {
    forTenant = { allow: Object.freeze([...policy.allow, ...own]), httpsOnly: policy.httpsOnly };
    entry.byTenant.set(tenantId, forTenant);
  }
  return forTenant;
}

/** Whether `tenantId` has an allow-list of its own (an empty one does not count). */
export function hasOwnAllowList(policy: EgressPolicy, tenantId: string | undefined): boolean {
  return ownListOf(policy, tenantId) !== undefined;
}

function ownListOf(policy: EgressPolicy, tenantId: string | undefined): readonly string[] | undefined {
  const byTenant = policy.allowByTenant;
  // Own properties only: a tenant named "constructor" or "__proto__" must not find an
  // inherited value.
  if (tenantId === undefined || byTenant === undefined || !Object.hasOwn(byTenant, tenantId)) return undefined;
  const own = byTenant[tenantId];
  return own.length > 0 ? own : undefined;
}

/**
 * Checks every allow-list of a policy, for the plugin's option validation.
 *
 * @throws {InvalidAllowListEntryError} naming the first entry that is neither a CIDR, an IP
 *   address nor a hostname, e.g. `egress.allow[2]` or `egress.allowByTenant.acme[0]`.
 */
export function assertValidEgressPolicy(policy: EgressPolicy): void {
  compileAllowList(policy.allow);
  for (const [tenantId, list] of Object.entries(policy.allowByTenant ?? {})) {
    buildAllowList(list, `egress.allowByTenant.${tenantId}`);
  }
}

/**
 * Whether an allow-list admits this connection: `ip` is inside an allowed CIDR, or `hostname`
 * is an allowed hostname. IPv4-mapped addresses match IPv4 entries. Reads `policy.allow`
 * only: pass `policyForTenant(policy, tenantId)` to include a tenant's own list.
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
