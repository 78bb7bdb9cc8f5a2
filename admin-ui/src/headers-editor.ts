import { LitElement, css, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { base, tokens } from './styles.js';

/**
 * One custom header row. `masked` is what the API shows of a stored value (`****alue`) and
 * `stored` the name it is stored under (both null for a row added in this form): a stored row
 * left with an empty value keeps its stored value.
 */
export interface HeaderRow {
  key: number;
  name: string;
  value: string;
  masked: string | null;
  stored: string | null;
}

let nextKey = 1;
/** A row; give `masked` for a header that is stored under `name`. */
export function headerRow(name = '', value = '', masked: string | null = null): HeaderRow {
  nextKey += 1;
  return { key: nextKey, name, value, masked, stored: masked === null ? null : name };
}

/**
 * Custom headers sent with every request: rows of name and value, added and removed with
 * buttons. `errors` maps a lower-cased header name (or `#<key>` for a row) to its message.
 * Fires `change` (composed) on every edit.
 */
export class WebhookHeadersEditor extends LitElement {
  static override styles = [tokens, base, css`
    :host { display: block; }
    fieldset { border: 1px solid var(--_border); border-radius: var(--_radius); padding: 0.75rem 0.9rem 0.9rem; margin: 0; min-width: 0; }
    fieldset[aria-invalid='true'] { border-color: var(--_danger); }
    legend { font-weight: 600; padding: 0 0.3rem; }
    ol { list-style: none; margin: 0 0 0.5rem; padding: 0; display: grid; gap: 0.6rem; }
    .row { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.4fr) auto; gap: 0.5rem; align-items: end; }
    .row label { font-weight: 600; font-size: 0.875rem; }
    .row .error { grid-column: 1 / -1; }
    .row input { font-family: var(--_mono); font-size: 0.875rem; }
    @media (max-width: 560px) {
      .row { grid-template-columns: 1fr auto; }
      .row .value { grid-column: 1 / 2; }
      .row .name { grid-column: 1 / -1; }
      li + li { border-top: 1px solid var(--_border); padding-top: 0.6rem; }
    }
  `];

  static override properties = {
    rows: { attribute: false },
    errors: { attribute: false },
    groupError: { attribute: false },
    editing: { attribute: false },
  };

  declare rows: HeaderRow[];
  declare errors: Record<string, string>;
  declare groupError: string | null;
  /** Editing a stored webhook: say that stored values are kept unless replaced. */
  declare editing: boolean;

  constructor() {
    super();
    this.rows = [];
    this.errors = {};
    this.groupError = null;
    this.editing = false;
  }

  errorFor(row: HeaderRow): string | undefined {
    return this.errors[`#${row.key}`] ?? (row.name ? this.errors[row.name.trim().toLowerCase()] : undefined);
  }

  /** Focuses the first row with an error, else the add button. */
  override focus() {
    const bad = this.rows.find((r) => this.errorFor(r));
    const target = bad ? this.renderRoot.querySelector<HTMLInputElement>(`#h-name-${bad.key}`) : this.renderRoot.querySelector<HTMLButtonElement>('#add');
    target?.focus();
  }

  private emit(rows: HeaderRow[]) {
    this.rows = rows;
    this.dispatchEvent(new Event('change', { bubbles: true, composed: true }));
  }

  private edit(key: number, patch: Partial<HeaderRow>) {
    this.emit(this.rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  }

  private async add() {
    const row = headerRow();
    this.emit([...this.rows, row]);
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLInputElement>(`#h-name-${row.key}`)?.focus();
  }

  private async removeRow(row: HeaderRow, index: number) {
    this.emit(this.rows.filter((r) => r.key !== row.key));
    await this.updateComplete;
    // Focus the row that took its place, else the add button: never lose focus to <body>.
    const next = this.rows[Math.min(index, this.rows.length - 1)];
    (next ? this.renderRoot.querySelector<HTMLElement>(`#h-name-${next.key}`) : this.renderRoot.querySelector<HTMLElement>('#add'))?.focus();
  }

  override render() {
    const describedBy = ['headers-hint', this.groupError ? 'headers-error' : ''].filter(Boolean).join(' ');
    return html`
      <fieldset aria-describedby=${describedBy} aria-invalid=${this.groupError ? 'true' : 'false'}>
        <legend>Custom headers <span class="muted small">(optional)</span></legend>
        <p id="headers-hint" class="hint">Sent with every request, e.g. for a receiver that checks its own token. Values are stored
          encrypted and never shown again.${this.editing
            ? ' A stored value is kept unless you enter a new one (renaming a header needs its value again); Remove deletes that header when you save.'
            : ''}</p>
        ${this.groupError ? html`<p id="headers-error" class="field-error">${this.groupError}</p>` : nothing}
        ${this.rows.length ? html`<ol>
          ${repeat(this.rows, (r) => r.key, (row, index) => {
            const error = this.errorFor(row);
            const errorId = `h-error-${row.key}`;
            const n = index + 1;
            return html`<li class="row">
              <div class="name">
                <label for="h-name-${row.key}">Header ${n} name</label>
                <input id="h-name-${row.key}" type="text" .value=${row.name} spellcheck="false" autocomplete="off" placeholder="x-receiver-token"
                  aria-invalid=${error ? 'true' : 'false'} aria-describedby=${error ? errorId : nothing}
                  @input=${(e: Event) => this.edit(row.key, { name: (e.target as HTMLInputElement).value })}>
              </div>
              <div class="value">
                <label for="h-value-${row.key}">Header ${n} value</label>
                <input id="h-value-${row.key}" type="password" .value=${row.value} spellcheck="false" autocomplete="new-password"
                  placeholder=${!row.masked ? '' : row.name.trim() === row.stored ? `Stored: ${row.masked} — leave empty to keep` : 'Enter the value again for the new name'}
                  aria-invalid=${error ? 'true' : 'false'} aria-describedby=${error ? errorId : nothing}
                  @input=${(e: Event) => this.edit(row.key, { value: (e.target as HTMLInputElement).value })}>
              </div>
              <button type="button" class="danger" @click=${() => this.removeRow(row, index)}>Remove<span class="vh"> header ${n}${row.name ? ` ${row.name}` : ''}</span></button>
              ${error ? html`<p id=${errorId} class="field-error error">${error}</p>` : nothing}
            </li>`;
          })}
        </ol>` : nothing}
        <button id="add" type="button" @click=${this.add}>+ Add header</button>
      </fieldset>`;
  }
}

if (!customElements.get('webhook-headers-editor')) customElements.define('webhook-headers-editor', WebhookHeadersEditor);
