import assert from 'node:assert/strict';
import { startTestPlugin } from '../support/plugin-fixture.js';
import { TestReceiver } from '../support/receiver.js';

describe('cross-process wake-up (PostgreSQL LISTEN/NOTIFY)', function () {
  this.timeout(30_000);

  it('a worker delivers an event recorded by a web node at once, not at its next poll', async () => {
    const receiver = await new TestReceiver().start();
    // Polls are 10 s apart, so only the notification can explain a fast delivery.
    const slowPolls = { pollIntervalMs: 10_000, leaseMs: 20_000 };
    const worker = await startTestPlugin({ delivery: slowPolls });
    const web = await startTestPlugin({ connectionString: worker.connectionString, runWorker: false, delivery: slowPolls });
    try {
      await web.plugin.webhooks.create({ name: 'crm', url: `${receiver.url}/crm`, events: ['USER_CREATED'] }, web.plugin.context({}, 'default'));
      // Let the worker's first sweep pass so it is idle, waiting.
      await new Promise((r) => setTimeout(r, 300));
      const latencies: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const started = Date.now();
        await web.plugin.hooks.userCreated({ user: { id: `u${i}` } });
        await receiver.waitFor(i + 1, 5_000);
        latencies.push(Date.now() - started);
      }
      // Every one arrived before the worker's next poll could have found it (how fast is for the benchmark).
      assert.ok(Math.max(...latencies) < slowPolls.pollIntervalMs / 2, `latencies ${latencies.join(', ')} ms`);
    } finally {
      await web.plugin.stop();
      await worker.plugin.stop();
      await receiver.stop();
    }
  });
});
