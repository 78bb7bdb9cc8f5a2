import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { ApiError, type AdminApiClient } from './api-client.js';
import type { Delivery, DeliveryStatus, EventType, Webhook } from './api-types.js';
import './delivery-detail.js';
import type { WebhookDeliveryDetail } from './delivery-detail.js';
import { formatDateTime, formatDuration, formatRelative, outcomeLabel, statusLabel, toDatetimeLocal } from './format.js';
import { resendResult } from './resend-result.js';
import { announce } from './status-events.js';
import { base, tokens } from './styles.js';

const PAGE_SIZE = 20;
const TEST_EVENT = 'WEBHOOK_TEST';

/**
 * The delivery log of one webhook, newest first: filters by status and event type, cursor
 * pages behind "Load more", a detail dialog per delivery, resend of one delivery and
 * "recover every failure since" a time. Fires `webhook-back`.
 */
export class WebhookDeliveryLog extends LitElement {
  static override styles = [tokens, base, css`
    :host { display: block; }
    .top { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; justify-content: space-between; margin-bottom: 1rem; }
    .top h2 { font-size: 1.25rem; overflow-wrap: anywhere; }
    h2:focus { outline: none; }
    h2:focus-visible { outline: 3px solid var(--_focus); }
    .top-actions { display: flex; gap: 0.5rem; flex-wrap: wrap; }
    .url { font-family: var(--_mono); font-size: 0.875rem; color: var(--_muted); overflow-wrap: anywhere; }
    .tools { border: 1px solid var(--_border); border-radius: var(--_radius); background: var(--_surface); padding: 0.9rem; margin-bottom: 1rem; display: grid; gap: 0.9rem; }
    .filters { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: 0.75rem 1rem; }
    .filters .field { margin: 0; }
    form.recover { border-top: 1px solid var(--_border); padding-top: 0.9rem; }
    form.recover label { margin-bottom: 0.25rem; }
    .recover-row { display: flex; gap: 0.5rem; flex-wrap: wrap; align-items: center; }
    .recover-row input { flex: 0 1 16rem; min-width: 0; }
    .recover-row .hint { margin: 0; flex: 1 1 14rem; }
    td .sub { display: block; color: var(--_muted); font-size: 0.8125rem; }
    table { width: 100%; border-collapse: collapse; }
    caption { text-align: left; color: var(--_muted); font-size: 0.875rem; padding-bottom: 0.4rem; }
    th, td { text-align: left; padding: 0.55rem 0.6rem; border-bottom: 1px solid var(--_border); vertical-align: middle; }
    thead th { font-size: 0.75rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--_muted); }
    td.event { font-family: var(--_mono); font-size: 0.8125rem; overflow-wrap: anywhere; }
    td.row-actions { text-align: right; white-space: nowrap; }
    td.row-actions button { min-height: 2.25rem; padding: 0.35rem 0.7rem; }
    .more { display: flex; justify-content: center; padding: 1rem 0; }
    .empty { padding: 2rem 1rem; text-align: center; border: 1px dashed var(--_border); border-radius: var(--_radius); }
    @media (max-width: 640px) {
      .recover-row { flex-direction: column; align-items: stretch; }
      .recover-row input, .recover-row .hint { flex: none; }
      caption { display: block; }
      thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
      table, tbody, tr, td { display: block; width: 100%; }
      tr { border: 1px solid var(--_border); border-radius: var(--_radius); margin-bottom: 0.6rem; padding: 0.4rem 0.2rem; }
      td { border: none; padding: 0.25rem 0.6rem; display: flex; gap: 0.75rem; }
      td::before { content: attr(data-label); flex: 0 0 6.5rem; font-size: 0.75rem; text-transform: uppercase; color: var(--_muted); font-weight: 600; padding-top: 0.1rem; }
      td.row-actions { text-align: left; }
      td.row-actions::before { content: none; }
    }
  `];

  static override properties = {
    client: { attribute: false },
    webhook: { attribute: false },
    eventTypes: { attribute: false },
    status: { state: true },
    eventType: { state: true },
    deliveries: { state: true },
    nextCursor: { state: true },
    loading: { state: true },
    loadingMore: { state: true },
    error: { state: true },
    since: { state: true },
    recovering: { state: true },
    recoverError: { state: true },
  };

