import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import express, { type Request, type Response } from 'express';

/**
 * Serves the Webhook Settings element under `{admin router}/ui/`:
 * - `webhook-settings.js`, the bundle `npm run build:ui` writes to admin-ui/dist/, for hosts
 *   that put `<webhook-settings api-base="...">` into their own console;
 * - `/`, a standalone page with the element, for hosts without a console;
 * - `page.css`, that page's few styles (a file, so the CSP needs no 'unsafe-inline').
 * They carry no data, so they are public: the element then asks the API, which answers 401
 * until the operator signs in, and the element says so.
 */

/** Where the bundle may be: next to the sources (tsx) or above dist/ (after tsc). */
const BUNDLE_CANDIDATES = [
  new URL('../../admin-ui/dist/webhook-settings.js', import.meta.url),
  new URL('../../../admin-ui/dist/webhook-settings.js', import.meta.url),
].map((u) => fileURLToPath(u));

/**
 * No inline script or style anywhere. Lit styles its shadow roots with constructable
 * stylesheets (adoptedStyleSheets), which `style-src 'self'` does not restrict, and it
 * creates its HTML through the Trusted Types policy named `lit-html`.
 */
export const ADMIN_UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'self'",
  "require-trusted-types-for 'script'",
  'trusted-types lit-html',
].join('; ');

const PAGE_CSS = `
html { color-scheme: light dark; -webkit-text-size-adjust: 100%; }
body { margin: 0; background: #ffffff; }
main { padding: 1.5rem 1rem 3rem; }
@media (prefers-color-scheme: dark) { body { background: #161a21; color: #e7eaf0; } }
@media (max-width: 480px) { main { padding: 1rem 0.75rem 2rem; } }
noscript { display: block; font: 16px system-ui, sans-serif; padding: 1rem; }
`;

interface Bundle {
  path: string;
  mtimeMs: number;
  body: Buffer;
  version: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface AdminUiAssetsOptions {
  /** Where the bundle is; default: admin-ui/dist/webhook-settings.js of this package. */
  bundlePath?: string;
}

/** Mounts the UI routes on `router` at `/ui`. */
export function registerAdminUiAssets(router: express.Router, options: AdminUiAssetsOptions = {}): void {
  router.use('/ui', createAdminUiRouter(options));
}

export function createAdminUiRouter(options: AdminUiAssetsOptions = {}): express.Router {
  const candidates = options.bundlePath ? [options.bundlePath] : BUNDLE_CANDIDATES;
  let cached: Bundle | null = null;

  /** The current bundle, re-read when the file changes (a rebuild while the host runs). */
  async function loadBundle(): Promise<Bundle | null> {
    for (const path of candidates) {
      const info = await stat(path).catch(() => null);
      if (!info?.isFile()) continue;
      if (cached && cached.path === path && cached.mtimeMs === info.mtimeMs) return cached;
      const body = await readFile(path);
      cached = { path, mtimeMs: info.mtimeMs, body, version: createHash('sha256').update(body).digest('base64url').slice(0, 16) };
      return cached;
    }
    cached = null;
    return null;
  }

  const secure = (res: Response) => {
    res.setHeader('content-security-policy', ADMIN_UI_CSP);
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('cross-origin-opener-policy', 'same-origin');
    res.setHeader('cross-origin-resource-policy', 'same-origin');
    res.setHeader('x-frame-options', 'SAMEORIGIN');
  };

  const missing = (res: Response) => {
    res.status(503).setHeader('cache-control', 'no-store');
    res.json({ error: { code: 'ui_not_built', message: 'The admin UI bundle is missing: run `npm run build:ui` (tsx admin-ui/build.ts) and reload', details: [] } });
  };

  const ui = express.Router({ strict: false });

  ui.get('/webhook-settings.js', (req: Request, res: Response, next) => {
    loadBundle().then((bundle) => {
      secure(res);
      if (!bundle) return missing(res);
      const etag = `"${bundle.version}"`;
      res.setHeader('content-type', 'text/javascript; charset=utf-8');
      res.setHeader('etag', etag);
      // The page asks for `?v=<hash>`: that URL never changes content, so it may be kept for a year.
      res.setHeader('cache-control', req.query.v === bundle.version ? 'public, max-age=31536000, immutable' : 'no-cache');
      if (req.headers['if-none-match'] === etag) return void res.status(304).end();
      res.status(200).end(req.method === 'HEAD' ? undefined : bundle.body);
    }, next);
  });

  ui.get('/page.css', (_req, res) => {
    secure(res);
    res.setHeader('content-type', 'text/css; charset=utf-8');
    res.setHeader('cache-control', 'public, max-age=3600');
    res.status(200).end(PAGE_CSS);
  });

  ui.get('/', (req: Request, res: Response, next) => {
    loadBundle().then((bundle) => {
      secure(res);
      if (!bundle) return missing(res);
      const uiBase = req.baseUrl.replace(/\/+$/, '');
      const apiBase = uiBase.replace(/\/ui$/, '') || '/';
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.setHeader('cache-control', 'no-cache');
      res.status(200).end(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Webhook Settings</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${escapeHtml(uiBase)}/page.css">
<script type="module" src="${escapeHtml(uiBase)}/webhook-settings.js?v=${bundle.version}"></script>
</head>
<body>
<main>
<webhook-settings api-base="${escapeHtml(apiBase)}" heading-level="1"></webhook-settings>
<noscript>Webhook Settings needs JavaScript.</noscript>
</main>
</body>
</html>
`);
    }, next);
  });

  return ui;
}
