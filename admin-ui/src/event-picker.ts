import { LitElement, css, html, nothing } from 'lit';
import type { EventType } from './api-types.js';
import {
  ALL_EVENTS, coveredCount, coveringSelector, groupByCategory, matchesQuery, normalizeSelection, prefixPatterns, selectorMatches,
} from './event-selection.js';
import { base, tokens } from './styles.js';

/**
 * Chooses the events a webhook receives: every event (`*`), `PREFIX_*` patterns built from the
 * catalogue's type names, or single types grouped by category, with a search box. Fires
 * `change` (composed) whenever `value` changes.
 */
export class WebhookEventPicker extends LitElement {
  static override styles = [tokens, base, css`
    :host { display: block; }
    fieldset { border: 1px solid var(--_border); border-radius: var(--_radius); padding: 0.75rem 0.9rem 0.9rem; margin: 0; min-width: 0; }
    fieldset[aria-invalid='true'] { border-color: var(--_danger); box-shadow: 0 0 0 1px var(--_danger); }
    legend { font-weight: 700; font-size: 1rem; padding: 0 0.3rem; }
    .summary { font-weight: 600; margin: 0.25rem 0 0.75rem; }
    .check { display: flex; gap: 0.55rem; align-items: flex-start; padding: 0.35rem 0; font-weight: 400; margin: 0; cursor: pointer; }
    .check input { margin-top: 0.2rem; }
    .check .type { font-family: var(--_mono); font-size: 0.875rem; font-weight: 600; overflow-wrap: anywhere; }
    .check .desc { display: block; color: var(--_muted); font-size: 0.875rem; }
    .check .via { display: inline-block; font-size: 0.75rem; color: var(--_muted); font-style: italic; margin-left: 0.35rem; }
    .all { border-bottom: 1px solid var(--_border); padding-bottom: 0.6rem; margin-bottom: 0.6rem; }
    .patterns { display: flex; flex-wrap: wrap; gap: 0.4rem; margin: 0.35rem 0 0.9rem; padding: 0; list-style: none; }
    .chip { display: inline-flex; align-items: center; gap: 0.4rem; border: 1px solid var(--_border); border-radius: 999px;
      padding: 0.25rem 0.7rem 0.25rem 0.5rem; font-weight: 400; margin: 0; cursor: pointer; font-family: var(--_mono); font-size: 0.8125rem; }
    .chip:has(input:checked) { background: var(--_accent-soft); border-color: var(--_accent); }
    .chip .count { color: var(--_muted); font-family: var(--wh-font, system-ui, sans-serif); }
    .search { margin-bottom: 0.6rem; }
    .groups { display: grid; gap: 0.4rem; }
    details { border: 1px solid var(--_border); border-radius: var(--_radius); background: var(--_bg); }
    summary { cursor: pointer; padding: 0.55rem 0.75rem; display: flex; justify-content: space-between; gap: 0.5rem; align-items: center; font-weight: 600; }
    summary::-webkit-details-marker { display: none; }
    summary::before { content: '▸'; transition: transform 0.15s; color: var(--_muted); }
    details[open] > summary::before { transform: rotate(90deg); }
    summary .name { flex: 1; }
    summary .count { font-weight: 400; color: var(--_muted); font-size: 0.875rem; }
    .group-body { padding: 0 0.75rem 0.6rem; border-top: 1px solid var(--_border); }
    .group-tools { display: flex; justify-content: flex-end; padding-top: 0.25rem; }
    ul.types { list-style: none; padding: 0; margin: 0; }
    .empty { color: var(--_muted); padding: 0.5rem 0; }
    .sub { font-weight: 600; font-size: 0.875rem; margin-top: 0.25rem; }
  `];

  static override properties = {
    catalogue: { attribute: false },
    categories: { attribute: false },
    value: { attribute: false },
    error: { attribute: false },
    query: { state: true },
  };

  declare catalogue: EventType[];
  declare categories: string[];
  declare value: string[];
  declare error: string | null;
  declare query: string;

  constructor() {
    super();
    this.catalogue = [];
    this.categories = [];
    this.value = [];
    this.error = null;
    this.query = '';
  }

  /** Focuses the first control, for the form's error summary. */
  override focus() {
    this.renderRoot.querySelector<HTMLInputElement>('#all')?.focus();
  }

  private set(next: string[]) {
    this.value = normalizeSelection(next);
    this.dispatchEvent(new Event('change', { bubbles: true, composed: true }));
  }

  private toggle(selector: string, on: boolean) {
    const rest = this.value.filter((s) => s !== selector);
    this.set(on ? [...rest, selector] : rest);
  }