  declare client: AdminApiClient;
  declare webhook: Webhook;
  declare eventTypes: EventType[];
  declare status: DeliveryStatus | '';
  declare eventType: string;
  declare deliveries: Delivery[];
  declare nextCursor: string | null;
  declare loading: boolean;
  declare loadingMore: boolean;
  declare error: string | null;
  declare since: string;
  declare recovering: boolean;
  declare recoverError: string | null;
  private generation = 0;
  private pollers = new Set<string>();

  constructor() {
    super();
    this.eventTypes = [];
    this.status = '';
    this.eventType = '';
    this.deliveries = [];
    this.nextCursor = null;
    this.loading = false;
    this.loadingMore = false;
    this.error = null;
    this.since = toDatetimeLocal(new Date(Date.now() - 24 * 3_600_000));
    this.recovering = false;
    this.recoverError = null;
  }

  protected override willUpdate(changed: PropertyValues<this>) {
    if (changed.has('webhook') && this.webhook) void this.reload();
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.generation += 1;
    this.pollers.clear();
  }

  focusHeading() {
    this.renderRoot.querySelector<HTMLElement>('h2')?.focus();
  }

  private get detail(): WebhookDeliveryDetail | null {
    return this.renderRoot.querySelector('webhook-delivery-detail');
  }

  async reload() {
    const generation = ++this.generation;
    this.loading = true;
    this.error = null;
    try {
      const page = await this.client.listDeliveries(this.webhook.id, this.filter());
      if (generation !== this.generation) return;
      this.deliveries = page.deliveries;
      this.nextCursor = page.next_cursor;
    } catch (error) {
      if (generation === this.generation) this.error = error instanceof ApiError ? error.message : String(error);
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }

  private async refresh() {
    await this.reload();
    if (!this.error) announce(this, `Delivery log refreshed: ${this.deliveries.length} shown.`);
  }

  private filter(cursor?: string) {
    return { limit: PAGE_SIZE, status: this.status || undefined, event_type: this.eventType || undefined, cursor };
  }

  private async loadMore() {
    if (!this.nextCursor) return;
    const generation = this.generation;
    const firstNew = this.deliveries.length;
    this.loadingMore = true;
    try {
      const page = await this.client.listDeliveries(this.webhook.id, this.filter(this.nextCursor));
      if (generation !== this.generation) return;
      this.deliveries = [...this.deliveries, ...page.deliveries];
      this.nextCursor = page.next_cursor;
      announce(this, `Loaded ${page.deliveries.length} more deliveries.`);
      await this.updateComplete;
      // Keyboard users continue at the first new row rather than at a vanished button.
      this.renderRoot.querySelectorAll<HTMLButtonElement>('tbody tr button[data-action="details"]')[firstNew]?.focus();
    } catch (error) {
      announce(this, error instanceof ApiError ? error.message : String(error), 'error');
    } finally {
      this.loadingMore = false;
    }
  }

  private openDetail(delivery: Delivery) {
    void this.detail?.open(delivery.id, () => this.renderRoot.querySelector<HTMLElement>('h2'));
  }

  private async resend(deliveryId: string) {
    try {
      await this.client.retryDelivery(deliveryId);
      announce(this, 'Delivery queued: it will be sent again now.', 'success');
      this.deliveries = this.deliveries.map((d) => (d.id === deliveryId ? { ...d, status: 'pending' } : d));
      void this.pollUntilDone(deliveryId);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'delivery_in_flight') {
        // Not a failure: an attempt is under way (a retry now would send it twice). Say so and
        // follow the row, which shows that attempt's result shortly.
        announce(this, /[.!?]$/.test(error.message) ? error.message : `${error.message}.`, 'info');
        void this.pollUntilDone(deliveryId, false);
        return;
      }
      announce(this, `Could not resend: ${error instanceof ApiError ? error.message : String(error)}`, 'error');
    }
  }

