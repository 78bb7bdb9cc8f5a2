import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST_API_VERSION } from '../../example/plugins/host-api.js';
import { loadPlugin, PluginLoadError, readManifest } from '../../example/plugins/plugin-loader.js';
import { InvalidRangeError, satisfies } from '../../example/plugins/semver-range.js';
import type { WebhooksPlugin } from '../../plugin/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCHEMA = join(ROOT, 'manifest.schema.json');
const MANIFEST = JSON.parse(readFileSync(join(ROOT, 'manifest.json'), 'utf8')) as Record<string, any>;
const OPTIONS = {
  storage: { postgres: { connectionString: 'postgresql://u:p@127.0.0.1:1/x' } },
  encryptionKeys: [{ id: 'k1', key: randomBytes(32).toString('base64') }],
  runWorker: false,
};

/** A plugin package in a temporary folder: the real manifest changed by `edit`, and optional files. */
function fakePlugin(edit: (manifest: Record<string, any>) => void, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'plugin-loader-'));
  const manifest = structuredClone(MANIFEST);
  edit(manifest);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function refusal(promise: Promise<unknown>): Promise<PluginLoadError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PluginLoadError, `expected a PluginLoadError, got ${String(error)}`);
    return error;
  }
  assert.fail('the plugin was loaded');
}

describe('example host: plugin loader', () => {
  const dirs: string[] = [];
  const plugin = (edit: (m: Record<string, any>) => void, files?: Record<string, string>) => {
    const dir = fakePlugin(edit, files);
    dirs.push(dir);
    return dir;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('loads the webhooks plugin from its manifest and checks every hook it promises', async () => {
    const loaded = await loadPlugin<WebhooksPlugin>({ root: ROOT, options: OPTIONS, hostApiVersion: HOST_API_VERSION, manifestSchemaPath: SCHEMA, preferSource: true });
    try {
      assert.equal(loaded.manifest.id, 'identity-webhooks');
      assert.equal(typeof loaded.createAdminRouter, 'function');
      assert.equal(typeof loaded.instance.hooks.userLogin, 'function');
      assert.equal(loaded.instance.defaultTenantId, 'default');
    } finally {
      await loaded.instance.stop();
    }
  });

  it('puts the host services at the x-runtimeOnly pointers the manifest lists, and only there', async () => {
    const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const loaded = await loadPlugin<WebhooksPlugin>({
      root: ROOT, options: OPTIONS, hostApiVersion: HOST_API_VERSION, manifestSchemaPath: SCHEMA, preferSource: true,
      services: { '/logger': logger, '/not/declared': 'ignored' },
    });
    try {
      // The plugin's option validation copies the object; its functions are the host's.
      assert.equal(loaded.instance.logger.error, logger.error);
    } finally {
      await loaded.instance.stop();
    }
  });

  it('refuses a manifest that breaks the schema, naming the path and the rule', async () => {
    const dir = plugin((m) => {
      delete m.entry.factory;
      m.id = 'Not Kebab';
    });
    const error = await refusal(loadPlugin({ root: dir, options: OPTIONS, hostApiVersion: HOST_API_VERSION, manifestSchemaPath: SCHEMA }));
    assert.equal(error.code, 'manifest_invalid');
    assert.match(error.message, /manifest\.json does not match .*manifest\.schema\.json/);
    assert.ok(error.problems.includes("/entry: must have required property 'factory'"), error.message);
    assert.ok(error.problems.some((p) => p.startsWith('/id: must match pattern')), error.message);
  });

  it('refuses a plugin whose hostApi range excludes this host', async () => {
    const dir = plugin((m) => {
      m.hostApi = '^2.0.0';
    });
    const error = await refusal(loadPlugin({ root: dir, options: OPTIONS, hostApiVersion: '1.0.0', manifestSchemaPath: SCHEMA }));
    assert.equal(error.code, 'host_api_unsupported');
    assert.equal(error.message, 'Plugin "identity-webhooks" 0.1.0 supports host API ^2.0.0, but this host implements 1.0.0; install a version of the plugin built for host API 1.x');
    assert.doesNotThrow(() => readManifest(dir, SCHEMA, '2.3.1'));
  });

  it('refuses an unreadable manifest and a tab whose element is not the one the UI module defines', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'plugin-loader-'));
    dirs.push(empty);
    assert.equal((await refusal(loadPlugin({ root: empty, hostApiVersion: '1.0.0', manifestSchemaPath: SCHEMA }))).code, 'manifest_unreadable');
    const broken = plugin(() => undefined);
    writeFileSync(join(broken, 'manifest.json'), '{ "id": ');
    assert.match((await refusal(loadPlugin({ root: broken, hostApiVersion: '1.0.0', manifestSchemaPath: SCHEMA }))).message, /is not valid JSON/);
    const mismatch = plugin((m) => {
      m.adminTab.element = 'other-element';
    });
    const error = await refusal(loadPlugin({ root: mismatch, hostApiVersion: '1.0.0', manifestSchemaPath: SCHEMA }));
    assert.match(error.message, /adminTab\.element "other-element" is not the element entry\.adminUi defines \("webhook-settings"\)/);
  });

  it('refuses options that break the manifest optionsSchema before importing anything', async () => {
    const error = await refusal(loadPlugin({
      root: ROOT, hostApiVersion: HOST_API_VERSION, manifestSchemaPath: SCHEMA, preferSource: true,
      options: { ...OPTIONS, delivery: { timeoutMs: 'fast' }, colour: 'blue' },
    }));
    assert.equal(error.code, 'options_invalid');
    assert.ok(error.problems.includes('/delivery/timeoutMs: must be integer'), error.message);
    assert.ok(error.problems.includes('/: must NOT have additional properties (colour)'), error.message);
  });

  it('refuses a missing build, a module without the factory, and a factory result without the promised hooks', async () => {
    const unbuilt = plugin((m) => {
      m.entry.server = './dist/index.js';
    });
    const missing = await refusal(loadPlugin({ root: unbuilt, options: OPTIONS, hostApiVersion: '1.0.0', manifestSchemaPath: SCHEMA }));
    assert.equal(missing.code, 'entry_missing');
    assert.match(missing.message, /build the plugin first/);

    const noFactory = plugin((m) => {
      m.entry.server = './index.mjs';
    }, { 'index.mjs': 'export const somethingElse = 1;\n' });
    assert.match((await refusal(loadPlugin({ root: noFactory, options: OPTIONS, hostApiVersion: '1.0.0', manifestSchemaPath: SCHEMA }))).message,
      /exports no function "createWebhooksPlugin"/);

    const partial = plugin((m) => {
      m.entry.server = './index.mjs';
    }, {
      'index.mjs': [
        'export function createWebhooksPlugin() { return { hooks: { userLogin() {} }, start() {}, stop() {} }; }',
        'export function createAdminRouter() {}',
      ].join('\n'),
    });
    const contract = await refusal(loadPlugin({ root: partial, options: OPTIONS, hostApiVersion: '1.0.0', manifestSchemaPath: SCHEMA }));
    assert.equal(contract.code, 'contract_violation');
    assert.ok(contract.problems.includes('hooks.userLogout (emits USER_LOGOUT)'), contract.message);
    assert.ok(contract.problems.includes('instrumentPassport (hooks.passport)'), contract.message);
    assert.ok(!contract.problems.some((p) => p.startsWith('hooks.userLogin ')));
  });

  it('reports a factory that refuses its options as options_rejected, with the plugin\'s reason', async () => {
    const error = await refusal(loadPlugin({
      root: ROOT, hostApiVersion: HOST_API_VERSION, manifestSchemaPath: SCHEMA, preferSource: true,
      options: { ...OPTIONS, delivery: { timeoutMs: 5_000, leaseMs: 4_000 } },
    }));
    assert.equal(error.code, 'options_rejected');
    assert.match(error.message, /"delivery\.leaseMs" must be greater than "delivery\.timeoutMs"/);
  });
});

