import { isIP } from 'node:net';
import Joi from 'joi';
import { InvalidOptionsError } from './errors.js';
import type { EncryptionKey } from './security/secret-box.js';
import type { CustomEventTypeInput } from './events/catalogue.js';
import type { WebhookStore } from './store/store-port.js';
import type { OperationalEvent } from './webhooks/operational-event-publisher.js';
import { DEFAULT_RETRY_POLICY } from './delivery/retry-policy.js';
import { assertValidEgressPolicy, InvalidAllowListEntryError } from './security/egress/egress-allow-list.js';
import { TENANT_ID_SCHEMA } from './events/event-context.js';
import { joiDetails } from './validation-details.js';
import type { Registry } from 'prom-client';
import { adaptLogger, LOGGER_STYLES, type LoggerStyle } from './plugin-logger.js';

/** Where the plugin keeps its data. Exactly one of these. */
export type StorageOptions =
  /** PostgreSQL: a `pg.Pool` the host owns, or a connection string. */
  | { postgres: { pool?: unknown; connectionString?: string; tablePrefix?: string } }
  /** MongoDB: the host's mongoose connection (never closed by the plugin). */
  | { mongo: { connection: unknown; collectionPrefix?: string } }
  /** Any other implementation of the store port (it must pass `test/contract`). */
  | { store: WebhookStore };

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface DeliveryOptions {
  /** Whole-request timeout for one attempt, in ms. Default 15000. */
  timeoutMs: number;
  /** Delay before each attempt, in ms; its length is the number of attempts. Default Svix's: 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
  retryScheduleMs: number[];
  /** Random spread applied to each delay, as a fraction (0.2 = ±20 %). Default 0.2. */
  jitter: number;
  /** Longest wait a receiver's Retry-After can ask for, in ms. Default 1 h. */
  maxRetryAfterMs: number;
  /** A webhook that has failed without a single success for this long is disabled, in ms. Default 5 days. */
  disableAfterMs: number;
  /**
   * A webhook that has failed without a single success for this long raises WEBHOOK_FAILING
   * (once per failing run, at its next failed attempt), in ms; keep it below disableAfterMs so
   * owners hear before the webhook is disabled. Default 1 h.
   */
  failingEventAfterMs: number;
  /** Parallel HTTP requests per process. Default 128. */
  concurrency: number;
  /** Deliveries claimed per database round trip. Default 200. */
  batchSize: number;
  /** How long a claimed delivery stays exclusive to its worker, in ms; must exceed timeoutMs. Default 60000. */
  leaseMs: number;
  /** How often a worker looks for due retries and expired leases, in ms. Default 1000. */
  pollIntervalMs: number;
  /** Bytes of a response body kept in the delivery log. Default 1024. */
  responseExcerptBytes: number;
  /** How long events, deliveries and attempts are kept, in ms. Default 30 days. */
  retentionMs: number;
  /** How long the signing key a rotation replaced keeps signing beside the new one, in ms (older keys stop at once). Default 24 h. */
  secretOverlapMs: number;
  /** Time allowed to open the TCP (and TLS) connection of one attempt, in ms; kept below timeoutMs so a dead host fails fast. Default 5000. */
  connectTimeoutMs: number;
  /** Most requests in flight to one webhook at a time, so a slow or hanging endpoint holds only its own share of `concurrency`. Default 16. */
  maxInFlightPerWebhook: number;
  /** Consecutive timeouts or connection failures of one webhook that open its circuit (sending stops for a cool-down, then one probe). Default 5. */
  circuitBreakerThreshold: number;
  /** How long an open circuit waits before its probe, in ms; doubles after each failed probe, up to 8x. Default 30000. */
  circuitBreakerCooldownMs: number;
  /** Deadline for resolving a webhook's host name, in ms (resolution never uses the shared libuv thread pool unbounded). Default 5000. */
  dnsTimeoutMs: number;
}

export interface EgressOptions {
  /**
   * CIDRs, IP addresses or exact host names that every tenant's webhooks may reach although
   * private, loopback or reserved, e.g. `['127.0.0.0/8', 'receiver.internal']`. Meant for
   * single-tenant hosts and development: on a multi-tenant host use `allowByTenant`, so one
   * tenant's trusted internal receiver does not become every tenant's target. Default `[]`.
   */
  allow: string[];
  /**
   * More exceptions per tenant id, in the same forms as `allow`, e.g.
   * `{ acme: ['10.20.0.0/16'] }`: a tenant's webhooks may reach the private addresses its own
   * list or `allow` admit, nothing else. Checked at start-up; a bad entry is named by its path
   * (`egress.allowByTenant.acme[0]`). Default `{}`.
   */
  allowByTenant: Record<string, string[]>;
  /**
   * Keep the response body excerpt (`delivery.responseExcerptBytes`) of answers that came from
   * a private address, i.e. a receiver reached through an allow-list. Off, such attempts keep
   * status code and timing only, and the test-send answer says the body is not shown: a tenant
   * admin cannot read internal services through the delivery log. Applies to every tenant
   * (turn it on for single-tenant hosts and development). Default false.
   */
  privateResponseBodies: boolean;
  /** Refuse plain-http webhook URLs. Default false. */
  httpsOnly: boolean;
  /** DNS servers (`ip` or `ip:port`) for webhook host names. Default: the system's (resolv.conf). */
  dnsServers: string[];
}

