import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import type { WebhooksPlugin } from '../../plugin/index.js';
import { eventually, startTestPlugin, TEST_KEY } from '../support/plugin-fixture.js';
import { freshPostgresDatabase } from '../support/postgres-fixture.js';
import { TestReceiver } from '../support/receiver.js';

const CHILD_SCRIPT = fileURLToPath(new URL('../support/crash-delivery-child.ts', import.meta.url));
const EVENTS = 50;
const TENANT = 'acme';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ChildReport {
  webhookId: string;
  secret: string;
  eventIds: string[];
}

/** Resolves with the child's `recorded` line; rejects if it exits or stays silent too long. */
function recordedLine(child: ChildProcess, timeoutMs: number): Promise<ChildReport> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child printed no "recorded" line in ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code}) before recording; stderr: ${stderr}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('recorded ')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line.slice('recorded '.length)) as ChildReport);
    });
  });
}

/**
 * Polls Agenda's job table (the plugin's default table prefix) until the sweep job is locked,
 * or `deadline` passes. Reads a storage detail on purpose: it picks the moment of the kill.
 */
async function whenSweepLocked(connectionString: string, deadline: number): Promise<boolean> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    while (Date.now() < deadline) {
      const { rows } = await client.query(`SELECT locked_at FROM webhook_agenda_jobs WHERE name = 'webhooks:sweep'`);
      if (rows[0]?.locked_at) return true;
      await sleep(2);
    }
    return false;
  } finally {
    await client.end();
  }
}

describe('delivery after a worker crash', function () {
  this.timeout(60_000);
  let receiver: TestReceiver;
  let child: ChildProcess | undefined;
  const plugins: WebhooksPlugin[] = [];

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    for (const plugin of plugins.splice(0)) await plugin.stop().catch(() => undefined);
    await receiver?.stop();
  });
  // pg-pool's end() resolves before its sockets have closed; give them a moment before the
  // root hook stops PostgreSQL.
  after(() => sleep(100));

  it('delivers every event a SIGKILLed worker had in flight, once its leases expire (at least once)', async () => {
    receiver = await new TestReceiver().start();
    // Slow enough that the child is killed while its requests wait for an answer.
    receiver.respondWith(async (_req, res) => {
      await sleep(1_000);
      if (res.destroyed || res.socket?.destroyed) return;
      res.writeHead(200).end('ok');
    });
    const connectionString = await freshPostgresDatabase();
    child = spawn(process.execPath, ['--import', 'tsx', CHILD_SCRIPT], {
      env: {
        ...process.env,
        WEBHOOKS_PG_URL: connectionString,
        WEBHOOKS_RECEIVER_URL: receiver.url,
        WEBHOOKS_KEY_ID: TEST_KEY.id,
        WEBHOOKS_KEY: TEST_KEY.key,
        WEBHOOKS_EVENT_COUNT: String(EVENTS),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const report = await recordedLine(child, 30_000);
    assert.equal(report.eventIds.length, EVENTS);

    await receiver.waitFor(1, 10_000);
    // Worst case: Agenda locks the recurring sweep job ahead of each run, and a worker killed
    // while holding that lock must not stop the others from sweeping (finding expired leases
    // and due retries) for long. So kill it, if we can catch it, while it holds the lock.
    const sweepLockHeld = await whenSweepLocked(connectionString, receiver.requests[0].receivedAt + 600);
    child.kill('SIGKILL');
    await once(child, 'exit');
    if (!sweepLockHeld) console.warn('      (the killed worker did not hold the sweep lock; the worst case was not reached)');
    const sentBeforeCrash = receiver.requests.length;

    // Read the state the crash left behind, without a worker.
    const { plugin: reader } = await startTestPlugin({ connectionString, runWorker: false });
    plugins.push(reader);
    const left = await reader.store.listDeliveries(TENANT, report.webhookId, { limit: EVENTS + 1 });
    assert.equal(left.length, EVENTS);
    const unfinished = left.filter((d) => d.status !== 'succeeded');
    assert.ok(unfinished.length > 0, 'the crash interrupted deliveries in flight');
    assert.ok(unfinished.some((d) => d.leaseOwner?.startsWith('doomed-worker#')), 'some were still leased by the dead worker');

    const { plugin: survivor } = await startTestPlugin({
      connectionString,
      delivery: { timeoutMs: 2_000, leaseMs: 3_000, retryScheduleMs: [0, 50, 100], jitter: 0, pollIntervalMs: 50 },
      workerName: 'replacement-worker',
    });
    plugins.push(survivor);

    await eventually(async () => {
      const deliveries = await survivor.store.listDeliveries(TENANT, report.webhookId, { limit: EVENTS + 1 });
      return deliveries.length === EVENTS && deliveries.every((d) => d.status === 'succeeded');
    }, 30_000);

    const deliveryIds = new Set(left.map((d) => d.id));
    const seenIds = new Set(receiver.requests.map((r) => String(r.headers['webhook-id'])));
    assert.deepEqual(seenIds, deliveryIds, 'every delivery reached the receiver');
    const seenEvents = new Set(receiver.requests.map((r) => JSON.parse(r.body).current_context.event_id as string));
    assert.deepEqual(seenEvents, new Set(report.eventIds), 'every event reached the receiver');
    const resent = receiver.requests.slice(sentBeforeCrash);
    for (const id of unfinished.map((d) => d.id)) {
      assert.ok(resent.some((r) => r.headers['webhook-id'] === id), `${id} was sent again after the crash`);
    }
    for (const request of receiver.requests) new Webhook(report.secret).verify(request.body, request.headers as Record<string, string>);
  });
});
