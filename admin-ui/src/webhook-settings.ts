import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { AdminApiClient, ApiError } from './api-client.js';
import type { EventType, Webhook } from './api-types.js';
import './confirm-dialog.js';
import type { WebhookConfirmDialog } from './confirm-dialog.js';
import './delivery-log.js';
import type { WebhookDeliveryLog } from './delivery-log.js';
import { formatDateTime, formatDuration, outcomeLabel } from './format.js';
import { clearedNotice } from './credential-origin.js';
import { keyToShow, type WebhookSecretDialog } from './secret-dialog.js';
import type { StatusDetail, StatusTone } from './status-events.js';
import { base, tokens } from './styles.js';
import './webhook-form.js';
import type { SavedDetail, WebhookForm } from './webhook-form.js';
import './webhook-list.js';
import type { StatsState, TestState, WebhookAction, WebhookList } from './webhook-list.js';
import { NO_DELIVERIES_YET, statsFromHealth } from './webhook-stats.js';

type View =
  | { kind: 'list' }
  | { kind: 'create' }
  | { kind: 'edit'; webhook: Webhook }
  | { kind: 'deliveries'; webhook: Webhook };

type Focus = { id: string; action: WebhookAction } | 'create' | 'heading' | null;

/**
 * `<webhook-settings api-base="/admin/webhooks/api">`: the Webhook Settings tab. Lists the
 * tenant's webhooks with their health, creates and edits them, shows signing secrets once,
 * rotates them, sends tests, and browses, resends and recovers deliveries. It talks only to
 * the admin API: with the page's cookie session (and the API's CSRF token), or with the
 * bearer `token` attribute.
 */
export class WebhookSettings extends LitElement {
  static override styles = [tokens, base, css`
    :host { display: block; max-width: 64rem; margin: 0 auto; background: var(--_bg); }
    .bar { display: flex; flex-wrap: wrap; align-items: flex-start; justify-content: space-between; gap: 0.75rem 1rem; margin-bottom: 1.25rem; }
    .bar .title { font-size: 1.5rem; font-weight: 700; }
    .bar .title:focus { outline: none; }
    .bar .title:focus-visible { outline: 3px solid var(--_focus); }
    .bar p { color: var(--_muted); max-width: 40rem; margin-top: 0.25rem; }
    .bar .bar-actions { display: flex; gap: 0.5rem; flex-wrap: wrap; }
    .live { margin-bottom: 1rem; }
    .live:empty { display: none; }
    .live .notice { display: flex; justify-content: space-between; align-items: center; gap: 0.75rem; }
    .state { border: 1px dashed var(--_border); border-radius: calc(var(--_radius) * 1.25); padding: 2.5rem 1.25rem; text-align: center; display: grid; gap: 0.6rem; justify-items: center; }
    .state h2 { font-size: 1.25rem; }
    .state p { color: var(--_muted); max-width: 32rem; }
    .state.error { border-style: solid; border-color: var(--_danger); background: var(--_danger-soft); }
    .state.error p { color: var(--_fg); }
    .spinner { width: 1.75rem; height: 1.75rem; border-radius: 50%; border: 3px solid var(--_border); border-top-color: var(--_accent); animation: spin 0.9s linear infinite; }
    @keyframes spin { to { transform: rotate(360deg); } }
    @media (prefers-reduced-motion: reduce) { .spinner { animation: none; } }
    @media (max-width: 560px) {
      .bar .title { font-size: 1.3rem; }
      .bar .bar-actions, .bar .bar-actions > button { width: 100%; }
      .bar .bar-actions > button { flex: 1 1 auto; }
    }
  `];

  static override properties = {
    apiBase: { type: String, attribute: 'api-base' },
    token: { type: String },
    headingLevel: { type: Number, attribute: 'heading-level' },
    phase: { state: true },
    loadError: { state: true },
    webhooks: { state: true },
    catalogue: { state: true },
    categories: { state: true },
    view: { state: true },
    stats: { state: true },
    tests: { state: true },
    busy: { state: true },
    message: { state: true },
  };

