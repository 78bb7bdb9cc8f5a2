import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The demo as a user runs it, in its own process group like a terminal's foreground job:
 * Ctrl-C signals every process of the group at once, embedded PostgreSQL included, which then
 * terminates the demo's connections while it is still shutting down.
 */
function startDemo(dataDir: string): { child: ChildProcess; output: () => string; running: Promise<void>; exited: Promise<number | null> } {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'example/server.ts'], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, PORT: '0', DEMO_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const running = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('is running on')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', () => reject(new Error(`the demo exited before it ran:\n${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, running, exited };
}

describe('the demo (npm start) stops cleanly', function () {
  this.timeout(90_000);
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'webhooks-demo-'));
    chmodSync(dataDir, 0o755); // embedded PostgreSQL runs as another OS user when started as root
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  for (const [name, signal, toGroup] of [['Ctrl-C (SIGINT to the whole process group)', 'SIGINT', true], ['SIGTERM', 'SIGTERM', false]] as const) {
    it(`on ${name}: exit code 0, no crash`, async () => {
      const demo = startDemo(dataDir);
      try {
        await demo.running;
        await fetch(`${/http:\/\/127\.0\.0\.1:\d+/.exec(demo.output())![0]}/login`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'wrong' }),
        });
        process.kill(toGroup ? -demo.child.pid! : demo.child.pid!, signal);
        const code = await demo.exited;
        assert.equal(code, 0, `exit code ${code}; output:\n${demo.output()}`);
        assert.doesNotMatch(demo.output(), /Unhandled|uncaught|Emitted 'error' event/i);
        assert.match(demo.output(), new RegExp(`${signal}: stopping`));
      } finally {
        try { process.kill(-demo.child.pid!, 'SIGKILL'); } catch { /* already gone */ }
      }
    });
  }
});
