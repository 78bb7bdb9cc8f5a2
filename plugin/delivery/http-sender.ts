import got, { type Agents } from 'got';
import type { AttemptOutcome } from '../store/store-port.js';
import { parseRetryAfter } from './retry-policy.js';
import { assertLiteralHostAllowed, type EgressPolicy } from './egress-guard.js';

/** What one HTTP attempt produced, classed for the delivery log and the retry decision. */
export interface SendResult {
  outcome: AttemptOutcome;
  statusCode: number | null;
  durationMs: number;
  responseExcerpt: string | null;
  errorMessage: string | null;
  /** The receiver's Retry-After (429/503 only), in ms. */
  retryAfterMs?: number;
}

export interface HttpSenderOptions {
  agents: Agents;
  egress: EgressPolicy;
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
 */
export class HttpSender {
  constructor(private readonly options: HttpSenderOptions) {}

  /** `signal` aborts the request (the worker is shutting down); the result is then a `network` failure. */
  async send(url: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const { excerptBytes } = this.options;
    try {
      // Refused before a socket is opened; the agents' connect-time check stays the backstop.
      assertLiteralHostAllowed(url, this.options.egress);
    } catch (error) {
      const e = error as Error & { code?: string };
      return { outcome: classifyError(e), statusCode: null, responseExcerpt: null, errorMessage: describeError(e), durationMs: elapsed() };
    }
    return new Promise<SendResult>((resolve) => {
      let statusCode: number | null = null;
      let retryAfter: string | undefined;
      const chunks: Buffer[] = [];
      let kept = 0;
      let settled = false;
      const finish = (result: Omit<SendResult, 'durationMs'>) => {
        if (settled) return;
        settled = true;
        resolve({ ...result, durationMs: elapsed() });
      };
      const finishWithResponse = () => {
        const code = statusCode ?? 0;
        const success = code >= 200 && code < 300;
        const excerpt = excerptBytes > 0 ? Buffer.concat(chunks).subarray(0, excerptBytes).toString('utf8') : null;
        const result: Omit<SendResult, 'durationMs'> = {
          outcome: success ? 'success' : 'http_error',
          statusCode: code,
          responseExcerpt: excerpt,
          errorMessage: success ? null : `Receiver answered HTTP ${code}`,
        };
        if (code === 429 || code === 503) {
          const ms = parseRetryAfter(retryAfter, this.options.clock());
          if (ms !== undefined) result.retryAfterMs = ms;
        }
        finish(result);
      };

      const stream = got.stream.post(url, {
        body,
        headers,
        agent: this.options.agents,
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
        finish({ outcome: classifyError(error), statusCode: null, responseExcerpt: null, errorMessage: describeError(error) });
      });
      stream.resume();
    });
  }
}

const TLS_CODES = /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|EPROTO|ERR_OSSL|HOSTNAME_MISMATCH)/;

/** Maps a transport error to the outcome class operators see in the log. */
export function classifyError(error: Error & { code?: string; cause?: unknown }): AttemptOutcome {
  const codes = [error.code, (error.cause as { code?: string } | undefined)?.code].filter(Boolean) as string[];
  if (codes.includes('egress_blocked')) return 'blocked';
  if (codes.includes('ETIMEDOUT') || error.name === 'TimeoutError') return 'timeout';
  // ETIMEOUT (one letter short of the socket's ETIMEDOUT) is the host resolver's deadline.
  if (codes.some((c) => c === 'ENOTFOUND' || c === 'EAI_AGAIN' || c === 'ENODATA' || c === 'EAI_FAIL' || c === 'ETIMEOUT')) return 'dns';
  if (codes.includes('ECONNREFUSED')) return 'connection_refused';
  if (codes.some((c) => TLS_CODES.test(c))) return 'tls';
  return 'network';
}

function describeError(error: Error & { code?: string; cause?: unknown; range?: string }): string {
  const cause = error.cause as (Error & { code?: string; range?: string }) | undefined;
  const range = error.range ?? cause?.range;
  if (classifyError(error) === 'blocked' && range) {
    // Not the resolved address: the log and the test-send answer must not let a tenant admin
    // map the internal network by pointing webhooks at internal names.
    return `Refused by the egress policy: the address is in a forbidden range (${range.replace(/ \(.*\)$/, '')})`;
  }
  const message = cause?.message && cause.message !== error.message ? `${error.message}: ${cause.message}` : error.message;
  return message.slice(0, 500);
}
