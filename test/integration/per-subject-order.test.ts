import assert from 'node:assert/strict';
import type { WebhooksPlugin } from '../../plugin/index.js';
import { eventually, startTestPlugin } from '../support/plugin-fixture.js';
import { TestReceiver, type ReceivedRequest } from '../support/receiver.js';

const TENANT = 'acme';
const POLL_MS = 50;

/** The subject and sequence a request carries (`current_context`). */
const aboutOf = (r: ReceivedRequest) => {
  const { subject, sequence } = JSON.parse(r.body).current_context as { subject: string; sequence: number };
  return { subject, sequence };
};

describe('per-subject ordering, end to end (one worker process)', function () {
  this.timeout(30_000);
  let plugin: WebhooksPlugin;
  let receiver: TestReceiver;

  beforeEach(async () => {
    receiver = await new TestReceiver().start();
    ({ plugin } = await startTestPlugin({ delivery: { pollIntervalMs: POLL_MS } }));
  });
  afterEach(async () => {
    await plugin.stop();
    await receiver.stop();
  });

  async function orderedWebhook() {
    const { webhook } = await plugin.webhooks.create(
      { name: 'provisioning', url: `${receiver.url}/hook`, events: ['USER_MODIFIED'], ordering: 'per_subject' },
      plugin.context({ tenantId: TENANT }, 'default'),
    );
    return webhook;
  }
  const modified = (userId: string) => plugin.hooks.userModified({ user: { id: userId, username: userId } }, { tenantId: TENANT });

  it('holds a user\'s later events while the first waits for its retry, claims nothing meanwhile, then sends them in order', async () => {
    const webhook = await orderedWebhook();
    // u1's events fail and ask for an hour; u2's succeed.
    let failing = true;
    receiver.respondWith((r, res) => {
      if (failing && aboutOf(r).subject === 'user:u1') res.writeHead(503, { 'retry-after': '3600' }).end('later');
      else res.writeHead(200).end('ok');
    });
    for (let i = 0; i < 4; i += 1) await modified('u1');
    await modified('u2');
    const deliveries = () => plugin.store.listDeliveries(TENANT, webhook.id, { limit: 20 });
    // u1#1 waits for its retry (an hour away), u2#1 went through; u1#2..#4 are due but held back.
    await eventually(async () => {
      const all = await deliveries();
      const head = all.find((d) => d.subject === 'user:u1' && d.sequence === 1);
      return head?.attempts === 1 && head.leaseOwner === null && all.some((d) => d.subject === 'user:u2' && d.status === 'succeeded');
    });

    // Nothing may be claimed while everything due is held back: no claim per poll, no spinning.
    // (Counted from a few polls on: the claim that follows u2's result may still be on its way.)
    await new Promise((resolve) => setTimeout(resolve, 5 * POLL_MS));
    let claims = 0;
    const claim = plugin.store.claimDueDeliveries.bind(plugin.store);
    plugin.store.claimDueDeliveries = (options) => {
      claims += 1;
      return claim(options);
    };
    await new Promise((resolve) => setTimeout(resolve, 20 * POLL_MS));
    assert.equal(claims, 0, `${claims} claims in 20 polls while everything due was held back`);
    assert.deepEqual(receiver.requests.map(aboutOf).filter((a) => a.subject === 'user:u1'), [{ subject: 'user:u1', sequence: 1 }]);

    // The receiver is fixed and an operator retries the head: the rest follow, in order.
    failing = false;
    const head = (await deliveries()).find((d) => d.subject === 'user:u1' && d.sequence === 1)!;
    await plugin.deliveries.retry(TENANT, head.id);
    await eventually(async () => (await deliveries()).every((d) => d.status === 'succeeded'));
    assert.deepEqual(receiver.requests.map(aboutOf).filter((a) => a.subject === 'user:u1').map((a) => a.sequence), [1, 1, 2, 3, 4]);
  });

  it('sends each user\'s events one at a time, the next as soon as the one before succeeded, users side by side', async () => {
    // Polls ten seconds apart: only the worker's own claim after each result can explain a quick chain.
    await plugin.stop();
    ({ plugin } = await startTestPlugin({ delivery: { pollIntervalMs: 10_000, leaseMs: 20_000 } }));
    await orderedWebhook();
    const inFlight = new Map<string, number>();
    let mostPerUser = 0;
    let mostOverall = 0;
    const received: Array<{ subject: string; sequence: number }> = [];
    receiver.respondWith(async (r, res) => {
      const about = aboutOf(r);
      received.push(about);
      inFlight.set(about.subject, (inFlight.get(about.subject) ?? 0) + 1);
      mostPerUser = Math.max(mostPerUser, ...inFlight.values());
      mostOverall = Math.max(mostOverall, [...inFlight.values()].reduce((a, b) => a + b, 0));
      // Slow answers: a second request about the user would have every chance to overtake.
      await new Promise((resolve) => setTimeout(resolve, 30));
      inFlight.set(about.subject, inFlight.get(about.subject)! - 1);
      res.writeHead(200).end();
    });
    for (let i = 0; i < 6; i += 1) {
      await modified('u1');
      await modified('u2');
    }
    await eventually(async () => received.length === 12, 5_000);
    assert.equal(mostPerUser, 1, 'two requests about one user were in flight at once');
    assert.equal(mostOverall, 2, 'the two users\' events went side by side');
    for (const subject of ['user:u1', 'user:u2']) {
      assert.deepEqual(received.filter((a) => a.subject === subject).map((a) => a.sequence), [1, 2, 3, 4, 5, 6]);
    }
  });
});
