/** The admin API's shapes, as plugin/admin/openapi.ts describes them (snake_case, ISO dates). */

export interface EventType {
  type: string;
  category: string;
  description: string;
  built_in: boolean;
}

export interface EventCatalogueResponse {
  event_types: EventType[];
  categories: string[];
}

export interface WebhookStatus {
  state: 'enabled' | 'disabled';
  reason: string | null;
  disabled_at: string | null;
  failing_since: string | null;
}

/** How a webhook has been doing, as GET /webhooks and GET /webhooks/{id} report it. */
export interface WebhookHealth {
  /** The delivery attempted most recently, however long ago; null when none was ever attempted. */
  last_delivery: { status: DeliveryStatus; status_code: number | null; outcome: string | null; at: string } | null;
  /** Deliveries created since `since` (24 hours ago), by their status now; success_rate is null when none has finished. */
  recent: { since: string; succeeded: number; failed: number; pending: number; success_rate: number | null };
}

/** A webhook as reads return it: every secret value is masked (`****abcd`). */
export interface Webhook {
  id: string;
  name: string;
  description: string;
  url: string;
  events: string[];
  notification_type: 'REST';
  api_key: { header: string; value: string } | null;
  authorization: string | null;
  headers: Record<string, string>;
  enabled: boolean;
  status: WebhookStatus;
  created_at: string;
  updated_at: string;
  /** Present on GET reads only (not on create or update answers). */
  health?: WebhookHealth;
}

/** What the form sends; every field optional so PATCH can carry only what changed. */
export interface WebhookInput {
  name?: string;
  description?: string;
  url?: string;
  events?: string[];
  notification_type?: 'REST';
  /** On update, a missing value keeps the stored one. */
  api_key?: { header?: string; value?: string } | null;
  authorization?: string | null;
  /** On update, merged into the stored headers; null removes one. */
  headers?: Record<string, string | null>;
  enabled?: boolean;
}

export type AttemptOutcome =
  | 'success' | 'http_error' | 'timeout' | 'dns' | 'connection_refused' | 'tls' | 'blocked' | 'network' | 'webhook_unavailable';

export interface Attempt {
  id: string;
  attempt_number: number;
  started_at: string;
  duration_ms: number;
  outcome: AttemptOutcome | string;
  status_code: number | null;
  request_headers: Record<string, string>;
  response_excerpt: string | null;
  error: string | null;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface Delivery {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempt_count: number;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  last_status_code: number | null;
  last_outcome: string | null;
  created_at: string;
  attempts: Attempt[];
}

export interface DeliveryDetail extends Delivery {
  body: unknown;
}

export interface DeliveryPage {
  deliveries: Delivery[];
  next_cursor: string | null;
}

export interface DeliveryFilter {
  status?: DeliveryStatus;
  event_type?: string;
  cursor?: string;
  limit?: number;
}

export interface TestResult {
  delivery_id: string;
  success: boolean;
  outcome: string;
  status_code: number | null;
  duration_ms: number;
  response_excerpt: string | null;
  error: string | null;
}

export interface RotatedSecret {
  secret: string;
  previous_expires_at: string;
}

export interface ErrorDetail {
  path: string;
  message: string;
}