  declare apiBase: string;
  declare token: string | null;
  declare headingLevel: number;
  declare phase: 'loading' | 'ready' | 'error';
  declare loadError: ApiError | null;
  declare webhooks: Webhook[];
  declare catalogue: EventType[];
  declare categories: string[];
  declare view: View;
  declare stats: Map<string, StatsState>;
  declare tests: Map<string, TestState>;
  declare busy: Set<string>;
  declare message: StatusDetail | null;
  private client: AdminApiClient | null = null;
  private messageTimer: ReturnType<typeof setTimeout> | undefined;
  private pendingFocus: Focus = null;

  constructor() {
    super();
    this.apiBase = '';
    this.token = null;
    this.headingLevel = 2;
    this.phase = 'loading';
    this.loadError = null;
    this.webhooks = [];
    this.catalogue = [];
    this.categories = [];
    this.view = { kind: 'list' };
    this.stats = new Map();
    this.tests = new Map();
    this.busy = new Set();
    this.message = null;
    this.addEventListener('webhook-status', (e) => {
      const { message, tone } = (e as CustomEvent<StatusDetail>).detail;
      this.say(message, tone);
    });
  }

  protected override willUpdate(changed: PropertyValues<this>) {
    if (changed.has('apiBase') || changed.has('token')) {
      this.client = this.apiBase ? new AdminApiClient(this.apiBase, this.token) : null;
      void this.load();
    }
  }

  protected override updated() {
    const focus = this.pendingFocus;
    if (!focus) return;
    this.pendingFocus = null;
    void this.applyFocus(focus);
  }

  private async applyFocus(focus: Focus) {
    const root = this.renderRoot;
    if (focus === 'create') {
      root.querySelector<HTMLElement>('#create')?.focus();
    } else if (focus === 'heading') {
      const child = root.querySelector<(WebhookForm | WebhookDeliveryLog) & HTMLElement>('webhook-form, webhook-delivery-log');
      if (child) {
        await child.updateComplete;
        child.focusHeading();
      } else {
        root.querySelector<HTMLElement>('.title')?.focus();
      }
    } else if (focus) {
      const list = root.querySelector<WebhookList>('webhook-list');
      await list?.updateComplete;
      if (!list?.focusAction(focus.id, focus.action)) root.querySelector<HTMLElement>('.title')?.focus();
    }
  }

  /** Shows a message and announces it in the live region. */
  say(message: string, tone: StatusTone = 'info') {
    clearTimeout(this.messageTimer);
    this.message = { message, tone };
    if (tone !== 'error') this.messageTimer = setTimeout(() => { this.message = null; }, 12_000);
  }

  private get list(): WebhookList | null {
    return this.renderRoot.querySelector('webhook-list');
  }

