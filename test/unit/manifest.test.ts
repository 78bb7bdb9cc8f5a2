import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020.js';
import * as serverEntry from '../../plugin/index.js';
import { createWebhooksPlugin, DEFAULT_DELIVERY_OPTIONS, InvalidOptionsError, type LifecycleHooks, type WebhooksPlugin } from '../../plugin/index.js';
import type { EventRecorder } from '../../plugin/events/event-recorder.js';
import { mapUser } from '../../plugin/events/user-mapper.js';
import { createLifecycleHooks } from '../../plugin/host/lifecycle-hooks.js';
import { resolveOptions } from '../../plugin/options.js';
import { DEFAULT_COLLECTION_PREFIX } from '../../plugin/store/mongo/mongo-models.js';

/** A JSON Schema node, as far as these tests look into one. */
interface SchemaNode {
  description?: string;
  default?: unknown;
  required?: string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  oneOf?: SchemaNode[];
  [keyword: string]: unknown;
}

interface Manifest {
  $schema: string;
  id: string;
  version: string;
  entry: { server: string; factory: string; adminRouter?: string; adminUi?: { element: string; module: string } };
  hooks: { lifecycle: { method: string; emits: string }[]; passport?: string };
  adminTab?: { element: string; path: string };
  mount?: { adminApi?: string };
  permissions: { id: string; reason: string }[];
  optionsSchema: SchemaNode & { 'x-runtimeOnly': string[] };
}

