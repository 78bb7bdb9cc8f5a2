/**
 * Scrubs free-form event data a host passes to `emit()`. The typed hooks map users through
 * the allow-list in `user-mapper.ts`; here the data shape is the host's, so keys that name
 * credentials are removed at any depth, and any `user` object goes through the user mapper.
 */
import type { UserMapper } from './user-mapper.js';

const SENSITIVE_KEY = /pass(word|wd|phrase)?|secret|token|hash|salt|otp|totp|mfa_?seed|recovery|private_?key|credential|api_?key|authorization|cookie|session/i;

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

export function scrubEventData(data: unknown, mapUser: UserMapper, depth = 0): unknown {
  if (depth > 20) return undefined;
  if (Array.isArray(data)) return data.map((item) => scrubEventData(item, mapUser, depth + 1));
  if (data instanceof Date) return data.toISOString();
  if (data === null || typeof data !== 'object') return data;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (isSensitiveKey(key)) continue;
    if ((key === 'user' || key === 'target_user') && value && typeof value === 'object' && !Array.isArray(value)) {
      out[key] = mapUser(value as Record<string, unknown>);
      continue;
    }
    out[key] = scrubEventData(value, mapUser, depth + 1);
  }
  return out;
}
