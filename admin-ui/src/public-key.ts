import { LitElement, css, html, nothing } from 'lit';
import { copyText } from './clipboard.js';
import { base, tokens } from './styles.js';

/**
 * `<webhook-public-key .value=${'whpk_…'} subject="CRM sync">`: an Ed25519 webhook's public
 * key, read-only, with a copy button. It is not secret (receivers verify `v1a` signatures with
 * it and nothing can be signed with it), so it may be shown any number of times.
 */
export class WebhookPublicKey extends LitElement {
  static override styles = [tokens, base, css`
    :host { display: block; }
    .row { display: flex; gap: 0.5rem; align-items: center; }
    .row input { font-family: var(--_mono); font-size: 0.8125rem; min-width: 0; flex: 1 1 auto; }
    .row button { flex: none; }
    p.small { margin: 0.25rem 0 0; min-height: 0; }
    @media (max-width: 480px) { .row { flex-direction: column; align-items: stretch; } }
  `];

  static override properties = {
    value: { type: String },
    subject: { type: String },
    label: { type: String },
    hideLabel: { type: Boolean, attribute: 'hide-label' },
    copyState: { state: true },
  };

  declare value: string;
  /** The webhook's name, for the accessible names of the field and button on a list of several. */
  declare subject: string;
  declare label: string;
  /** The label is read by screen readers only (where a heading already says what this is). */
  declare hideLabel: boolean;
  declare copyState: 'idle' | 'copied' | 'manual';

  constructor() {
    super();
    this.value = '';
    this.subject = '';
    this.label = 'Public key';
    this.hideLabel = false;
    this.copyState = 'idle';
  }

  /** Focuses the copy button (the first thing to do with a key just made). */
  override focus() {
    this.renderRoot.querySelector<HTMLButtonElement>('button')?.focus();
  }

  private async copy() {
    const input = this.renderRoot.querySelector<HTMLInputElement>('input');
    this.copyState = (await copyText(this.value, input)) ? 'copied' : 'manual';
  }

  override render() {
    const of = this.subject ? html`<span class="vh"> of ${this.subject}</span>` : nothing;
    return html`
      <label for="public-key" class=${this.hideLabel ? 'vh' : ''}>${this.label}${of}</label>
      <div class="row">
        <input id="public-key" type="text" readonly .value=${this.value} spellcheck="false" autocomplete="off"
          @focus=${(e: FocusEvent) => (e.target as HTMLInputElement).select()}>
        <button type="button" @click=${this.copy}>${this.copyState === 'copied' ? 'Copied' : 'Copy public key'}${of}</button>
      </div>
      <p class="small" role="status">${this.copyState === 'copied' ? 'Public key copied to the clipboard.'
        : this.copyState === 'manual' ? 'Copying is blocked here: the key is selected, press Ctrl+C (⌘C) to copy it.' : ''}</p>`;
  }
}

if (!customElements.get('webhook-public-key')) customElements.define('webhook-public-key', WebhookPublicKey);