// Read, not imported: a JSON import would make `tsc` copy package.json and the manifest into dist/.
const readRootJson = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../${name}`, import.meta.url), 'utf8'));
const manifest = readRootJson('manifest.json') as Manifest;
const manifestSchema = readRootJson('manifest.schema.json') as SchemaNode;
const packageJson = readRootJson('package.json') as { version: string; main: string; exports: Record<string, string> };

/**
 * Ajv in strict mode. `x-runtimeOnly` is the one annotation the options schema adds to the
 * standard vocabulary; strict mode refuses unknown keywords unless they are declared.
 */
const strictAjv = () => new Ajv2020.default({ strict: true, allErrors: true, keywords: ['x-runtimeOnly'] });

const key = () => randomBytes(32).toString('base64');
const KEY = key();
const CONNECTION_STRING = 'postgresql://u:p@127.0.0.1:1/x';
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** The smallest options the plugin accepts; runWorker false because nothing here starts it. */
const minimal = () => ({
  storage: { postgres: { connectionString: CONNECTION_STRING } },
  encryptionKeys: [{ id: 'k', key: KEY }],
  runWorker: false,
});
/** `minimal()` with `delivery` merged in. */
const withDelivery = (delivery: Record<string, unknown>) => ({ ...minimal(), delivery });
const withCustomType = (item: unknown) => ({ ...minimal(), customEventTypes: [item] });

/** What `createWebhooksPlugin` makes of the options: any error other than InvalidOptionsError fails the test. */
async function pluginAccepts(options: unknown): Promise<boolean> {
  let plugin: WebhooksPlugin;
  try {
    plugin = createWebhooksPlugin(options as Parameters<typeof createWebhooksPlugin>[0]);
  } catch (error) {
    if (error instanceof InvalidOptionsError) return false;
    throw error;
  }
  await plugin.stop(); // never started: this only ends the pool it never connected
  return true;
}

/** Every property schema under `node`, with its dotted path. */
function* propertiesOf(node: SchemaNode, path = ''): Generator<[string, SchemaNode]> {
  const branches = [node, ...(node.oneOf ?? [])];
  for (const branch of branches) {
    for (const [name, child] of Object.entries(branch.properties ?? {})) {
      const childPath = path ? `${path}.${name}` : name;
      yield [childPath, child];
      yield* propertiesOf(child, childPath);
      if (child.items) yield* propertiesOf(child.items, `${childPath}[]`);
    }
  }
}

/** The schema of the property a JSON Pointer into the options object names. */
function schemaAt(pointer: string): { parent: SchemaNode; node: SchemaNode | undefined } {
  const names = pointer.split('/').slice(1);
  let parent: SchemaNode = manifest.optionsSchema;
  let node: SchemaNode | undefined = parent;
  for (const name of names) {
    parent = node!;
    const owners = [parent, ...(parent.oneOf ?? [])];
    node = owners.map((owner) => owner.properties?.[name]).find((found) => found !== undefined);
    if (!node) break;
  }
  return { parent, node };
}

describe('manifest.json', () => {
  describe('optionsSchema', () => {
    it('is a valid JSON Schema by the draft 2020-12 meta-schema', () => {
      const ajv = strictAjv();
      assert.equal(ajv.validateSchema(manifest.optionsSchema), true, ajv.errorsText(ajv.errors));
      assert.equal(manifest.optionsSchema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    });

    it('compiles with Ajv 2020 in strict mode', () => {
      assert.doesNotThrow(() => strictAjv().compile(manifest.optionsSchema));
    });

    it('describes every property and gives every property with a JSON default its default', () => {
      // Required options, defaults computed at start-up and runtime objects have no JSON default;
      // each says so in its description.
      const withoutJsonDefault = new Set([
        'storage', 'storage.postgres', 'storage.postgres.pool', 'storage.postgres.connectionString', 'storage.mongo',
        'storage.mongo.connection', 'storage.store', 'encryptionKeys', 'encryptionKeys[].id', 'encryptionKeys[].key',
        'customEventTypes[].type', 'customEventTypes[].description', 'customEventTypes[].schema', 'customEventTypes[].example', 'userMapper', 'workerName',
        'logger', 'logger.info', 'logger.warn', 'logger.error', 'clock', 'onOperationalEvent', 'metrics.registry',
      ]);
      const seen: string[] = [];
      for (const [path, node] of propertiesOf(manifest.optionsSchema)) {
        seen.push(path);
        assert.ok(node.description, `${path} has no description`);
        if (withoutJsonDefault.has(path)) {
          assert.equal(node.default, undefined, `${path} should have no default`);
          assert.match(node.description, /no default|default computed|^Runtime only/i, `${path} should say why it has no default`);
        } else {
          assert.notEqual(node.default, undefined, `${path} has no default`);
        }
      }
      for (const path of withoutJsonDefault) assert.ok(seen.includes(path), `${path} is not in the schema`);
    });

    it('has exactly the defaults the plugin applies', () => {
      const resolved = resolveOptions(minimal());
      const top = manifest.optionsSchema.properties!;
      const delivery = top.delivery.properties!;
      const egress = top.egress.properties!;
      assert.deepEqual(
        Object.fromEntries(Object.entries(delivery).map(([name, node]) => [name, node.default])),
        { ...DEFAULT_DELIVERY_OPTIONS },
      );
      assert.deepEqual(resolved.delivery, { ...DEFAULT_DELIVERY_OPTIONS });
      assert.deepEqual(Object.fromEntries(Object.entries(egress).map(([name, node]) => [name, node.default])), resolved.egress);
      assert.equal(top.hookTimeoutMs.default, resolved.hookTimeoutMs);
      assert.equal(top.defaultTenantId.default, resolved.defaultTenantId);
      assert.deepEqual(top.customEventTypes.default, resolved.customEventTypes);
      assert.equal(top.maxEventBytes.default, resolved.maxEventBytes);
      assert.equal(top.runWorker.default, resolveOptions({ ...minimal(), runWorker: undefined }).runWorker);
      assert.equal(schemaAt('/storage/mongo/collectionPrefix').node?.default, DEFAULT_COLLECTION_PREFIX);
      // The PostgreSQL store keeps its default inline; it is the same prefix.
      assert.equal(schemaAt('/storage/postgres/tablePrefix').node?.default, 'webhook_');
      assert.equal(top.customEventTypes.items?.properties?.category.default, 'CUSTOM');
      const metrics = resolved.metrics as Exclude<typeof resolved.metrics, false>;
      const metricsSchema = top.metrics.oneOf![1].properties!;
      assert.deepEqual([top.metrics.default, metricsSchema.prefix.default, metricsSchema.perWebhookLabels.default],
        [{}, metrics.prefix, metrics.perWebhookLabels]);
    });

    it('lists the runtime-only options, each described, without a default and not required', () => {
      const runtimeOnly = manifest.optionsSchema['x-runtimeOnly'];
      assert.deepEqual([...runtimeOnly].sort(), [
        '/clock', '/logger', '/metrics/registry', '/onOperationalEvent', '/storage/mongo/connection', '/storage/postgres/pool', '/storage/store', '/userMapper',
      ]);
      for (const pointer of runtimeOnly) {
        const { parent, node } = schemaAt(pointer);
        assert.ok(node, `${pointer} is not in the schema`);
        assert.match(node.description ?? '', /^Runtime only: /, pointer);
        assert.equal(node.default, undefined, pointer);
        const name = pointer.split('/').at(-1)!;
        assert.ok(!(parent.required ?? []).includes(name), `${pointer} is required`);
      }
    });

    describe('agrees with the plugin on whether options are valid', () => {
      // Compiled in a hook, so a schema that does not compile fails these tests instead of the run.
      let validate: ValidateFunction;
      before(() => {
        validate = strictAjv().compile(manifest.optionsSchema);
      });
      const everyDeliveryOption = {
        timeoutMs: 10_000, retryScheduleMs: [0, 1_000, 60_000], jitter: 0.1, maxRetryAfterMs: 600_000,
        disableAfterMs: 86_400_000, concurrency: 16, batchSize: 50, leaseMs: 30_000, pollIntervalMs: 500,
        responseExcerptBytes: 512, retentionMs: 604_800_000, secretOverlapMs: 3_600_000,
      };
      const cases: { name: string; valid: boolean; options: unknown }[] = [
        { name: 'minimal: a connection string and one key', valid: true, options: minimal() },
        {
          name: 'every JSON-representable option, with every delivery option',
          valid: true,
          options: {
            storage: { postgres: { connectionString: 'postgres://webhooks:secret@db.internal:5432/identity?sslmode=require', tablePrefix: 'hooks_' } },
            encryptionKeys: [{ id: 'key-2025', key: key() }, { id: 'key_2024', key: KEY }],
            defaultTenantId: 'acme',
            customEventTypes: [{ type: 'ORDER_PLACED', category: 'SHOP', description: 'An order was placed.' }],
            maxEventBytes: 131_072,
            runWorker: false,
            workerName: 'web-1',
            delivery: everyDeliveryOption,
            egress: { allow: ['10.0.0.0/8', 'localhost'], allowByTenant: { acme: ['10.20.0.0/16', 'receiver.internal'] }, httpsOnly: true, privateResponseBodies: true },
          },
        },
        { name: 'delivery and egress as empty objects', valid: true, options: { ...minimal(), delivery: {}, egress: {} } },
        {
          name: 'the smallest value of every bounded option',
          valid: true,
          options: {
            ...minimal(), maxEventBytes: 1_024,
            delivery: {
              timeoutMs: 100, retryScheduleMs: [0], jitter: 0, maxRetryAfterMs: 0, disableAfterMs: 60_000, concurrency: 1,
              batchSize: 1, leaseMs: 1_000, pollIntervalMs: 10, responseExcerptBytes: 0, retentionMs: 60_000, secretOverlapMs: 0,
            },
          },
        },
        {
          name: 'the largest value of every bounded option',
          valid: true,
          options: {
            ...minimal(), maxEventBytes: 1_048_576, defaultTenantId: 't'.repeat(128), workerName: 'w'.repeat(200),
            egress: { allow: ['h'.repeat(255)] },
            delivery: {
              timeoutMs: 120_000, retryScheduleMs: Array(50).fill(MAX_SAFE), jitter: 1, maxRetryAfterMs: MAX_SAFE,
              disableAfterMs: MAX_SAFE, concurrency: 2_048, batchSize: 5_000, leaseMs: MAX_SAFE, pollIntervalMs: 600_000,
              responseExcerptBytes: 65_536, retentionMs: MAX_SAFE, secretOverlapMs: MAX_SAFE,
            },
          },
        },
        {
          name: 'a socket-directory connection string',
          valid: true,
          options: { ...minimal(), storage: { postgres: { connectionString: 'postgresql:///identity?host=/var/run/postgresql' } } },
        },
        {
          name: 'a custom event type with a padded 300-character description and no category',
          valid: true,
          options: withCustomType({ type: 'ORDER_PLACED', description: `  ${'d'.repeat(300)}\n` }),
        },
        { name: 'a custom event type with extra keys', valid: true, options: withCustomType({ type: 'A1_B2', description: 'x', docs: 'ignored' }) },

        { name: 'not an object', valid: false, options: null },
        { name: 'missing encryptionKeys', valid: false, options: { storage: minimal().storage } },
        { name: 'missing storage', valid: false, options: { encryptionKeys: minimal().encryptionKeys } },
        { name: 'an unknown top-level key', valid: false, options: { ...minimal(), retries: 3 } },
        { name: 'delivery.pollIntervalMs as a string', valid: false, options: withDelivery({ pollIntervalMs: '1000' }) },
        { name: 'delivery.batchSize 0', valid: false, options: withDelivery({ batchSize: 0 }) },
        { name: 'no encryption keys', valid: false, options: { ...minimal(), encryptionKeys: [] } },
        { name: 'a 31-byte key', valid: false, options: { ...minimal(), encryptionKeys: [{ id: 'k', key: randomBytes(31).toString('base64') }] } },
        { name: 'a 33-byte key', valid: false, options: { ...minimal(), encryptionKeys: [{ id: 'k', key: randomBytes(33).toString('base64') }] } },
        { name: 'a key without its padding', valid: false, options: { ...minimal(), encryptionKeys: [{ id: 'k', key: KEY.slice(0, -1) }] } },
        { name: 'a key that is not base64', valid: false, options: { ...minimal(), encryptionKeys: [{ id: 'k', key: `${'!'.repeat(43)}=` }] } },
        { name: 'a key id with a space', valid: false, options: { ...minimal(), encryptionKeys: [{ id: 'my key', key: KEY }] } },
        { name: 'a key id of 33 characters', valid: false, options: { ...minimal(), encryptionKeys: [{ id: 'k'.repeat(33), key: KEY }] } },
        { name: 'an unknown key in an encryption key', valid: false, options: { ...minimal(), encryptionKeys: [{ id: 'k', key: KEY, alg: 'aes' }] } },
        { name: 'empty storage', valid: false, options: { ...minimal(), storage: {} } },
        {
          name: 'two storage backends',
          valid: false,
          options: { ...minimal(), storage: { postgres: { connectionString: CONNECTION_STRING }, mongo: {} } },
        },
        { name: 'postgres without a connection string', valid: false, options: { ...minimal(), storage: { postgres: { tablePrefix: 'x_' } } } },
        { name: 'a MySQL connection string', valid: false, options: { ...minimal(), storage: { postgres: { connectionString: 'mysql://u:p@h/db' } } } },
        { name: 'an upper-case scheme', valid: false, options: { ...minimal(), storage: { postgres: { connectionString: 'POSTGRES://h/db' } } } },
        { name: 'a connection string with a space', valid: false, options: { ...minimal(), storage: { postgres: { connectionString: 'postgres://h/my db' } } } },
        {
          name: 'an upper-case table prefix',
          valid: false,
          options: { ...minimal(), storage: { postgres: { connectionString: CONNECTION_STRING, tablePrefix: 'Hooks_' } } },
        },
        {
          name: 'a 32-character table prefix',
          valid: false,
          options: { ...minimal(), storage: { postgres: { connectionString: CONNECTION_STRING, tablePrefix: 'p'.repeat(32) } } },
        },
        {
          name: 'an unknown postgres option',
          valid: false,
          options: { ...minimal(), storage: { postgres: { connectionString: CONNECTION_STRING, ssl: true } } },
        },
        { name: 'an unknown delivery option', valid: false, options: withDelivery({ retries: 3 }) },
        { name: 'an unknown egress option', valid: false, options: { ...minimal(), egress: { deny: [] } } },
        { name: 'delivery.timeoutMs 99', valid: false, options: withDelivery({ timeoutMs: 99 }) },
        { name: 'delivery.timeoutMs 120001', valid: false, options: withDelivery({ timeoutMs: 120_001, leaseMs: 200_000 }) },
        { name: 'delivery.timeoutMs 1.5 s as a fraction', valid: false, options: withDelivery({ timeoutMs: 1500.5 }) },
        { name: 'delivery.jitter 1.5', valid: false, options: withDelivery({ jitter: 1.5 }) },
        { name: 'delivery.jitter below 0', valid: false, options: withDelivery({ jitter: -0.1 }) },
        { name: 'an empty retry schedule', valid: false, options: withDelivery({ retryScheduleMs: [] }) },
        { name: 'a retry schedule of 51 attempts', valid: false, options: withDelivery({ retryScheduleMs: Array(51).fill(0) }) },
        { name: 'a fractional retry delay', valid: false, options: withDelivery({ retryScheduleMs: [0, 1.5] }) },
        { name: 'a negative retry delay', valid: false, options: withDelivery({ retryScheduleMs: [-1] }) },
        { name: 'a retry delay beyond the safe integers', valid: false, options: withDelivery({ retryScheduleMs: [2 ** 53] }) },
        { name: 'delivery.maxRetryAfterMs beyond the safe integers', valid: false, options: withDelivery({ maxRetryAfterMs: 2 ** 53 }) },
        { name: 'delivery.disableAfterMs 59999', valid: false, options: withDelivery({ disableAfterMs: 59_999 }) },
        { name: 'delivery.concurrency 2049', valid: false, options: withDelivery({ concurrency: 2_049 }) },
        { name: 'delivery.batchSize 5001', valid: false, options: withDelivery({ batchSize: 5_001 }) },
        { name: 'delivery.leaseMs 999', valid: false, options: withDelivery({ leaseMs: 999 }) },
        { name: 'delivery.pollIntervalMs 9', valid: false, options: withDelivery({ pollIntervalMs: 9 }) },
        { name: 'delivery.pollIntervalMs 600001', valid: false, options: withDelivery({ pollIntervalMs: 600_001 }) },
        { name: 'delivery.responseExcerptBytes 65537', valid: false, options: withDelivery({ responseExcerptBytes: 65_537 }) },
        { name: 'delivery.retentionMs 59999', valid: false, options: withDelivery({ retentionMs: 59_999 }) },
        { name: 'delivery.secretOverlapMs below 0', valid: false, options: withDelivery({ secretOverlapMs: -1 }) },
        { name: 'maxEventBytes 1023', valid: false, options: { ...minimal(), maxEventBytes: 1_023 } },
        { name: 'maxEventBytes 1048577', valid: false, options: { ...minimal(), maxEventBytes: 1_048_577 } },
        { name: 'runWorker as a string', valid: false, options: { ...minimal(), runWorker: 'false' } },
        { name: 'an empty defaultTenantId', valid: false, options: { ...minimal(), defaultTenantId: '' } },
        { name: 'a 129-character defaultTenantId', valid: false, options: { ...minimal(), defaultTenantId: 't'.repeat(129) } },
        { name: 'a defaultTenantId with a space', valid: false, options: { ...minimal(), defaultTenantId: 'acme corp' } },
        { name: 'an empty workerName', valid: false, options: { ...minimal(), workerName: '' } },
        { name: 'an empty egress.allow entry', valid: false, options: { ...minimal(), egress: { allow: [''] } } },
        { name: 'egress.httpsOnly as a string', valid: false, options: { ...minimal(), egress: { httpsOnly: 'yes' } } },
        { name: 'an egress.allowByTenant key that is no tenant id', valid: false, options: { ...minimal(), egress: { allowByTenant: { 'acme corp': ['10.0.0.1'] } } } },
        { name: 'an egress.allowByTenant list given as a string', valid: false, options: { ...minimal(), egress: { allowByTenant: { acme: '10.0.0.1' } } } },
        { name: 'egress.privateResponseBodies as a string', valid: false, options: { ...minimal(), egress: { privateResponseBodies: 'yes' } } },
        { name: 'a lower-case custom event type', valid: false, options: withCustomType({ type: 'order_placed', description: 'x' }) },
        { name: 'a 65-character custom event type', valid: false, options: withCustomType({ type: 'A'.repeat(65), description: 'x' }) },
        { name: 'a custom event type without a description', valid: false, options: withCustomType({ type: 'ORDER_PLACED' }) },
        { name: 'a blank custom event description', valid: false, options: withCustomType({ type: 'ORDER_PLACED', description: ' \n ' }) },
        {
          name: 'a custom event description of 301 characters',
          valid: false,
          options: withCustomType({ type: 'ORDER_PLACED', description: 'd'.repeat(301) }),
        },
        { name: 'a lower-case custom category', valid: false, options: withCustomType({ type: 'ORDER_PLACED', category: 'shop', description: 'x' }) },
        { name: 'a custom event type given as a string', valid: false, options: withCustomType('ORDER_PLACED') },
        { name: 'metrics: false', valid: true, options: { ...minimal(), metrics: false } },
        { name: 'metrics with a prefix and per-webhook labels', valid: true, options: { ...minimal(), metrics: { prefix: 'idp_webhooks_', perWebhookLabels: true } } },
        { name: 'an empty metrics prefix', valid: true, options: { ...minimal(), metrics: { prefix: '' } } },
        { name: 'metrics: true', valid: false, options: { ...minimal(), metrics: true } },
        { name: 'a metrics prefix with a dash', valid: false, options: { ...minimal(), metrics: { prefix: 'web-hooks_' } } },
        { name: 'an unknown metrics option', valid: false, options: { ...minimal(), metrics: { labels: true } } },
        { name: 'metrics.perWebhookLabels as a string', valid: false, options: { ...minimal(), metrics: { perWebhookLabels: 'yes' } } },
      ];

      for (const { name, valid, options } of cases) {
        it(`${valid ? 'accepts' : 'rejects'} ${name}`, async () => {
          const schemaAccepts = validate(options);
          assert.equal(schemaAccepts, valid, `schema: ${validate.errors ? JSON.stringify(validate.errors) : 'no errors'}`);
          assert.equal(await pluginAccepts(options), valid, 'createWebhooksPlugin');
        });
      }
    });

    describe('leaves to the plugin the checks JSON Schema cannot express', () => {
      let validate: ValidateFunction;
      before(() => {
        validate = strictAjv().compile(manifest.optionsSchema);
      });
      const gaps: { name: string; options: unknown }[] = [
        { name: 'two encryption keys with one id', options: { ...minimal(), encryptionKeys: [{ id: 'k', key: KEY }, { id: 'k', key: key() }] } },
        { name: 'a lease no longer than the request timeout', options: withDelivery({ timeoutMs: 60_000 }) },
        { name: 'a custom event type named like a built-in', options: withCustomType({ type: 'USER_LOGIN', description: 'x' }) },
        {
          name: 'a custom event type registered twice',
          options: { ...minimal(), customEventTypes: [{ type: 'ORDER_PLACED', description: 'x' }, { type: 'ORDER_PLACED', description: 'y' }] },
        },
        // The plugin throws a TypeError here, not InvalidOptionsError (see the report on options.ts).
        { name: 'an egress.allow entry that is no address or hostname', options: { ...minimal(), egress: { allow: ['not a host!'] } } },
        { name: 'an egress.allowByTenant entry that is no address or hostname', options: { ...minimal(), egress: { allowByTenant: { acme: ['10.0.0.0/33'] } } } },
        { name: 'mongo storage without its runtime connection', options: { ...minimal(), storage: { mongo: { collectionPrefix: 'hooks_' } } } },
        { name: 'a connection string outside the URI grammar', options: { ...minimal(), storage: { postgres: { connectionString: 'postgres://' } } } },
      ];
      for (const { name, options } of gaps) {
        it(`schema accepts and plugin rejects ${name}`, () => {
          assert.equal(validate(options), true, JSON.stringify(validate.errors));
          assert.throws(() => createWebhooksPlugin(options as Parameters<typeof createWebhooksPlugin>[0]));
        });
      }
    });
  });

  describe('the manifest itself', () => {
    it('references manifest.schema.json, a valid draft 2020-12 schema', () => {
      assert.equal(manifest.$schema, './manifest.schema.json');
      const ajv = strictAjv();
      assert.equal(ajv.validateSchema(manifestSchema), true, ajv.errorsText(ajv.errors));
      assert.equal(manifestSchema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    });

    it('is valid by manifest.schema.json', () => {
      const validate = strictAjv().compile(manifestSchema);
      assert.equal(validate(manifest), true, JSON.stringify(validate.errors, null, 2));
    });

    it('is rejected by manifest.schema.json when a required field is missing or malformed', () => {
      const validate = strictAjv().compile(manifestSchema);
      const broken: [string, unknown][] = [
        ['no id', { ...manifest, id: undefined }],
        ['a version that is not semver', { ...manifest, version: '1.0' }],
        ['a hostApi that is not a range', { ...manifest, hostApi: 'latest' }],
        ['an admin tab without the admin UI entry', { ...manifest, entry: { ...manifest.entry, adminUi: undefined } }],
        ['a mounted API without the router entry', { ...manifest, entry: { ...manifest.entry, adminRouter: undefined } }],
        ['an entry outside the package', { ...manifest, entry: { ...manifest.entry, server: '../other/index.js' } }],
        ['a permission without a reason', { ...manifest, permissions: [{ id: 'network:outbound-http' }] }],
        ['an unknown top-level field', { ...manifest, main: './index.js' }],
      ];
      for (const [name, value] of broken) {
        assert.equal(validate(JSON.parse(JSON.stringify(value))), false, name);
      }
    });

    it('has the version and server entry of package.json', () => {
      assert.equal(manifest.version, packageJson.version);
      assert.equal(manifest.entry.server, packageJson.main);
      assert.equal(manifest.entry.server, packageJson.exports['.']);
    });

    it('names a factory the server entry exports', () => {
      assert.equal(typeof (serverEntry as Record<string, unknown>)[manifest.entry.factory], 'function');
    });

    it('shows in its admin tab the element its admin UI defines', () => {
      assert.equal(manifest.adminTab?.element, manifest.entry.adminUi?.element);
    });

    it('explains each permission once', () => {
      const ids = manifest.permissions.map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length);
      assert.deepEqual([...ids].sort(), [
        'admin:add-tab', 'admin:mount-router', 'database:read-write', 'events:subscribe-lifecycle', 'network:outbound-http',
      ]);
    });
  });

  describe('hooks', () => {
    let plugin: WebhooksPlugin;
    before(() => {
      plugin = createWebhooksPlugin({
        storage: { postgres: { connectionString: CONNECTION_STRING } },
        encryptionKeys: [{ id: 'k', key: KEY }],
        runWorker: false,
      });
    });
    after(async () => {
      await plugin.stop();
    });

    it('names every hook of a real plugin once, and no other', () => {
      const named = manifest.hooks.lifecycle.map((h) => h.method);
      assert.equal(new Set(named).size, named.length, 'a hook is named twice');
      assert.deepEqual([...named].sort(), Object.keys(plugin.hooks).sort());
    });

    it('names the plugin method that instruments Passport', () => {
      assert.equal(manifest.hooks.passport, 'instrumentPassport');
      assert.equal(typeof (plugin as unknown as Record<string, unknown>)[manifest.hooks.passport], 'function');
    });

    it('gives each hook an event type the catalogue knows, and "*" only to emit', () => {
      for (const { method, emits } of manifest.hooks.lifecycle) {
        if (method === 'emit') assert.equal(emits, '*');
        else assert.ok(plugin.catalogue.has(emits), `${method} emits ${emits}, which is not in the catalogue`);
      }
    });

    it('gives each hook the event type it records', async () => {
      const recorded: string[] = [];
      const recorder = {
        async record(type: string) {
          recorded.push(type);
          return {} as Awaited<ReturnType<EventRecorder['record']>>;
        },
      } as unknown as EventRecorder;
      const hooks = createLifecycleHooks({ recorder, mapUser, defaultTenantId: 'default' });
      const user = { id: 'u1', email: 'ada@example.com' };
      const role = { id: 'r1', name: 'admin' };
      const sampleArgs: Record<keyof LifecycleHooks, unknown[]> = {
        userLogin: [{ user }], userLoginFailure: [{ username: 'ada' }], userLogout: [{ user }], userCreated: [{ user }],
        userModified: [{ user, changedFields: ['email'] }], userDeleted: [{ user }], mfaVerified: [{ user, method: 'totp' }],
        roleCreated: [{ role }], roleUpdated: [{ role }], roleDeleted: [{ role }], roleAssigned: [{ user, role }],
        roleUnassigned: [{ user, role }], emit: ['ORDER_PLACED', { orderId: 'o1' }],
      };
      for (const { method, emits } of manifest.hooks.lifecycle) {
        const hook = hooks[method as keyof LifecycleHooks] as (...args: unknown[]) => Promise<unknown>;
        await hook(...sampleArgs[method as keyof LifecycleHooks]);
        assert.equal(recorded.at(-1), emits === '*' ? 'ORDER_PLACED' : emits, method);
      }
    });
  });
});
