import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type RequestHandler } from 'express';
import session from 'express-session';
import type { Connection } from 'mongoose';
import type pg from 'pg';
import type { WebhooksPlugin } from '../plugin/index.js';
import { authenticateAdmin, requireAdmin } from './auth/guards.js';
import { createAuthenticator, loginTenant } from './auth/passport-setup.js';
import { isAdmin, isApiToken, type Principal } from './auth/principal.js';
import { RepositorySessionStore, SESSION_COOKIE } from './auth/session-store.js';
import { consoleRoutes } from './console/console-routes.js';
import type { ConsoleTab } from './console/layout.js';
import type { HostLogger } from './host-logger.js';
import { forbidden, jsonErrors } from './http-error.js';
import { inboxPages, inboxReceiver, type InboxSecret } from './inbox/inbox-routes.js';
import type { InboxStore } from './inbox/inbox-store.js';
import type { Mailer } from './mail/mailer.js';
import { HOST_API_VERSION } from './plugins/host-api.js';
import { HostEvents, type HookedPlugin } from './plugins/host-events.js';
import { loadPlugin, type LoadedPlugin } from './plugins/plugin-loader.js';
import { accountRoutes } from './routes/account-routes.js';
import { adminRoutes } from './routes/admin-routes.js';
import { mfaRoutes } from './routes/mfa-routes.js';
import { passwordRoutes } from './routes/password-routes.js';
import type { RouteDeps } from './routes/route-deps.js';
import { sessionRoutes } from './routes/session-routes.js';
import { MongooseUserRepository } from './users/mongoose-user-repository.js';
import type { UserRepository } from './users/user-repository.js';

/** One plugin the host configuration enables. */
export interface PluginConfig {
  /** Package root: the folder with its manifest.json. */
  root: string;
  /** Its options as JSON; the host adds its database handle and logger itself. */
  options?: Record<string, unknown>;
}

export interface HostAppOptions {
  users: UserRepository;
  /** The database the plugins get (by the `x-runtimeOnly` pointers their manifests list). */
  database: { postgres: pg.Pool } | { mongoose: Connection };
  plugins: PluginConfig[];
  /** The manifest JSON Schema this host checks plugins against. Default: manifest.schema.json beside the plugin. */
  manifestSchemaPath?: string;
  /** Load plugins from TypeScript sources when present (the host runs under tsx). Default false. */
  preferSource?: boolean;
  /** Bearer token of the admin API (DEMO_ADMIN_TOKEN). */
  adminToken: string;
  /** Signs the session cookie. */
  sessionSecret: string;
  mailer: Mailer;
  logger: HostLogger;
  /** The plugins' logger. Default: `logger`. */
  pluginLogger?: HostLogger;
  /** Base URL for links in mails. */
  publicUrl: () => string;
  /** The demo inbox; leave out for a host without one. */
  inbox?: {
    store: InboxStore;
    secrets: () => InboxSecret[];
    /** Mounted before each plugin's admin API: learns the secrets it shows for webhooks at the inbox (InboxKeyring). */
    watchAdminApi?: express.RequestHandler;
  };
  defaultTenant?: string;
  clock?: () => Date;
}

export interface HostApp {
  app: express.Express;
  plugins: LoadedPlugin[];
  /** The webhooks plugin (the first loaded plugin whose factory is createWebhooksPlugin). */
  webhooks: WebhooksPlugin;
  events: HostEvents;
  /** Stops the plugins (finishing in-flight deliveries). The host closes its own database. */
  stop(): Promise<void>;
}

const DEFAULT_MANIFEST_SCHEMA = fileURLToPath(new URL('../manifest.schema.json', import.meta.url));

/**
 * Browsers say where a request comes from; a state-changing request from another site is
 * refused, so a page elsewhere cannot use a signed-in admin's cookie (login CSRF included).
 * Requests without these headers (curl, the plugin's deliveries) are not browsers' and pass.
 */
