/**
 * Host name resolution for outgoing webhook requests, kept off libuv's thread pool.
 *
 * Node's sockets resolve names with `dns.lookup`, which calls getaddrinfo on libuv's thread
 * pool: four threads by default, shared with the host's file system, crypto and zlib work. A
 * getaddrinfo call holds its thread for as long as the system resolver waits for an answer
 * (seconds, times its retries), so a few webhook hosts whose DNS is slow or dead - one
 * tenant's typo, or a receiver's broken name server - stall every other tenant's deliveries
 * and test sends, and the host application's logins too. This module asks c-ares instead
 * (`dns.promises.Resolver`), which runs on the event loop and holds no thread, and bounds
 * every resolution by its own deadline.
 *
 * c-ares reads the name servers from resolv.conf, but neither /etc/hosts nor the search
 * domains. A name it reports as not found (NXDOMAIN, or no A/AAAA records) may still be a
 * hosts-file entry or a Kubernetes short service name (`receiver` for
 * `receiver.ns.svc.cluster.local`), so such names fall back to `dns.lookup` - through a
 * limiter: at most two getaddrinfo calls from one resolver run at once, the rest wait in a
 * queue, and every one counts against the same deadline. A getaddrinfo call cannot be
 * cancelled, so its slot is freed only when the call really returns, while its caller is
 * answered at the deadline regardless. Whatever names tenants configure, the plugin holds at
 * most two of the pool's threads. (Names that time out or fail at the DNS server do not fall
 * back: getaddrinfo would only ask the same server again, on a thread.)
 *
 * Answers are cached for their record TTL (capped at 30 s, for at most 1,000 names), and
 * concurrent lookups of one name share one query, so a burst of deliveries to one receiver
 * asks once. Failures are not cached: a receiver whose DNS is fixed is reached on the next
 * retry. Fallback answers carry no TTL and are not cached either.
 */
import dns from 'node:dns';
import { isIP } from 'node:net';

/** One address a host name resolved to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves host names for outgoing webhook requests; see {@link createHostResolver}. */
export interface HostResolver {
  /**
   * Every IPv4 address (first) and IPv6 address of `hostname`.
   *
   * @throws {HostResolutionError} when the name has no address, the DNS server fails, or no
   *   answer came within the resolver's `timeoutMs`.
   */
  resolve(hostname: string): Promise<ResolvedAddress[]>;
}

/** A `dns.lookup`-like function for the fallback: every address of a name. */
export type FallbackLookup = (hostname: string) => Promise<ResolvedAddress[]>;

export interface HostResolverOptions {
  /**
   * Deadline for one resolution, in milliseconds, the fallback to the system resolver
   * included. The plugin passes `delivery.dnsTimeoutMs` (default 5000).
   */
  timeoutMs: number;
  /**
   * DNS servers to ask, e.g. `['10.0.0.2', '127.0.0.1:5353', '[::1]:53']`. Default `[]`:
   * the system's, from resolv.conf.
   */
  servers?: readonly string[];
  /** Longest an answer is cached, whatever its TTL, in milliseconds. Default 30000. */
  maxCacheTtlMs?: number;
  /** Most names cached at once; the least recently used goes first. Default 1000. */
  maxCacheEntries?: number;
  /** Most system-resolver (getaddrinfo) calls in flight at once. Default 2. */
  fallbackConcurrency?: number;
  /** Replaces `dns.lookup` as the fallback (tests count calls with it). */
  fallbackLookup?: FallbackLookup;
  /** Clock for cache expiry, in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** The codes a failed resolution carries; the HTTP sender classes each as a `dns` failure. */
export type HostResolutionErrorCode = 'ENOTFOUND' | 'EAI_AGAIN' | 'EAI_FAIL' | 'ETIMEOUT';

/**
 * A host name could not be resolved. `code` says why: `ENOTFOUND` (no such name, or no
 * address), `ETIMEOUT` (no answer within the deadline), `EAI_AGAIN` (the DNS server failed or
 * refused; worth retrying), `EAI_FAIL` (the system resolver's non-recoverable failure).
 * `cause` holds the underlying c-ares or getaddrinfo error, if there was one.
 */
export class HostResolutionError extends Error {
  readonly code: HostResolutionErrorCode;
  readonly hostname: string;