  async load() {
    if (!this.client) {
      this.phase = 'error';
      this.loadError = new ApiError(0, 'not_configured', 'This element needs an api-base attribute: the URL where the admin API is mounted.');
      return;
    }
    this.phase = 'loading';
    this.loadError = null;
    try {
      const [catalogue, webhooks] = await Promise.all([this.client.listEventTypes(), this.client.listWebhooks()]);
      this.catalogue = catalogue.event_types;
      this.categories = catalogue.categories;
      this.webhooks = webhooks;
      // The list answer carries each webhook's health: no request per webhook.
      this.stats = new Map(webhooks.map((w) => [w.id, w.health ? statsFromHealth(w.health) : 'error' as const]));
      this.phase = 'ready';
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown) {
    this.loadError = error instanceof ApiError ? error : new ApiError(0, 'unknown', String(error));
    this.phase = 'error';
  }

  /**
   * Refreshes one webhook's health (after a test send, or back from its delivery log). Only the
   * health is taken: the card's settings stay as this page last wrote or read them.
   */
  private async loadStats(id: string) {
    try {
      const { health } = await this.client!.getWebhook(id);
      this.stats = new Map(this.stats).set(id, health ? statsFromHealth(health) : 'error');
    } catch {
      this.stats = new Map(this.stats).set(id, 'error');
    }
  }

  private show(view: View, focus: Focus) {
    this.view = view;
    this.pendingFocus = focus;
  }

  private replaceWebhook(webhook: Webhook) {
    this.webhooks = this.webhooks.map((w) => (w.id === webhook.id ? webhook : w));
  }

  /** An API error during an action: 401 means the session is gone; others are announced. */
  private actionFailed(what: string, error: unknown) {
    if (error instanceof ApiError && error.status === 401) {
      this.fail(error);
      return;
    }
    this.say(`${what}: ${error instanceof ApiError ? error.message : String(error)}`, 'error');
  }

  private async onAction(e: CustomEvent<{ action: WebhookAction; webhook: Webhook }>) {
    const { action, webhook } = e.detail;
    const run: Record<WebhookAction, () => unknown> = {
      edit: () => this.show({ kind: 'edit', webhook }, 'heading'),
      deliveries: () => this.show({ kind: 'deliveries', webhook }, 'heading'),
      test: () => this.sendTest(webhook),
      rotate: () => this.rotate(webhook),
      toggle: () => this.toggle(webhook),
      delete: () => this.deleteWebhook(webhook),
      discard: () => this.discardWaiting(webhook),
    };
    await run[action]();
  }

  private async sendTest(webhook: Webhook) {
    this.tests = new Map(this.tests).set(webhook.id, 'sending');
    try {
      const result = await this.client!.sendTest(webhook.id);
      this.tests = new Map(this.tests).set(webhook.id, result);
      const what = result.status_code ? `HTTP ${result.status_code}` : outcomeLabel(result.outcome);
      this.say(result.success ? `Test event delivered to ${webhook.name}: ${what} in ${formatDuration(result.duration_ms)}.`
        : `Test event to ${webhook.name} failed: ${what}${result.error ? ` (${result.error})` : ''}.`, result.success ? 'success' : 'error');
      void this.loadStats(webhook.id);
    } catch (error) {
      this.tests = new Map(this.tests).set(webhook.id, { error: error instanceof ApiError ? error.message : String(error) });
      this.actionFailed(`Could not send a test to ${webhook.name}`, error);
    }
    this.pendingFocus = { id: webhook.id, action: 'test' };
  }

  private async withBusy<T>(id: string, fn: () => Promise<T>): Promise<T> {
    this.busy = new Set(this.busy).add(id);
    try {
      return await fn();
    } finally {
      const next = new Set(this.busy);
      next.delete(id);
      this.busy = next;
    }
  }

  private async confirm(title: string, message: string, confirmLabel: string, danger = false): Promise<boolean> {
    const dialog = this.renderRoot.querySelector<WebhookConfirmDialog>('webhook-confirm-dialog')!;
    return dialog.ask({ title, message, confirmLabel, danger });
  }

  private secretDialog(): WebhookSecretDialog {
    return this.renderRoot.querySelector<WebhookSecretDialog>('webhook-secret-dialog')!;
  }

  private async rotate(webhook: Webhook) {
    const what = webhook.signature_scheme === 'ed25519' ? 'key' : 'secret';
    const ok = await this.confirm(`Rotate the signing secret of “${webhook.name}”?`,
      `A new ${what} signs every request from now on. The current ${what} keeps signing too for an overlap window, so receivers can switch without missing requests.`,
      'Rotate secret');
    if (!ok) return;
    try {
      const rotated = await this.withBusy(webhook.id, () => this.client!.rotateSecret(webhook.id));
      this.say(`New signing ${what} for ${webhook.name}; the previous one expires ${formatDateTime(rotated.previous_expires_at)}.`, 'success');
      // An Ed25519 webhook's card shows its public key: the new one from now on.
      if (rotated.public_key) this.replaceWebhook({ ...webhook, public_key: rotated.public_key });
      await this.updateComplete;
      await this.secretDialog().show(keyToShow(rotated.public_key ? 'New signing key: its public key' : 'New signing secret', webhook.name, rotated)!);
    } catch (error) {
      this.actionFailed(`Could not rotate the secret of ${webhook.name}`, error);
    }
  }

  private async toggle(webhook: Webhook) {
    const enabled = !webhook.enabled;
    try {
      const updated = await this.withBusy(webhook.id, () => this.client!.updateWebhook(webhook.id, { enabled }));
      this.replaceWebhook(updated);
      this.say(`${webhook.name} is ${enabled ? 'enabled: events are delivered again' : 'disabled: no events are delivered until you enable it'}.`, 'success');
      // What it holds back (disabled) or is about to send (enabled) changed.
      void this.loadStats(webhook.id);
    } catch (error) {
      this.actionFailed(`Could not ${enabled ? 'enable' : 'disable'} ${webhook.name}`, error);
    }
    this.pendingFocus = { id: webhook.id, action: 'toggle' };
  }

  private async discardWaiting(webhook: Webhook) {
    const stats = this.stats.get(webhook.id);
    const waiting = typeof stats === 'object' ? stats.waiting : 0;
    const what = waiting === 1 ? 'The delivery' : waiting > 1 ? `The ${waiting} deliveries` : 'The deliveries';
    const ok = await this.confirm(`Discard the deliveries waiting for “${webhook.name}”?`,
      `${what} waiting for this webhook to be enabled again will be marked failed and never sent, not even when you enable it. `
        + 'They stay in the delivery log, where you can still resend each one.',
      'Discard deliveries', true);
    if (!ok) return;
    try {
      const { discarded } = await this.withBusy(webhook.id, () => this.client!.discardPending(webhook.id));
      this.say(discarded === 0 ? `No deliveries of ${webhook.name} were waiting any more.`
        : `Discarded ${discarded} waiting deliver${discarded === 1 ? 'y' : 'ies'} of ${webhook.name}.`, discarded === 0 ? 'info' : 'success');
    } catch (error) {
      this.actionFailed(`Could not discard the waiting deliveries of ${webhook.name}`, error);
    }
    await this.loadStats(webhook.id);
    await this.updateComplete;
    await this.list?.updateComplete;
    // The discard button has gone with the deliveries (it stays after a failure: focus it then).
    this.pendingFocus = { id: webhook.id, action: this.list?.actionButton(webhook.id, 'discard') ? 'discard' : 'toggle' };
    this.requestUpdate();
  }

  private async deleteWebhook(webhook: Webhook) {
    const ok = await this.confirm(`Delete “${webhook.name}”?`,
      `Events stop going to ${webhook.url} at once, and its delivery log is deleted too. This cannot be undone.`, 'Delete webhook', true);
    if (!ok) return;
    const index = this.webhooks.findIndex((w) => w.id === webhook.id);
    try {
      await this.withBusy(webhook.id, () => this.client!.deleteWebhook(webhook.id));
      this.webhooks = this.webhooks.filter((w) => w.id !== webhook.id);
      this.say(`Deleted ${webhook.name}.`, 'success');
      const next = this.webhooks[Math.min(index, this.webhooks.length - 1)];
      this.pendingFocus = next ? { id: next.id, action: 'edit' } : 'create';
    } catch (error) {
      this.actionFailed(`Could not delete ${webhook.name}`, error);
    }
  }

  private async onSaved(e: CustomEvent<SavedDetail>) {
    const { webhook, secret, created, changed, cleared, newKeys } = e.detail;
    // New key material (a create, a switch of scheme): the HMAC secret once, or the public key.
    const key = created || newKeys ? keyToShow(webhook.public_key ? `${created ? 'Webhook created' : 'New signing key'}: its public key`
      : created ? 'Webhook created: copy its signing secret' : 'New signing secret', webhook.name, { secret, public_key: webhook.public_key }) : null;
    if (created) {
      this.webhooks = [...this.webhooks, webhook];
      this.stats = new Map(this.stats).set(webhook.id, NO_DELIVERIES_YET);
      this.say(`Created ${webhook.name}.`, 'success');
      this.show({ kind: 'list' }, null);
      await this.updateComplete;
      await this.list?.updateComplete;
      const testButton = () => this.list?.actionButton(webhook.id, 'test') ?? null;
      if (key) await this.secretDialog().show(key, testButton);
      else testButton()?.focus();
    } else {
      if (changed) this.replaceWebhook(webhook);
      // What a move to another host cleared is said with the save, not left to be found out.
      const saved = `Saved ${webhook.name}.${cleared?.length ? ` ${clearedNotice(cleared)}` : ''}`;
      this.say(changed ? saved : 'Nothing to save: no field was changed.', changed ? 'success' : 'info');
      this.show({ kind: 'list' }, { id: webhook.id, action: 'edit' });
      if (!key) return;
      await this.updateComplete;
      await this.secretDialog().show(key, () => this.list?.actionButton(webhook.id, 'edit') ?? null);
    }
  }

  private back() {
    const from = this.view;
    this.show({ kind: 'list' }, from.kind === 'edit' || from.kind === 'deliveries' ? { id: from.webhook.id, action: from.kind === 'edit' ? 'edit' : 'deliveries' } : 'create');
    if (from.kind === 'deliveries') void this.loadStats(from.webhook.id);
  }

  override render() {
    return html`
      <div class="bar">
        <div>
          <div class="title" role="heading" aria-level=${this.headingLevel} tabindex="-1">Webhook Settings</div>
          <p>Send events from this identity server to other systems the moment they happen. Every request is signed and retried until it is delivered.</p>
        </div>
        ${this.phase === 'ready' && this.view.kind === 'list' ? html`<div class="bar-actions">
          <button id="create" type="button" class="primary" @click=${() => this.show({ kind: 'create' }, 'heading')}>+ Create webhook</button>
        </div>` : nothing}
      </div>
      <div class="live" role="status" aria-live="polite">${this.message ? html`
        <div class="notice ${this.message.tone === 'error' ? 'error' : this.message.tone === 'success' ? 'success' : ''}">
          <span>${this.message.message}</span>
          <button type="button" class="link" @click=${() => { this.message = null; }}>Dismiss<span class="vh"> message</span></button>
        </div>` : nothing}</div>
      ${this.renderBody()}
      <webhook-confirm-dialog></webhook-confirm-dialog>
      <webhook-secret-dialog></webhook-secret-dialog>`;
  }

  private renderBody() {
    if (this.phase === 'loading') {
      return html`<div class="state" aria-busy="true"><div class="spinner" aria-hidden="true"></div><p role="status">Loading webhooks…</p></div>`;
    }
    if (this.phase === 'error') return this.renderError(this.loadError);
    const view = this.view;
    switch (view.kind) {
      case 'create':
      case 'edit':
        return html`<webhook-form .client=${this.client} .catalogue=${this.catalogue} .categories=${this.categories}
          .webhook=${view.kind === 'edit' ? view.webhook : null}
          @webhook-saved=${this.onSaved} @webhook-cancel=${this.back}></webhook-form>`;
      case 'deliveries':
        return html`<webhook-delivery-log .client=${this.client} .webhook=${view.webhook} .eventTypes=${this.catalogue}
          @webhook-back=${this.back}></webhook-delivery-log>`;
      default:
        if (this.webhooks.length === 0) {
          return html`<div class="state">
            <h2>No webhooks yet — create one</h2>
            <p>A webhook sends a signed HTTP POST to a URL you choose whenever the events you pick happen, such as a user logging in or being created.</p>
            <button type="button" class="primary" @click=${() => this.show({ kind: 'create' }, 'heading')}>Create your first webhook</button>
          </div>`;
        }
        return html`<webhook-list .webhooks=${this.webhooks} .stats=${this.stats} .tests=${this.tests} .busy=${this.busy}
          @webhook-action=${this.onAction}></webhook-list>`;
    }
  }

  private renderError(error: ApiError | null) {
    const status = error?.status;
    const title = status === 401 ? 'Sign in to manage webhooks'
      : status === 403 ? 'You may not manage webhooks here'
        : status === 0 ? 'Cannot reach the server' : 'Webhooks could not be loaded';
    const text = status === 401 ? 'You are not signed in, or your session has ended. Sign in to the admin console, then try again.'
      : status === 403 ? 'Your account is signed in but has no permission to manage the webhooks of this tenant. Ask an administrator for access.'
        : error?.message ?? 'Something went wrong.';
    return html`<div class="state error" role="alert">
      <h2>${title}</h2>
      <p>${text}</p>
      <button type="button" @click=${() => this.load()}>Try again</button>
    </div>`;
  }
}

if (!customElements.get('webhook-settings')) customElements.define('webhook-settings', WebhookSettings);

declare global {
  interface HTMLElementTagNameMap {
    'webhook-settings': WebhookSettings;
  }
}