export interface WebhooksPluginOptions {
  /** Where webhooks, events, deliveries and Agenda's jobs live. Required. */
  storage: StorageOptions;
  /** AES-256-GCM keys for secrets at rest; the first encrypts, all decrypt. Required. */
  encryptionKeys: EncryptionKey[];
  /** Tenant used when a hook call names none. Default `default`. */
  defaultTenantId?: string;
  /**
   * Host event types beyond the built-in catalogue, e.g. `{ type: 'ORDER_PLACED', description: '...' }`,
   * each with an optional `schema` for its data (only declared fields are sent) and `example`. Default `[]`.
   */
  customEventTypes?: CustomEventTypeInput[];
  /** Replaces the built-in allow-list mapper for user objects; must return a plain object. */
  userMapper?: (user: Record<string, unknown>) => Record<string, unknown>;
  /** Largest accepted event body, in bytes. Default 65536. */
  maxEventBytes?: number;
  /** Run the delivery worker in this process. Default true; set false on web-only nodes. */
  runWorker?: boolean;
  /** Name of this process in leases and logs. Default `<hostname>:<pid>:<random>`. */
  workerName?: string;
  /**
   * Longest a hook call waits for its event to be stored, in ms; past it the call rejects with
   * `EventNotRecordedError` (the database is unreachable or stalled), so a login never hangs
   * on the plugin. The write may still complete later: retry with the same `idempotencyKey`
   * to be safe. Default 3000.
   */
  hookTimeoutMs?: number;
  delivery?: Partial<DeliveryOptions>;
  egress?: Partial<EgressOptions>;
  /** Prometheus metrics (see docs/metrics.md); `false` turns them off. Default `{}`: on, in a registry of this instance's own. */
  metrics?: MetricsOptions | false;
  /**
   * Where the plugin logs: an object with `info`, `warn` and `error`. A pino logger can be passed
   * as it is (see `loggerStyle`). Default: warnings and errors to the console.
   */
  logger?: Logger;
  /**
   * How `logger` takes its arguments: `'message-first'` (`warn(message, fields)`), `'fields-first'`
   * (`warn(fields, message)`, pino's and bunyan's order) or `'auto'`: fields-first for a pino logger
   * (recognised by `levels.values`, `bindings()` and `child()`), message-first otherwise. Default `'auto'`.
   */
  loggerStyle?: LoggerStyle;
  /** Source of "now"; tests pass a fake. Default `() => new Date()`. */
  clock?: () => Date;
  /**
   * Called with each operational event (WEBHOOK_DISABLED, WEBHOOK_FAILING, DELIVERY_EXHAUSTED)
   * once it is recorded, e.g. to e-mail the webhook's owner. Never awaited by deliveries; a throw
   * or rejection is logged and ignored. Default: none.
   */
  onOperationalEvent?: (event: OperationalEvent) => void | Promise<void>;
}

export interface ResolvedOptions extends Required<Omit<WebhooksPluginOptions, 'userMapper' | 'workerName' | 'delivery' | 'egress' | 'loggerStyle' | 'onOperationalEvent'>> {
  onOperationalEvent?: WebhooksPluginOptions['onOperationalEvent'];
  metrics: ResolvedMetricsOptions | false;
  userMapper?: WebhooksPluginOptions['userMapper'];
  workerName?: string;
  delivery: DeliveryOptions;
  egress: EgressOptions;
}

/** The `metrics` option. */
export interface MetricsOptions {
  /**
   * A prom-client `Registry` to register the metrics in (e.g. the host's, served with its own
   * metrics). Default: a new registry of this plugin instance (never prom-client's global one,
   * so two instances in one process cannot collide); serve it with `createMetricsHandler()`.
   */
  registry?: Registry;
  /** Put before every metric name; give two instances sharing one registry different ones. Default `webhooks_`. */
  prefix?: string;
  /**
   * Adds a `webhook_id` label to the attempts counter and the pending gauges: one series per
   * webhook (and outcome), so only for a bounded number of webhooks. Default false.
   */
  perWebhookLabels?: boolean;
}

export type ResolvedMetricsOptions = Required<Omit<MetricsOptions, 'registry'>> & Pick<MetricsOptions, 'registry'>;

