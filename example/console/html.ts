/**
 * Server-rendered HTML without a template engine: `html` escapes every interpolated value
 * unless it is itself `html` output (or `raw()`), so user data can never become markup.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const render = (value: unknown): string => {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(value);
};

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  return new SafeHtml(strings.reduce((out, s, i) => out + s + (i < values.length ? render(values[i]) : ''), ''));
}

/** Trusted markup only (constants written in this codebase). */
export const raw = (value: string) => new SafeHtml(value);

/**
 * No inline script or style anywhere, so the policy can forbid both: scripts and styles come
 * from this origin only, DOM sinks take Trusted Types only, and nothing may frame the console.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  // The plugin tab's element is built with lit, which creates HTML through this one policy.
  "require-trusted-types-for 'script'",
  'trusted-types lit-html',
].join('; ');
