import { LitElement, css, html, nothing } from 'lit';
import { ApiError, type AdminApiClient } from './api-client.js';
import type { Attempt, DeliveryDetail } from './api-types.js';
import { formatDateTime, formatDuration, outcomeLabel, prettyJson, statusLabel } from './format.js';
import { openModal } from './modal.js';
import { base, tokens } from './styles.js';

/**
 * One delivery in a modal dialog: what was sent (body, request headers as the API masks them),
 * every attempt with its response status, excerpt or error and duration, and a Resend button.
 * Fires `delivery-resend` with the delivery id.
 */
export class WebhookDeliveryDetail extends LitElement {
  static override styles = [tokens, base, css`
    dialog { width: min(52rem, calc(100vw - 1.5rem)); }
    .head { display: flex; justify-content: space-between; gap: 0.75rem; align-items: flex-start; }
    .head h2 { font-size: 1.125rem; overflow-wrap: anywhere; }
    dl.facts { margin: 0; display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); gap: 0.5rem 1rem; }
    dt { font-size: 0.75rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--_muted); font-weight: 600; }
    dd { margin: 0; overflow-wrap: anywhere; }
    h3 { font-size: 1rem; margin-top: 0.25rem; }
    ol.attempts { list-style: none; margin: 0; padding: 0; display: grid; gap: 0.75rem; }
    .attempt { border: 1px solid var(--_border); border-radius: var(--_radius); padding: 0.75rem; display: grid; gap: 0.5rem; }
    .attempt-head { display: flex; flex-wrap: wrap; gap: 0.4rem 0.75rem; align-items: center; }
    table { border-collapse: collapse; width: 100%; font-size: 0.8125rem; }
    th, td { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid var(--_border); vertical-align: top; }
    th { font-family: var(--_mono); font-weight: 600; white-space: nowrap; width: 1%; }
    td { font-family: var(--_mono); overflow-wrap: anywhere; }
    details > summary { cursor: pointer; font-weight: 600; font-size: 0.875rem; padding: 0.25rem 0; }
    @media (max-width: 560px) { th { white-space: normal; } }
  `];

  static override properties = {
    client: { attribute: false },
    delivery: { state: true },
    loading: { state: true },
    error: { state: true },
  };

  declare client: AdminApiClient;
  declare delivery: DeliveryDetail | null;
  declare loading: boolean;
  declare error: string | null;

  constructor() {
    super();
    this.delivery = null;
    this.loading = false;
    this.error = null;
  }

  /** Opens the dialog and loads the delivery; `fallback` gets focus back if the opener is gone. */
  async open(deliveryId: string, fallback?: () => HTMLElement | null) {
    this.delivery = null;
    this.error = null;
    this.loading = true;
    await this.updateComplete;
    openModal(this.renderRoot.querySelector('dialog')!, this.renderRoot.querySelector<HTMLElement>('#close'), fallback);
    await this.load(deliveryId);
  }

  async load(deliveryId: string) {
    this.loading = true;
    try {
      this.delivery = await this.client.getDelivery(deliveryId);
      this.error = null;
    } catch (error) {
      this.error = error instanceof ApiError ? error.message : String(error);
    } finally {
      this.loading = false;
    }
  }

  get isOpen(): boolean {
    return this.renderRoot.querySelector('dialog')?.open ?? false;
  }

  private close() {
    this.renderRoot.querySelector('dialog')?.close();
  }

  override render() {
    const d = this.delivery;
    return html`
      <dialog aria-labelledby="detail-title" aria-busy=${this.loading ? 'true' : 'false'}>
        <div class="dialog-body">
          <div class="head">
            <h2 id="detail-title">${d ? html`Delivery of <code>${d.event_type}</code>` : 'Delivery'}</h2>
            <button id="close" type="button" @click=${this.close}>Close<span class="vh"> delivery details</span></button>
          </div>
          ${this.error ? html`<p class="notice error" role="alert">${this.error}</p>` : nothing}
          ${!d && this.loading ? html`<p class="muted" role="status">Loading the delivery…</p>` : nothing}
          ${d ? this.renderDelivery(d) : nothing}
        </div>
      </dialog>`;
  }

  private renderDelivery(d: DeliveryDetail) {
    return html`
      <dl class="facts">
        <div><dt>Status</dt><dd><span class="badge ${d.status === 'succeeded' ? 'ok' : d.status === 'failed' ? 'bad' : 'warn'}">${statusLabel(d.status)}</span></dd></div>
        <div><dt>Created</dt><dd>${formatDateTime(d.created_at)}</dd></div>
        <div><dt>Attempts</dt><dd>${d.attempt_count}</dd></div>
        ${d.next_attempt_at ? html`<div><dt>Next attempt</dt><dd>${formatDateTime(d.next_attempt_at)}</dd></div>` : nothing}
        <div><dt>Delivery id (webhook-id)</dt><dd><code>${d.id}</code></dd></div>
      </dl>
      <div class="dialog-actions">
        <button type="button" class="primary" @click=${() => this.dispatchEvent(new CustomEvent('delivery-resend', { detail: d.id, bubbles: true, composed: true }))}>Resend now</button>
      </div>
      <h3>Attempts</h3>
      ${d.attempts.length === 0 ? html`<p class="muted">No attempt has been made yet.</p>` : html`
        <ol class="attempts">${[...d.attempts].reverse().map((a) => this.renderAttempt(a))}</ol>`}
      <h3>Request body</h3>
      <pre tabindex="0" aria-label="Request body">${d.body === null ? 'The event body is no longer stored.' : prettyJson(d.body)}</pre>`;
  }

  private renderAttempt(a: Attempt) {
    const headers = Object.entries(a.request_headers ?? {});
    return html`
      <li class="attempt">
        <div class="attempt-head">
          <strong>Attempt ${a.attempt_number}</strong>
          <span class="badge ${a.outcome === 'success' ? 'ok' : 'bad'}">${outcomeLabel(a.outcome)}</span>
          ${a.status_code ? html`<span>HTTP ${a.status_code}</span>` : nothing}
          <span class="muted small">${formatDateTime(a.started_at)} · ${formatDuration(a.duration_ms)}</span>
        </div>
        ${a.error ? html`<p class="small"><strong>Error:</strong> ${a.error}</p>` : nothing}
        ${a.response_excerpt !== null ? html`<div><p class="small muted">Response (excerpt)</p><pre tabindex="0" aria-label="Response of attempt ${a.attempt_number}">${a.response_excerpt || '(empty body)'}</pre></div>` : nothing}
        ${headers.length ? html`<details><summary>Request headers (${headers.length})</summary>
          <table><caption class="vh">Request headers of attempt ${a.attempt_number}</caption>
            <tbody>${headers.map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${v}</td></tr>`)}</tbody></table>
        </details>` : nothing}
      </li>`;
  }
}

if (!customElements.get('webhook-delivery-detail')) customElements.define('webhook-delivery-detail', WebhookDeliveryDetail);
