import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020.js';
import { InvalidRangeError, satisfies } from './semver-range.js';

/** The parts of a plugin manifest (manifest.schema.json) the host acts on. */
export interface PluginManifest {
  id: string;
  name: string;
  version: string;
  description: string;
  entry: {
    server: string;
    factory: string;
    adminRouter?: string;
    adminUi?: { element: string; module: string };
  };
  hostApi: string;
  hooks: { lifecycle: Array<{ method: string; emits: string }>; passport?: string };
  adminTab?: { title: string; section: string; path: string; element: string };
  mount?: { adminApi?: string };
  permissions: Array<{ id: string; reason: string }>;
  optionsSchema: Record<string, unknown> & { 'x-runtimeOnly'?: string[] };
}

/** Why a plugin was refused; `code` is stable, the message names the plugin and the problem. */
export type PluginLoadErrorCode =
  | 'manifest_unreadable'
  | 'manifest_invalid'
  | 'host_api_unsupported'
  | 'entry_missing'
  | 'options_invalid'
  | 'options_rejected'
  | 'contract_violation';

export class PluginLoadError extends Error {
  readonly code: PluginLoadErrorCode;
  /** One line per problem, e.g. `/hostApi: must match pattern ...`. */
  readonly problems: string[];

  constructor(code: PluginLoadErrorCode, message: string, problems: string[] = [], cause?: unknown) {
    super(problems.length ? `${message}:\n  - ${problems.join('\n  - ')}` : message, cause === undefined ? undefined : { cause });
    this.name = 'PluginLoadError';
    this.code = code;
    this.problems = problems;
  }
}

export interface LoadPluginOptions {
  /** Package root of the plugin: the folder holding its manifest.json. */
  root: string;
  /** The plugin's options from the host configuration (JSON values only). Default `{}`. */
  options?: Record<string, unknown>;
  /**
   * Live objects the host can provide, by JSON Pointer into the options object, e.g.
   * `{ '/storage/postgres/pool': pool, '/logger': logger }`. Only the pointers the manifest
   * lists in `optionsSchema['x-runtimeOnly']` are filled in; the rest are ignored.
   */
  services?: Record<string, unknown>;
  /** The host API version this host implements; the manifest's `hostApi` range must include it. */
  hostApiVersion: string;
  /** The manifest JSON Schema the host checks manifests against. */
  manifestSchemaPath: string;
  /**
   * Load a `./dist/...js` entry from its TypeScript source (`./....ts`) when that exists:
   * for a host that itself runs from source under tsx, so the demo never runs a stale build.
   * Default false.
   */
  preferSource?: boolean;
}

/** A plugin that passed every check, built but not yet started. */
export interface LoadedPlugin<Instance = unknown> {
  manifest: PluginManifest;
  root: string;
  /** The server module's exports. */
  module: Record<string, unknown>;
  /** What `entry.factory(options)` returned. */
  instance: Instance;
  /** `entry.adminRouter`, when the manifest names one. */
  createAdminRouter?(instance: Instance, options: unknown): unknown;
}

