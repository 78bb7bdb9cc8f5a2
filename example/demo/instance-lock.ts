import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FILE = 'demo.pid';

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function looksLikeDemo(pid: number): boolean {
  try {
    return /node|tsx/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true; // no /proc: assume it is, and let the operator remove the file if not
  }
}

/** The pid of a demo still running on this data folder, or null. */
export function runningDemo(dataDir: string): number | null {
  const path = join(dataDir, FILE);
  if (!existsSync(path)) return null;
  const pid = Number(readFileSync(path, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && running(pid) && looksLikeDemo(pid) ? pid : null;
}

/**
 * One demo per data folder. The lock is what tells a crashed run (its PostgreSQL may still be
 * running and must be stopped) from a live one (whose PostgreSQL must be left alone).
 * @returns a release function.
 */
export function acquireInstanceLock(dataDir: string): () => void {
  const other = runningDemo(dataDir);
  if (other !== null) {
    throw new Error(`The demo is already running (pid ${other}) on ${dataDir}; stop it first, or set DEMO_DATA_DIR for a second one`);
  }
  const path = join(dataDir, FILE);
  writeFileSync(path, `${process.pid}\n`, { mode: 0o600 });
  return () => {
    try {
      if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path, { force: true });
    } catch {
      // Already gone.
    }
  };
}
