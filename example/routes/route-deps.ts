import type passport from 'passport';
import type { HostLogger } from '../host-logger.js';
import type { Mailer } from '../mail/mailer.js';
import type { HostEvents } from '../plugins/host-events.js';
import type { UserRepository } from '../users/user-repository.js';

/** What every route module gets from the app factory. */
export interface RouteDeps {
  users: UserRepository;
  events: HostEvents;
  authenticator: passport.Authenticator;
  mailer: Mailer;
  /** Base URL for links in mails, e.g. `http://127.0.0.1:3000`. */
  publicUrl: () => string;
  defaultTenant: string;
  logger: HostLogger;
  clock: () => Date;
}
