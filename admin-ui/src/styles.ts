import { css } from 'lit';

/**
 * Shared look of every element. Hosts theme through the `--wh-*` custom properties, which
 * inherit into the shadow roots. No inline styles anywhere: the standalone page's CSP is
 * `style-src 'self'`, and Lit's constructable stylesheets need no `unsafe-inline`.
 */
export const tokens = css`
  :host {
    --_fg: var(--wh-fg, #1c2330);
    --_muted: var(--wh-muted, #566074);
    --_bg: var(--wh-bg, #ffffff);
    --_surface: var(--wh-surface, #f5f7fa);
    --_border: var(--wh-border, #cdd3dd);
    --_accent: var(--wh-accent, #1f57c3);
    --_accent-fg: var(--wh-accent-fg, #ffffff);
    --_accent-soft: var(--wh-accent-soft, #e8efff);
    --_danger: var(--wh-danger, #b42318);
    --_danger-soft: var(--wh-danger-soft, #fdecea);
    --_success: var(--wh-success, #17663a);
    --_success-soft: var(--wh-success-soft, #e4f5ea);
    --_warning: var(--wh-warning, #7a4d00);
    --_warning-soft: var(--wh-warning-soft, #fff4db);
    --_radius: var(--wh-radius, 8px);
    --_focus: var(--wh-focus, #1f57c3);
    --_mono: var(--wh-mono, ui-monospace, SFMono-Regular, Menlo, Consolas, monospace);
    color: var(--_fg);
    font-family: var(--wh-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    font-size: 15px;
    line-height: 1.45;
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --_fg: var(--wh-fg, #e7eaf0);
      --_muted: var(--wh-muted, #a5aebd);
      --_bg: var(--wh-bg, #161a21);
      --_surface: var(--wh-surface, #1f2530);
      --_border: var(--wh-border, #3a4352);
      --_accent: var(--wh-accent, #7aa5ff);
      --_accent-fg: var(--wh-accent-fg, #0b1426);
      --_accent-soft: var(--wh-accent-soft, #1f2c48);
      --_danger: var(--wh-danger, #ff8a80);
      --_danger-soft: var(--wh-danger-soft, #3b1f1f);
      --_success: var(--wh-success, #7ad69b);
      --_success-soft: var(--wh-success-soft, #193326);
      --_warning: var(--wh-warning, #f3c96b);
      --_warning-soft: var(--wh-warning-soft, #3a3019);
      --_focus: var(--wh-focus, #7aa5ff);
    }
  }
`;