  /**
   * Follows a delivery for a few seconds so its row shows how the attempt went; `announceResult`
   * says that result aloud (for a resend the operator asked for).
   */
  private async pollUntilDone(deliveryId: string, announceResult = true) {
    if (this.pollers.has(deliveryId)) return;
    this.pollers.add(deliveryId);
    const generation = this.generation;
    // Done once an attempt more than now has been recorded, or the delivery is final.
    const attemptsBefore = this.deliveries.find((d) => d.id === deliveryId)?.attempt_count ?? 0;
    try {
      for (let i = 0; i < 20 && generation === this.generation; i += 1) {
        await new Promise((r) => setTimeout(r, i < 5 ? 300 : 1000));
        const fresh = await this.client.getDelivery(deliveryId).catch(() => null);
        if (!fresh || generation !== this.generation) return;
        const { body: _body, ...row } = fresh;
        this.deliveries = this.deliveries.map((d) => (d.id === deliveryId ? row : d));
        if (this.detail?.isOpen && this.detail.delivery?.id === deliveryId) void this.detail.load(deliveryId);
        if (fresh.status !== 'pending' || fresh.attempt_count > attemptsBefore) {
          if (announceResult) {
            const { message, tone } = resendResult(fresh);
            announce(this, message, tone);
          }
          return;
        }
      }
    } finally {
      this.pollers.delete(deliveryId);
    }
  }

  private async recover(event: Event) {
    event.preventDefault();
    if (this.recovering) return;
    const since = new Date(this.since);
    if (!this.since || Number.isNaN(since.getTime())) {
      this.recoverError = 'Enter a date and time';
      return;
    }
    if (since.getTime() > Date.now()) {
      this.recoverError = 'Choose a time in the past';
      return;
    }
    this.recoverError = null;
    this.recovering = true;
    try {
      const { requeued } = await this.client.recover(this.webhook.id, since);
      announce(this, requeued === 0 ? `No failed deliveries since ${formatDateTime(since.toISOString())}.`
        : `Requeued ${requeued} failed deliver${requeued === 1 ? 'y' : 'ies'} since ${formatDateTime(since.toISOString())}.`, 'success');
      await this.reload();
    } catch (error) {
      this.recoverError = error instanceof ApiError ? (error.details[0]?.message ?? error.message) : String(error);
    } finally {
      this.recovering = false;
    }
  }