export const DEFAULT_METRICS_PREFIX = 'webhooks_';

const DAY = 86_400_000;

/** Every default in one place. */
export const DEFAULT_DELIVERY_OPTIONS: Readonly<DeliveryOptions> = Object.freeze({
  timeoutMs: 15_000,
  retryScheduleMs: [...DEFAULT_RETRY_POLICY.schedule],
  jitter: DEFAULT_RETRY_POLICY.jitter,
  maxRetryAfterMs: DEFAULT_RETRY_POLICY.maxRetryAfterMs,
  disableAfterMs: 5 * DAY,
  failingEventAfterMs: 3_600_000,
  concurrency: 128,
  batchSize: 200,
  leaseMs: 60_000,
  pollIntervalMs: 1_000,
  responseExcerptBytes: 1_024,
  retentionMs: 30 * DAY,
  secretOverlapMs: DAY,
  connectTimeoutMs: 5_000,
  maxInFlightPerWebhook: 16,
  circuitBreakerThreshold: 5,
  circuitBreakerCooldownMs: 30_000,
  dnsTimeoutMs: 5_000,
});

/** Default of the top-level `hookTimeoutMs` option. */
export const DEFAULT_HOOK_TIMEOUT_MS = 3_000;

const consoleLogger: Logger = {
  info: () => undefined,
  warn: (message, fields) => console.warn(`[webhooks] ${message}`, fields ?? ''),
  error: (message, fields) => console.error(`[webhooks] ${message}`, fields ?? ''),
};

const ms = Joi.number().integer().min(0);

/** `ip`, `ip:port` or `[ipv6]:port`, as c-ares' setServers() takes them. */
function isDnsServer(value: string): boolean {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value);
  const [host, port] = bracketed ? [bracketed[1], bracketed[2]] : isIP(value) ? [value, undefined] : value.split(/:(?=\d+$)/);
  return isIP(host ?? '') !== 0 && (port === undefined || (Number(port) > 0 && Number(port) < 65_536));
}
const base64Key = Joi.string()
  .base64()
  .custom((value, helpers) => (Buffer.from(value, 'base64').length === 32 ? value : helpers.error('any.invalid')))
  .message('{{#label}} must be 32 bytes encoded as base64 (e.g. `openssl rand -base64 32`)');

const schema = Joi.object({
  storage: Joi.object({
    postgres: Joi.object({
      pool: Joi.object().unknown(true),
      connectionString: Joi.string().uri({ scheme: ['postgres', 'postgresql'] }),
      tablePrefix: Joi.string().pattern(/^[a-z_][a-z0-9_]{0,30}$/),
    }).xor('pool', 'connectionString'),
    mongo: Joi.object({
      connection: Joi.object().unknown(true).required(),
      collectionPrefix: Joi.string().pattern(/^[A-Za-z_][A-Za-z0-9_]{0,30}$/),
    }),
    store: Joi.object().unknown(true),
  })
    .xor('postgres', 'mongo', 'store')
    .required(),
  encryptionKeys: Joi.array()
    .items(Joi.object({ id: Joi.string().pattern(/^[A-Za-z0-9_-]{1,32}$/).required(), key: base64Key.required() }))
    .min(1)
    .unique('id')
    .required(),
  defaultTenantId: TENANT_ID_SCHEMA.default('default'),
  customEventTypes: Joi.array().items(Joi.object().unknown(true)).default([]),
  userMapper: Joi.function().arity(1),
  maxEventBytes: Joi.number().integer().min(1_024).max(1_048_576).default(65_536),
  runWorker: Joi.boolean().default(true),
  workerName: Joi.string().min(1).max(200),
  hookTimeoutMs: Joi.number().integer().min(50).max(60_000).default(DEFAULT_HOOK_TIMEOUT_MS),
  delivery: Joi.object({
    timeoutMs: ms.min(100).max(120_000),
    retryScheduleMs: Joi.array().items(ms).min(1).max(50),
    jitter: Joi.number().min(0).max(1),
    maxRetryAfterMs: ms,
    disableAfterMs: ms.min(60_000),
    failingEventAfterMs: ms,
    concurrency: Joi.number().integer().min(1).max(2_048),
    batchSize: Joi.number().integer().min(1).max(5_000),
    leaseMs: ms.min(1_000),
    pollIntervalMs: ms.min(10).max(600_000),
    responseExcerptBytes: Joi.number().integer().min(0).max(65_536),
    retentionMs: ms.min(60_000),
    secretOverlapMs: ms,
    connectTimeoutMs: ms.min(100).max(120_000),
    maxInFlightPerWebhook: Joi.number().integer().min(1).max(2_048),
    circuitBreakerThreshold: Joi.number().integer().min(1).max(1_000),
    circuitBreakerCooldownMs: ms.min(100).max(3_600_000),
    dnsTimeoutMs: ms.min(100).max(60_000),
  }).default({}),
  egress: Joi.object({
    allow: Joi.array().items(Joi.string().min(1).max(255)).default([]),
    // Keys that are no tenant id fail as "not allowed", named by their path.
    allowByTenant: Joi.object().pattern(TENANT_ID_SCHEMA, Joi.array().items(Joi.string().min(1).max(255))).default({}),
    httpsOnly: Joi.boolean().default(false),
    privateResponseBodies: Joi.boolean().default(false),
    dnsServers: Joi.array().items(Joi.string().custom((value, helpers) => (isDnsServer(value) ? value : helpers.error('any.invalid')))
      .message('{{#label}} must be an IP address, optionally with a port (e.g. "10.0.0.2" or "127.0.0.1:5353")')).max(10).default([]),
  }).default({}),
  logger: Joi.object({ info: Joi.function().required(), warn: Joi.function().required(), error: Joi.function().required() }).unknown(true),
  loggerStyle: Joi.string().valid(...LOGGER_STYLES).default('auto'),
  metrics: Joi.alternatives(Joi.boolean().valid(false), Joi.object({
    // Duck-typed: the host's prom-client may be another copy than the plugin's.
    registry: Joi.object({ registerMetric: Joi.function().required(), metrics: Joi.function().required() }).unknown(true),
    prefix: Joi.string().pattern(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,63}$/).allow(''),
    perWebhookLabels: Joi.boolean(),
  })),
  clock: Joi.function().arity(0),
  onOperationalEvent: Joi.function(),
});

