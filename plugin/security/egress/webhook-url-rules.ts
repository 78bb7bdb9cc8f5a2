/**
 * The rules a webhook URL itself must meet, judged without DNS: when an endpoint is saved
 * ({@link checkUrlAtSave}) and, for literal IP addresses, before every request
 * ({@link assertLiteralHostAllowed}). Names that need DNS pass here and are judged at connect
 * time (`connect-time-lookup.ts`), since what they resolve to can change after saving - and
 * because resolving them here would answer "resolves to a forbidden address" differently from
 * "does not resolve", which lets a tenant admin map the internal DNS.
 */
import { isIP } from 'node:net';
import { EgressBlockedError, InvalidWebhookUrlError } from './egress-errors.js';
import { blockedRange, compileAllowList, normalizeHostname, policyForTenant, type EgressPolicy } from './egress-allow-list.js';

export type { EgressPolicy } from './egress-allow-list.js';

function parseUrl(url: string | URL): URL {
  try {
    return new URL(url);
  } catch {
    throw new InvalidWebhookUrlError('unparseable', 'The webhook URL could not be parsed as an absolute URL');
  }
}

/**
 * Refuses webhook URLs that can never be delivered safely, when an endpoint is saved.
 * Forbidden addresses are judged with the allow-lists that apply to `tenantId`: the global
 * `allow` plus the tenant's own `allowByTenant` entry.
 *
 * @param tenantId The tenant the webhook belongs to. Without it only the global list applies.
 * @throws {InvalidWebhookUrlError} with `reason`:
 *   `unparseable`; `unsupported_scheme` (not http/https); `https_required` (http while
 *   `httpsOnly`); `credentials_in_url` (`user:pass@`, which would be logged with the URL -
 *   use custom headers instead); `forbidden_address` (a literal IP that is forbidden and not
 *   allow-listed for the tenant; the URL parser has already normalised forms like
 *   `http://2130706433/`); `localhost` (`localhost` or `*.localhost`, which always resolve to
 *   loopback, unless the hostname or a loopback address is allow-listed for the tenant).
 */
export function checkUrlAtSave(url: string, policy: EgressPolicy, tenantId?: string): void {
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
  const allow = compileAllowList(policyForTenant(policy, tenantId).allow);
  if (isIP(host) !== 0) {
    // The admin typed this address: naming its range tells them nothing they did not know.
    const range = blockedRange(allow, host, host);
    if (range !== undefined) {
      throw new InvalidWebhookUrlError(
        'forbidden_address',
        `The webhook URL points to ${host}, which is in a forbidden range, ${range}; allow-list it to permit deliveries there`,
      );
    }
    return;
  }
  // RFC 6761: localhost and its subdomains resolve to loopback, without asking DNS. Saying so
  // now beats a delivery that fails on every attempt.
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
 * Refuses a URL whose host is a forbidden literal IP address, before a socket is opened. Node
 * does not call the agent's `lookup` for literal IPs, so the sender calls this before each
 * request; the guarded agents' socket check is the second line of defence, which would still
 * open (and at once destroy) a TCP connection to the address.
 *
 * @param tenantId Whose allow-lists apply (global plus the tenant's own); without it, the global one.
 * @throws {EgressBlockedError} for a forbidden, non-allow-listed literal address.
 * @throws {InvalidWebhookUrlError} (`unparseable`) when `url` is not a URL.
 */
export function assertLiteralHostAllowed(url: string | URL, policy: EgressPolicy, tenantId?: string): void {
  const host = normalizeHostname(parseUrl(url).hostname);
  if (isIP(host) === 0) return;
  const range = blockedRange(compileAllowList(policyForTenant(policy, tenantId).allow), host, host);
  if (range !== undefined) throw new EgressBlockedError(host, host, range);
}
