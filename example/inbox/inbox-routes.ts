import { fileURLToPath } from 'node:url';
import express, { type Request } from 'express';
import type passport from 'passport';
import { Webhook } from 'standardwebhooks';
import { authenticateAdmin, requireAdmin } from '../auth/guards.js';
import { isAdmin, type Principal } from '../auth/principal.js';
import { html } from '../console/html.js';
import { sendPage, type ConsoleTab } from '../console/layout.js';
import type { InboxEntry, InboxStore } from './inbox-store.js';

/** A signing secret the inbox knows, with a label shown beside what it verified. */
export interface InboxSecret {
  label: string;
  /** `whsec_...`, as the plugin returned it when the webhook was created. */
  secret: string;
}

const CLIENT_SCRIPT = fileURLToPath(new URL('./public/inbox.js', import.meta.url));
const HEARTBEAT_MS = 20_000;

function header(req: Request, name: string): string | null {
  const value = req.headers[name];
  return typeof value === 'string' ? value : null;
}

/**
 * The receiving end: `POST /inbox/receive`, a webhook endpoint like any customer's. It
 * verifies the Standard Webhooks signature over the exact bytes received (so it is mounted
 * before any JSON parser) against the secrets it knows, records the request either way, and
 * answers 401 to a signature that does not verify, as a real receiver must.
 */
export function inboxReceiver(deps: { store: InboxStore; secrets: () => InboxSecret[] }): express.Router {
  const router = express.Router();
  router.post('/inbox/receive', express.raw({ type: () => true, limit: '1mb' }), (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    let verifiedWith: string | null = null;
    let error: string | null = deps.secrets().length === 0 ? 'the inbox knows no signing secret' : null;
    for (const { label, secret } of deps.secrets()) {
      try {
        new Webhook(secret).verify(raw, req.headers as Record<string, string>);
        verifiedWith = label;
        error = null;
        break;
      } catch (e) {
        error = (e as Error).message;
      }
    }
    let envelope: { event_type?: unknown; current_context?: { event_id?: unknown; tenant_id?: unknown } } = {};
    try {
      envelope = JSON.parse(raw) ?? {};
    } catch {
      // Recorded as text below.
    }
    const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 200) : null);
    const entry = deps.store.add({
      verified: verifiedWith !== null, verified_with: verifiedWith, error,
      message_id: header(req, 'webhook-id'), event_type: text(envelope.event_type),
      event_id: text(envelope.current_context?.event_id),
      // Only a verified body may say whose it is: anyone can post here, naming any tenant.
      tenant_id: verifiedWith !== null ? text(envelope.current_context?.tenant_id) : null, rawBody: raw,
    });
    if (verifiedWith === null) {
      res.status(401).json({ error: { code: 'bad_signature', message: error } });
      return;
    }
    res.status(200).json({ received: entry.id });
  });
  return router;
}

/** The tenant whose deliveries a signed-in admin may read: their own. */
const tenantOf = (req: Request): string => (req.user as Principal).tenantId;

/**
 * What an operator looks at: `GET /inbox` (a page that lists deliveries live), its data
 * (`GET /inbox/deliveries`), a Server-Sent Events feed (`GET /inbox/events`) and
 * `POST /inbox/clear`. Admins only, each seeing and clearing only their own tenant's deliveries:
 * the bodies carry users' details.
 */
export function inboxPages(deps: { store: InboxStore; authenticator: passport.Authenticator; tabs: () => ConsoleTab[] }): express.Router {
  const router = express.Router();
  const admin = requireAdmin(deps.authenticator);

  router.get('/inbox/inbox.js', (_req, res) => {
    res.type('text/javascript').setHeader('cache-control', 'no-cache');
    res.sendFile(CLIENT_SCRIPT);
  });

  // The page itself sends a browser without a session to the sign-in form.
  router.get('/inbox', authenticateAdmin(deps.authenticator), (req, res) => {
    const principal = req.user as Principal | undefined;
    if (!principal) return res.redirect(303, '/login');
    if (!isAdmin(principal)) {
      return sendPage(res, { title: 'Administrators only', principal, status: 403 }, html`<p>Your account has no admin role.</p>`);
    }
    sendPage(res, { title: 'Webhook inbox', principal: req.user as Principal, tabs: deps.tabs(), scripts: ['/inbox/inbox.js'] }, html`
      <p>Deliveries to <code>POST /inbox/receive</code> on this server, newest first, as they arrive.
        Each signature is checked with the <code>standardwebhooks</code> package against the secrets of this server's webhooks at this URL (learned when the admin API shows them: on create, rotation, or a PATCH to HMAC).</p>
      <p><span id="status" class="muted">connecting…</span> <button type="button" id="clear">Clear</button></p>
      <table class="list" id="deliveries">
        <thead><tr><th>#</th><th>Received</th><th>Event</th><th>Signature</th><th>Tenant</th><th>Message id</th><th>Body</th></tr></thead>
        <tbody></tbody>
      </table>`);
  });

  router.get('/inbox/deliveries', ...admin, (req, res) => {
    res.setHeader('cache-control', 'no-store');
    res.json({ deliveries: deps.store.list(tenantOf(req)).reverse() });
  });

  router.post('/inbox/clear', ...admin, (req, res) => {
    deps.store.clear(tenantOf(req));
    res.status(204).end();
  });

  router.get('/inbox/events', ...admin, (req, res) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    const tenantId = tenantOf(req);
    const onEntry = (entry: InboxEntry) => {
      if (deps.store.tenantOf(entry) === tenantId) res.write(`event: delivery\ndata: ${JSON.stringify(entry)}\n\n`);
    };
    const onClear = (cleared: string) => {
      if (cleared === tenantId) res.write('event: cleared\ndata: {}\n\n');
    };
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    deps.store.on('entry', onEntry);
    deps.store.on('cleared', onClear);
    req.on('close', () => {
      clearInterval(heartbeat);
      deps.store.off('entry', onEntry);
      deps.store.off('cleared', onClear);
    });
  });

  return router;
}
