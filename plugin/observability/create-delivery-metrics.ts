import { Registry } from 'prom-client';
import { InvalidOptionsError } from '../errors.js';
import type { Logger, ResolvedMetricsOptions } from '../options.js';
import type { WebhookStore } from '../store/store-port.js';
import { DeliveryMetrics } from './delivery-metrics.js';

export interface MetricsWiring {
  store: Pick<WebhookStore, 'summarizeBacklog'>;
  clock: () => Date;
  logger: Logger;
  /** Webhooks whose circuit is open or half-open in this process now. */
  openCircuits: () => number;
}

/**
 * Builds the metrics of one plugin instance from the `metrics` option, or nothing when it is
 * `false`. Without a host registry the instance gets a registry of its own, never prom-client's
 * global one: two instances in one process would otherwise register the same names and throw.
 * @throws {InvalidOptionsError} when the host's registry already holds a metric of these names
 *   (two instances sharing it need different `metrics.prefix`es).
 */
export function createDeliveryMetrics(options: ResolvedMetricsOptions | false, wiring: MetricsWiring): DeliveryMetrics | undefined {
  if (options === false) return undefined;
  let lastStoreError = 0;
  try {
    return new DeliveryMetrics({
      registry: options.registry ?? new Registry(),
      prefix: options.prefix,
      perWebhookLabels: options.perWebhookLabels,
      readBacklog: () => wiring.store.summarizeBacklog(),
      openCircuits: wiring.openCircuits,
      clock: wiring.clock,
      onStoreError: (error) => {
        // A scrape every 15 s while the database is down: one line a minute is enough.
        const now = Date.now();
        if (now - lastStoreError < 60_000) return;
        lastStoreError = now;
        wiring.logger.warn('Metrics scrape: could not read the store; pending and webhook gauges are left out', { error: String(error) });
      },
    });
  } catch (error) {
    if (!(error instanceof Error) || !/already been registered/.test(error.message)) throw error;
    const message = `"metrics.registry" already holds a metric named like this plugin's (${error.message}); `
      + 'give each plugin instance sharing a registry its own "metrics.prefix"';
    throw new InvalidOptionsError(`Invalid webhooks plugin options: ${message}`, [{ path: 'metrics.prefix', message }]);
  }
}
