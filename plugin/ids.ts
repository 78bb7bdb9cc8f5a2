import { randomBytes } from 'node:crypto';

/**
 * Prefixed random ids (`wh_`, `evt_`, `msg_`, `att_`): readable in logs, unguessable,
 * and safe in URLs. 16 random bytes is the same entropy as a UUID v4 plus a little.
 */
export type IdPrefix = 'wh' | 'evt' | 'msg' | 'att';

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/** Ids from {@link newId}; anything else cannot name a record and is rejected early. */
export const ID_PATTERN = /^(wh|evt|msg|att)_[A-Za-z0-9_-]{22}$/;
