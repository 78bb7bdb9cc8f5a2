import { isIP } from 'node:net';
import got from 'got';
import type { Logger } from '../options.js';
import { isForbiddenAddress } from '../security/egress/address-classes.js';
import type { EgressPolicy } from '../security/egress/egress-allow-list.js';
import { EgressBlockedError } from '../security/egress/egress-errors.js';
import type { TenantAgents } from '../security/egress/tenant-agents.js';
import { assertLiteralHostAllowed } from '../security/egress/webhook-url-rules.js';
import type { AttemptOutcome } from '../store/store-port.js';
import { parseRetryAfter } from './retry-policy.js';

/** What one HTTP attempt produced, classed for the delivery log and the retry decision. */
export interface SendResult {
  outcome: AttemptOutcome;
  statusCode: number | null;
  durationMs: number;
  responseExcerpt: string | null;
  errorMessage: string | null;
  /** The receiver's Retry-After (429/503 only), in ms. */
  retryAfterMs?: number;
  /**
   * Why `responseExcerpt` is null although the receiver answered, in words a tenant admin
   * may read (the test-send answer carries it); unset otherwise.
   */
  responseNote?: string;
}

/** Said instead of a response body that came from a private address; neutral on purpose. */
export const PRIVATE_RESPONSE_NOTE = 'The response body is not shown because the receiver is at a private network address.';

export interface HttpSenderOptions {
  /** The guarded agents, per tenant (each tenant's connections judged with its allow-lists). */
  agents: TenantAgents;
  /** The host's egress policy, for the literal-address check before a socket is opened. */
  egress: EgressPolicy;
  /**
   * Keep the body excerpt of a response that came from a forbidden (so: allow-listed) address.
   * When false, such an attempt keeps its status code and timing only. The plugin passes
   * `egress.privateResponseBodies` (default false).
   */
  privateResponseBodies: boolean;
  /**
   * Told the real reason when a webhook's host name resolves to a forbidden address, which
   * the attempt log reports like a name that does not resolve. Default: not logged.
   */
  logger?: Pick<Logger, 'warn'>;
  timeoutMs: number;
  /** Limit on opening the connection (TCP, then TLS), below timeoutMs so a dead host fails fast. */
  connectTimeoutMs: number;
  excerptBytes: number;
  clock: () => Date;
}

/**
 * Sends one POST with `got` and never throws: every way a request can end becomes a
 * {@link SendResult}. got's own retries are off (the retry policy owns them), redirects are
 * not followed (a 3xx is a failure, and following one could lead past the egress guard's
 * intent), and the response body is read only up to the excerpt cap.
 *
 * What a tenant admin reads in the attempt log and the test-send answer must not map the
 * internal network: a body from a private address is not kept (unless the operator opts in),
 * and a host name that resolves only to forbidden addresses fails like one that does not
 * resolve (outcome `dns`, the same message), the real reason going to the operator's log.
 */
export class HttpSender {
  constructor(private readonly options: HttpSenderOptions) {}