export const base = css`
  *, *::before, *::after { box-sizing: border-box; }
  [hidden] { display: none !important; }
  h1, h2, h3, h4 { line-height: 1.25; margin: 0; }
  p { margin: 0; }
  code, .mono { font-family: var(--_mono); font-size: 0.9em; overflow-wrap: anywhere; }
  .vh {
    position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
    overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
  }
  .muted { color: var(--_muted); }
  .small { font-size: 0.875rem; }

  button, .button {
    font: inherit; font-size: 0.9375rem; line-height: 1.2;
    display: inline-flex; align-items: center; justify-content: center; gap: 0.35em;
    min-height: 2.5rem; padding: 0.5rem 0.9rem;
    border-radius: var(--_radius); border: 1px solid var(--_border);
    background: var(--_bg); color: var(--_fg); cursor: pointer;
    text-decoration: none; white-space: nowrap;
  }
  button:hover:not(:disabled) { background: var(--_surface); }
  button.primary { background: var(--_accent); border-color: var(--_accent); color: var(--_accent-fg); font-weight: 600; }
  button.primary:hover:not(:disabled) { filter: brightness(1.08); background: var(--_accent); }
  button.danger { color: var(--_danger); border-color: currentColor; }
  button.danger.solid { background: var(--_danger); border-color: var(--_danger); color: #fff; }
  button.link {
    border: none; background: none; color: var(--_accent); padding: 0.25rem 0.25rem; min-height: 2rem;
    text-decoration: underline; text-underline-offset: 2px;
  }
  button.link:hover:not(:disabled) { background: none; text-decoration-thickness: 2px; }
  button:disabled { opacity: 0.55; cursor: not-allowed; }
  button[aria-busy='true'] { cursor: progress; }

  :focus-visible { outline: 3px solid var(--_focus); outline-offset: 2px; }
  input:focus-visible, select:focus-visible, textarea:focus-visible { outline-offset: 0; }

  label, .label { display: block; font-weight: 600; margin-bottom: 0.25rem; }
  .hint { color: var(--_muted); font-size: 0.875rem; margin-bottom: 0.35rem; }
  input[type='text'], input[type='url'], input[type='search'], input[type='password'], input[type='number'],
  input[type='datetime-local'], select, textarea {
    font: inherit; width: 100%; min-height: 2.5rem; padding: 0.45rem 0.6rem;
    border: 1px solid var(--_border); border-radius: var(--_radius);
    background: var(--_bg); color: var(--_fg);
  }
  input[aria-invalid='true'], select[aria-invalid='true'], textarea[aria-invalid='true'] {
    border-color: var(--_danger); box-shadow: 0 0 0 1px var(--_danger);
  }
  input[type='checkbox'] { width: 1.1rem; height: 1.1rem; margin: 0; accent-color: var(--_accent); flex: none; }
  input[readonly] { background: var(--_surface); }
  .field { margin-bottom: 1rem; }
  .field-error {
    color: var(--_danger); font-size: 0.875rem; font-weight: 600; margin-top: 0.3rem;
    display: flex; gap: 0.35rem; align-items: baseline;
  }
  .field-error::before { content: '!'; display: inline-grid; place-items: center; flex: none;
    width: 1.1em; height: 1.1em; border-radius: 50%; background: var(--_danger); color: #fff; font-size: 0.75rem; }

  .badge {
    display: inline-flex; align-items: center; gap: 0.3em; padding: 0.1rem 0.55rem; border-radius: 999px;
    font-size: 0.8125rem; font-weight: 600; white-space: nowrap; border: 1px solid transparent;
  }
  .badge::before { content: ''; width: 0.5em; height: 0.5em; border-radius: 50%; background: currentColor; }
  .badge.ok { color: var(--_success); background: var(--_success-soft); }
  .badge.bad { color: var(--_danger); background: var(--_danger-soft); }
  .badge.warn { color: var(--_warning); background: var(--_warning-soft); }
  .badge.off { color: var(--_muted); background: var(--_surface); border-color: var(--_border); }

  .notice { border-radius: var(--_radius); padding: 0.75rem 0.9rem; border: 1px solid var(--_border); background: var(--_surface); }
  .notice.error { border-color: var(--_danger); background: var(--_danger-soft); }
  .notice.success { border-color: var(--_success); background: var(--_success-soft); }
  .notice.warning { border-color: var(--_warning); background: var(--_warning-soft); }

  pre {
    font-family: var(--_mono); font-size: 0.8125rem; background: var(--_surface); border: 1px solid var(--_border);
    border-radius: var(--_radius); padding: 0.6rem 0.75rem; margin: 0; overflow: auto; max-height: 22rem;
    white-space: pre-wrap; overflow-wrap: anywhere;
  }

  dialog {
    border: 1px solid var(--_border); border-radius: calc(var(--_radius) * 1.5); padding: 0;
    width: min(40rem, calc(100vw - 1.5rem)); max-height: calc(100vh - 2rem);
    background: var(--_bg); color: var(--_fg); box-shadow: 0 18px 48px rgb(0 0 0 / 0.28);
  }
  dialog::backdrop { background: rgb(15 20 30 / 0.55); }
  .dialog-body { padding: 1.25rem; display: grid; gap: 0.9rem; }
  .dialog-actions { display: flex; flex-wrap: wrap; justify-content: flex-end; gap: 0.5rem; }
  @media (max-width: 480px) {
    .dialog-body { padding: 1rem; }
    .dialog-actions > button { flex: 1 1 auto; }
  }
`;
