import { EventCatalogue } from '../plugin/events/catalogue.js';
import { PayloadShaper } from '../plugin/events/payload-schemas/payload-shaper.js';
import { mapUser } from '../plugin/events/user-mapper.js';

export interface ShapingResult {
  /** Mapping the user and serialising the event, per event, in µs: what a hook did before schemas. */
  baselineUs: number;
  /** The same with the schema shaping every event now goes through, in µs. */
  shapedUs: number;
}

const SILENT = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * What "only declared fields leave" costs a hook call: a USER_LOGIN with a typical host user
 * (a password hash and other undeclared fields included), shaped and serialised, against the
 * same without shaping in the same run. CPU only: no database, no network.
 */
export function measurePayloadShaping(events = 200_000): ShapingResult {
  const shaper = new PayloadShaper({ catalogue: new EventCatalogue(), mapUser, logger: SILENT });
  const user = {
    id: 'u-1', username: 'jdoe', email: 'jdoe@example.com', firstName: 'Jane', lastName: 'Doe', roles: ['admin', 'user'],
    passwordHash: 'scrypt$16384$8$1$abc', mfa: { key: 'JBSWY3DPEHPK3PXP' }, createdAt: new Date(),
  };
  const data = () => ({ user: shaper.mapUser(user), strategy: 'local', mfa: true });
  const perEventUs = (run: () => void) => {
    const started = performance.now();
    for (let i = 0; i < events; i += 1) run();
    return ((performance.now() - started) / events) * 1_000;
  };
  const baseline = () => JSON.stringify({ event_type: 'USER_LOGIN', data: data() });
  const shaped = () => JSON.stringify({ event_type: 'USER_LOGIN', data: shaper.shape('USER_LOGIN', data()) });
  perEventUs(baseline); // warm-up of both paths, so neither pays the JIT for the other
  perEventUs(shaped);
  return { baselineUs: perEventUs(baseline), shapedUs: perEventUs(shaped) };
}