  /**
   * `signal` aborts the request (the worker is shutting down); the result is then a `network`
   * failure. `tenantId` (the webhook's) chooses the allow-lists the request is judged by;
   * without it, only the global list applies.
   */
  async send(url: string, headers: Record<string, string>, body: string, signal?: AbortSignal, tenantId?: string): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const { excerptBytes } = this.options;
    const failed = (error: Error & { code?: string; cause?: unknown }): Omit<SendResult, 'durationMs'> => {
      this.logRefusedName(error, tenantId);
      return { outcome: classifyError(error), statusCode: null, responseExcerpt: null, errorMessage: describeError(error, url) };
    };
    try {
      // Refused before a socket is opened: the agents' socket check would only see the
      // address once the TCP connection to it exists. That check stays the backstop.
      assertLiteralHostAllowed(url, this.options.egress, tenantId);
    } catch (error) {
      return { ...failed(error as Error), durationMs: elapsed() };
    }
    return new Promise<SendResult>((resolve) => {
      let statusCode: number | null = null;
      let retryAfter: string | undefined;
      let withhold = false;
      const chunks: Buffer[] = [];
      let kept = 0;
      let settled = false;
      let stream: ReturnType<typeof got.stream.post> | undefined;
      const finish = (result: Omit<SendResult, 'durationMs'>, hideDuration = false) => {
        if (settled) return;
        settled = true;
        // got's request streams never destroy themselves (autoDestroy: false), and only their
        // destroy() takes their 'abort' listener off `signal`: without this, every request ever
        // sent stayed listening on the worker's shutdown signal, with its request and response
        // (measured: 12,800 listeners after 12,800 requests; adding one walks them all, so each
        // request cost more than the last, and the garbage collector could free none of them).
        // The answer is complete here, so its keep-alive socket is already back in the agent.
        queueMicrotask(() => stream?.destroy());
        resolve({
          ...result,
          responseExcerpt: storableText(result.responseExcerpt),
          errorMessage: storableText(result.errorMessage),
          durationMs: hideDuration ? 0 : elapsed(),
        });
      };
      const finishWithResponse = () => {
        const code = statusCode ?? 0;
        const success = code >= 200 && code < 300;
        const excerpt = excerptBytes > 0 && !withhold ? Buffer.concat(chunks).subarray(0, excerptBytes).toString('utf8') : null;
        const result: Omit<SendResult, 'durationMs'> = {
          outcome: success ? 'success' : 'http_error',
          statusCode: code,
          responseExcerpt: excerpt,
          errorMessage: success ? null : `Receiver answered HTTP ${code}`,
        };
        if (withhold) result.responseNote = PRIVATE_RESPONSE_NOTE;
        if (code === 429 || code === 503) {
          const ms = parseRetryAfter(retryAfter, this.options.clock());
          if (ms !== undefined) result.retryAfterMs = ms;
        }
        finish(result);
      };

      stream = got.stream.post(url, {
        body,
        headers,
        agent: this.options.agents.forTenant(tenantId),
        followRedirect: false,
        throwHttpErrors: false,
        retry: { limit: 0 },
        timeout: {
          request: this.options.timeoutMs,
          connect: this.options.connectTimeoutMs,
          secureConnect: this.options.connectTimeoutMs,
        },
        decompress: true,
        signal,
      });
      stream.on('response', (response) => {
        statusCode = response.statusCode;
        // The address the answer came from (got: the socket's remoteAddress). A forbidden one
        // was reached through an allow-list: an internal service whose answers a tenant admin
        // must not read through the delivery log. Unknown counts as forbidden.
        withhold = !this.options.privateResponseBodies && isForbiddenAddress(response.ip ?? '');
        const header = response.headers['retry-after'];
        retryAfter = Array.isArray(header) ? header[0] : header;
      });
      stream.on('data', (chunk: Buffer) => {
        if (kept < excerptBytes) {
          chunks.push(chunk);
          kept += chunk.length;
        }
        // Enough of the body for the log: stop reading rather than let a receiver stream forever.
        if (kept >= excerptBytes) {
          finishWithResponse();
          stream.destroy();
        }
      });
      stream.on('end', finishWithResponse);
      stream.on('error', (error: Error & { code?: string }) => {
        if (statusCode !== null) return finishWithResponse();
        finish(failed(error), isUnresolvedName(error));
      });
      stream.resume();
    });
  }

  private logRefusedName(error: Error & { cause?: unknown }, tenantId: string | undefined): void {
    const refusal = egressRefusalOf(error);
    if (!refusal || !isNameRefusal(refusal)) return;
    this.options.logger?.warn('A webhook host name resolves to a forbidden address; the attempt log says it does not resolve', {
      tenantId, hostname: refusal.hostname, address: refusal.address, range: refusal.range,
    });
  }
}

/**
 * Receiver text as a store can keep it: PostgreSQL refuses U+0000 in text and jsonb, and one
 * such character from a hostile receiver failed the whole batch of results it was written in
 * (every tenant's deliveries in it were then sent again). It becomes U+FFFD.
 */
function storableText(text: string | null): string | null {
  return text === null ? null : text.replace(/\u0000/g, '\uFFFD');
}

