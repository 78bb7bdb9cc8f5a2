/**
 * `npm run demo:reset`: deletes the demo's data folder (the embedded PostgreSQL cluster,
 * keys, inbox log), so the next `npm start` begins from nothing. Refuses while a demo runs
 * on it. With DATABASE_URL or MONGODB_URI the demo's data is in that database, which this
 * leaves alone (drop the demo_* and webhook_* tables / collections yourself).
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { recoverOrphanedCluster } from '../dev/embedded-postgres.js';
import { readDemoConfig } from './demo/demo-config.js';
import { runningDemo } from './demo/instance-lock.js';

async function main(): Promise<void> {
  const { dataDir } = readDemoConfig();
  if (!existsSync(dataDir)) {
    console.log(`Nothing to reset: ${dataDir} does not exist.`);
    return;
  }
  const pid = runningDemo(dataDir);
  if (pid !== null) {
    console.error(`The demo is running (pid ${pid}); stop it (Ctrl-C or kill ${pid}) and run this again.`);
    process.exit(1);
  }
  // A demo killed with SIGKILL leaves its PostgreSQL running on files about to be deleted.
  await recoverOrphanedCluster(join(dataDir, 'postgres', 'data'), (message) => console.log(message));
  rmSync(dataDir, { recursive: true, force: true });
  console.log(`Removed ${dataDir}. The next npm start seeds a fresh demo.`);
  if (process.env.DATABASE_URL || process.env.MONGODB_URI) {
    console.log('DATABASE_URL / MONGODB_URI is set: the data in that database was left alone.');
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