  override render() {
    const w = this.webhook;
    const types = [...this.eventTypes.map((t) => t.type), TEST_EVENT].sort();
    return html`
      <div class="top">
        <div>
          <h2 tabindex="-1">Delivery log: ${w.name}</h2>
          <p class="url">${w.url}</p>
        </div>
        <div class="top-actions">
          <button type="button" aria-busy=${this.loading ? 'true' : 'false'} @click=${() => this.refresh()}>Refresh</button>
          <button type="button" @click=${() => this.dispatchEvent(new CustomEvent('webhook-back', { bubbles: true, composed: true }))}>← Back to webhooks</button>
        </div>
      </div>

      <div class="tools">
        <div class="filters" role="group" aria-label="Filter deliveries">
          <div class="field">
            <label for="status">Status</label>
            <select id="status" .value=${this.status} @change=${(e: Event) => { this.status = (e.target as HTMLSelectElement).value as DeliveryStatus | ''; void this.reload(); }}>
              <option value="">All statuses</option>
              <option value="succeeded">Succeeded</option>
              <option value="failed">Failed</option>
              <option value="pending">Pending</option>
            </select>
          </div>
          <div class="field">
            <label for="event-type">Event type</label>
            <select id="event-type" .value=${this.eventType} @change=${(e: Event) => { this.eventType = (e.target as HTMLSelectElement).value; void this.reload(); }}>
              <option value="">All event types</option>
              ${types.map((t) => html`<option value=${t} ?selected=${t === this.eventType}>${t === TEST_EVENT ? `${t} (test sends)` : t}</option>`)}
            </select>
          </div>
        </div>
        <form class="recover" @submit=${this.recover} novalidate>
          <label for="since">Recover failures since</label>
          <div class="recover-row">
            <input id="since" type="datetime-local" .value=${this.since} max=${toDatetimeLocal(new Date())}
              aria-invalid=${this.recoverError ? 'true' : 'false'} aria-describedby=${this.recoverError ? 'since-error since-hint' : 'since-hint'}
              @input=${(e: Event) => { this.since = (e.target as HTMLInputElement).value; this.recoverError = null; }}>
            <button type="submit" aria-disabled=${this.recovering ? 'true' : 'false'} aria-busy=${this.recovering ? 'true' : 'false'}>${this.recovering ? 'Recovering…' : 'Recover'}</button>
            <p id="since-hint" class="hint small">Sends every failed delivery created since then once more.</p>
          </div>
          ${this.recoverError ? html`<p id="since-error" class="field-error">${this.recoverError}</p>` : nothing}
        </form>
      </div>

      ${this.error ? html`<div class="notice error" role="alert">Could not load the delivery log: ${this.error}
        <button type="button" class="link" @click=${() => this.reload()}>Try again</button></div>` : nothing}
      ${this.loading && this.deliveries.length === 0 ? html`<p class="muted" role="status">Loading deliveries…</p>` : nothing}
      ${!this.loading && !this.error && this.deliveries.length === 0 ? html`<div class="empty">
        <p><strong>${this.status || this.eventType ? 'No delivery matches these filters.' : 'No deliveries yet.'}</strong></p>
        <p class="muted">${this.status || this.eventType ? 'Change the filters to see more.' : 'Deliveries appear here when a subscribed event happens or you send a test.'}</p></div>` : nothing}
      ${this.deliveries.length > 0 ? this.renderTable() : nothing}
      <webhook-delivery-detail .client=${this.client} @delivery-resend=${(e: CustomEvent<string>) => this.resend(e.detail)}></webhook-delivery-detail>`;
  }

  private renderTable() {
    return html`
      <table aria-busy=${this.loading ? 'true' : 'false'}>
        <caption>${this.deliveries.length} deliver${this.deliveries.length === 1 ? 'y' : 'ies'} shown, newest first${this.nextCursor ? '; more are available' : ''}</caption>
        <thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last response</th><th scope="col"><span class="vh">Actions</span></th></tr></thead>
        <tbody>
          ${repeat(this.deliveries, (d) => d.id, (d) => {
            const last = d.attempts[d.attempts.length - 1];
            return html`<tr data-delivery=${d.id}>
              <td data-label="Time"><span><time datetime=${d.created_at}>${formatDateTime(d.created_at)}</time><span class="sub">${formatRelative(d.created_at)}</span></span></td>
              <td data-label="Event" class="event">${d.event_type}</td>
              <td data-label="Status"><span class="badge ${d.status === 'succeeded' ? 'ok' : d.status === 'failed' ? 'bad' : 'warn'}">${statusLabel(d.status)}</span></td>
              <td data-label="Attempts">${d.attempt_count}</td>
              <td data-label="Last response">${d.last_status_code ? `HTTP ${d.last_status_code}` : outcomeLabel(d.last_outcome) || '—'}${last ? html` <span class="muted small">· ${formatDuration(last.duration_ms)}</span>` : nothing}</td>
              <td class="row-actions">
                <button type="button" data-action="details" @click=${() => this.openDetail(d)}>Details<span class="vh"> of ${d.event_type} delivery, ${formatDateTime(d.created_at)}</span></button>
                <button type="button" data-action="resend" @click=${() => this.resend(d.id)}>Resend<span class="vh"> ${d.event_type} delivery, ${formatDateTime(d.created_at)}</span></button>
              </td>
            </tr>`;
          })}
        </tbody>
      </table>
      ${this.nextCursor ? html`<div class="more"><button type="button" ?disabled=${this.loadingMore} aria-busy=${this.loadingMore ? 'true' : 'false'} @click=${this.loadMore}>
        ${this.loadingMore ? 'Loading…' : 'Load more'}</button></div>` : nothing}`;
  }
}

if (!customElements.get('webhook-delivery-log')) customElements.define('webhook-delivery-log', WebhookDeliveryLog);
