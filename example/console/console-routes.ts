import { fileURLToPath } from 'node:url';
import express, { type Request, type Response } from 'express';
import type passport from 'passport';
import { isAdmin, type Principal } from '../auth/principal.js';
import type { UserRepository } from '../users/user-repository.js';
import { html } from './html.js';
import { sendPage, type ConsoleTab } from './layout.js';

const ASSETS = fileURLToPath(new URL('./public/', import.meta.url));

/**
 * The admin console, server-rendered: a dashboard, Settings with one tab per plugin that
 * declares `adminTab` in its manifest (Settings -> Webhook Settings here), and the tab pages,
 * which load the plugin's element module and render the element.
 */
export function consoleRoutes(deps: { users: UserRepository; authenticator: passport.Authenticator; tabs: () => ConsoleTab[] }): express.Router {
  const { users } = deps;
  const router = express.Router();
  router.use('/assets', express.static(ASSETS, { fallthrough: false, maxAge: '1h' }));
  router.get('/favicon.ico', (_req, res) => {
    res.status(204).end();
  });

  // Pages are for people: a missing session goes to the sign-in form, a non-admin gets 403.
  const adminPage = (req: Request, res: Response, next: () => void) => {
    const principal = req.user as Principal | undefined;
    if (!principal) return res.redirect(303, '/login');
    if (!isAdmin(principal)) {
      return sendPage(res, { title: 'Administrators only', principal, status: 403 }, html`<p>Your account has no admin role.</p>`);
    }
    next();
  };

  router.get('/', (req, res) => {
    const principal = req.user as Principal | undefined;
    sendPage(res, { title: 'Identity server demo', principal, tabs: deps.tabs() }, html`
      <p>${principal ? html`Signed in as <strong>${principal.username}</strong> (tenant ${principal.tenantId}).` : html`<a href="/login">Sign in</a> to continue.`}</p>
      <div class="cards">
        <div class="card"><h2>Console</h2><p><a href="/admin">/admin</a>: users, roles, Settings.</p></div>
        <div class="card"><h2>Webhook Settings</h2><p>${deps.tabs().map((t) => html`<a href="${t.path}">${t.section} → ${t.title}</a> `)}</p></div>
        <div class="card"><h2>Inbox</h2><p><a href="/inbox">/inbox</a>: deliveries to this server, with their signature check.</p></div>
      </div>`);
  });

  router.get('/admin', adminPage, async (req, res, next) => {
    try {
      const principal = req.user as Principal;
      const [people, roles] = await Promise.all([users.listUsers(principal.tenantId), users.listRoles(principal.tenantId)]);
      sendPage(res, { title: `Console · tenant ${principal.tenantId}`, principal, tabs: deps.tabs() }, html`
        <h2>Settings</h2>
        <ul>${deps.tabs().map((t) => html`<li><a href="${t.path}">${t.section} → ${t.title}</a></li>`)}</ul>
        <h2>Users</h2>
        <table class="list"><thead><tr><th>Username</th><th>Email</th><th>Verified</th><th>Enabled</th><th>MFA</th><th>Roles</th><th>Id</th></tr></thead>
          <tbody>${people.map((u) => html`<tr><td>${u.username}</td><td>${u.email}</td><td>${u.emailVerified ? 'yes' : 'no'}</td>
            <td>${u.enabled ? 'yes' : 'no'}</td><td>${u.totpSecret ? 'on' : 'off'}</td><td>${u.roles.join(', ')}</td><td class="mono">${u.id}</td></tr>`)}</tbody></table>
        <h2>Roles</h2>
        <table class="list"><thead><tr><th>Name</th><th>Description</th><th>Permissions</th><th>Id</th></tr></thead>
          <tbody>${roles.map((r) => html`<tr><td>${r.name}</td><td>${r.description}</td><td>${r.permissions.join(', ')}</td><td class="mono">${r.id}</td></tr>`)}</tbody></table>
        <p class="muted">People and roles are managed through <code>/api/admin</code> (see the README).</p>`);
    } catch (error) {
      next(error);
    }
  });

  router.get('/admin/settings', adminPage, (req, res) => {
    sendPage(res, { title: 'Settings', principal: req.user as Principal, tabs: deps.tabs() }, html`
      <ul>${deps.tabs().filter((t) => t.section === 'Settings').map((t) => html`<li><a href="${t.path}">${t.title}</a></li>`)}</ul>`);
  });

  // One route per plugin tab, on the path its manifest names.
  router.get('/admin/*path', adminPage, (req, res, next) => {
    const tab = deps.tabs().find((t) => t.path === req.path);
    if (!tab) return next();
    sendPage(res, { title: `${tab.section} → ${tab.title}`, principal: req.user as Principal, tabs: deps.tabs(), scripts: [tab.moduleUrl] }, html`
      ${html`<${rawTag(tab.element)} ${Object.entries(tab.attributes).map(([k, v]) => html`${rawTag(k)}="${v}" `)}></${rawTag(tab.element)}>`}`);
  });

  return router;
}

/** Element and attribute names come from a schema-checked manifest; checked again before they become markup. */
function rawTag(name: string) {
  if (!/^[a-z][a-z0-9._-]*$/.test(name)) throw new Error(`"${name}" is not a valid element or attribute name`);
  return html`${name}`;
}
