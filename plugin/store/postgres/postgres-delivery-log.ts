import type {
  AttemptRecord, BacklogSummary, DeliveryLog, DeliveryQuery, DeliveryRecord, DeliverySummary, PruneResult,
} from '../store-port.js';
import { summarizeBacklog } from './postgres-backlog-summary.js';
import { summarizeDeliveries } from './postgres-delivery-summary.js';
import { toAttempt, toDelivery } from './postgres-rows.js';
import type { PostgresTables } from './postgres-tables.js';

/** The delivery log in PostgreSQL: listings and summaries of deliveries and attempts, and retention. */
export class PostgresDeliveryLog implements DeliveryLog {
  constructor(private readonly db: PostgresTables) {}

  async findDelivery(tenantId: string, id: string): Promise<DeliveryRecord | null> {
    const { rows } = await this.db.pool.query(`SELECT * FROM ${this.db.table('deliveries')} WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return rows[0] ? toDelivery(rows[0]) : null;
  }

  async listDeliveries(tenantId: string, webhookId: string, query: DeliveryQuery): Promise<DeliveryRecord[]> {
    const where = ['tenant_id = $1', 'webhook_id = $2'];
    const values: unknown[] = [tenantId, webhookId];
    if (query.status) {
      values.push(query.status);
      where.push(`status = $${values.length}`);
    }
    if (query.eventType) {
      values.push(query.eventType);
      where.push(`event_type = $${values.length}`);
    }
    if (query.before) {
      values.push(query.before.createdAt, query.before.id);
      where.push(`(created_at, id) < ($${values.length - 1}, $${values.length})`);
    }
    values.push(query.limit);
    const { rows } = await this.db.pool.query(
      `SELECT * FROM ${this.db.table('deliveries')} WHERE ${where.join(' AND ')}
       ORDER BY created_at DESC, id DESC LIMIT $${values.length}`, values);
    return rows.map(toDelivery);
  }

  async listAttempts(tenantId: string, deliveryId: string): Promise<AttemptRecord[]> {
    const { rows } = await this.db.pool.query(
      `SELECT * FROM ${this.db.table('attempts')} WHERE tenant_id = $1 AND delivery_id = $2 ORDER BY started_at, attempt_number`,
      [tenantId, deliveryId]);
    return rows.map(toAttempt);
  }

  async listAttemptsFor(tenantId: string, deliveryIds: readonly string[]): Promise<AttemptRecord[]> {
    if (deliveryIds.length === 0) return [];
    const { rows } = await this.db.pool.query(
      `SELECT * FROM ${this.db.table('attempts')} WHERE tenant_id = $1 AND delivery_id = ANY($2)
       ORDER BY delivery_id, started_at, attempt_number`,
      [tenantId, [...deliveryIds]]);
    return rows.map(toAttempt);
  }

  summarizeDeliveries(tenantId: string, webhookIds: readonly string[], since: Date): Promise<Map<string, DeliverySummary>> {
    return summarizeDeliveries(this.db.pool, this.db.table('deliveries'), tenantId, webhookIds, since);
  }

  summarizeBacklog(): Promise<BacklogSummary> {
    return summarizeBacklog(this.db.pool, this.db.table('webhooks'), this.db.table('deliveries'));
  }

  async pruneExpired(now: Date): Promise<PruneResult> {
    const attempts = await this.db.pool.query(`DELETE FROM ${this.db.table('attempts')} WHERE expires_at < $1`, [now]);
    const deliveries = await this.db.pool.query(
      `DELETE FROM ${this.db.table('deliveries')} WHERE expires_at < $1 AND (status <> 'pending'
         OR webhook_id IN (SELECT id FROM ${this.db.table('webhooks')} WHERE NOT enabled))`, [now]);
    const events = await this.db.pool.query(
      `DELETE FROM ${this.db.table('events')} e WHERE e.expires_at < $1
       AND NOT EXISTS (SELECT 1 FROM ${this.db.table('deliveries')} d WHERE d.event_id = e.id)`, [now]);
    return { events: events.rowCount ?? 0, deliveries: deliveries.rowCount ?? 0, attempts: attempts.rowCount ?? 0 };
  }
}
