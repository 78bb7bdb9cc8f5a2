/**
 * Which IP addresses an outgoing webhook request must never reach on its own: everything
 * outside the public unicast space (private, loopback, link-local incl. the cloud metadata
 * endpoint, reserved, multicast, documentation ...), judged from the IANA special-purpose
 * registries. IPv4-mapped and NAT64 IPv6 addresses are judged by the IPv4 address they carry.
 * The operator's exceptions live in `egress-allow-list.ts`.
 */
import { BlockList, isIP } from 'node:net';

export type Family = 'ipv4' | 'ipv6';
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
export type Judged = { address: string; family: Family; embeddedIn?: 'mapped' | 'nat64' };

export function toJudged(ip: string): Judged | undefined {
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

/** The forbidden range a judged address falls in, named for messages; `undefined` if public. */
export function forbiddenRangeOf(judged: Judged): string | undefined {
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
