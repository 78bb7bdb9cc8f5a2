import type { WebhookRecord, WebhookStore } from '../store/store-port.js';

/**
 * How long a tenant's enabled webhooks are reused for fan-out. Measured: reading them on
 * every hook call is half of a hook's database time and most of its tail under load. Edits
 * made through this plugin instance clear the cache at once; edits made by another process
 * reach this one within this time (a delivery to a webhook disabled meanwhile is then
 * dropped by the worker, which re-reads the webhook before sending).
 */
export const SUBSCRIPTION_CACHE_MS = 1_000;

/** The enabled webhooks of each tenant, read at most once per {@link SUBSCRIPTION_CACHE_MS}. */
export class SubscriptionCache {
  private readonly entries = new Map<string, { loadedAt: number; webhooks: Promise<WebhookRecord[]>; settled: boolean }>();

  constructor(private readonly store: WebhookStore, private readonly ttlMs = SUBSCRIPTION_CACHE_MS) {}

  enabledWebhooks(tenantId: string): Promise<WebhookRecord[]> {
    const now = Date.now();
    const hit = this.entries.get(tenantId);
    // A read still waiting is shared however old: while the database hangs, hook calls time out
    // on it rather than queue one more read per tenant per second for the whole outage.
    if (hit && (!hit.settled || now - hit.loadedAt < this.ttlMs)) return hit.webhooks;
    const webhooks = this.store.listEnabledWebhooks(tenantId);
    const entry = { loadedAt: now, webhooks, settled: false };
    this.entries.set(tenantId, entry);
    webhooks.then(() => {
      entry.settled = true;
    }, () => {
      // A failed read is not cached.
      if (this.entries.get(tenantId) === entry) this.entries.delete(tenantId);
    });
    return webhooks;
  }

  /** A webhook changed through this instance: every tenant reads afresh. */
  invalidate(): void {
    this.entries.clear();
  }
}
