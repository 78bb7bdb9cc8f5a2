import { LitElement, css, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { TestResult, Webhook } from './api-types.js';
import { formatDateTime, formatDuration, formatRelative, outcomeLabel, statusLabel } from './format.js';
import './public-key.js';
import { base, tokens } from './styles.js';
import type { WebhookStats } from './webhook-stats.js';

export type WebhookAction = 'edit' | 'test' | 'deliveries' | 'rotate' | 'toggle' | 'delete' | 'discard';
export type StatsState = WebhookStats | 'loading' | 'error';
export type TestState = TestResult | 'sending' | { error: string };

/**
 * The configured webhooks, one card each: name, URL, events, state (and why it is disabled),
 * the deliveries a disabled webhook holds back, last delivery and recent success rate (from the
 * API's `health`, via `stats`), how it signs (an Ed25519 webhook's public key, with a copy
 * button), the outcome of the last test, and the actions.
 * Fires `webhook-action` with `{ action, webhook }`.
 */
export class WebhookList extends LitElement {
  static override styles = [tokens, base, css`
    :host { display: block; }
    ul.cards { list-style: none; margin: 0; padding: 0; display: grid; gap: 0.9rem; }
    .card { border: 1px solid var(--_border); border-radius: calc(var(--_radius) * 1.25); background: var(--_bg); padding: 1rem 1.1rem; display: grid; gap: 0.75rem; }
    .card.disabled { background: var(--_surface); }
    .head { display: flex; flex-wrap: wrap; gap: 0.4rem 0.75rem; align-items: center; }
    .head h3 { font-size: 1.0625rem; overflow-wrap: anywhere; }
    .desc { color: var(--_muted); }
    dl { margin: 0; display: grid; grid-template-columns: repeat(auto-fit, minmax(13rem, 1fr)); gap: 0.6rem 1.25rem; }
    dl > div { min-width: 0; }
    dt { font-size: 0.75rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--_muted); font-weight: 600; margin-bottom: 0.1rem; }
    dd { margin: 0; overflow-wrap: anywhere; }
    dd.url { font-family: var(--_mono); font-size: 0.875rem; }
    .wide { grid-column: 1 / -1; }
    .chips { display: flex; flex-wrap: wrap; gap: 0.3rem; padding: 0; margin: 0; list-style: none; }
    .chips li { font-family: var(--_mono); font-size: 0.75rem; background: var(--_accent-soft); color: var(--_fg); border-radius: 4px; padding: 0.1rem 0.4rem; }
    .rate { display: flex; align-items: center; gap: 0.5rem; }
    meter { width: 5rem; height: 0.6rem; flex: none; }
    dt .window { text-transform: none; letter-spacing: 0; font-weight: 400; }
    .nowrap { white-space: nowrap; }
    .reason { font-size: 0.875rem; }
    .unreadable { display: grid; gap: 0.25rem; font-size: 0.9rem; }
    .waiting { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 0.5rem 1rem; font-size: 0.9rem; }
    .test { font-size: 0.9rem; display: grid; gap: 0.25rem; }
    .test pre { max-height: 6rem; }
    .actions { display: flex; flex-wrap: wrap; gap: 0.4rem; border-top: 1px solid var(--_border); padding-top: 0.75rem; }
    .actions .push { margin-left: auto; }
    @media (max-width: 560px) {
      .card { padding: 0.85rem; }
      .actions > button { flex: 1 1 calc(50% - 0.4rem); }
      .actions .push { margin-left: 0; }
    }
  `];

  static override properties = {
    webhooks: { attribute: false },
    stats: { attribute: false },
    tests: { attribute: false },
    busy: { attribute: false },
  };

  declare webhooks: Webhook[];
  declare stats: Map<string, StatsState>;
  declare tests: Map<string, TestState>;
  declare busy: Set<string>;

  constructor() {
    super();
    this.webhooks = [];
    this.stats = new Map();
    this.tests = new Map();
    this.busy = new Set();
  }

  /** Focuses a card's action button (after a dialog or view closes), else the first card. */
  focusAction(webhookId: string, action: WebhookAction): boolean {
    const button = this.actionButton(webhookId, action);
    button?.focus();
    return button !== null;
  }

  actionButton(webhookId: string, action: WebhookAction): HTMLElement | null {
    return this.renderRoot.querySelector<HTMLElement>(`[data-id="${CSS.escape(webhookId)}"] [data-action="${action}"]`);
  }

  private act(action: WebhookAction, webhook: Webhook) {
    this.dispatchEvent(new CustomEvent('webhook-action', { detail: { action, webhook }, bubbles: true, composed: true }));
  }

  override render() {
    return html`<ul class="cards">${repeat(this.webhooks, (w) => w.id, (w) => this.renderCard(w))}</ul>`;
  }

  private renderCard(w: Webhook) {
    const busy = this.busy.has(w.id);
    const titleId = `title-${w.id}`;
    const shown = w.events.slice(0, 6);
    const vhName = html`<span class="vh"> ${w.name}</span>`;
    return html`
      <li class="card ${w.enabled ? '' : 'disabled'}" data-id=${w.id} aria-labelledby=${titleId}>
        <div class="head">
          <h3 id=${titleId}>${w.name}</h3>
          ${w.enabled
            ? w.status.failing_since
              ? html`<span class="badge warn">Enabled · failing</span>`
              : html`<span class="badge ok">Enabled</span>`
            : html`<span class="badge off">Disabled</span>`}
        </div>
        ${w.description ? html`<p class="desc">${w.description}</p>` : nothing}
        ${!w.enabled && w.status.reason ? html`<p class="notice warning reason">Disabled${w.status.disabled_at ? ` ${formatRelative(w.status.disabled_at)}` : ''}: ${w.status.reason}</p>` : nothing}
        ${w.enabled && w.status.failing_since ? html`<p class="notice warning reason">Deliveries have been failing since ${formatDateTime(w.status.failing_since)}.</p>` : nothing}
        ${this.renderUnreadable(w)}
        ${this.renderWaiting(w, busy)}
        <dl>
          <div class="wide"><dt>URL</dt><dd class="url">${w.url}</dd></div>
          <div class="wide"><dt>Events</dt><dd>
            <ul class="chips" aria-label="Events">${shown.map((e) => html`<li>${e === '*' ? '* (all events)' : e}</li>`)}
              ${w.events.length > shown.length ? html`<li>+${w.events.length - shown.length} more</li>` : nothing}</ul>
          </dd></div>
          ${this.renderStats(this.stats.get(w.id))}
          ${w.rate_limit_per_second !== null && w.rate_limit_per_second !== undefined
            ? html`<div><dt>Rate limit</dt><dd>${w.rate_limit_per_second} requests/s <span class="muted small nowrap">per worker process</span></dd></div>` : nothing}
          ${w.ordering === 'per_subject' ? html`<div><dt>Delivery order</dt><dd class="small">In order per subject (user, role...)</dd></div>` : nothing}
          <div><dt>Receiver authentication</dt><dd class="small">${this.authSummary(w)}</dd></div>
          ${w.secrets_readable === false
            ? html`<div><dt>Signature</dt><dd class="small muted">Unknown: its secrets cannot be decrypted</dd></div>`
            : w.public_key
            ? html`<div class="wide" data-public-key><dt>Signature</dt><dd>
                <span class="small">Ed25519 (<code>v1a</code>): receivers verify with this public key</span>
                <webhook-public-key .value=${w.public_key} subject=${w.name} hide-label></webhook-public-key></dd></div>`
            : html`<div><dt>Signature</dt><dd class="small">HMAC-SHA256 (v1), shared secret</dd></div>`}
        </dl>
        ${this.renderTest(w)}
        <div class="actions" role="group" aria-label="Actions for ${w.name}">
          <button type="button" data-action="edit" @click=${() => this.act('edit', w)}>Edit${vhName}</button>
          <button type="button" data-action="test" ?disabled=${this.tests.get(w.id) === 'sending'} @click=${() => this.act('test', w)}>Send test${vhName}</button>
          <button type="button" data-action="deliveries" @click=${() => this.act('deliveries', w)}>Delivery log${vhName}</button>
          <button type="button" data-action="rotate" ?disabled=${busy} @click=${() => this.act('rotate', w)}>Rotate secret${vhName}</button>
          <button type="button" data-action="toggle" ?disabled=${busy} @click=${() => this.act('toggle', w)}>${w.enabled ? 'Disable' : 'Enable'}${vhName}</button>
          <button type="button" data-action="delete" class="danger push" ?disabled=${busy} @click=${() => this.act('delete', w)}>Delete${vhName}</button>
        </div>
      </li>`;
  }

  /**
   * Stored secrets sealed under an encryption key the server no longer has: nothing can be
   * signed or authenticated, so its deliveries fail. The server says which key; the two ways out
   * are the server's (restore the key) or the operator's (rotate, then re-enter credentials).
   */
  private renderUnreadable(w: Webhook) {
    if (w.secrets_readable !== false) return nothing;
    return html`
      <div class="notice error unreadable" data-secrets-unreadable>
        <strong>Its secrets cannot be read, so deliveries to it fail.</strong>
        ${w.secret_error ? html`<span>${w.secret_error}</span>` : nothing}
        <span>Ask the server operator to restore the missing encryption key, or choose <em>Rotate secret</em>: it makes a new
          signing secret and clears the receiver credentials, which you then enter again with <em>Edit</em>.</span>
      </div>`;
  }

  /**
   * A disabled webhook keeps its pending deliveries and sends them when it is enabled again
   * (disabled means paused); the operator may discard them instead.
   */
  private renderWaiting(w: Webhook, busy: boolean) {
    const stats = this.stats.get(w.id);
    const waiting = typeof stats === 'object' ? stats.waiting : 0;
    if (w.enabled || waiting <= 0) return nothing;
    return html`
      <div class="notice waiting" data-waiting=${waiting}>
        <span>${waiting} deliver${waiting === 1 ? 'y' : 'ies'} waiting — sent when the webhook is enabled again</span>
        <button type="button" class="danger" data-action="discard" ?disabled=${busy} @click=${() => this.act('discard', w)}>Discard waiting deliveries<span class="vh"> of ${w.name}</span></button>
      </div>`;
  }

  private authSummary(w: Webhook): string {
    if (w.secrets_readable === false) return 'Unknown (secrets cannot be read)';
    const parts = ['Signed'];
    if (w.api_key) parts.push(`API key in ${w.api_key.header}`);
    if (w.authorization) parts.push('Authorization header');
    const n = Object.keys(w.headers).length;
    if (n) parts.push(`${n} custom header${n === 1 ? '' : 's'}`);
    return parts.join(' · ');
  }

  private renderStats(stats: StatsState | undefined) {
    if (stats === undefined || stats === 'loading') {
      return html`<div><dt>Last delivery</dt><dd class="muted">Loading…</dd></div><div><dt>Success rate</dt><dd class="muted">Loading…</dd></div>`;
    }
    if (stats === 'error') {
      return html`<div><dt>Last delivery</dt><dd class="muted">Unavailable</dd></div><div><dt>Success rate</dt><dd class="muted">Unavailable</dd></div>`;
    }
    const last = stats.last;
    const lastText = last
      // Only attempted deliveries are ever `last`: a pending one is due to be sent again.
      ? html`<span class="badge ${last.status === 'succeeded' ? 'ok' : last.status === 'failed' ? 'bad' : 'warn'}">${last.status === 'pending' ? 'Retrying' : statusLabel(last.status)}</span>
        <span class="small">${last.statusCode ? `HTTP ${last.statusCode}` : outcomeLabel(last.outcome)}
        · <time datetime=${last.at} title=${formatDateTime(last.at)}>${formatRelative(last.at)}</time></span>`
      : html`<span class="muted">No deliveries yet</span>`;
    const rate = stats.successRate;
    const pending = stats.pending > 0 ? html` <span class="muted small nowrap">· ${stats.pending} pending</span>` : nothing;
    const rateText = rate === null
      ? html`<span class="muted">—</span> <span class="muted small">${stats.pending > 0 ? 'none finished yet' : 'no deliveries'}</span>${pending}`
      : html`<span class="rate"><meter min="0" max="1" low="0.9" high="0.99" optimum="1" .value=${rate} aria-hidden="true"></meter>
        <span>${Math.round(rate * 100)}% <span class="muted small nowrap">(${stats.succeeded} of ${stats.finished} delivered)</span>${pending}</span></span>`;
    return html`<div><dt>Last delivery</dt><dd>${lastText}</dd></div>
      <div><dt>Success rate <span class="window">· last ${stats.windowHours} h</span></dt><dd>${rateText}</dd></div>`;
  }

  private renderTest(w: Webhook) {
    const t = this.tests.get(w.id);
    if (!t) return nothing;
    if (t === 'sending') return html`<p class="notice test" role="status">Sending a test event to ${w.name}…</p>`;
    if ('error' in t && !('success' in t)) return html`<div class="notice error test" role="status">Could not send the test: ${t.error}</div>`;
    const r = t as TestResult;
    return html`
      <div class="notice ${r.success ? 'success' : 'error'} test" role="status" data-test-result=${r.success ? 'success' : 'failure'}>
        <strong>${r.success ? 'Test delivered' : 'Test failed'}:
          ${r.status_code ? `HTTP ${r.status_code}` : outcomeLabel(r.outcome)} in ${formatDuration(r.duration_ms)}${!r.success && r.status_code ? ` (${outcomeLabel(r.outcome)})` : ''}</strong>
        ${r.error ? html`<span>${r.error}</span>` : nothing}
        ${r.response_excerpt ? html`<span class="small muted">Response:</span><pre>${r.response_excerpt}</pre>` : nothing}
        ${r.response_note ? html`<span class="small muted" data-response-note>${r.response_note}</span>` : nothing}
      </div>`;
  }
}

if (!customElements.get('webhook-list')) customElements.define('webhook-list', WebhookList);