  private toggleCategory(types: EventType[], select: boolean) {
    const names = new Set(types.map((t) => t.type));
    this.set(select ? [...this.value, ...names] : this.value.filter((s) => !names.has(s)));
  }

  override render() {
    const all = this.value.includes(ALL_EVENTS);
    const patterns = prefixPatterns(this.catalogue);
    const groups = groupByCategory(this.catalogue, this.categories);
    const query = this.query.trim();
    const covered = coveredCount(this.value, this.catalogue);
    const summary = all ? `All ${this.catalogue.length} event types, and any added later`
      : covered === 0 ? 'No events selected' : `${covered} of ${this.catalogue.length} event types selected`;
    const describedBy = ['events-hint', this.error ? 'events-error' : ''].filter(Boolean).join(' ');
    return html`
      <fieldset aria-describedby=${describedBy} aria-invalid=${this.error ? 'true' : 'false'}>
        <legend>Webhook events *</legend>
        <p id="events-hint" class="hint">What should trigger this webhook? Patterns such as <code>USER_*</code> also
          pick up event types added later.</p>
        ${this.error ? html`<p id="events-error" class="field-error">${this.error}</p>` : nothing}
        <p class="summary" aria-live="polite">${summary}</p>

        <label class="check all">
          <input id="all" type="checkbox" .checked=${all} @change=${(e: Event) => this.toggle(ALL_EVENTS, (e.target as HTMLInputElement).checked)}>
          <span><span class="type">All events (*)</span><span class="desc">Every event type, including ones added later.</span></span>
        </label>

        <p class="sub" id="patterns-label">Patterns</p>
        <ul class="patterns" aria-labelledby="patterns-label">
          ${patterns.map((p) => html`<li><label class="chip">
            <input type="checkbox" .checked=${all || this.value.includes(p.selector)} ?disabled=${all}
              @change=${(e: Event) => this.toggle(p.selector, (e.target as HTMLInputElement).checked)}>
            ${p.selector} <span class="count"><span class="vh">matches </span>${p.count}<span class="vh"> event types</span></span>
          </label></li>`)}
        </ul>

        <div class="search">
          <label for="search">Search event types</label>
          <input id="search" type="search" .value=${this.query} placeholder="e.g. login, USER_DELETED" autocomplete="off"
            @input=${(e: Event) => { this.query = (e.target as HTMLInputElement).value; }}>
        </div>
        <div class="groups">
          ${groups.map((g) => this.renderGroup(g.category, g.types, all, query))}
          ${query && !groups.some((g) => g.types.some((t) => matchesQuery(t, query)))
            ? html`<p class="empty" role="status">No event type matches “${query}”.</p>` : nothing}
        </div>
      </fieldset>`;
  }

  private renderGroup(category: string, types: EventType[], all: boolean, query: string) {
    const visible = types.filter((t) => matchesQuery(t, query));
    if (visible.length === 0) return nothing;
    const selectedHere = types.filter((t) => this.value.some((s) => selectorMatches(s, t.type))).length;
    const allCovered = selectedHere === types.length;
    const exactHere = types.some((t) => this.value.includes(t.type));
    // Select all while something is missing; Clear while this category has types picked one by one;
    // nothing when everything here comes from patterns or *, which the rows say ("via USER_*").
    const tool = !allCovered ? 'select' : exactHere ? 'clear' : null;
    const label = category.replace(/_/g, ' ');
    return html`
      <details ?open=${query !== ''}>
        <summary><span class="name">${label}</span>
          <span class="count">${selectedHere}/${types.length}<span class="vh"> selected</span></span></summary>
        <div class="group-body">
          <div class="group-tools" ?hidden=${!tool}>
            ${tool ? html`<button type="button" class="link" @click=${() => this.toggleCategory(types, tool === 'select')}>
              ${tool === 'select' ? 'Select all' : 'Clear'}<span class="vh"> ${label} events</span></button>` : nothing}
          </div>
          <ul class="types">
            ${visible.map((t) => {
              const via = coveringSelector(this.value, t.type);
              return html`<li><label class="check">
                <input type="checkbox" value=${t.type} .checked=${via !== undefined || this.value.includes(t.type)} ?disabled=${via !== undefined}
                  @change=${(e: Event) => this.toggle(t.type, (e.target as HTMLInputElement).checked)}>
                <span><span class="type">${t.type}</span>${via ? html`<span class="via">via ${via}</span>` : nothing}
                  <span class="desc">${t.description}</span></span>
              </label></li>`;
            })}
          </ul>
        </div>
      </details>`;
  }
}

if (!customElements.get('webhook-event-picker')) customElements.define('webhook-event-picker', WebhookEventPicker);