const sameSiteWrites: RequestHandler = (req, _res, next) => {
  if (['GET', 'HEAD', 'OPTIONS'].includes(req.method)) return next();
  if (req.headers['sec-fetch-site'] === 'cross-site') return next(forbidden('Cross-site request refused'));
  const origin = req.headers.origin;
  if (origin && origin !== 'null') {
    let host: string | null = null;
    try {
      host = new URL(origin).host;
    } catch {
      host = null;
    }
    if (host !== req.headers.host) return next(forbidden('Cross-origin request refused'));
  }
  next();
};

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  next();
};

async function loadPlugins(options: HostAppOptions): Promise<HookedPlugin[]> {
  const logger = options.pluginLogger ?? options.logger;
  const services: Record<string, unknown> = { '/logger': logger };
  if ('postgres' in options.database) services['/storage/postgres/pool'] = options.database.postgres;
  else services['/storage/mongo/connection'] = options.database.mongoose;
  const loaded: HookedPlugin[] = [];
  for (const config of options.plugins) {
    loaded.push(await loadPlugin({
      root: config.root,
      options: config.options,
      services,
      hostApiVersion: HOST_API_VERSION,
      manifestSchemaPath: options.manifestSchemaPath ?? DEFAULT_MANIFEST_SCHEMA,
      preferSource: options.preferSource,
    }) as HookedPlugin);
  }
  return loaded;
}

/** The tab a plugin declares, with the element module its admin router serves under `ui/`. */
function consoleTab(plugin: LoadedPlugin): ConsoleTab | null {
  const { adminTab, entry, mount } = plugin.manifest;
  if (!adminTab || !entry.adminUi || !mount?.adminApi) return null;
  return {
    section: adminTab.section,
    title: adminTab.title,
    path: adminTab.path,
    element: adminTab.element,
    moduleUrl: `${mount.adminApi}/ui/${basename(entry.adminUi.module)}`,
    attributes: { 'api-base': mount.adminApi },
  };
}

/**
 * The example identity server: loads the plugins its configuration enables (manifest,
 * schema, host API range), starts them, and serves people's flows, the admin API, the
 * console with each plugin's tab, and the demo inbox. Every flow reports to the plugins'
 * lifecycle hooks through {@link HostEvents}.
 */