describe('example host: semver ranges of hostApi', () => {
  const cases: Array<[string, string, boolean]> = [
    ['1.0.0', '^1.0.0', true],
    ['1.9.3', '^1.0.0', true],
    ['2.0.0', '^1.0.0', false],
    ['0.9.0', '^1.0.0', false],
    ['0.2.5', '^0.2.3', true],
    ['0.3.0', '^0.2.3', false],
    ['0.0.3', '^0.0.3', true],
    ['0.0.4', '^0.0.3', false],
    ['1.2.9', '~1.2.3', true],
    ['1.3.0', '~1.2.3', false],
    ['1.9.0', '~1', true],
    ['1.5.0', '>=1.2.0 <3.0.0', true],
    ['3.0.0', '>=1.2.0 <3.0.0', false],
    ['2.4.0', '^1.0.0 || ^2.1', true],
    ['2.0.5', '^1.0.0 || ^2.1', false],
    ['1.4.2', '1.x', true],
    ['1.4.2', '1.4', true],
    ['1.5.0', '1.4', false],
    ['1.4.2', '=1.4.2', true],
    ['7.0.0', '*', true],
    ['1.3.0', '>1.2', true],
    ['1.2.9', '>1.2', false],
    ['1.2.9', '<=1.2', true],
    ['1.3.0', '<=1.2', false],
    ['2.0.0-beta.1', '^1.0.0', false],
    ['1.5.0-rc.1', '^1.0.0', false],
    ['1.0.0-rc.2', '>=1.0.0-rc.1', true],
    ['1.0.0-rc.1', '>=1.0.0-rc.2', false],
  ];
  for (const [version, range, expected] of cases) {
    it(`${version} ${expected ? 'satisfies' : 'does not satisfy'} ${range}`, () => {
      assert.equal(satisfies(version, range), expected);
    });
  }

  it('refuses what it cannot read', () => {
    assert.throws(() => satisfies('1.0', '^1.0.0'), InvalidRangeError);
    assert.throws(() => satisfies('1.0.0', '^1.0.0 ||'), InvalidRangeError);
    assert.throws(() => satisfies('1.0.0', 'latest'), InvalidRangeError);
  });
});
