import type { Response } from 'express';
import { isAdmin, type Principal } from '../auth/principal.js';
import { CONTENT_SECURITY_POLICY, html, type SafeHtml } from './html.js';

/** A tab a plugin adds to the console (manifest `adminTab`), with the module that defines its element. */
export interface ConsoleTab {
  section: string;
  title: string;
  path: string;
  element: string;
  /** URL of the ES module that defines the element. */
  moduleUrl: string;
  /** Attributes the element gets, e.g. `{ 'api-base': '/admin/webhooks/api' }`. */
  attributes: Record<string, string>;
}

export interface PageOptions {
  title: string;
  principal?: Principal;
  tabs?: ConsoleTab[];
  /** Extra ES modules for this page (same origin). */
  scripts?: string[];
  status?: number;
}

function nav(principal: Principal | undefined, tabs: ConsoleTab[]): SafeHtml {
  const admin = isAdmin(principal);
  const sections = [...new Set(tabs.map((t) => t.section))];
  return html`<nav class="top">
    <a class="brand" href="/">Identity demo</a>
    ${admin ? html`<a href="/admin">Console</a>
      ${sections.map((section) => html`<span class="section">${section}:</span>${tabs.filter((t) => t.section === section).map((t) => html`<a href="${t.path}">${t.title}</a>`)}`)}
      <a href="/inbox">Inbox</a>` : ''}
    <span class="spacer"></span>
    ${principal
      ? html`<span class="who">${principal.username}</span><form method="post" action="/logout" class="inline"><button type="submit">Sign out</button></form>`
      : html`<a href="/login">Sign in</a>`}
  </nav>`;
}

export function sendPage(res: Response, options: PageOptions, body: SafeHtml): void {
  res.status(options.status ?? 200);
  res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
  res.setHeader('cache-control', 'no-store');
  res.type('html').send(html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${options.title} · Identity demo</title>
  <link rel="stylesheet" href="/assets/console.css">
  ${(options.scripts ?? []).map((src) => html`<script type="module" src="${src}"></script>`)}
</head>
<body>
  ${nav(options.principal, options.tabs ?? [])}
  <main>
    <h1>${options.title}</h1>
    ${body}
  </main>
</body>
</html>`.value);
}
