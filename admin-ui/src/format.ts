/** Human-readable dates, durations and delivery outcomes. */

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : absolute.format(date);
}

export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const diff = (new Date(iso).getTime() - now) / 1000;
  const abs = Math.abs(diff);
  if (abs < 45) return diff < 0 ? 'just now' : 'in a few seconds';
  const units: Array<[Intl.RelativeTimeFormatUnit, number]> = [['minute', 60], ['hour', 3600], ['day', 86400], ['month', 2_592_000], ['year', 31_536_000]];
  let chosen: [Intl.RelativeTimeFormatUnit, number] = units[0];
  for (const unit of units) if (abs >= unit[1] * 0.9) chosen = unit;
  return relative.format(Math.round(diff / chosen[1]), chosen[0]);
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

const OUTCOMES: Record<string, string> = {
  success: 'Delivered',
  http_error: 'HTTP error',
  timeout: 'Timed out',
  dns: 'DNS lookup failed',
  connection_refused: 'Connection refused',
  tls: 'TLS error',
  blocked: 'Blocked by the egress policy',
  network: 'Network error',
  webhook_unavailable: 'Webhook unavailable',
  discarded: 'Discarded',
};

export function outcomeLabel(outcome: string | null | undefined): string {
  if (!outcome) return '';
  return OUTCOMES[outcome] ?? outcome.replace(/_/g, ' ');
}

export function statusLabel(status: string): string {
  return status === 'succeeded' ? 'Succeeded' : status === 'failed' ? 'Failed' : status === 'pending' ? 'Pending' : status;
}

/** `2026-05-01T10:30` in local time, the format of `<input type="datetime-local">`. */
export function toDatetimeLocal(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function prettyJson(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? '';
  } catch {
    return String(value);
  }
}
