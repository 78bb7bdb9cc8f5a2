import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import Ajv2020 from 'ajv/dist/2020.js';
import request from 'supertest';
import { buildOpenApiDocument } from '../../plugin/admin/openapi.js';
import type { WebhooksPlugin } from '../../plugin/index.js';
import type { SecretKeyCounts } from '../../plugin/security/secret-rekey.js';
import { ACME, createAdminHost } from '../support/admin-host.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startTestPlugin } from '../support/plugin-fixture.js';
import { freshPostgresDatabase } from '../support/postgres-fixture.js';

const API = '/admin/webhooks/api';
const KEY_A = { id: 'key-a', key: randomBytes(32).toString('base64') };
const KEY_B = { id: 'key-b', key: randomBytes(32).toString('base64') };
const CREDENTIALS = { api_key: { header: 'x-crm-key', value: 'api-key-0123456789abcdef' }, authorization: 'Bearer token-0123456789abcdef' };

describe('encryption key changes (postgres)', function () {
  this.timeout(60_000);
  const cleanup = cleanupAfterEach();
  let connectionString: string;

  /** A plugin on the shared database with `keys`, recording its warnings. */
  async function pluginWith(keys: Array<{ id: string; key: string }>): Promise<{ plugin: WebhooksPlugin; warnings: Array<{ message: string; fields?: Record<string, unknown> }> }> {
    const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
    const { plugin } = await startTestPlugin({
      connectionString, encryptionKeys: keys, runWorker: false,
      logger: { info: () => undefined, warn: (message, fields) => void warnings.push({ message, fields }), error: () => undefined },
    });
    cleanup(() => plugin.stop());
    return { plugin, warnings };
  }

  type Warning = { message: string; fields?: Record<string, unknown> };
  const secretWarnings = (warnings: Warning[]) => warnings.filter((w) => /encryption keys/.test(w.message));

  beforeEach(async () => {
    connectionString = await freshPostgresDatabase();
  });

  /** Three webhooks of two tenants sealed under key A, made through the API and the service. */
  async function seedUnderKeyA(): Promise<string[]> {
    const { plugin, warnings } = await pluginWith([KEY_A]);
    const app = createAdminHost(plugin);
    const ids: string[] = [];
    for (const name of ['one', 'two']) {
      const res = await request(app).post(`${API}/webhooks`).set(ACME)
        .send({ name, url: 'https://crm.example.com/hook', events: ['*'], ...CREDENTIALS });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      ids.push(res.body.id);
    }
    const other = await plugin.webhooks.create({ name: 'three', url: 'https://crm.example.com/hook', events: ['*'] },
      plugin.context({ tenantId: 'globex' }, plugin.defaultTenantId));
    ids.push(other.webhook.id);
    assert.deepEqual(secretWarnings(warnings), [], 'keys that match the data: no warning');
    await plugin.stop();
    return ids;
  }

  it('lists and reads webhooks sealed under a key that is gone, flagged with what to do, and warns at start', async () => {
    const [one] = await seedUnderKeyA();
    const { plugin, warnings } = await pluginWith([KEY_B]);
    const app = createAdminHost(plugin);

    const [warning] = secretWarnings(warnings);
    assert.ok(warning, `start() warned: ${JSON.stringify(warnings)}`);
    assert.match(warning.message, /3 cannot be decrypted/);
    assert.equal(warning.fields?.unreadable, 3);
    assert.deepEqual(warning.fields?.unreadableKeyIds, ['key-a']);

    const list = await request(app).get(`${API}/webhooks`).set(ACME);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.equal(list.body.webhooks.length, 2);
    for (const w of list.body.webhooks) {
      assert.equal(w.secrets_readable, false);
      assert.match(w.secret_error, /"key-a", which is not in encryptionKeys/);
      assert.equal(w.api_key, null);
      assert.equal(w.authorization, null);
      assert.deepEqual(w.headers, {});
      assert.equal(w.signature_scheme, null);
    }
    const ajv = new Ajv2020.default({ strict: false, validateFormats: false, allErrors: true });
    ajv.addSchema({ $id: 'https://webhooks.invalid/admin-api.json', ...buildOpenApiDocument() });
    const validate = ajv.compile({ $ref: 'https://webhooks.invalid/admin-api.json#/components/schemas/Webhook' });
    assert.ok(validate(list.body.webhooks[0]), ajv.errorsText(validate.errors));

    const read = await request(app).get(`${API}/webhooks/${one}`).set(ACME);
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.equal(read.body.secrets_readable, false);

    // Fields outside the sealed blob still change, and the blob is kept for when the key returns.
    const renamed = await request(app).patch(`${API}/webhooks/${one}`).set(ACME).send({ name: 'renamed', enabled: false });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.equal(renamed.body.secrets_readable, false);
    // A change that needs the stored values is refused clearly.
    const credential = await request(app).patch(`${API}/webhooks/${one}`).set(ACME).send({ authorization: 'Bearer other-0123456789abcdef' });
    assert.equal(credential.status, 409);
    assert.equal(credential.body.error.code, 'secret_unreadable');
    assert.match(credential.body.error.message, /rotate its secret/);
    const moved = await request(app).patch(`${API}/webhooks/${one}`).set(ACME).send({ url: 'https://elsewhere.example.com/hook' });
    assert.equal(moved.status, 409);

    // Rotating replaces the unreadable secrets: the webhook is readable again, credentials cleared.
    const rotated = await request(app).post(`${API}/webhooks/${one}/rotate-secret`).set(ACME);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.match(rotated.body.secret, /^whsec_/);
    const after = await request(app).get(`${API}/webhooks/${one}`).set(ACME);
    assert.equal(after.body.secrets_readable, true);
    assert.equal(after.body.secret_error, null);
    assert.equal(after.body.api_key, null);
    assert.equal(after.body.signature_scheme, 'hmac-sha256');
    const entered = await request(app).patch(`${API}/webhooks/${one}`).set(ACME).send({ authorization: CREDENTIALS.authorization });
    assert.equal(entered.status, 200, JSON.stringify(entered.body));

    // The key restored (after the new one): the untouched webhooks read again.
    await plugin.stop();
    const { plugin: restored } = await pluginWith([KEY_B, KEY_A]);
    const all = await request(createAdminHost(restored)).get(`${API}/webhooks`).set(ACME);
    assert.deepEqual(all.body.webhooks.map((w: { secrets_readable: boolean }) => w.secrets_readable), [true, true]);
  });

  it('re-encrypts every secret under the newest key, resumably, after which the old key can go', async () => {
    const ids = await seedUnderKeyA();
    const { plugin, warnings } = await pluginWith([KEY_B, KEY_A]);
    const [warning] = secretWarnings(warnings);
    assert.match(warning?.message ?? '', /0 cannot be decrypted.*3 are sealed under an older key/);

    const progress: SecretKeyCounts[] = [];
    const first = await plugin.reencryptSecrets({ onProgress: (c) => progress.push(c) });
    assert.equal(first.reencrypted, 3);
    assert.equal(first.unreadable, 0);
    assert.equal(first.activeKeyId, 'key-b');
    assert.ok(progress.length >= 1 && progress.at(-1)!.scanned === 3, JSON.stringify(progress));
    for (const id of ids) {
      const [record] = await plugin.store.findWebhooksByIds([id]);
      assert.match(record.secrets, /^v1\.key-b\./, 'sealed under the newest key in the store');
    }

    const second = await plugin.reencryptSecrets();
    assert.equal(second.reencrypted, 0, 'a rerun finds nothing left to do');
    assert.equal(second.current, 3);
    await plugin.stop();

    const { plugin: onlyB, warnings: onlyBWarnings } = await pluginWith([KEY_B]);
    assert.deepEqual(secretWarnings(onlyBWarnings), [], 'nothing left under the old key');
    const list = await request(createAdminHost(onlyB)).get(`${API}/webhooks`).set(ACME);
    assert.equal(list.status, 200);
    assert.ok(list.body.webhooks.every((w: { secrets_readable: boolean; authorization: string | null }) => w.secrets_readable && w.authorization));
    const globex = await onlyB.webhooks.get('globex', ids[2]);
    assert.equal(globex.secrets_readable, true);
  });

  it('counts a secret it cannot read without touching it, and leaves the others current', async () => {
    const [one, two] = await seedUnderKeyA();
    const { plugin } = await pluginWith([KEY_A]);
    // Sealed under a key neither plugin below has.
    const [record] = await plugin.store.findWebhooksByIds([one]);
    const stranger = record.secrets.replace(/^v1\.key-a\./, 'v1.key-x.');
    await plugin.store.updateWebhook('acme', one, { secrets: stranger, updatedAt: record.updatedAt });
    await plugin.stop();

    const { plugin: rekeying } = await pluginWith([KEY_B, KEY_A]);
    const report = await rekeying.reencryptSecrets();
    assert.equal(report.unreadable, 1);
    assert.equal(report.reencrypted, 2);
    assert.deepEqual(report.unreadableWebhooks, [{ webhookId: one, tenantId: 'acme', keyId: 'key-x' }]);
    const [untouched] = await rekeying.store.findWebhooksByIds([one]);
    assert.equal(untouched.secrets, stranger);
    const view = await rekeying.webhooks.get('acme', two);
    assert.equal(view.secrets_readable, true);
  });

  it('`npm run rekey` re-encrypts from the environment and prints its progress', async () => {
    await seedUnderKeyA();
    const run = () => promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/rekey.ts'], {
      env: { ...process.env, DATABASE_URL: connectionString, MONGODB_URI: '', WEBHOOKS_ENCRYPTION_KEYS: JSON.stringify([KEY_B, KEY_A]) },
    });
    const first = await run();
    assert.match(first.stdout, /scanned 3: re-encrypted 3, already current 0, unreadable 0/);
    assert.match(first.stdout, /Done: 3 re-encrypted under "key-b"/);
    const second = await run();
    assert.match(second.stdout, /Done: 0 re-encrypted under "key-b", 3 already current/);
  });
});
