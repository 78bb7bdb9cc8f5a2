/**
 * `npm run rekey`: re-encrypts every stored webhook secret (all tenants) under the first of the
 * configured encryption keys, printing progress. Safe to interrupt and run again: values
 * already under the first key are skipped. Secrets that no configured key opens are listed and
 * left alone (exit code 2 then, so a pipeline notices).
 *
 * Environment:
 *   WEBHOOKS_ENCRYPTION_KEYS  JSON `[{"id":"2027-01","key":"<32 bytes base64>"},{"id":"2026-11","key":"..."}]`,
 *                             newest first: the same list the host passes as `encryptionKeys`.
 *   DATABASE_URL              postgres:// connection string, or
 *   MONGODB_URI               a MongoDB URI (one of the two).
 *   WEBHOOKS_TABLE_PREFIX / WEBHOOKS_COLLECTION_PREFIX  only if the host sets tablePrefix / collectionPrefix.
 */
import mongoose from 'mongoose';
import { createWebhooksPlugin, type WebhooksPluginOptions } from '../plugin/index.js';

function fail(message: string): never {
  console.error(`rekey: ${message}`);
  process.exit(1);
}

function encryptionKeys(): WebhooksPluginOptions['encryptionKeys'] {
  const raw = process.env.WEBHOOKS_ENCRYPTION_KEYS;
  if (!raw) fail('set WEBHOOKS_ENCRYPTION_KEYS to the JSON list of keys, newest first');
  try {
    return JSON.parse(raw);
  } catch {
    fail('WEBHOOKS_ENCRYPTION_KEYS is not JSON');
  }
}

async function main(): Promise<void> {
  const { DATABASE_URL, MONGODB_URI } = process.env;
  if (Boolean(DATABASE_URL) === Boolean(MONGODB_URI)) fail('set DATABASE_URL (PostgreSQL) or MONGODB_URI (MongoDB), one of them');
  const connection = MONGODB_URI ? await mongoose.createConnection(MONGODB_URI).asPromise() : null;
  const storage: WebhooksPluginOptions['storage'] = connection
    ? { mongo: { connection, ...(process.env.WEBHOOKS_COLLECTION_PREFIX ? { collectionPrefix: process.env.WEBHOOKS_COLLECTION_PREFIX } : {}) } }
    : { postgres: { connectionString: DATABASE_URL!, ...(process.env.WEBHOOKS_TABLE_PREFIX ? { tablePrefix: process.env.WEBHOOKS_TABLE_PREFIX } : {}) } };
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    console.error(`${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
  // No delivery worker: this process only walks the webhooks table.
  const plugin = createWebhooksPlugin({
    storage, encryptionKeys: encryptionKeys(), runWorker: false,
    logger: { info: () => undefined, warn: log('warning'), error: log('error') },
  });
  let code = 0;
  try {
    await plugin.start();
    const report = await plugin.reencryptSecrets({
      onProgress: (c) => console.log(`scanned ${c.scanned}: re-encrypted ${c.reencrypted}, already current ${c.current}, `
        + `unreadable ${c.unreadable}${c.skipped ? `, changed meanwhile ${c.skipped} (run again)` : ''}`),
    });
    console.log(`Done: ${report.reencrypted} re-encrypted under "${report.activeKeyId}", ${report.current} already current, `
      + `${report.unreadable} unreadable, ${report.skipped} left for another run.`);
    for (const w of report.unreadableWebhooks) {
      console.log(`  unreadable: webhook ${w.webhookId} (tenant ${w.tenantId}), sealed with key ${w.keyId === null ? '(unknown format)' : `"${w.keyId}"`}`);
    }
    if (report.unreadable > 0) {
      console.log('Unreadable secrets: add the key they name to WEBHOOKS_ENCRYPTION_KEYS and run again, or rotate each one\'s secret.');
      code = 2;
    }
    if (report.skipped > 0) code = code || 3;
  } finally {
    await plugin.stop();
    await connection?.close();
  }
  process.exit(code);
}

main().catch((error) => fail(error instanceof Error ? error.message : String(error)));
