import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What the demo keeps beside its database, in `<data dir>/demo-state.json` (mode 0600): the
 * key that seals webhook secrets at rest (lose it and stored webhooks cannot sign), the
 * session secret, the embedded PostgreSQL's port (so a restart finds the same cluster) and
 * the inbox webhook's id and signing secret (so the inbox can verify what it receives).
 */
export interface DemoState {
  version: 1;
  encryptionKeys: Array<{ id: string; key: string }>;
  sessionSecret: string;
  postgresPort?: number;
  /** The inbox webhook per database (see `databaseKey`), since each database has its own webhooks. */
  inboxes?: Record<string, { webhookId: string; secret: string }>;
}

const FILE = 'demo-state.json';

/**
 * Creates the data folder: 0711, so that as root the `postgres` OS user that embedded
 * PostgreSQL runs as can reach its cluster inside without being able to list the folder.
 */
export function ensureDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true });
  chmodSync(dataDir, 0o711);
}

export function loadDemoState(dataDir: string): DemoState {
  const path = join(dataDir, FILE);
  if (existsSync(path)) {
    const state = JSON.parse(readFileSync(path, 'utf8')) as DemoState;
    if (state.version !== 1 || !Array.isArray(state.encryptionKeys) || typeof state.sessionSecret !== 'string') {
      throw new Error(`${path} is not a demo state file this version understands; run npm run demo:reset`);
    }
    return state;
  }
  const state: DemoState = {
    version: 1,
    encryptionKeys: [{ id: `demo-${randomBytes(3).toString('hex')}`, key: randomBytes(32).toString('base64') }],
    sessionSecret: randomBytes(32).toString('base64url'),
  };
  saveDemoState(dataDir, state);
  return state;
}

/** Written to a temporary file and renamed over the old one: a kill -9 mid-write leaves the old file whole. */
export function saveDemoState(dataDir: string, state: DemoState): void {
  const path = join(dataDir, FILE);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}
