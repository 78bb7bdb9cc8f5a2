import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import Joi from 'joi';
import type { WebhooksPlugin } from '../create-webhooks-plugin.js';
import { InvalidOptionsError, NotFoundError, WebhooksError } from '../errors.js';
import { TENANT_ID_SCHEMA, type NormalizedContext } from '../events/event-context.js';
import { ID_PATTERN } from '../ids.js';
import { TEST_EVENT_TYPE } from '../events/catalogue.js';
import { exampleEnvelope } from '../events/payload-schemas/envelope-schema.js';
import { assertEmptyBody, assertNoQuery, encodeCursor, parseDeliveryListQuery, parseRecoverBody } from './admin-query.js';
import { registerAdminUiAssets } from './admin-ui-assets.js';
import { csrfProtection } from './csrf-protection.js';
import { toDeliveryView } from './delivery-view.js';
import { errorMiddleware } from './error-middleware.js';
import { jsonBody } from './json-body.js';
import { buildOpenApiDocument } from './openapi.js';
import { withHealth } from './webhook-health.js';
import { joiDetails } from '../validation-details.js';
import type { AttemptRecord } from '../store/store-port.js';

/** The signed-in operator as the host's Passport setup leaves it on `req.user`. */
export type AdminUser = Record<string, any>;

export interface AdminRouterOptions {
  /**
   * Authenticates the request the host's way and sets `req.user`, e.g. a session user from
   * `passport.session()` or else `passport.authenticate('bearer', { session: false })`. (Not
   * `passport.authenticate(['session', 'bearer'])`: the session strategy passes the request on
   * whether or not it found a user, so the bearer strategy would never run.) Required.
   * A request that leaves no `req.user` is answered 401.
   */
  authenticate: RequestHandler | RequestHandler[];
  /** Whether this user may manage webhooks of this tenant; false answers 403. Required. */
  authorize: (user: AdminUser, tenantId: string, req: Request) => boolean | Promise<boolean>;
  /**
   * Whether a token (not a cookie) authenticated this request; such requests skip the CSRF check,
   * every other unsafe request must send the `x-csrf-token` header. Default: an
   * `Authorization: Bearer` header on a request that carries no cookie. Hosts whose bearer strategy
   * can say it ran should pass that instead, e.g. `(req) => req.user?.kind === 'api_token'`.
   */
  authenticatedByToken?: (req: Request) => boolean;
  /** The tenant the caller acts in. Default: `user.tenantId`, else the plugin's default tenant. */
  tenantOf?: (user: AdminUser, req: Request) => string;
  /** Requests per minute per user: `mutations` for writes, `testSends` for test sends. Default 120 and 10; false turns limits off. */
  rateLimit?: { mutations?: number; testSends?: number } | false;
  /** Extra routes mounted first on the same router, before authentication. */
  extend?: (router: express.Router) => void;
  /**
   * Serve the Webhook Settings UI under `ui/`: the `<webhook-settings>` bundle and a standalone
   * page (public: they hold no data; the API behind them still needs sign-in). Default true.
   */
  ui?: boolean;
}

const optionsSchema = Joi.object({
  authenticate: Joi.alternatives(Joi.function(), Joi.array().items(Joi.function()).min(1)).required(),
  authorize: Joi.function().required(),
  tenantOf: Joi.function(),
  authenticatedByToken: Joi.function(),
  rateLimit: Joi.alternatives(Joi.valid(false), Joi.object({ mutations: Joi.number().integer().min(1), testSends: Joi.number().integer().min(1) })),
  extend: Joi.function(),
  ui: Joi.boolean(),
});

type Handler = (req: Request, res: Response) => Promise<unknown>;
const wrap = (fn: Handler): RequestHandler => (req, res, next) => {
  fn(req, res).catch(next);
};

/**
 * The admin REST API, an Express router the host mounts where it wants (the demo uses
 * `/admin/webhooks/api`). Every route is authenticated, authorised and scoped to the
 * caller's tenant: another tenant's webhook is a 404, never visible or changeable.
 */
