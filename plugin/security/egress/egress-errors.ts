/** The errors the egress guard raises: a URL refused at save time, a connection refused. */
import { WebhooksError } from '../../errors.js';

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