/**
 * Validates options once, at construction, and fills in defaults. A bad option throws
 * {@link InvalidOptionsError} whose message names every wrong path and why.
 */
export function resolveOptions(input: unknown): ResolvedOptions {
  const { value, error } = schema.validate(input, { abortEarly: false, convert: false });
  if (error) {
    const details = joiDetails(error);
    throw new InvalidOptionsError(`Invalid webhooks plugin options: ${details.map((d) => d.message).join('; ')}`, details);
  }
  const delivery: DeliveryOptions = { ...DEFAULT_DELIVERY_OPTIONS, ...value.delivery };
  if (delivery.leaseMs <= delivery.timeoutMs) {
    // A lease that ends while a request still runs would let a second worker send it again.
    throw new InvalidOptionsError('Invalid webhooks plugin options: "delivery.leaseMs" must be greater than "delivery.timeoutMs"', [
      { path: 'delivery.leaseMs', message: 'must be greater than delivery.timeoutMs' },
    ]);
  }
  // Connecting and resolving are parts of the request: their limits must not outlast it (else a
  // slow name or connect would be logged as a request timeout). Defaults shrink to fit.
  for (const part of ['connectTimeoutMs', 'dnsTimeoutMs'] as const) {
    if (value.delivery[part] === undefined) {
      delivery[part] = Math.min(DEFAULT_DELIVERY_OPTIONS[part], delivery.timeoutMs);
    } else if (delivery[part] > delivery.timeoutMs) {
      throw new InvalidOptionsError(`Invalid webhooks plugin options: "delivery.${part}" must not exceed "delivery.timeoutMs"`, [
        { path: `delivery.${part}`, message: 'must not exceed delivery.timeoutMs' },
      ]);
    }
  }
  // Joi does not validate (or fill in) a default object, so nested defaults are applied here.
  const egress: EgressOptions = { allow: [], allowByTenant: {}, httpsOnly: false, privateResponseBodies: false, dnsServers: [], ...value.egress };
  try {
    assertValidEgressPolicy(egress);
  } catch (error) {
    if (!(error instanceof InvalidAllowListEntryError)) throw error;
    throw new InvalidOptionsError(`Invalid webhooks plugin options: ${error.message}`, [{ path: error.path, message: error.message }]);
  }
  const { loggerStyle, ...resolved } = value;
  return {
    ...resolved,
    delivery,
    egress,
    // The host's own object, not joi's copy of it: a logger's state may live where a copy misses it.
    logger: value.logger ? adaptLogger((input as { logger: Logger }).logger, loggerStyle) : consoleLogger,
    clock: value.clock ?? (() => new Date()),
    metrics: resolveMetrics((input as { metrics?: MetricsOptions | false }).metrics),
  };
}

/** The host's own registry object, not joi's copy of it (metrics registered in a copy would never be served). */
function resolveMetrics(input: MetricsOptions | false | undefined): ResolvedMetricsOptions | false {
  if (input === false) return false;
  return { registry: input?.registry, prefix: input?.prefix ?? DEFAULT_METRICS_PREFIX, perWebhookLabels: input?.perWebhookLabels ?? false };
}
