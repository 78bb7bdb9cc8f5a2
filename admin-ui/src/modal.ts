import { deepActiveElement } from './status-events.js';

/**
 * Opens a native modal `<dialog>` (focus stays inside it, Escape closes it) and, when it closes
 * by any means, puts focus back where it was - or on `fallback` if that element is gone.
 */
export function openModal(dialog: HTMLDialogElement, initial?: HTMLElement | null, fallback?: () => HTMLElement | null): void {
  const active = deepActiveElement();
  // Nothing was focused (or a control that has since been disabled): use the fallback.
  const previous = active && active !== document.body && active !== document.documentElement ? active : null;
  dialog.addEventListener('close', () => {
    const usable = previous && previous.isConnected && !(previous as HTMLButtonElement).disabled;
    const target = usable ? previous : fallback?.() ?? null;
    // After the dialog has left the top layer, so the focus ring shows where the user was.
    requestAnimationFrame(() => target?.focus());
  }, { once: true });
  if (!dialog.open) dialog.showModal();
  initial?.focus();
}
