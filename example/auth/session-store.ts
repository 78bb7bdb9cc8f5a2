import session from 'express-session';
import type { SessionRepository } from '../users/user-repository.js';

const DEFAULT_TTL_MS = 8 * 3_600_000;

/**
 * express-session's store on the host's own database (PostgreSQL or MongoDB), so sessions
 * survive a restart like the rest of the demo's data. The default MemoryStore would log
 * everyone out on restart and grows without bound.
 */
export class RepositorySessionStore extends session.Store {
  constructor(private readonly sessions: SessionRepository) {
    super();
  }

  private expiry(data: session.SessionData): Date {
    const expires = data.cookie?.expires;
    return expires ? new Date(expires) : new Date(Date.now() + DEFAULT_TTL_MS);
  }

  override get(sid: string, callback: (err: unknown, session?: session.SessionData | null) => void): void {
    this.sessions.get(sid).then((data) => callback(null, (data as unknown as session.SessionData) ?? null), callback);
  }

  override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
    this.sessions.set(sid, JSON.parse(JSON.stringify(data)), this.expiry(data)).then(() => callback?.(), (error) => callback?.(error));
  }

  override touch(sid: string, data: session.SessionData, callback?: () => void): void {
    this.sessions.touch(sid, this.expiry(data)).then(() => callback?.(), () => callback?.());
  }

  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.sessions.destroy(sid).then(() => callback?.(), (error) => callback?.(error));
  }
}

/** Name of the host's session cookie. */
export const SESSION_COOKIE = 'demo.sid';
