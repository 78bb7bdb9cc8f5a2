/**
 * Typed errors. Each has a stable `code` a host or API client can branch on, an HTTP `status`
 * for the admin API, and `expose` saying whether its message is safe to show to a caller.
 * Hosts can use `instanceof WebhooksError`.
 */
export interface ErrorDetail {
  path: string;
  message: string;
}

export class WebhooksError extends Error {
  readonly code: string;
  readonly status: number;
  readonly expose: boolean;
  readonly details: ErrorDetail[];

  constructor(
    code: string,
    message: string,
    options: { status?: number; expose?: boolean; details?: ErrorDetail[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status ?? 500;
    this.expose = options.expose ?? this.status < 500;
    this.details = options.details ?? [];
  }
}

/** A plugin option is missing or wrong; thrown by `createWebhooksPlugin`. */
export class InvalidOptionsError extends WebhooksError {
  constructor(message: string, details: ErrorDetail[]) {
    super('invalid_options', message, { status: 500, expose: true, details });
  }
}

/** Input from a caller (hook argument, API body or query) failed validation. */
export class ValidationError extends WebhooksError {
  constructor(message: string, details: ErrorDetail[] = []) {
    super('validation_failed', message, { status: 400, details });
  }
}

/** The event type is neither built in nor registered by the host. */
export class UnknownEventTypeError extends WebhooksError {
  constructor(type: string) {
    super('unknown_event_type', `Unknown event type "${type}": register it in options.customEventTypes`, {
      status: 400,
      details: [{ path: 'type', message: 'not in the event catalogue' }],
    });
  }
}

/** The event could not be persisted; the host may retry (with the same idempotency key). */
export class EventNotRecordedError extends WebhooksError {
  /** `inTransaction`: the write was made in the host's transaction (context.transaction). */
  constructor(type: string, cause: unknown, options: { inTransaction?: boolean } = {}) {
    const timedOut = (cause as { code?: string } | null)?.code === 'store_timeout';
    super('event_not_recorded', !timedOut
      ? `The ${type} event could not be stored; nothing was sent`
      : options.inTransaction
        ? `The ${type} event was not stored in time; its write still runs in your transaction: roll the transaction back `
          + '(committing it may still store and send the event)'
        : `The ${type} event was not stored in time (the database is unreachable or slow); it may still be stored - retry with the same idempotency key`, {
      status: 503,
      expose: true,
      cause,
    });
  }
}

export class NotFoundError extends WebhooksError {
  constructor(what: string) {
    super('not_found', `${what} not found`, { status: 404 });
  }
}

/** The resource changed between read and write; the caller should reload and retry. */
export class ConflictError extends WebhooksError {
  constructor(what: string) {
    super('conflict', `${what} was changed by someone else meanwhile; reload it and try again`, { status: 409 });
  }
}

/**
 * A retry asked for a delivery whose attempt is in flight (leased by a worker that is sending
 * it now): requeueing it would send it twice. Not a failure; the attempt's result appears in
 * the delivery log shortly.
 */
export class DeliveryInFlightError extends WebhooksError {
  constructor() {
    super('delivery_in_flight', 'This delivery is being sent right now; its result appears in the log shortly', { status: 409 });
  }
}

/** The plugin was used after `stop()`. */
export class PluginStoppedError extends WebhooksError {
  constructor() {
    super('plugin_stopped', 'The webhooks plugin has been stopped', { status: 503 });
  }
}

/**
 * `context.transaction` cannot carry the event: it is not an open transaction of the plugin's
 * own database (another database or server, another MongoClient, a client outside BEGIN, a
 * session with no transaction). A programming error in the host: nothing was written, and
 * the host's transaction is left as it was, so the host can roll it back.
 */
export class ForeignTransactionError extends WebhooksError {
  constructor(reason: string) {
    super('foreign_transaction', `context.transaction cannot be used: ${reason}`, { status: 500, expose: true });
  }
}
