/**
 * Copies text: the async Clipboard API where the page may use it, else the legacy
 * `execCommand('copy')` on the given (already rendered) input. Returns whether it worked;
 * when it did not, the input's text is left selected so Ctrl+C / Cmd+C copies it.
 */
export async function copyText(text: string, input?: HTMLInputElement | HTMLTextAreaElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Permission denied or no user activation: try the fallback.
  }
  if (!input) return false;
  input.focus();
  input.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}
