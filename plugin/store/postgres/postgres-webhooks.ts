import type { WebhookPatch, WebhookRecord, WebhookRepository } from '../store-port.js';
import { toWebhook } from './postgres-rows.js';
import type { PostgresTables } from './postgres-tables.js';

const WEBHOOK_COLUMNS: Record<keyof Omit<WebhookPatch, 'updatedAt'>, string> = {
  name: 'name',
  description: 'description',
  url: 'url',
  events: 'events',
  secrets: 'secrets',
  enabled: 'enabled',
  disabledReason: 'disabled_reason',
  disabledAt: 'disabled_at',
  failingSince: 'failing_since',
  rateLimitPerSecond: 'rate_limit_per_second',
  ordering: 'ordering',
};

/** The webhooks table. */
export class PostgresWebhooks implements WebhookRepository {
  constructor(private readonly db: PostgresTables) {}

  async insertWebhook(w: WebhookRecord): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO ${this.db.table('webhooks')} (id, tenant_id, name, description, url, events, notification_type, secrets,
        enabled, disabled_reason, disabled_at, failing_since, rate_limit_per_second, ordering, created_at, updated_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)`,
      [w.id, w.tenantId, w.name, w.description, w.url, JSON.stringify(w.events), w.notificationType, w.secrets,
        w.enabled, w.disabledReason, w.disabledAt, w.failingSince, w.rateLimitPerSecond, w.ordering, w.createdAt, w.updatedAt],
    );
  }

  async findWebhook(tenantId: string, id: string): Promise<WebhookRecord | null> {
    const { rows } = await this.db.pool.query(`SELECT * FROM ${this.db.table('webhooks')} WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return rows[0] ? toWebhook(rows[0]) : null;
  }

  async listWebhooks(tenantId: string): Promise<WebhookRecord[]> {
    const { rows } = await this.db.pool.query(
      `SELECT * FROM ${this.db.table('webhooks')} WHERE tenant_id = $1 ORDER BY created_at, id`, [tenantId]);
    return rows.map(toWebhook);
  }

  async listEnabledWebhooks(tenantId: string): Promise<WebhookRecord[]> {
    const { rows } = await this.db.pool.query(
      `SELECT * FROM ${this.db.table('webhooks')} WHERE tenant_id = $1 AND enabled ORDER BY created_at, id`, [tenantId]);
    return rows.map(toWebhook);
  }

  async listAllWebhooks(afterId: string | null, limit: number): Promise<WebhookRecord[]> {
    // COLLATE "C": byte order, the same order JavaScript string comparison and MongoDB use.
    const { rows } = await this.db.pool.query(
      `SELECT * FROM ${this.db.table('webhooks')} WHERE $1::text IS NULL OR id COLLATE "C" > $1 ORDER BY id COLLATE "C" LIMIT $2`,
      [afterId, limit]);
    return rows.map(toWebhook);
  }

  async findWebhooksByIds(ids: readonly string[]): Promise<WebhookRecord[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.db.pool.query(`SELECT * FROM ${this.db.table('webhooks')} WHERE id = ANY($1)`, [ids]);
    return rows.map(toWebhook);
  }

  async updateWebhook(tenantId: string, id: string, patch: WebhookPatch, expectedUpdatedAt?: Date): Promise<WebhookRecord | null> {
    const sets = ['updated_at = $3'];
    const values: unknown[] = [tenantId, id, patch.updatedAt];
    for (const [field, column] of Object.entries(WEBHOOK_COLUMNS)) {
      const value = patch[field as keyof typeof WEBHOOK_COLUMNS];
      if (value === undefined) continue;
      values.push(field === 'events' ? JSON.stringify(value) : value);
      sets.push(`${column} = $${values.length}`);
    }
    let guard = '';
    if (expectedUpdatedAt) {
      values.push(expectedUpdatedAt);
      guard = ` AND updated_at = $${values.length}`;
    }
    const { rows } = await this.db.pool.query(
      `UPDATE ${this.db.table('webhooks')} SET ${sets.join(', ')} WHERE tenant_id = $1 AND id = $2${guard} RETURNING *`, values);
    return rows[0] ? toWebhook(rows[0]) : null;
  }

  async deleteWebhook(tenantId: string, id: string): Promise<boolean> {
    // One statement, so a crash cannot leave deliveries pointing at a webhook that is gone.
    const { rows } = await this.db.pool.query(
      `WITH w AS (DELETE FROM ${this.db.table('webhooks')} WHERE tenant_id = $1 AND id = $2 RETURNING id),
            d AS (DELETE FROM ${this.db.table('deliveries')} WHERE webhook_id IN (SELECT id FROM w)),
            a AS (DELETE FROM ${this.db.table('attempts')} WHERE webhook_id IN (SELECT id FROM w))
       SELECT count(*)::int AS n FROM w`, [tenantId, id]);
    return rows[0].n > 0;
  }

  async markWebhooksFailing(ids: readonly string[], since: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.db.pool.query(
      `UPDATE ${this.db.table('webhooks')} SET failing_since = $2 WHERE id = ANY($1) AND failing_since IS NULL`, [ids, since]);
  }

  async markWebhooksHealthy(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.pool.query(
      `UPDATE ${this.db.table('webhooks')} SET failing_since = NULL WHERE id = ANY($1) AND failing_since IS NOT NULL`, [ids]);
  }
}