/**
 * One message, and no duration (0), for a name that does not resolve and a name that resolves
 * only to forbidden addresses: the time either took differs (a refused answer is cached, a
 * missing name is asked again each time), and the attempt log must not tell them apart.
 */
const notResolvedMessage = (url: string) => `Could not resolve ${hostOf(url)} to an allowed address`;

const TLS_CODES = /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|EPROTO|ERR_OSSL|HOSTNAME_MISMATCH)/;

/** The egress guard's refusal behind an error (itself, or got's wrapper of it). */
function egressRefusalOf(error: Error & { cause?: unknown }): EgressBlockedError | undefined {
  if (error instanceof EgressBlockedError) return error;
  return error.cause instanceof EgressBlockedError ? error.cause : undefined;
}

/** A refusal of what a host name resolved to, rather than of a literal address in the URL. */
function isNameRefusal(refusal: EgressBlockedError): boolean {
  return refusal.hostname !== '' && isIP(refusal.hostname.replace(/^\[|\]$/g, '')) === 0;
}

/** DNS codes meaning "no such name, or no address": answered like a refused name. */
const NOT_RESOLVED = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * Maps a transport error to the outcome class operators see in the log. A host name refused
 * for what it resolves to is a `dns` failure, like a name that does not resolve; `blocked` is
 * left for literal addresses, which need no DNS.
 */
export function classifyError(error: Error & { code?: string; cause?: unknown }): AttemptOutcome {
  const codes = [error.code, (error.cause as { code?: string } | undefined)?.code].filter(Boolean) as string[];
  const refusal = egressRefusalOf(error);
  if (refusal) return isNameRefusal(refusal) ? 'dns' : 'blocked';
  if (codes.includes('egress_blocked')) return 'blocked';
  if (codes.includes('ETIMEDOUT') || error.name === 'TimeoutError') return 'timeout';
  // ETIMEOUT (one letter short of the socket's ETIMEDOUT) is the host resolver's deadline.
  if (codes.some((c) => c === 'ENOTFOUND' || c === 'EAI_AGAIN' || c === 'ENODATA' || c === 'EAI_FAIL' || c === 'ETIMEOUT')) return 'dns';
  if (codes.includes('ECONNREFUSED')) return 'connection_refused';
  if (codes.some((c) => TLS_CODES.test(c))) return 'tls';
  return 'network';
}

/**
 * The attempt log's message for a failed request, which tenant admins read. A name that
 * resolves only to forbidden addresses and a name that does not resolve get the same words,
 * so pointing webhooks at internal names cannot tell which of them exist.
 */
/** A name that does not resolve, or resolves only to forbidden addresses: the two cases told apart by nothing. */
function isUnresolvedName(error: Error & { code?: string; cause?: unknown }): boolean {
  if (classifyError(error) !== 'dns') return false;
  const codes = [error.code, (error.cause as { code?: string } | undefined)?.code];
  return !!egressRefusalOf(error) || codes.some((c) => c !== undefined && NOT_RESOLVED.has(c));
}

function describeError(error: Error & { code?: string; cause?: unknown; range?: string }, url: string): string {
  const cause = error.cause as (Error & { code?: string; range?: string }) | undefined;
  const outcome = classifyError(error);
  if (outcome === 'dns') {
    const host = hostOf(url);
    const codes = [error.code, cause?.code];
    if (isUnresolvedName(error)) return notResolvedMessage(url);
    if (codes.includes('ETIMEOUT')) return `Could not resolve ${host}: the DNS server did not answer in time`;
    return `Could not resolve ${host}: the DNS server failed`;
  }
  const range = error.range ?? cause?.range;
  if (outcome === 'blocked' && range) {
    // A literal address the admin typed: its range class tells them nothing new.
    return `Refused by the egress policy: the address is in a forbidden range (${range.replace(/ \(.*\)$/, '')})`;
  }
  const message = cause?.message && cause.message !== error.message ? `${error.message}: ${cause.message}` : error.message;
  return message.slice(0, 500);
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return 'the host';
  }
}
