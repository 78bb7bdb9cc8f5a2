import { LitElement, html, nothing } from 'lit';
import { openModal } from './modal.js';
import { base, tokens } from './styles.js';

export interface ConfirmOptions {
  title: string;
  message: string;
  confirmLabel: string;
  danger?: boolean;
}

/** A modal yes/no question. `ask()` resolves true only when the confirm button is pressed. */
export class WebhookConfirmDialog extends LitElement {
  static override styles = [tokens, base];
  static override properties = { options: { state: true } };
  declare options: ConfirmOptions | null;
  private resolve: ((ok: boolean) => void) | null = null;

  constructor() {
    super();
    this.options = null;
  }

  async ask(options: ConfirmOptions): Promise<boolean> {
    this.resolve?.(false);
    this.options = options;
    await this.updateComplete;
    const dialog = this.renderRoot.querySelector('dialog')!;
    dialog.returnValue = '';
    // The safe answer has focus, so a stray Enter does not delete anything.
    openModal(dialog, this.renderRoot.querySelector<HTMLButtonElement>('button[value="cancel"]'));
    return new Promise((resolve) => { this.resolve = resolve; });
  }

  private onClose(event: Event) {
    const ok = (event.target as HTMLDialogElement).returnValue === 'confirm';
    this.resolve?.(ok);
    this.resolve = null;
  }

  override render() {
    const o = this.options;
    return html`
      <dialog aria-labelledby="confirm-title" aria-describedby="confirm-message" @close=${this.onClose}>
        ${o ? html`
          <form method="dialog" class="dialog-body">
            <h2 id="confirm-title">${o.title}</h2>
            <p id="confirm-message">${o.message}</p>
            <div class="dialog-actions">
              <button value="cancel">Cancel</button>
              <button value="confirm" class=${o.danger ? 'danger solid' : 'primary'}>${o.confirmLabel}</button>
            </div>
          </form>` : nothing}
      </dialog>`;
  }
}

if (!customElements.get('webhook-confirm-dialog')) customElements.define('webhook-confirm-dialog', WebhookConfirmDialog);
