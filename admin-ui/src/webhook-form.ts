import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { ApiError, type AdminApiClient } from './api-client.js';
import type { ClearedCredential, DeliveryOrdering, EventType, SignatureScheme, Webhook } from './api-types.js';
import './confirm-dialog.js';
import type { WebhookConfirmDialog } from './confirm-dialog.js';
import { credentialsToClear, originChangeNotice } from './credential-origin.js';
import './event-picker.js';
import { FIELD_LABELS, emptyErrors, hasErrors, mapApiErrors, type FieldErrors, type FieldKey } from './field-errors.js';
import './headers-editor.js';
import { headerRow, type HeaderRow } from './headers-editor.js';
import { base, tokens } from './styles.js';
import { DEFAULT_API_KEY_HEADER, MAX_RATE_LIMIT, buildWebhookBody, type WebhookFormState } from './webhook-body.js';

export interface SavedDetail {
  webhook: Webhook;
  /** The signing secret: right after creating an HMAC webhook, or switching one to HMAC. */
  secret?: string;
  created: boolean;
  changed: boolean;
  /** The stored credentials the API cleared because the URL moved to another host. */
  cleared?: ClearedCredential[];
  /** The update switched the signature scheme: new key material was made. */
  newKeys?: boolean;
}

const SCHEME_LABELS: Record<SignatureScheme, string> = {
  'hmac-sha256': 'HMAC-SHA256 (shared secret)',
  ed25519: 'Ed25519 (public key)',
};

const ORDERING_LABELS: Record<DeliveryOrdering, string> = {
  none: 'Any order',
  per_subject: 'Per subject (user, role...) in order',
};

/**
 * Create or edit one webhook: the fields of cidaas' "Create Webhook" view (name, events,
 * notification type, URL, API key) plus description, authorization value, custom headers and
 * enabled. Saves through the admin API and shows its validation errors next to the fields.
 * Fires `webhook-saved` (detail {@link SavedDetail}) and `webhook-cancel`.
 */
export class WebhookForm extends LitElement {
  static override styles = [tokens, base, css`
    :host { display: block; }
    form { display: grid; gap: 1.25rem; }
    header { display: grid; gap: 0.25rem; }
    h2:focus { outline: none; }
    h2:focus-visible { outline: 3px solid var(--_focus); }
    section { display: grid; gap: 0; border-top: 1px solid var(--_border); padding-top: 1rem; }
    section > h3 { font-size: 1rem; margin-bottom: 0.75rem; }
    .two { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 2fr); gap: 0 0.75rem; }
    .stored { display: flex; flex-wrap: wrap; align-items: center; gap: 0.25rem 0.75rem; font-size: 0.875rem; margin-top: 0.3rem; }
    .switch { display: flex; gap: 0.6rem; align-items: flex-start; font-weight: 400; cursor: pointer; }
    .switch input { margin-top: 0.2rem; }
    .switch strong { display: block; }
    .summary { display: grid; gap: 0.4rem; }
    .summary h3 { font-size: 1rem; color: var(--_danger); }
    .summary ul { margin: 0; padding-left: 1.1rem; }
    .summary:focus { outline: 3px solid var(--_focus); }
    .actions { display: flex; gap: 0.6rem; justify-content: flex-end; flex-wrap: wrap; padding-top: 1rem; border-top: 1px solid var(--_border); }
    section > .hint, .after { margin-bottom: 0.9rem; }
    .hint.below { margin: 0.3rem 0 0; }
    section > .stored { margin: -0.5rem 0 1rem; }
    select { max-width: 20rem; }
    input.number { max-width: 12rem; }
    textarea { min-height: 4.5rem; resize: vertical; }
    @media (max-width: 560px) {
      .two { grid-template-columns: 1fr; }
      .actions > button { flex: 1 1 auto; }
    }
  `];

  static override properties = {
    client: { attribute: false },
    catalogue: { attribute: false },
    categories: { attribute: false },
    webhook: { attribute: false },
    name: { state: true },
    description: { state: true },
    url: { state: true },
    enabled: { state: true },
    rateLimit: { state: true },
    signatureScheme: { state: true },
    ordering: { state: true },
    events: { state: true },
    apiKeyHeader: { state: true },
    apiKeyValue: { state: true },
    removeApiKey: { state: true },
    authorization: { state: true },
    removeAuthorization: { state: true },
    headerRows: { state: true },
    errors: { state: true },
    headerRowErrors: { state: true },
    submitting: { state: true },
  };

