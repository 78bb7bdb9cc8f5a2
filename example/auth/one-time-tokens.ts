import { createHash, randomBytes } from 'node:crypto';

/**
 * Tokens sent to a user (email verification, password reset): 32 random bytes for the user,
 * only their SHA-256 in the database, so a leaked table yields no usable token.
 */
export function newOneTimeToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Recovery codes (`xxxx-xxxx`, eight by default): shown once; only their hashes are kept. */
export function newRecoveryCodes(count = 8): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: count }, () => {
    const hex = randomBytes(4).toString('hex');
    return `${hex.slice(0, 4)}-${hex.slice(4)}`;
  });
  return { codes, hashes: codes.map(hashToken) };
}