export async function createHostApp(options: HostAppOptions): Promise<HostApp> {
  const { users, logger } = options;
  const defaultTenant = options.defaultTenant ?? 'default';
  const clock = options.clock ?? (() => new Date());

  const plugins = await loadPlugins(options);
  const events = new HostEvents(plugins, logger);
  const webhooksPlugin = plugins.find((p) => p.manifest.entry.factory === 'createWebhooksPlugin');
  if (!webhooksPlugin) throw new Error('The host configuration enables no webhooks plugin');
  const webhooks = webhooksPlugin.instance as unknown as WebhooksPlugin;

  // A mongoose-backed directory lets the plugin's binding record user creates, changes and
  // deletes from the model itself; then the routes must not report them a second time.
  const binding = webhooksPlugin.module.mongooseUserPlugin;
  if (users instanceof MongooseUserRepository && typeof binding === 'function') {
    users.applyUserSchemaPlugin(binding as (schema: unknown, o: unknown) => void, {
      webhooks: () => webhooks,
      // enabled and emailVerified have their own events (USER_ENABLED/DISABLED, USER_EMAIL_VERIFIED).
      ignorePaths: ['updatedAt', 'createdAt', 'lastLoginAt', 'usernameLower', 'enabled', 'emailVerified'],
    });
    events.recordedElsewhere('userCreated', 'userModified', 'userDeleted');
  }
  await users.init();
  await users.ensureTenant(defaultTenant, 'Default tenant');

  const started: HookedPlugin[] = [];
  try {
    for (const plugin of plugins) {
      await (plugin.instance as unknown as { start(): Promise<void> }).start();
      started.push(plugin);
    }
  } catch (error) {
    await Promise.allSettled(started.map((p) => (p.instance as unknown as { stop(): Promise<void> }).stop()));
    throw error;
  }

  const authenticator = createAuthenticator({ users, adminToken: options.adminToken, defaultTenant });
  for (const plugin of plugins) {
    const method = plugin.manifest.hooks.passport;
    if (!method) continue;
    (plugin.instance as unknown as Record<string, (p: unknown, o: unknown) => void>)[method](authenticator, {
      // The API token is checked on every admin call; those are not sign-ins.
      ignoreStrategies: ['bearer', 'session'],
      tenantOf: (req: express.Request) => loginTenant(req, defaultTenant),
    });
  }
  const tabs = plugins.map(consoleTab).filter((t): t is ConsoleTab => t !== null);

  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders);
  // Probes, before sessions (an orchestrator polling them must not fill the session store).
  // /healthz: the process answers (liveness; no details to an unauthenticated caller).
  // /readyz: the plugin's store answers within hookTimeoutMs (health() never hangs), else 503.
  app.get('/healthz', (_req, res) => void res.status(200).json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const health = await webhooks.health();
    res.status(health.store.reachable ? 200 : 503).json({ status: health.store.reachable ? 'ready' : 'unavailable' });
  });
  // Prometheus scrapes with the admin bearer token; before sessions, so scrapes never touch the session store.
  if (webhooks.metricsRegistry) app.get('/metrics', ...requireAdmin(authenticator), webhooks.createMetricsHandler());
  // Webhook deliveries are server-to-server and need the exact body bytes: before anything else.
  if (options.inbox) app.use(inboxReceiver(options.inbox));
  app.use(sameSiteWrites);
  app.use(session({
    name: SESSION_COOKIE,
    secret: options.sessionSecret,
    store: new RepositorySessionStore(users.sessions),
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, sameSite: 'lax', maxAge: 8 * 3_600_000 },
  }));
  app.use(authenticator.initialize());
  app.use(authenticator.session());

  // Plugin routers parse their own bodies (with their own limits and error format).
  for (const plugin of plugins) {
    const mount = plugin.manifest.mount?.adminApi;
    if (!mount || !plugin.createAdminRouter) continue;
    if (options.inbox?.watchAdminApi) app.use(mount, options.inbox.watchAdminApi);
    app.use(mount, plugin.createAdminRouter(plugin.instance, {
      authenticate: authenticateAdmin(authenticator),
      // The API token is the only principal a bearer header can make; a session user is never exempt from CSRF.
      authenticatedByToken: (req: express.Request) => !!req.user && isApiToken(req.user as Principal),
      authorize: (user: Principal, tenantId: string) => isAdmin(user) && user.tenantId === tenantId,
      tenantOf: (user: Principal) => user.tenantId,
    }) as express.Router);
  }

  app.use(express.json({ limit: '100kb' }));
  app.use(express.urlencoded({ extended: false, limit: '100kb' }));
  const deps: RouteDeps = { users, events, authenticator, mailer: options.mailer, publicUrl: options.publicUrl, defaultTenant, logger, clock };
  app.use(sessionRoutes(deps));
  app.use(accountRoutes(deps));
  app.use(passwordRoutes(deps));
  app.use(mfaRoutes(deps));
  app.use('/api/admin', adminRoutes(deps));
  if (options.inbox) app.use(inboxPages({ store: options.inbox.store, authenticator, tabs: () => tabs }));
  app.use(consoleRoutes({ users, authenticator, tabs: () => tabs }));
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: 'No such route', details: [] } });
  });
  app.use(jsonErrors(logger));

  return {
    app,
    plugins,
    webhooks,
    events,
    async stop() {
      await Promise.allSettled(plugins.map((p) => (p.instance as unknown as { stop(): Promise<void> }).stop()));
    },
  };
}
