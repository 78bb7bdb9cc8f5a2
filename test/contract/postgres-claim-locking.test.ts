import assert from 'node:assert/strict';
import pg from 'pg';
import { PostgresStore } from '../../plugin/store/postgres/postgres-store.js';
import { freshPostgresDatabase } from '../support/postgres-fixture.js';
import { deliveryRecord, eventRecord, webhookRecord } from '../support/records.js';

/**
 * Claims skip rows another transaction holds (FOR UPDATE SKIP LOCKED) instead of waiting for
 * them or taking them too. Checked without a race: this test holds a row lock itself and watches
 * PostgreSQL's own view of the claim's backend (waiting on a lock, or done).
 */
describe('PostgreSQL claims and row locks', function () {
  this.timeout(30_000);

  it('a claim skips a delivery another transaction has locked, without waiting for it', async () => {
    const connectionString = await freshPostgresDatabase();
    const store = new PostgresStore({ connectionString });
    await store.init();
    const locker = new pg.Client({ connectionString });
    const watcher = new pg.Client({ connectionString });
    await locker.connect();
    await watcher.connect();
    try {
      const webhook = webhookRecord();
      await store.insertWebhook(webhook);
      const event = eventRecord({ createdAt: new Date(Date.UTC(2026, 0, 1)) });
      const deliveries = [deliveryRecord(event, webhook), deliveryRecord(event, webhook)];
      await store.recordEvent(event, deliveries);

      await locker.query('BEGIN');
      await locker.query('SELECT id FROM webhook_deliveries WHERE id = $1 FOR UPDATE', [deliveries[0].id]);

      let settled = false;
      const claim = store.claimDueDeliveries({ now: new Date(Date.UTC(2026, 0, 2)), limit: 10, leaseMs: 60_000, owner: 'w1' })
        .finally(() => { settled = true; });
      // Until the claim answers, ask PostgreSQL whether any other backend waits on a lock.
      while (!settled) {
        const { rows } = await watcher.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND datname = current_database()`,
        );
        if (rows[0].n > 0) {
          await locker.query('ROLLBACK');
          await claim;
          assert.fail('the claim waited for the locked row instead of skipping it');
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const claimed = await claim;
      assert.deepEqual(claimed.map((c) => c.delivery.id), [deliveries[1].id], 'only the unlocked delivery');
      await locker.query('ROLLBACK');
      const later = await store.claimDueDeliveries({ now: new Date(Date.UTC(2026, 0, 2)), limit: 10, leaseMs: 60_000, owner: 'w2' });
      assert.deepEqual(later.map((c) => c.delivery.id), [deliveries[0].id], 'released, it is claimed next time');
    } finally {
      await locker.end();
      await watcher.end();
      await store.close();
    }
  });
});