  constructor(code: HostResolutionErrorCode, hostname: string, detail: string, cause?: unknown) {
    super(`DNS lookup of ${hostname} failed (${code}): ${detail}`, cause === undefined ? undefined : { cause });
    this.name = 'HostResolutionError';
    this.code = code;
    this.hostname = hostname;
  }
}

const DEFAULT_MAX_CACHE_TTL_MS = 30_000;
const DEFAULT_MAX_CACHE_ENTRIES = 1_000;
const DEFAULT_FALLBACK_CONCURRENCY = 2;
/**
 * Once one family has answered with addresses, how long the other may still take. Some name
 * servers never answer AAAA queries; waiting the whole deadline for them would delay every
 * delivery to such a host.
 */
const OTHER_FAMILY_GRACE_MS = 500;

// RFC 6761: localhost and its subdomains are loopback, and must not be sent to a DNS server.
const LOOPBACK: readonly ResolvedAddress[] = [
  { address: '127.0.0.1', family: 4 },
  { address: '::1', family: 6 },
];

/** c-ares codes meaning "the name, or an address of this family, does not exist". */
const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA']);

type Answer = { addresses: ResolvedAddress[]; ttlSeconds: number | undefined };
type CacheEntry = { addresses: readonly ResolvedAddress[]; expiresAt: number };

/**
 * Creates a resolver with its own c-ares channel, cache and fallback limiter; nothing is
 * shared with other resolvers (or other plugin instances).
 *
 * @throws {RangeError} when `timeoutMs` is not a positive number of milliseconds, or
 *   `fallbackConcurrency` not a positive integer.
 * @throws when a `servers` entry is not an IP address (with optional port).
 */
export function createHostResolver(options: HostResolverOptions): HostResolver {
  const { timeoutMs } = options;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`host resolver timeoutMs must be a positive number of milliseconds, not ${timeoutMs}`);
  }
  const fallbackConcurrency = options.fallbackConcurrency ?? DEFAULT_FALLBACK_CONCURRENCY;
  if (!Number.isInteger(fallbackConcurrency) || fallbackConcurrency < 1) {
    throw new RangeError(`host resolver fallbackConcurrency must be a positive integer, not ${fallbackConcurrency}`);
  }
  const maxCacheTtlMs = options.maxCacheTtlMs ?? DEFAULT_MAX_CACHE_TTL_MS;
  const maxCacheEntries = options.maxCacheEntries ?? DEFAULT_MAX_CACHE_ENTRIES;
  const fallbackLookup = options.fallbackLookup ?? systemLookup;
  const limiter = createLimiter(fallbackConcurrency);
  const now = options.now ?? Date.now;
  // Two tries, each with half the budget: one retransmission for a lost UDP packet. c-ares
  // drops an answer that arrives after its try timed out, so tries must not be short; it
  // may also shorten them for a server it has seen answer fast. The deadline below is what
  // bounds a resolution either way.
  const resolver = new dns.promises.Resolver({ timeout: Math.max(1, Math.ceil(timeoutMs / 2)), tries: 2 });
  if (options.servers !== undefined && options.servers.length > 0) resolver.setServers([...options.servers]);

  const cache = new Map<string, CacheEntry>();
  const inFlight = new Map<string, Promise<readonly ResolvedAddress[]>>();

  function cached(name: string): readonly ResolvedAddress[] | undefined {
    const entry = cache.get(name);
    if (entry === undefined) return undefined;
    cache.delete(name);
    if (entry.expiresAt <= now()) return undefined;
    cache.set(name, entry); // most recently used goes last; eviction takes the first
    return entry.addresses;
  }

  function remember(name: string, answer: Answer): void {
    if (answer.ttlSeconds === undefined) return;
    const ttlMs = Math.min(answer.ttlSeconds * 1000, maxCacheTtlMs);
    if (ttlMs <= 0 || maxCacheEntries <= 0) return;
    cache.delete(name);
    cache.set(name, { addresses: answer.addresses, expiresAt: now() + ttlMs });
    for (const oldest of cache.keys()) {
      if (cache.size <= maxCacheEntries) break;
      cache.delete(oldest);
    }
  }

  async function resolveFresh(name: string): Promise<readonly ResolvedAddress[]> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    try {
      const answer = await queryDns(name, deadline.signal);
      remember(name, answer);
      return answer.addresses;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A and AAAA in parallel; the fallback when both say the name does not exist. */
  async function queryDns(name: string, deadline: AbortSignal): Promise<Answer> {
    const settled: Array<PromiseSettledResult<dns.RecordWithTtl[]> | undefined> = [undefined, undefined];
    const queries = [resolver.resolve4(name, { ttl: true }), resolver.resolve6(name, { ttl: true })].map((query, i) =>
      query.then(
        (value) => {
          settled[i] = { status: 'fulfilled', value };
        },
        (reason: unknown) => {
          settled[i] = { status: 'rejected', reason };
        },
      ),
    );
    const both = Promise.all(queries);
    const expired = whenAborted(deadline);
    await Promise.race([Promise.race(queries), expired]);
    if (hasAddresses(settled)) {
      const grace = sleep(OTHER_FAMILY_GRACE_MS);
      await Promise.race([both, expired, grace.done]);
      grace.cancel();
    } else {
      await Promise.race([both, expired]);
    }

    const addresses: ResolvedAddress[] = [];
    let ttlSeconds = Infinity;
    settled.forEach((result, i) => {
      if (result?.status !== 'fulfilled') return;
      for (const record of result.value) {
        addresses.push({ address: record.address, family: i === 0 ? 4 : 6 });
        ttlSeconds = Math.min(ttlSeconds, record.ttl);
      }
    });
    if (addresses.length > 0) return { addresses, ttlSeconds };
    if (deadline.aborted) throw timedOut(name);
    for (const result of settled) {
      if (result?.status === 'rejected' && !NOT_FOUND.has(codeOf(result.reason) ?? '')) {
        throw fromResolverError(name, result.reason);
      }
    }
    return fallback(name, deadline);
  }

  async function fallback(name: string, deadline: AbortSignal): Promise<Answer> {
    let found: ResolvedAddress[];
    try {
      found = await limiter.run(() => fallbackLookup(name), deadline);
    } catch (error) {
      if (deadline.aborted) throw timedOut(name);
      throw fromResolverError(name, error);
    }
    if (found.length === 0) throw new HostResolutionError('ENOTFOUND', name, 'no such host');
    return { addresses: found.map(({ address, family }) => ({ address, family })), ttlSeconds: undefined };
  }

  function timedOut(name: string): HostResolutionError {
    return new HostResolutionError('ETIMEOUT', name, `no answer within ${timeoutMs} ms`);
  }

  return {
    async resolve(hostname: string): Promise<ResolvedAddress[]> {
      let name = hostname.trim().toLowerCase();
      if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
      const version = isIP(name);
      if (version !== 0) return [{ address: name, family: version === 4 ? 4 : 6 }];
      const bare = name.endsWith('.') ? name.slice(0, -1) : name;
      if (bare === 'localhost' || bare.endsWith('.localhost')) return LOOPBACK.map((a) => ({ ...a }));
      if (bare === '') throw new HostResolutionError('ENOTFOUND', hostname, 'no host name');

      let answer = cached(name);
      if (answer === undefined) {
        let pending = inFlight.get(name);
        if (pending === undefined) {
          pending = resolveFresh(name).finally(() => inFlight.delete(name));
          inFlight.set(name, pending);
        }
        answer = await pending;
      }
      return answer.map((a) => ({ ...a }));
    },
  };
}

