import { fileURLToPath } from 'node:url';
import { passwordProblem } from '../auth/passwords.js';

/** Every default of the demo, in one place (the README lists them). */
export const DEMO_DEFAULTS = Object.freeze({
  /** `PORT` */
  port: 3000,
  /** Address the demo listens on. Loopback only: its credentials are published in the README. */
  host: '127.0.0.1',
  /** `DEMO_ADMIN_PASSWORD`: password of the seeded `admin` user. */
  adminPassword: 'demo-admin-password',
  /** `DEMO_ADMIN_TOKEN`: bearer token of the admin API. */
  adminToken: 'demo-admin-token',
  /** `WEBHOOKS_EGRESS_ALLOW` unset: loopback, so the inbox on this server can receive. */
  egressAllow: Object.freeze(['127.0.0.0/8', '::1/128', 'localhost']),
  /** `DEMO_DATA_DIR`: where everything the demo keeps lives (git-ignored). */
  dataDir: fileURLToPath(new URL('../../.data/', import.meta.url)),
});

export type DemoDatabaseChoice =
  | { kind: 'embedded-postgres'; port?: number }
  | { kind: 'postgres'; url: string }
  | { kind: 'mongo'; uri: string };

export interface DemoConfig {
  port: number;
  host: string;
  dataDir: string;
  adminPassword: string;
  adminToken: string;
  database: DemoDatabaseChoice;
  egressAllow: string[];
  /** True when the allow-list is the demo's loopback default (which the log warns about). */
  egressAllowIsDefault: boolean;
  /** `WEBHOOKS_ENCRYPTION_KEY`: overrides the key the demo generates and keeps in its data folder. */
  encryptionKey?: string;
}

/** Thrown for an environment variable the demo cannot use; the message names it. */
export class DemoConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoConfigError';
  }
}

function port(name: string, text: string | undefined, fallback: number | undefined): number | undefined {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) throw new DemoConfigError(`${name} must be a port number (0-65535), got "${text}"`);
  return value;
}

/** Reads the demo's environment variables, failing fast on a value it cannot use. */
export function readDemoConfig(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const adminPassword = env.DEMO_ADMIN_PASSWORD || DEMO_DEFAULTS.adminPassword;
  const problem = passwordProblem(adminPassword);
  if (problem) throw new DemoConfigError(`DEMO_ADMIN_PASSWORD: ${problem}`);
  const adminToken = env.DEMO_ADMIN_TOKEN || DEMO_DEFAULTS.adminToken;
  if (adminToken.length < 16 || /\s/.test(adminToken)) throw new DemoConfigError('DEMO_ADMIN_TOKEN must be at least 16 characters without spaces');

  if (env.DATABASE_URL && env.MONGODB_URI) {
    throw new DemoConfigError('Set DATABASE_URL (PostgreSQL) or MONGODB_URI (MongoDB), not both');
  }
  let database: DemoDatabaseChoice;
  if (env.MONGODB_URI) {
    if (!/^mongodb(\+srv)?:\/\//.test(env.MONGODB_URI)) throw new DemoConfigError('MONGODB_URI must start with mongodb:// or mongodb+srv://');
    database = { kind: 'mongo', uri: env.MONGODB_URI };
  } else if (env.DATABASE_URL) {
    if (!/^postgres(ql)?:\/\//.test(env.DATABASE_URL)) throw new DemoConfigError('DATABASE_URL must start with postgres:// or postgresql://');
    database = { kind: 'postgres', url: env.DATABASE_URL };
  } else {
    database = { kind: 'embedded-postgres', port: port('DEMO_PG_PORT', env.DEMO_PG_PORT, undefined) };
  }

  // Unset: the loopback default. Set: it replaces the default; set but empty: no private
  // target at all, the production setting.
  const rawAllow = env.WEBHOOKS_EGRESS_ALLOW;
  const egressAllow = rawAllow === undefined ? [...DEMO_DEFAULTS.egressAllow] : rawAllow.split(',').map((s) => s.trim()).filter(Boolean);

  const encryptionKey = env.WEBHOOKS_ENCRYPTION_KEY || undefined;
  if (encryptionKey !== undefined && Buffer.from(encryptionKey, 'base64').length !== 32) {
    throw new DemoConfigError('WEBHOOKS_ENCRYPTION_KEY must be 32 bytes in base64 (openssl rand -base64 32)');
  }
  return {
    port: port('PORT', env.PORT, DEMO_DEFAULTS.port)!,
    host: DEMO_DEFAULTS.host,
    dataDir: env.DEMO_DATA_DIR || DEMO_DEFAULTS.dataDir,
    adminPassword,
    adminToken,
    database,
    egressAllow,
    egressAllowIsDefault: rawAllow === undefined,
    encryptionKey,
  };
}
