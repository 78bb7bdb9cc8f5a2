import { LitElement, css, html, nothing } from 'lit';
import { copyText } from './clipboard.js';
import { formatDateTime } from './format.js';
import { openModal } from './modal.js';
import './public-key.js';
import { base, tokens } from './styles.js';

/** An HMAC secret to show once, or an Ed25519 public key (which may be shown again). */
export type SecretToShow = {
  title: string;
  webhookName: string;
  /** When the previous key stops signing (after a rotation or a change of scheme). */
  previousExpiresAt?: string;
} & ({ secret: string; publicKey?: undefined } | { publicKey: string; secret?: undefined });

/** What to show for an API answer that made key material: its `secret` (HMAC) or its `public_key` (Ed25519); null when it has neither. */
export function keyToShow(title: string, webhookName: string, answer: { secret?: string | null; public_key?: string | null; previous_expires_at?: string }): SecretToShow | null {
  const previousExpiresAt = answer.previous_expires_at;
  if (answer.secret) return { title, webhookName, secret: answer.secret, previousExpiresAt };
  if (answer.public_key) return { title, webhookName, publicKey: answer.public_key, previousExpiresAt };
  return null;
}

/**
 * Shows a signing secret the one time the API returns it, with a copy button and the warning
 * that it cannot be shown again; the secret is dropped from memory when the dialog closes. For an
 * Ed25519 webhook it shows the public key instead, which is no secret.
 */
export class WebhookSecretDialog extends LitElement {
  static override styles = [tokens, base, css`
    .secret-row { display: flex; gap: 0.5rem; }
    .secret-row input { font-family: var(--_mono); font-size: 0.875rem; }
    @media (max-width: 480px) { .secret-row { flex-direction: column; } }
  `];

  static override properties = { secret: { state: true }, copyState: { state: true } };
  declare secret: SecretToShow | null;
  declare copyState: 'idle' | 'copied' | 'manual';

  constructor() {
    super();
    this.secret = null;
    this.copyState = 'idle';
  }

  /** Resolves when the dialog closes; focus then returns to the opener, or to `fallback()` if it is gone. */
  async show(secret: SecretToShow, fallback?: () => HTMLElement | null): Promise<void> {
    this.secret = secret;
    this.copyState = 'idle';
    await this.updateComplete;
    const dialog = this.renderRoot.querySelector('dialog')!;
    openModal(dialog, this.renderRoot.querySelector<HTMLElement>('#copy, webhook-public-key'), fallback);
    await new Promise<void>((resolve) => dialog.addEventListener('close', () => resolve(), { once: true }));
  }

  private async copy() {
    if (!this.secret?.secret) return;
    const input = this.renderRoot.querySelector<HTMLInputElement>('#secret');
    this.copyState = (await copyText(this.secret.secret, input)) ? 'copied' : 'manual';
  }

  private onClose() {
    this.secret = null;
    this.copyState = 'idle';
  }

  private renderPublicKey(s: SecretToShow & { publicKey: string }) {
    return html`
      <form method="dialog" class="dialog-body">
        <h2 id="secret-title">${s.title}</h2>
        <p id="secret-warning">Receivers of <strong>${s.webhookName}</strong> verify the <code>v1a</code> entries of each request's
          <code>webhook-signature</code> header with this public key (Standard Webhooks, Ed25519).
          It is not secret, and the webhook's card shows it any time; the key that signs never leaves this server.</p>
        <webhook-public-key .value=${s.publicKey} label="Public key"></webhook-public-key>
        ${s.previousExpiresAt ? html`<p class="notice">The previous key keeps signing until
          <strong>${formatDateTime(s.previousExpiresAt)}</strong>, so receivers can switch over without missing requests.</p>` : nothing}
        <div class="dialog-actions">
          <button value="done">Done</button>
        </div>
      </form>`;
  }

  override render() {
    const s = this.secret;
    return html`
      <dialog aria-labelledby="secret-title" aria-describedby="secret-warning" @close=${this.onClose}>
        ${s?.publicKey !== undefined ? this.renderPublicKey(s) : s ? html`
          <form method="dialog" class="dialog-body">
            <h2 id="secret-title">${s.title}</h2>
            <p>Receivers of <strong>${s.webhookName}</strong> verify each request's <code>webhook-signature</code>
              header with this secret (Standard Webhooks, HMAC-SHA256).</p>
            <div>
              <label for="secret">Signing secret</label>
              <div class="secret-row">
                <input id="secret" type="text" readonly .value=${s.secret} spellcheck="false" autocomplete="off"
                  @focus=${(e: FocusEvent) => (e.target as HTMLInputElement).select()}>
                <button id="copy" type="button" class="primary" @click=${this.copy}>
                  ${this.copyState === 'copied' ? 'Copied' : 'Copy secret'}
                </button>
              </div>
              <p class="small" role="status">${this.copyState === 'copied' ? 'Secret copied to the clipboard.'
                : this.copyState === 'manual' ? 'Copying is blocked here: the secret is selected, press Ctrl+C (⌘C) to copy it.' : ''}</p>
            </div>
            <p id="secret-warning" class="notice warning"><strong>Copy it now: it will not be shown again.</strong>
              If it is lost, rotate the secret to get a new one.</p>
            ${s.previousExpiresAt ? html`<p class="notice">The previous secret keeps signing until
              <strong>${formatDateTime(s.previousExpiresAt)}</strong>, so receivers can switch over without missing requests.</p>` : nothing}
            <div class="dialog-actions">
              <button value="done">I have saved the secret</button>
            </div>
          </form>` : nothing}
      </dialog>`;
  }
}

if (!customElements.get('webhook-secret-dialog')) customElements.define('webhook-secret-dialog', WebhookSecretDialog);