  declare client: AdminApiClient;
  declare catalogue: EventType[];
  declare categories: string[];
  /** The webhook being edited; null to create one. */
  declare webhook: Webhook | null;
  declare name: string;
  declare description: string;
  declare url: string;
  declare enabled: boolean;
  /** The rate limit field as typed; empty for no limit. */
  declare rateLimit: string;
  /** The number field holds text that is no number (its value then reads as empty). */
  private rateLimitBadInput = false;
  declare signatureScheme: SignatureScheme;
  declare ordering: DeliveryOrdering;
  declare events: string[];
  declare apiKeyHeader: string;
  declare apiKeyValue: string;
  declare removeApiKey: boolean;
  declare authorization: string;
  declare removeAuthorization: boolean;
  declare headerRows: HeaderRow[];
  declare errors: FieldErrors;
  declare headerRowErrors: Record<string, string>;
  declare submitting: boolean;

  constructor() {
    super();
    this.catalogue = [];
    this.categories = [];
    this.webhook = null;
    this.reset();
  }

  private reset() {
    const w = this.webhook;
    this.name = w?.name ?? '';
    this.description = w?.description ?? '';
    this.url = w?.url ?? '';
    this.enabled = w?.enabled ?? true;
    this.rateLimit = w?.rate_limit_per_second != null ? String(w.rate_limit_per_second) : '';
    this.rateLimitBadInput = false;
    this.signatureScheme = w?.signature_scheme ?? 'hmac-sha256';
    this.ordering = w?.ordering ?? 'none';
    this.events = w ? [...w.events] : [];
    this.apiKeyHeader = w?.api_key?.header ?? '';
    this.apiKeyValue = '';
    this.removeApiKey = false;
    this.authorization = '';
    this.removeAuthorization = false;
    this.headerRows = w ? Object.entries(w.headers).map(([name, masked]) => headerRow(name, '', masked)) : [];
    this.errors = emptyErrors();
    this.headerRowErrors = {};
    this.submitting = false;
  }

  protected override willUpdate(changed: PropertyValues<this>) {
    if (changed.has('webhook')) this.reset();
  }

  /** Focuses the view's heading, so a screen reader announces the form. */
  focusHeading() {
    this.renderRoot.querySelector<HTMLElement>('h2')?.focus();
  }

  private get editing(): boolean {
    return this.webhook !== null;
  }

  /** What the form holds, for the body builder and the origin check. */
  private get state(): WebhookFormState {
    return {
      name: this.name, description: this.description, url: this.url, enabled: this.enabled, rateLimit: this.rateLimit,
      rateLimitBadInput: this.rateLimitBadInput, events: this.events, apiKeyHeader: this.apiKeyHeader, apiKeyValue: this.apiKeyValue,
      removeApiKey: this.removeApiKey, authorization: this.authorization, removeAuthorization: this.removeAuthorization,
      headerRows: this.headerRows, signatureScheme: this.signatureScheme, ordering: this.ordering,
    };
  }

  /** Switching the scheme of a webhook makes new keys its receivers must take up: ask first. */
  private confirmNewKeys(scheme: SignatureScheme): Promise<boolean> {
    const what = scheme === 'ed25519' ? 'a new Ed25519 key pair; receivers verify with its public key' : 'a new HMAC secret, shown once after saving';
    return this.renderRoot.querySelector<WebhookConfirmDialog>('webhook-confirm-dialog')!.ask({
      title: `Switch to ${SCHEME_LABELS[scheme]} signatures?`,
      message: `Saving makes ${what}. The current key keeps signing for the overlap window, so receivers can switch without missing requests.`,
      confirmLabel: 'Make new keys and save',
    });
  }

