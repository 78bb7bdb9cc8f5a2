import { generateSecret, generateURI, verify } from 'otplib';

/** Issuer shown by authenticator apps. */
const ISSUER = 'Webhooks demo';
/** One step either side (30 s) for clock drift between the phone and the server. */
const TOLERANCE_SECONDS = 30;

export function newTotpSecret(): string {
  return generateSecret();
}

/** The `otpauth://` URI an authenticator app reads from a QR code. */
export function totpUri(secret: string, account: string): string {
  return generateURI({ issuer: ISSUER, label: account, secret });
}

/**
 * Checks a 6-digit code. `lastStep` is the time step of the last accepted code: a code is
 * accepted once only (otplib's `afterTimeStep`), so one seen over a shoulder cannot be replayed.
 * @returns the time step to store, or null when the code is wrong or already used.
 */
export async function verifyTotp(secret: string, code: unknown, lastStep: number | null): Promise<number | null> {
  if (typeof code !== 'string' || !/^\d{6}$/.test(code)) return null;
  const result = await verify({
    secret,
    token: code,
    epochTolerance: TOLERANCE_SECONDS,
    ...(lastStep !== null ? { afterTimeStep: lastStep } : {}),
  });
  // TOTP results carry the accepted time step (HOTP ones, the other half of the union, do not).
  return result.valid && 'timeStep' in result ? (result as { timeStep: number }).timeStep : null;
}
