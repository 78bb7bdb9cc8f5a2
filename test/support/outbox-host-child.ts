/**
 * Child process for `test/integration/outbox-host-kill.test.ts`: a host web node (no worker)
 * that signs users up as fast as it can, each user's row and its USER_CREATED event in one
 * transaction, until the parent kills it with SIGKILL.
 *
 * Environment: WEBHOOKS_PG_URL (database), WEBHOOKS_KEY_ID / WEBHOOKS_KEY (encryption key the
 * parent also uses), OUTBOX_CHILD_TAG (unique per child, used in user ids). Prints `ready` once
 * signing up has begun.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createWebhooksPlugin } from '../../plugin/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const LOOPS = 4;
const plugin = createWebhooksPlugin({
  storage: { postgres: { connectionString: env('WEBHOOKS_PG_URL') } },
  encryptionKeys: [{ id: env('WEBHOOKS_KEY_ID'), key: env('WEBHOOKS_KEY') }],
  runWorker: false,
  logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
});
await plugin.start();
const hostPool = new pg.Pool({ connectionString: env('WEBHOOKS_PG_URL'), max: LOOPS });
const tag = env('OUTBOX_CHILD_TAG');

async function signUpForever(loop: number): Promise<never> {
  const client = await hostPool.connect();
  for (let i = 0; ; i += 1) {
    const id = `${tag}-${loop}-${i}-${randomBytes(3).toString('hex')}`;
    await client.query('BEGIN');
    await client.query('INSERT INTO app_users (id) VALUES ($1)', [id]);
    await plugin.hooks.userCreated({ user: { id, username: id } }, { tenantId: 'acme', transaction: client });
    await client.query('COMMIT');
    if (loop === 0 && i === 0) process.stdout.write('ready\n');
  }
}

await Promise.all(Array.from({ length: LOOPS }, (_, loop) => signUpForever(loop)));