  private async submit(event: Event) {
    event.preventDefault();
    if (this.submitting) return;
    const { body, errors, rowErrors } = buildWebhookBody(this.state, this.webhook);
    if (hasErrors(errors) || Object.keys(rowErrors).length > 0) {
      await this.showErrors(errors, rowErrors);
      return;
    }
    if (this.webhook && body.signature_scheme && !(await this.confirmNewKeys(body.signature_scheme))) return;
    if (this.webhook && Object.keys(body).length === 0) {
      this.dispatchEvent(new CustomEvent<SavedDetail>('webhook-saved', { detail: { webhook: this.webhook, created: false, changed: false }, bubbles: true, composed: true }));
      return;
    }
    this.submitting = true;
    try {
      const saved: SavedDetail = this.webhook
        ? await this.client.updateWebhook(this.webhook.id, body).then(({ secret, cleared_credentials: cleared, ...webhook }) => (
          { webhook, secret, cleared, created: false, changed: true, newKeys: body.signature_scheme !== undefined }))
        : await this.client.createWebhook(body).then(({ secret, ...webhook }) => ({ webhook, secret, created: true, changed: true }));
      this.errors = emptyErrors();
      this.dispatchEvent(new CustomEvent<SavedDetail>('webhook-saved', { detail: saved, bubbles: true, composed: true }));
    } catch (error) {
      const apiError = error instanceof ApiError ? error : new ApiError(0, 'unknown', String(error));
      const mapped = apiError.status === 400 ? mapApiErrors(apiError, body.events ?? []) : { ...emptyErrors(), general: [apiError.message] };
      await this.showErrors(mapped, {});
    } finally {
      this.submitting = false;
    }
  }

  private async showErrors(errors: FieldErrors, rowErrors: Record<string, string>) {
    this.errors = errors;
    this.headerRowErrors = rowErrors;
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>('#error-summary')?.focus();
  }

  private focusField(key: FieldKey | 'headers') {
    const ids: Partial<Record<FieldKey, string>> = {
      name: 'name', description: 'description', url: 'url', notification_type: 'notification-type',
      'api_key.header': 'api-key-header', 'api_key.value': 'api-key-value', authorization: 'authorization', enabled: 'enabled',
      rate_limit_per_second: 'rate-limit', signature_scheme: 'signature-scheme', ordering: 'ordering',
    };
    if (key === 'events') this.renderRoot.querySelector<HTMLElement>('webhook-event-picker')?.focus();
    else if (key === 'headers') this.renderRoot.querySelector<HTMLElement>('webhook-headers-editor')?.focus();
    else this.renderRoot.querySelector<HTMLElement>(`#${ids[key]}`)?.focus();
  }

  private clearError(key: FieldKey) {
    if (!this.errors.fields[key]) return;
    const fields = { ...this.errors.fields };
    delete fields[key];
    this.errors = { ...this.errors, fields };
  }

  /** aria attributes and the message paragraph of a field with an error. */
  private describe(key: FieldKey, id: string, hint?: string) {
    const error = this.errors.fields[key];
    const describedBy = [hint, error ? `${id}-error` : ''].filter(Boolean).join(' ');
    return {
      invalid: error ? 'true' : 'false',
      describedBy: describedBy || nothing,
      message: error ? html`<p id="${id}-error" class="field-error">${error}</p>` : nothing,
    };
  }

  private renderSummary() {
    const items: Array<{ key: FieldKey | 'headers' | null; text: string }> = [];
    for (const [key, message] of Object.entries(this.errors.fields) as Array<[FieldKey, string]>) {
      items.push({ key, text: `${FIELD_LABELS[key]}: ${message}` });
    }
    const headerMessages = [...Object.values(this.errors.headers), ...Object.values(this.headerRowErrors)];
    if (headerMessages.length) items.push({ key: 'headers', text: `${FIELD_LABELS.headers}: ${headerMessages.join(' ')}` });
    for (const text of this.errors.general) items.push({ key: null, text });
    if (items.length === 0) return nothing;
    const count = items.length;
    return html`
      <div id="error-summary" class="notice error summary" tabindex="-1" aria-labelledby="summary-title">
        <h3 id="summary-title">${count === 1 ? 'There is a problem' : `There are ${count} problems`}</h3>
        <ul>${items.map((i) => html`<li>${i.key ? html`<button type="button" class="link" @click=${() => this.focusField(i.key!)}>${i.text}</button>` : i.text}</li>`)}</ul>
      </div>`;
  }