const formatErrors = (errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).slice(0, 20).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})`
      : e.keyword === 'enum' ? ` (${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)})` : '';
    return `${e.instancePath || '/'}: ${e.message ?? e.keyword}${extra}`;
  });

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PluginLoadError('manifest_unreadable', `Cannot read the ${what} ${path}: ${(error as Error).message}`, [], error);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PluginLoadError('manifest_unreadable', `The ${what} ${path} is not valid JSON: ${(error as Error).message}`, [], error);
  }
}

/**
 * Reads and checks a plugin's manifest: JSON Schema, host API range, and the cross-field
 * rules the schema cannot state. Throws {@link PluginLoadError}; imports nothing.
 */
export function readManifest(root: string, manifestSchemaPath: string, hostApiVersion: string): PluginManifest {
  const manifestPath = join(root, 'manifest.json');
  const manifest = readJson(manifestPath, 'plugin manifest');
  const schema = readJson(manifestSchemaPath, 'manifest schema') as Record<string, unknown>;
  const ajv = new Ajv2020.default({ strict: true, allErrors: true });
  const validate = ajv.compile(schema);
  if (!validate(manifest)) {
    throw new PluginLoadError('manifest_invalid', `Plugin manifest ${manifestPath} does not match ${manifestSchemaPath}`, formatErrors(validate.errors));
  }
  const m = manifest as PluginManifest;
  const label = `Plugin "${m.id}" ${m.version}`;
  let supported: boolean;
  try {
    supported = satisfies(hostApiVersion, m.hostApi);
  } catch (error) {
    if (!(error instanceof InvalidRangeError)) throw error;
    throw new PluginLoadError('manifest_invalid', `${label}: hostApi "${m.hostApi}" is not a version range this host can read: ${error.message}`);
  }
  if (!supported) {
    throw new PluginLoadError('host_api_unsupported',
      `${label} supports host API ${m.hostApi}, but this host implements ${hostApiVersion}; install a version of the plugin built for host API ${hostApiVersion.split('.')[0]}.x`);
  }
  if (m.adminTab && m.entry.adminUi && m.adminTab.element !== m.entry.adminUi.element) {
    throw new PluginLoadError('manifest_invalid', `${label}: adminTab.element "${m.adminTab.element}" is not the element entry.adminUi defines ("${m.entry.adminUi.element}")`);
  }
  return m;
}

/** Sets `value` at a JSON Pointer, creating the objects on the way. */
function setAtPointer(target: Record<string, unknown>, pointer: string, value: unknown): void {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: Record<string, unknown> = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    node[part] = next && typeof next === 'object' ? { ...(next as Record<string, unknown>) } : {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

/** Where the server module lives: inside the package, from source when asked and present. */
function resolveEntry(root: string, entry: string, preferSource: boolean, label: string): string {
  const built = resolve(root, entry);
  const inside = relative(resolve(root), built);
  if (inside.startsWith('..') || isAbsolute(inside)) {
    throw new PluginLoadError('manifest_invalid', `${label}: entry.server "${entry}" points outside the plugin package`);
  }
  if (preferSource && /^\.\/dist\//.test(entry)) {
    const source = resolve(root, entry.replace(/^\.\/dist\//, './').replace(/\.m?js$/, '.ts'));
    if (existsSync(source)) return source;
  }
  if (existsSync(built)) return built;
  throw new PluginLoadError('entry_missing', `${label}: entry.server ${built} does not exist; build the plugin first (npm run build)`);
}

/**
 * Loads one plugin the way the host's configuration enables it: manifest checks, options
 * checked against the manifest's `optionsSchema` (after the host's live services are put in
 * at the `x-runtimeOnly` pointers), the server module imported, the factory called, and the
 * object it returns checked for every hook the manifest promises. Throws {@link PluginLoadError}.
 */
export async function loadPlugin<Instance = unknown>(input: LoadPluginOptions): Promise<LoadedPlugin<Instance>> {
  const root = resolve(input.root);
  const manifest = readManifest(root, input.manifestSchemaPath, input.hostApiVersion);
  const label = `Plugin "${manifest.id}" ${manifest.version}`;

  const runtimeOnly = new Set(manifest.optionsSchema['x-runtimeOnly'] ?? []);
  const options: Record<string, unknown> = structuredClone(input.options ?? {});
  for (const [pointer, service] of Object.entries(input.services ?? {})) {
    if (runtimeOnly.has(pointer) && service !== undefined) setAtPointer(options, pointer, service);
  }
  const ajv = new Ajv2020.default({ strict: true, allErrors: true, keywords: ['x-runtimeOnly'] });
  const validateOptions = ajv.compile(manifest.optionsSchema);
  if (!validateOptions(options)) {
    throw new PluginLoadError('options_invalid', `${label}: the options in the host configuration do not match the manifest's optionsSchema`, formatErrors(validateOptions.errors));
  }

  const modulePath = resolveEntry(root, manifest.entry.server, input.preferSource ?? false, label);
  const module = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  const factory = module[manifest.entry.factory];
  if (typeof factory !== 'function') {
    throw new PluginLoadError('contract_violation', `${label}: ${modulePath} exports no function "${manifest.entry.factory}" (entry.factory)`);
  }
  const createAdminRouter = manifest.entry.adminRouter ? module[manifest.entry.adminRouter] : undefined;
  if (manifest.entry.adminRouter && typeof createAdminRouter !== 'function') {
    throw new PluginLoadError('contract_violation', `${label}: ${modulePath} exports no function "${manifest.entry.adminRouter}" (entry.adminRouter)`);
  }

  let instance: Record<string, unknown>;
  try {
    instance = (factory as (options: unknown) => Record<string, unknown>)(options);
  } catch (error) {
    throw new PluginLoadError('options_rejected', `${label} refused its options: ${(error as Error).message}`, [], error);
  }
  const hooks = (instance?.hooks ?? {}) as Record<string, unknown>;
  const missing = [
    ...manifest.hooks.lifecycle.filter((h) => typeof hooks[h.method] !== 'function').map((h) => `hooks.${h.method} (emits ${h.emits})`),
    ...(manifest.hooks.passport && typeof instance?.[manifest.hooks.passport] !== 'function' ? [`${manifest.hooks.passport} (hooks.passport)`] : []),
    ...['start', 'stop'].filter((name) => typeof instance?.[name] !== 'function'),
  ];
  if (missing.length > 0) {
    throw new PluginLoadError('contract_violation', `${label}: the object ${manifest.entry.factory}() returned lacks what the manifest promises`, missing);
  }
  return {
    manifest,
    root,
    module,
    instance: instance as Instance,
    createAdminRouter: createAdminRouter as ((instance: Instance, options: unknown) => unknown) | undefined,
  };
}
