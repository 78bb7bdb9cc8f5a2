/**
 * DDL for the PostgreSQL store. Idempotent (`IF NOT EXISTS`), run by `init()`.
 * Table names carry a prefix so the plugin can share a database with its host.
 */
export function postgresSchema(prefix: string): string {
  const t = (name: string) => `"${prefix}${name}"`;
  return `
CREATE TABLE IF NOT EXISTS ${t('webhooks')} (
  id text PRIMARY KEY,
  tenant_id text NOT NULL,
  name text NOT NULL,
  description text NOT NULL,
  url text NOT NULL,
  events jsonb NOT NULL,
  notification_type text NOT NULL,
  secrets text NOT NULL,
  enabled boolean NOT NULL,
  disabled_reason text,
  disabled_at timestamptz,
  failing_since timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
-- Added after the first release: ALTER keeps existing databases in step.
ALTER TABLE ${t('webhooks')} ADD COLUMN IF NOT EXISTS rate_limit_per_second integer;
ALTER TABLE ${t('webhooks')} ADD COLUMN IF NOT EXISTS ordering text NOT NULL DEFAULT 'none';
CREATE INDEX IF NOT EXISTS ${t('webhooks_tenant')} ON ${t('webhooks')} (tenant_id, created_at, id);

CREATE TABLE IF NOT EXISTS ${t('events')} (
  id text PRIMARY KEY,
  tenant_id text NOT NULL,
  type text NOT NULL,
  body text NOT NULL,
  idempotency_key text,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
-- Added after the first release (trace context carried to receivers): ALTER upgrades existing databases.
ALTER TABLE ${t('events')} ADD COLUMN IF NOT EXISTS trace_parent text;
ALTER TABLE ${t('events')} ADD COLUMN IF NOT EXISTS trace_state text;
-- Added with per-subject sequences (what the event is about, and its number among that subject's events).
ALTER TABLE ${t('events')} ADD COLUMN IF NOT EXISTS subject text;
ALTER TABLE ${t('events')} ADD COLUMN IF NOT EXISTS sequence bigint;
CREATE UNIQUE INDEX IF NOT EXISTS ${t('events_idempotency')} ON ${t('events')} (tenant_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS ${t('events_expiry')} ON ${t('events')} (expires_at);

CREATE TABLE IF NOT EXISTS ${t('deliveries')} (
  id text PRIMARY KEY,
  tenant_id text NOT NULL,
  webhook_id text NOT NULL,
  event_id text NOT NULL,
  event_type text NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL,
  next_attempt_at timestamptz,
  lease_owner text,
  lease_expires_at timestamptz,
  last_attempt_at timestamptz,
  last_status_code integer,
  last_outcome text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
ALTER TABLE ${t('deliveries')} ADD COLUMN IF NOT EXISTS subject text;
ALTER TABLE ${t('deliveries')} ADD COLUMN IF NOT EXISTS sequence bigint;
-- The queue: only pending rows are in this index, so claims stay fast however long the log grows.
CREATE INDEX IF NOT EXISTS ${t('deliveries_due')} ON ${t('deliveries')} (next_attempt_at) WHERE status = 'pending';
-- Fair claims and pause: each enabled webhook's due deliveries, found without reading other webhooks' backlogs.
CREATE INDEX IF NOT EXISTS ${t('deliveries_webhook_due')} ON ${t('deliveries')} (webhook_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS ${t('deliveries_log')} ON ${t('deliveries')} (tenant_id, webhook_id, created_at DESC, id DESC);
-- A webhook's last attempted delivery (admin health), found in one probe however long the log is.
CREATE INDEX IF NOT EXISTS ${t('deliveries_last_attempt')} ON ${t('deliveries')} (tenant_id, webhook_id, last_attempt_at DESC, id DESC)
  WHERE last_attempt_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS ${t('deliveries_event')} ON ${t('deliveries')} (event_id);
CREATE INDEX IF NOT EXISTS ${t('deliveries_expiry')} ON ${t('deliveries')} (expires_at) WHERE status <> 'pending';

-- Per-subject ordering: a webhook's pending deliveries about one subject, in sequence order.
CREATE INDEX IF NOT EXISTS ${t('deliveries_subject_order')} ON ${t('deliveries')} (webhook_id, subject, sequence)
  WHERE status = 'pending' AND subject IS NOT NULL;

-- The last sequence number given to each (tenant, subject); see postgres-events.ts.
CREATE TABLE IF NOT EXISTS ${t('subject_sequences')} (
  tenant_id text NOT NULL,
  subject text NOT NULL,
  last_sequence bigint NOT NULL,
  PRIMARY KEY (tenant_id, subject)
);

CREATE TABLE IF NOT EXISTS ${t('attempts')} (
  id text PRIMARY KEY,
  delivery_id text NOT NULL,
  tenant_id text NOT NULL,
  webhook_id text NOT NULL,
  attempt_number integer NOT NULL,
  started_at timestamptz NOT NULL,
  duration_ms integer NOT NULL,
  outcome text NOT NULL,
  status_code integer,
  request_headers jsonb NOT NULL,
  response_excerpt text,
  error_message text,
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ${t('attempts_delivery')} ON ${t('attempts')} (delivery_id, started_at);
CREATE INDEX IF NOT EXISTS ${t('attempts_expiry')} ON ${t('attempts')} (expires_at);
`;
}