export function createAdminRouter(plugin: WebhooksPlugin, input: AdminRouterOptions): express.Router {
  const { value: options, error } = optionsSchema.validate(input);
  if (error) {
    throw new InvalidOptionsError(`Invalid admin router options: ${error.message}`, joiDetails(error));
  }
  const router = express.Router();
  const csrf = csrfProtection(options.authenticatedByToken);
  const limits = options.rateLimit === false ? null : { mutations: 120, testSends: 10, ...options.rateLimit };
  const limiter = (limit: number): RequestHandler => (limits
    ? rateLimit({
      windowMs: 60_000, limit, standardHeaders: 'draft-7', legacyHeaders: false,
      // Per signed-in user (limits run after authentication); the IP only as a fallback.
      keyGenerator: (req) => {
        const user = req.user as AdminUser | undefined;
        return `${tenantOf(req)}:${String(user?.id ?? user?._id ?? ipKeyGenerator(req.ip ?? ''))}`;
      },
      handler: (_req, _res, next) => next(new WebhooksError('rate_limited', `Too many requests; the limit is ${limit} per minute`, { status: 429 })),
    })
    : (_req, _res, next) => next());
  const mutationLimit = limiter(limits?.mutations ?? 0);
  const testLimit = limiter(limits?.testSends ?? 0);

  const tenantOf = (req: Request): string => (req as any).webhooksTenant;
  const ctx = (req: Request): NormalizedContext => {
    const user = req.user as AdminUser;
    return {
      ...plugin.context({ req, tenantId: tenantOf(req) }, tenantOf(req)),
      actor: { id: String(user.id ?? user._id ?? 'unknown'), type: 'admin', ...(typeof user.username === 'string' ? { username: user.username } : {}) },
    };
  };
  const idParam = (req: Request, what: string): string => {
    const id = String(req.params.id);
    if (!ID_PATTERN.test(id)) throw new NotFoundError(what);
    return id;
  };

  router.use((_req, res, next) => {
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    next();
  });
  if (options.ui !== false) registerAdminUiAssets(router);
  options.extend?.(router);
  router.get('/openapi.json', (_req, res) => {
    res.json(buildOpenApiDocument(plugin.catalogue));
  });
  router.use(...[options.authenticate].flat());
  router.use((req, _res, next) => {
    authorizeRequest(req).then(() => next(), next);
  });
  async function authorizeRequest(req: Request): Promise<void> {
    if (!req.user) throw new WebhooksError('unauthenticated', 'Sign in to manage webhooks', { status: 401 });
    const user = req.user as AdminUser;
    const tenant = options.tenantOf ? options.tenantOf(user, req) : (user.tenantId ?? user.tenant_id ?? plugin.defaultTenantId);
    if (typeof tenant !== 'string' || TENANT_ID_SCHEMA.validate(tenant).error) {
      throw new WebhooksError('forbidden', 'No valid tenant for this user', { status: 403 });
    }
    if (!(await options.authorize(user, tenant, req))) {
      throw new WebhooksError('forbidden', 'You may not manage webhooks of this tenant', { status: 403 });
    }
    (req as any).webhooksTenant = tenant;
  }
  router.get('/csrf-token', csrf.issue);
  router.use(csrf.verify);
  router.use(...jsonBody());

  router.get('/event-types', wrap(async (req, res) => {
    assertNoQuery(req.query);
    res.json({
      // With each type's data schema (null: a host type registered without one) and an example body.
      event_types: plugin.catalogue.list().filter((t) => t.type !== TEST_EVENT_TYPE)
        .map((t) => ({
          type: t.type, category: t.category, description: t.description, built_in: t.builtIn, schema: t.schema, example: exampleEnvelope(t),
        })),
      categories: plugin.catalogue.categories(),
    });
  }));

  router.get('/webhooks', wrap(async (req, res) => {
    assertNoQuery(req.query);
    const tenantId = tenantOf(req);
    res.json({ webhooks: await withHealth(plugin.store, tenantId, await plugin.webhooks.list(tenantId), plugin.clock()) });
  }));
  router.post('/webhooks', mutationLimit, wrap(async (req, res) => {
    assertNoQuery(req.query);
    const { webhook, secret } = await plugin.webhooks.create(req.body, ctx(req));
    res.status(201).json({ ...webhook, secret });
  }));
  router.get('/webhooks/:id', wrap(async (req, res) => {
    assertNoQuery(req.query);
    const tenantId = tenantOf(req);
    const [webhook] = await withHealth(plugin.store, tenantId, [await plugin.webhooks.get(tenantId, idParam(req, 'Webhook'))], plugin.clock());
    res.json(webhook);
  }));
  router.patch('/webhooks/:id', mutationLimit, wrap(async (req, res) => {
    assertNoQuery(req.query);
    res.json(await plugin.webhooks.update(idParam(req, 'Webhook'), req.body, ctx(req)));
  }));
  router.delete('/webhooks/:id', mutationLimit, wrap(async (req, res) => {
    assertNoQuery(req.query);
    await plugin.webhooks.delete(idParam(req, 'Webhook'), ctx(req));
    res.status(204).end();
  }));
  router.post('/webhooks/:id/rotate-secret', mutationLimit, wrap(async (req, res) => {
    assertNoQuery(req.query);
    assertEmptyBody(req.body);
    res.json(await plugin.webhooks.rotateSecret(idParam(req, 'Webhook'), ctx(req)));
  }));
  router.post('/webhooks/:id/test', testLimit, wrap(async (req, res) => {
    assertNoQuery(req.query);
    assertEmptyBody(req.body);
    res.json(await plugin.deliveries.sendTest(idParam(req, 'Webhook'), ctx(req)));
  }));
  router.get('/webhooks/:id/deliveries', wrap(async (req, res) => {
    const id = idParam(req, 'Webhook');
    const query = parseDeliveryListQuery(req.query);
    await plugin.webhooks.find(tenantOf(req), id);
    const page = await plugin.store.listDeliveries(tenantOf(req), id, { ...query, limit: query.limit + 1 });
    const items = page.slice(0, query.limit);
    // One query for the page's attempts (not one per delivery), grouped here; each keeps its order.
    const attempts = new Map<string, AttemptRecord[]>(items.map((d) => [d.id, []]));
    for (const a of await plugin.store.listAttemptsFor(tenantOf(req), items.map((d) => d.id))) attempts.get(a.deliveryId)?.push(a);
    const last = items[items.length - 1];
    res.json({
      deliveries: items.map((d) => toDeliveryView(d, attempts.get(d.id) ?? [])),
      next_cursor: page.length > query.limit && last ? encodeCursor(last.createdAt, last.id) : null,
    });
  }));
  router.get('/deliveries/:id', wrap(async (req, res) => {
    assertNoQuery(req.query);
    const id = idParam(req, 'Delivery');
    const delivery = await plugin.store.findDelivery(tenantOf(req), id);
    if (!delivery) throw new NotFoundError('Delivery');
    const [attempts, event] = await Promise.all([
      plugin.store.listAttempts(tenantOf(req), id),
      plugin.store.findEvent(tenantOf(req), delivery.eventId),
    ]);
    res.json({ ...toDeliveryView(delivery, attempts), body: event ? JSON.parse(event.body) : null });
  }));
  router.post('/deliveries/:id/retry', mutationLimit, wrap(async (req, res) => {
    assertNoQuery(req.query);
    assertEmptyBody(req.body);
    await plugin.deliveries.retry(tenantOf(req), idParam(req, 'Delivery'));
    res.status(202).json({ status: 'pending' });
  }));
  router.post('/webhooks/:id/discard-pending', mutationLimit, wrap(async (req, res) => {
    assertNoQuery(req.query);
    assertEmptyBody(req.body);
    res.json({ discarded: await plugin.deliveries.discardPending(tenantOf(req), idParam(req, 'Webhook')) });
  }));
  router.post('/webhooks/:id/recover', mutationLimit, wrap(async (req, res) => {
    assertNoQuery(req.query);
    const since = parseRecoverBody(req.body, plugin.clock());
    res.status(202).json({ requeued: await plugin.deliveries.recover(tenantOf(req), idParam(req, 'Webhook'), since) });
  }));

  router.use((_req: Request, _res: Response, next: NextFunction) => next(new WebhooksError('not_found', 'No such route', { status: 404 })));
  router.use(errorMiddleware(plugin.logger));
  return router;
}
