/**
 * Child elements report what happened with a `webhook-status` event; the root element
 * announces it in its one live region, so screen readers hear each message once.
 */
export type StatusTone = 'info' | 'success' | 'error';

export interface StatusDetail {
  message: string;
  tone: StatusTone;
}

export function announce(from: EventTarget, message: string, tone: StatusTone = 'info'): void {
  from.dispatchEvent(new CustomEvent<StatusDetail>('webhook-status', { detail: { message, tone }, bubbles: true, composed: true }));
}

/** The element inside shadow roots that has focus, for restoring it after a dialog or view closes. */
export function deepActiveElement(): HTMLElement | null {
  let active = document.activeElement as HTMLElement | null;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement as HTMLElement;
  return active;
}
