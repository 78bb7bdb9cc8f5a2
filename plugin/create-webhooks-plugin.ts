import { randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { hostname } from 'node:os';
import { DeliveryOperations } from './delivery/delivery-operations.js';
import { DeliveryPump } from './delivery/delivery-pump.js';
import { DeliveryWorker } from './delivery/delivery-worker.js';
import { EndpointGate } from './delivery/endpoint-gate.js';
import { HttpSender } from './delivery/http-sender.js';
import { InvalidOptionsError, PluginStoppedError } from './errors.js';
import { CatalogueError, EventCatalogue, type CustomEventTypeInput } from './events/catalogue.js';
import { EventRecorder } from './events/event-recorder.js';
import { PayloadShaper } from './events/payload-schemas/payload-shaper.js';
import { SubscriptionCache } from './events/subscription-cache.js';
import { mapUser as defaultUserMapper } from './events/user-mapper.js';
import { createLifecycleHooks, type LifecycleHooks } from './host/lifecycle-hooks.js';
import { normalizeContext } from './events/event-context.js';
import { instrumentPassport, type PassportInstrumentationOptions, type PassportLike } from './host/passport-instrumentation.js';
import { checkHealth, type PluginHealth } from './observability/health.js';
import { createDeliveryMetrics } from './observability/create-delivery-metrics.js';
import type { DeliveryMetrics } from './observability/delivery-metrics.js';
import { createMetricsHandler } from './observability/metrics-handler.js';
import { resolveOptions, type Logger, type WebhooksPluginOptions } from './options.js';
import { repeatLimitedLog } from './repeat-limited-log.js';
import type { EgressPolicy } from './security/egress/egress-allow-list.js';
import { createHostResolver } from './security/egress/host-resolver.js';
import { createTenantAgents } from './security/egress/tenant-agents.js';
import { SecretBox } from './security/secret-box.js';
import { walkSecrets, type ReencryptOptions, type SecretKeyReport } from './security/secret-rekey.js';
import { createStore } from './store/create-store.js';
import type { WebhookStore } from './store/store-port.js';
import { OperationalEventPublisher } from './webhooks/operational-event-publisher.js';
import { WebhookService } from './webhooks/webhook-service.js';

/** How long stop() waits for the delivery worker (in-flight requests get 5 s of it), then for each other step. */
const STOP_WORKER_LIMIT_MS = 10_000;
const STOP_STEP_LIMIT_MS = 5_000;

/** What `createWebhooksPlugin` returns: the hooks a host calls, and the plugin's lifecycle. */
export interface WebhooksPlugin {
  /** Typed lifecycle hooks plus `emit()`; each resolves once the event is durable. */
  readonly hooks: LifecycleHooks;
  /** The event catalogue of this instance (built-ins plus the host's own types). */
  readonly catalogue: EventCatalogue;
  /** Webhook management (what the admin API calls). */
  readonly webhooks: WebhookService;
  /** Test send, retry, recover. */
  readonly deliveries: DeliveryOperations;
  /** The store behind this instance. */
  readonly store: WebhookStore;
  /** Makes every `passport.authenticate()` outcome emit USER_LOGIN / USER_LOGIN_FAILURE. */
  instrumentPassport(passport: PassportLike, options?: PassportInstrumentationOptions): void;
  /** Creates tables/indexes and starts the delivery worker (unless `runWorker: false`). */
  start(): Promise<void>;
  /**
   * Re-seals every stored secret (all tenants) sealed under an older configured key with the
   * first key of `encryptionKeys`; skips current ones, so a rerun resumes where an interrupted
   * one stopped. Unreadable ones are counted and listed, never touched. Call after `start()`.
   */
  reencryptSecrets(options?: ReencryptOptions): Promise<SecretKeyReport>;
  /** Stops taking work, finishes in-flight deliveries, records them, and releases what it opened. */
  stop(): Promise<void>;
  /**
   * Store reachable (one backlog query, answered within `hookTimeoutMs` or counted unreachable,
   * never hanging), worker running, backlog size and oldest pending age, circuits open here.
   */
  health(): Promise<PluginHealth>;
  /**
   * An Express handler serving the metrics registry in Prometheus' text format; mount it behind
   * the host's own authentication. Throws when the plugin was created with `metrics: false`.
   */
  createMetricsHandler(): RequestHandler;
  /** The registry the metrics live in (the host's, or this instance's own); null with `metrics: false`. */
  readonly metricsRegistry: Registry | null;
  /** Normalises a hook context (tenant, request, actor) the way hooks do; for the admin router. */
  context: typeof normalizeContext;
  /** Tenant used when a caller names none. */
  readonly defaultTenantId: string;
  readonly logger: Logger;
  /** The plugin's source of "now" (options.clock). */
  readonly clock: () => Date;
}

/**
 * Builds one independent plugin instance. Options are validated here, once; a bad option
 * throws `InvalidOptionsError` naming it. Nothing is shared between instances.
 */
export function createWebhooksPlugin(input: WebhooksPluginOptions): WebhooksPlugin {
  const options = resolveOptions(input);
  const { clock, logger, delivery } = options;
  const catalogue = buildCatalogue(options.customEventTypes);
  // One limiter for every error that repeats while a dependency is down.
  const faultLog = repeatLimitedLog(logger);
  const store = createStore(options.storage, faultLog, options.hookTimeoutMs);
  const box = new SecretBox(options.encryptionKeys);
  const owner = options.workerName ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const egress: EgressPolicy = { allow: options.egress.allow, allowByTenant: options.egress.allowByTenant, httpsOnly: options.egress.httpsOnly };
  const sender = new HttpSender({
    // Host names resolve through c-ares with their own deadline, never queueing on the
    // thread pool the host's file and crypto work share (see host-resolver.ts). Agents per
    // tenant allow-list: each webhook's connections are judged with its tenant's.
    agents: createTenantAgents(egress, { maxSockets: delivery.concurrency, maxFreeSockets: 256 },
      createHostResolver({ timeoutMs: delivery.dnsTimeoutMs, servers: options.egress.dnsServers })),
    egress,
    privateResponseBodies: options.egress.privateResponseBodies,
    logger,
    timeoutMs: delivery.timeoutMs,
    connectTimeoutMs: delivery.connectTimeoutMs,
    excerptBytes: delivery.responseExcerptBytes,
    clock,
  });
  const subscriptions = new SubscriptionCache(store);
  const gate = new EndpointGate({
    maxInFlight: Math.min(delivery.maxInFlightPerWebhook, delivery.concurrency),
    concurrency: delivery.concurrency,
    breaker: { threshold: delivery.circuitBreakerThreshold, cooldownMs: delivery.circuitBreakerCooldownMs },
  });
  const metrics: DeliveryMetrics | undefined = createDeliveryMetrics(options.metrics, {
    store, clock, logger, openCircuits: () => gate.breakers.openCircuits(clock().getTime()).length,
  });
  const pump = new DeliveryPump({
    store, box, sender, options: delivery, logger, clock, random: Math.random, owner, metrics,
    onWebhookDisabled: () => subscriptions.invalidate(),
    gate,
    // The recorder is built below; signals only come once the worker runs (after start()).
    onOperationalSignal: (signal) => operationalEvents.publish(signal),
  });
  // Built in start(): Agenda connects its backend as soon as it is constructed, and a host's
  // database connection need not be open before start().
  let worker: DeliveryWorker | null = null;
  const kick = () => worker?.kick();
  let state: 'new' | 'started' | 'stopped' = 'new';

  // One shaper per instance: it logs each dropped field once per instance.
  const shaper = new PayloadShaper({ catalogue, mapUser: options.userMapper ?? defaultUserMapper, logger });
  const recorder = new EventRecorder({
    store, subscriptions, catalogue, clock, retentionMs: delivery.retentionMs, maxEventBytes: options.maxEventBytes,
    firstAttemptDelayMs: delivery.retryScheduleMs[0],
    announceToOtherWorkers: !options.runWorker,
    onDeliveriesRecorded: kick,
    timeoutMs: options.hookTimeoutMs,
    shaper,
    metrics,
  });
  const operationalEvents = new OperationalEventPublisher({ store, box, recorder, logger, onOperationalEvent: options.onOperationalEvent });
  const rawHooks = createLifecycleHooks({ recorder, mapUser: shaper.mapUser, defaultTenantId: options.defaultTenantId });
  // Hooks refuse work after stop(): a recorded event nobody will deliver until restart is fine,
  // but a silent success on a closed pool is not.
  const hooks = Object.fromEntries(
    Object.entries(rawHooks).map(([name, fn]) => [name, (...args: unknown[]) => {
      if (state === 'stopped') return Promise.reject(new PluginStoppedError());
      return (fn as (...a: unknown[]) => unknown)(...args);
    }]),
  ) as unknown as LifecycleHooks;

  const webhooks = new WebhookService({ store, catalogue, box, recorder, egress, clock, secretOverlapMs: delivery.secretOverlapMs, logger,
    onWebhookChanged: (id) => {
      pump.forgetWebhook(id);
      subscriptions.invalidate();
    },
  });
  const deliveries = new DeliveryOperations({ store, recorder, pump, clock, leaseMs: delivery.leaseMs, owner, kick });

  return {
    hooks,
    catalogue,
    webhooks,
    deliveries,
    store,
    context: normalizeContext,
    defaultTenantId: options.defaultTenantId,
    logger,
    clock,
    metricsRegistry: metrics?.registry ?? null,
    createMetricsHandler() {
      if (!metrics) throw new Error('createMetricsHandler(): this plugin was created with `metrics: false`');
      return createMetricsHandler(metrics.registry);
    },
    instrumentPassport(passport, passportOptions) {
      instrumentPassport(passport, hooks, { logger, ...passportOptions });
    },
    async start() {
      if (state !== 'new') throw new Error(`start() called on a ${state} plugin`);
      await store.init();
      await warnAboutSecretKeys(store, box, logger);
      if (options.runWorker) {
        worker = new DeliveryWorker({ store, pump, options: delivery, logger, faultLog, clock, name: owner });
        await worker.start();
      }
      state = 'started';
    },
    health() {
      return checkHealth({
        store, clock, timeoutMs: options.hookTimeoutMs, workerExpected: options.runWorker,
        workerRunning: () => state === 'started' && worker !== null,
        circuitsOpen: () => gate.breakers.openCircuits(clock().getTime()).length,
      });
    },
    async reencryptSecrets(reencryptOptions) {
      if (state !== 'started') throw new Error(`reencryptSecrets() needs a started plugin (this one is ${state})`);
      return walkSecrets(store, box, true, reencryptOptions);
    },
    async stop() {
      if (state === 'stopped') return;
      const wasStarted = state === 'started';
      state = 'stopped';
      // stop() always resolves, and within bounds: a step that fails is logged and the next one
      // runs; a step that hangs (a database that accepts connections and never answers) is
      // given up after its limit. Each step says where it waits once it has waited 5 s.
      const step = async (name: string, limitMs: number, run: () => Promise<void>) => {
        const slow = setTimeout(() => logger.warn(`stop() is still waiting for ${name}`), 5_000);
        let expire: NodeJS.Timeout | undefined;
        const expired = new Promise<'expired'>((resolve) => {
          expire = setTimeout(() => resolve('expired'), limitMs);
        });
        try {
          const outcome = await Promise.race([run().then(() => 'done' as const), expired]);
          if (outcome === 'expired') logger.error(`stop() gave up waiting for ${name} after ${limitMs / 1000} s`);
        } catch (error) {
          logger.error(`stop(): ${name} failed`, { error: String(error) });
        } finally {
          clearTimeout(slow);
          clearTimeout(expire);
        }
      };
      if (wasStarted && worker) await step('the delivery worker', STOP_WORKER_LIMIT_MS, () => worker!.stop());
      await step('in-flight deliveries', STOP_STEP_LIMIT_MS, () => pump.drain());
      await step('the store to close', STOP_STEP_LIMIT_MS, () => store.close());
    },
  };
}

/**
 * One warning when stored secrets do not match the configured keys (a restart with another
 * key used to surface only as failing reads and deliveries). Never fails start: the webhooks
 * that can be read keep working, and the others show what to do.
 */
async function warnAboutSecretKeys(store: WebhookStore, box: SecretBox, logger: Logger): Promise<void> {
  try {
    const report = await walkSecrets(store, box, false);
    if (report.unreadable === 0 && report.older === 0) return;
    logger.warn(`Stored webhook secrets do not match the configured encryption keys: ${report.unreadable} cannot be decrypted `
      + `with any configured key (restore the key they name in encryptionKeys, or rotate each one's secret), ${report.older} are `
      + `sealed under an older key (run \`npm run rekey\` to re-encrypt them under "${report.activeKeyId}")`, {
      unreadable: report.unreadable,
      older: report.older,
      activeKeyId: report.activeKeyId,
      unreadableKeyIds: [...new Set(report.unreadableWebhooks.map((w) => w.keyId))],
    });
  } catch (error) {
    logger.warn('Could not check stored webhook secrets against the configured encryption keys', { error: String(error) });
  }
}

function buildCatalogue(custom: CustomEventTypeInput[]): EventCatalogue {
  try {
    return new EventCatalogue(custom);
  } catch (error) {
    if (!(error instanceof CatalogueError)) throw error;
    throw new InvalidOptionsError(`Invalid webhooks plugin options: "customEventTypes": ${error.message}`, [
      { path: 'customEventTypes', message: error.message },
    ]);
  }
}