  override render() {
    const w = this.webhook;
    const name = this.describe('name', 'name');
    const description = this.describe('description', 'description', 'description-hint');
    // Stored credentials this URL would clear (another host): said before saving, not after.
    const lost = credentialsToClear(w, this.url, this.state);
    const url = this.describe('url', 'url', lost.length > 0 ? 'url-hint url-origin-notice' : 'url-hint');
    const scheme = this.describe('signature_scheme', 'signature-scheme', 'signature-scheme-hint');
    const newKeys = w !== null && this.signatureScheme !== w.signature_scheme;
    const rate = this.describe('rate_limit_per_second', 'rate-limit', 'rate-limit-hint');
    const ordering = this.describe('ordering', 'ordering', 'ordering-hint');
    const apiHeader = this.describe('api_key.header', 'api-key-header');
    const keyStored = Boolean(w?.api_key) && !this.removeApiKey;
    const apiValue = this.describe('api_key.value', 'api-key-value', keyStored ? 'api-key-stored-hint api-key-hint' : 'api-key-hint');
    const auth = this.describe('authorization', 'authorization', 'authorization-hint');
    const headerErrors = { ...this.errors.headers, ...this.headerRowErrors };
    return html`
      <form novalidate @submit=${this.submit} aria-labelledby="form-title">
        <header>
          <h2 id="form-title" tabindex="-1">${w ? `Edit webhook “${w.name}”` : 'Create webhook'}</h2>
          <p class="muted">${w ? 'Secrets you leave empty keep their stored values.' : 'Fields marked * are required.'}</p>
        </header>
        ${this.renderSummary()}

        <section aria-labelledby="general-title">
          <h3 id="general-title">General</h3>
          <div class="field">
            <label for="name">Webhook name *</label>
            <input id="name" type="text" .value=${this.name} maxlength="100" required autocomplete="off"
              aria-invalid=${name.invalid} aria-describedby=${name.describedBy}
              @input=${(e: Event) => { this.name = (e.target as HTMLInputElement).value; this.clearError('name'); }}>
            ${name.message}
          </div>
          <div class="field">
            <label for="description">Description <span class="muted small">(optional)</span></label>
            <p id="description-hint" class="hint">What the receiving system does with these events.</p>
            <textarea id="description" .value=${this.description} maxlength="500" rows="2"
              aria-invalid=${description.invalid} aria-describedby=${description.describedBy}
              @input=${(e: Event) => { this.description = (e.target as HTMLTextAreaElement).value; this.clearError('description'); }}></textarea>
            ${description.message}
          </div>
        </section>

        <section>
          <webhook-event-picker .catalogue=${this.catalogue} .categories=${this.categories} .value=${this.events}
            .error=${this.errors.fields.events ?? null}
            @change=${(e: Event) => { this.events = (e.target as HTMLElement & { value: string[] }).value; this.clearError('events'); }}></webhook-event-picker>
        </section>

        <section aria-labelledby="endpoint-title">
          <h3 id="endpoint-title">Endpoint</h3>
          <div class="field">
            <label for="notification-type">Notification type</label>
            <select id="notification-type" aria-describedby="notification-type-hint">
              <option value="REST" selected>REST</option>
            </select>
            <p id="notification-type-hint" class="hint">REST: each event is sent as an HTTP POST with a JSON body.</p>
          </div>
          <div class="field">
            <label for="url">URL *</label>
            <p id="url-hint" class="hint">Where the requests go, e.g. https://crm.example.com/hooks/identity</p>
            <input id="url" type="url" inputmode="url" .value=${this.url} maxlength="2048" required autocomplete="off" spellcheck="false"
              aria-invalid=${url.invalid} aria-describedby=${url.describedBy}
              @input=${(e: Event) => { this.url = (e.target as HTMLInputElement).value; this.clearError('url'); }}>
            ${url.message}
            <div id="url-origin-notice" role="status">${lost.length > 0 ? html`<p class="notice warning small">${originChangeNotice(lost)}</p>` : nothing}</div>
          </div>
          <div class="field">
            <label for="rate-limit">Rate limit (requests/second) <span class="muted small">(optional)</span></label>
            <p id="rate-limit-hint" class="hint">Leave empty for no limit. The limit applies per worker process: with several processes delivering, the receiver can get up to that many times this rate.</p>
            <input id="rate-limit" class="number" type="number" inputmode="numeric" min="1" max=${MAX_RATE_LIMIT} step="1" .value=${this.rateLimit}
              placeholder="Unlimited" autocomplete="off" aria-invalid=${rate.invalid} aria-describedby=${rate.describedBy}
              @input=${(e: Event) => {
                const input = e.target as HTMLInputElement;
                this.rateLimit = input.value;
                this.rateLimitBadInput = input.validity.badInput;
                this.clearError('rate_limit_per_second');
              }}>
            ${rate.message}
          </div>
          <div class="field">
            <label for="ordering">Delivery order</label>
            <p id="ordering-hint" class="hint">In order: an event about a user or role is sent only once the one before it about them has succeeded or finally failed; other subjects still go in parallel.</p>
            <select id="ordering" aria-invalid=${ordering.invalid} aria-describedby=${ordering.describedBy}
              @change=${(e: Event) => { this.ordering = (e.target as HTMLSelectElement).value as DeliveryOrdering; this.clearError('ordering'); }}>
              ${(Object.keys(ORDERING_LABELS) as DeliveryOrdering[]).map((value) => html`<option value=${value} ?selected=${value === this.ordering}>${ORDERING_LABELS[value]}</option>`)}
            </select>
            ${ordering.message}
          </div>
        </section>

        <section aria-labelledby="signing-title">
          <h3 id="signing-title">Signing</h3>
          <div class="field">
            <label for="signature-scheme">Signature scheme</label>
            <p id="signature-scheme-hint" class="hint">How receivers check that a request comes from here (<code>webhook-signature</code>, Standard Webhooks).
              HMAC-SHA256 (<code>v1</code>) shares a secret with the receiver; Ed25519 (<code>v1a</code>) gives it only a public key, which cannot sign.</p>
            <select id="signature-scheme" aria-invalid=${scheme.invalid} aria-describedby=${newKeys ? 'signature-scheme-hint signature-scheme-change' : scheme.describedBy}
              @change=${(e: Event) => { this.signatureScheme = (e.target as HTMLSelectElement).value as SignatureScheme; this.clearError('signature_scheme'); }}>
              ${(Object.keys(SCHEME_LABELS) as SignatureScheme[]).map((value) => html`<option value=${value} ?selected=${value === this.signatureScheme}>${SCHEME_LABELS[value]}</option>`)}
            </select>
            ${newKeys ? html`<p id="signature-scheme-change" class="notice warning small">Saving makes new keys: receivers must take up the new
              ${this.signatureScheme === 'ed25519' ? 'public key' : 'secret'}. The current key keeps signing for the overlap window.</p>` : nothing}
            ${scheme.message}
          </div>
        </section>

        <section aria-labelledby="auth-title">
          <h3 id="auth-title">Receiver authentication</h3>
          <p class="hint">Every request is signed (<code>webhook-signature</code>); these add credentials the receiver may also check.</p>
          <div class="two">
            <div class="field">
              <label for="api-key-header">API key header</label>
              <input id="api-key-header" type="text" .value=${this.apiKeyHeader} placeholder=${DEFAULT_API_KEY_HEADER} autocomplete="off" spellcheck="false"
                ?disabled=${this.removeApiKey} aria-invalid=${apiHeader.invalid} aria-describedby=${apiHeader.describedBy}
                @input=${(e: Event) => { this.apiKeyHeader = (e.target as HTMLInputElement).value; this.clearError('api_key.header'); this.clearError('api_key.value'); }}>
              ${apiHeader.message}
            </div>
            <div class="field">
              <label for="api-key-value">API key</label>
              <input id="api-key-value" type="password" .value=${this.apiKeyValue} autocomplete="new-password" spellcheck="false"
                placeholder=${w?.api_key ? `Stored: ${w.api_key.value}` : ''} ?disabled=${this.removeApiKey}
                aria-invalid=${apiValue.invalid} aria-describedby=${apiValue.describedBy}
                @input=${(e: Event) => { this.apiKeyValue = (e.target as HTMLInputElement).value; this.clearError('api_key.value'); }}>
              ${keyStored ? html`<p id="api-key-stored-hint" class="hint below">${lost.includes('api_key')
                ? 'Stored — cleared when you save, because the URL\'s host changed: enter it again to keep it.'
                : 'Stored — leave empty to keep, even if you change the header.'}</p>` : nothing}
              ${apiValue.message}
            </div>
          </div>
          <p id="api-key-hint" class="hint after">Sent in the header above (default <code>${DEFAULT_API_KEY_HEADER}</code>) with every request.</p>
          ${w?.api_key ? html`<p class="stored">${this.removeApiKey
            ? html`<span>The API key will be removed when you save.</span><button type="button" class="link" @click=${() => { this.removeApiKey = false; }}>Keep the API key</button>`
            : html`<button type="button" class="link" @click=${() => { this.removeApiKey = true; this.apiKeyValue = ''; }}>Remove the API key</button>`}</p>` : nothing}

          <div class="field">
            <label for="authorization">Authorization value <span class="muted small">(optional)</span></label>
            <p id="authorization-hint" class="hint">Sent as the <code>Authorization</code> header, e.g. <code>Bearer &lt;token&gt;</code> or <code>Basic &lt;base64&gt;</code>.</p>
            <input id="authorization" type="password" .value=${this.authorization} autocomplete="new-password" spellcheck="false"
              placeholder=${w?.authorization ? `Stored: ${w.authorization} (leave empty to keep)` : ''} ?disabled=${this.removeAuthorization}
              aria-invalid=${auth.invalid} aria-describedby=${auth.describedBy}
              @input=${(e: Event) => { this.authorization = (e.target as HTMLInputElement).value; this.clearError('authorization'); }}>
            ${auth.message}
            ${w?.authorization ? html`<p class="stored">${this.removeAuthorization
              ? html`<span>The authorization value will be removed when you save.</span><button type="button" class="link" @click=${() => { this.removeAuthorization = false; }}>Keep it</button>`
              : html`<button type="button" class="link" @click=${() => { this.removeAuthorization = true; this.authorization = ''; }}>Remove the authorization value</button>`}</p>` : nothing}
          </div>

          <webhook-headers-editor .rows=${this.headerRows} .errors=${headerErrors} .editing=${this.editing}
            .groupError=${this.errors.fields.headers ?? null}
            @change=${(e: Event) => { this.headerRows = (e.target as HTMLElement & { rows: HeaderRow[] }).rows; this.headerRowErrors = {}; this.errors = { ...this.errors, headers: {} }; }}></webhook-headers-editor>
        </section>

        <section aria-labelledby="state-title">
          <h3 id="state-title">State</h3>
          <label class="switch">
            <input id="enabled" type="checkbox" .checked=${this.enabled} @change=${(e: Event) => { this.enabled = (e.target as HTMLInputElement).checked; }}>
            <span><strong>Enabled</strong><span class="muted small">Deliver events to this URL. A disabled webhook keeps its settings and log; deliveries already waiting are sent when it is enabled again.</span></span>
          </label>
          ${w && !w.enabled && w.status.reason ? html`<p class="notice warning small">Disabled: ${w.status.reason}. Enabling it again starts a fresh failure window.</p>` : nothing}
        </section>

        <div class="actions">
          <button type="button" @click=${() => this.dispatchEvent(new CustomEvent('webhook-cancel', { bubbles: true, composed: true }))}>Cancel</button>
          <button type="submit" class="primary" aria-disabled=${this.submitting ? 'true' : 'false'} aria-busy=${this.submitting ? 'true' : 'false'}>
            ${this.submitting ? 'Saving…' : w ? 'Save changes' : 'Create'}</button>
        </div>
      </form>
      <webhook-confirm-dialog></webhook-confirm-dialog>`;
  }
}

if (!customElements.get('webhook-form')) customElements.define('webhook-form', WebhookForm);
