import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createWebhooksPlugin } from '../../plugin/index.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The names the plugin registers (no scrape: nothing here touches a database). */
async function registeredNames(): Promise<string[]> {
  const plugin = createWebhooksPlugin({
    storage: { postgres: { connectionString: 'postgresql://u:p@127.0.0.1:1/x' } },
    encryptionKeys: [{ id: 'k', key: randomBytes(32).toString('base64') }],
    runWorker: false,
  });
  try {
    return plugin.metricsRegistry!.getMetricsAsArray().map((m) => m.name).sort();
  } finally {
    await plugin.stop();
  }
}

describe('metrics documentation', () => {
  it('docs/metrics.md describes every metric the plugin registers, and no other', async () => {
    const names = await registeredNames();
    assert.ok(names.length >= 8);
    const documented = [...read('docs/metrics.md').matchAll(/^\| `(webhooks_[a-z_]+)` \| (counter|gauge|histogram) \|/gm)].map((m) => m[1]).sort();
    assert.deepEqual(documented, names);
  });

  it('the Grafana dashboard is valid JSON whose queries use only registered metrics, and every metric somewhere', async () => {
    const names = new Set(await registeredNames());
    const dashboard = JSON.parse(read('docs/grafana-dashboard.json')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
    const used = new Set<string>();
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        for (const [name] of expr.matchAll(/webhooks_[a-z_]+/g)) used.add(name.replace(/_(bucket|sum|count)$/, ''));
      }
    }
    for (const name of used) assert.ok(names.has(name), `${name} is not a metric of the plugin`);
    for (const name of names) assert.ok(used.has(name), `${name} is on no panel`);
  });
});