/** The system resolver (getaddrinfo, on the thread pool): only ever called through the limiter. */
async function systemLookup(hostname: string): Promise<ResolvedAddress[]> {
  const found = await dns.promises.lookup(hostname, { all: true });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Maps a c-ares or getaddrinfo error onto the few codes the sender classes as DNS failures. */
function fromResolverError(hostname: string, error: unknown): HostResolutionError {
  const code = codeOf(error);
  switch (code) {
    case 'ENOTFOUND':
    case 'ENODATA':
    case 'EBADNAME':
      return new HostResolutionError('ENOTFOUND', hostname, 'no such host', error);
    case 'ETIMEOUT':
    case 'ETIMEDOUT':
      return new HostResolutionError('ETIMEOUT', hostname, 'the DNS server did not answer', error);
    case 'EAI_FAIL':
      return new HostResolutionError('EAI_FAIL', hostname, 'the system resolver failed', error);
    default:
      // ESERVFAIL, EREFUSED, ECONNREFUSED (nothing listens on the DNS server's port), EAI_AGAIN,
      // ...: the server, not the name, is at fault, and a later attempt may succeed.
      return new HostResolutionError('EAI_AGAIN', hostname, `the DNS server failed (${code ?? 'unknown error'})`, error);
  }
}

function hasAddresses(settled: Array<PromiseSettledResult<dns.RecordWithTtl[]> | undefined>): boolean {
  return settled.some((result) => result?.status === 'fulfilled' && result.value.length > 0);
}

function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function sleep(ms: number): { done: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { done, cancel: () => clearTimeout(timer) };
}

/**
 * Runs at most `max` tasks at once; the rest wait in order. A caller whose signal aborts is
 * rejected at once: a waiting task is then dropped unstarted, a running one keeps its slot
 * until it really ends (the slot stands for a thread-pool thread the task still holds).
 */
function createLimiter(max: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  const release = (): void => {
    active -= 1;
    waiting.shift()?.();
  };
  return {
    run<T>(task: () => Promise<T>, signal: AbortSignal): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        if (signal.aborted) {
          reject(signal.reason);
          return;
        }
        const start = (): void => {
          active += 1;
          let running: Promise<T>;
          try {
            running = Promise.resolve(task());
          } catch (error) {
            running = Promise.reject(error);
          }
          running
            .then(resolve, reject)
            .finally(() => {
              signal.removeEventListener('abort', onAbort);
              release();
            });
        };
        const onAbort = (): void => {
          const index = waiting.indexOf(start);
          if (index !== -1) waiting.splice(index, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        if (active < max) start();
        else waiting.push(start);
      });
    },
  };
}
