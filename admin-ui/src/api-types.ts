/**
 * The admin API's shapes (snake_case, ISO dates). Response types come from the server's own
 * view modules - type-only imports, erased from the bundle - so the two cannot drift apart.
 */
import type { WebhookHealth } from '../../plugin/admin/webhook-health.js';
import type { toAttemptView, toDeliveryView } from '../../plugin/admin/delivery-view.js';
import type { TestSendOutcome } from '../../plugin/delivery/delivery-operations.js';
import type { AttemptOutcome, DeliveryStatus } from '../../plugin/store/store-port.js';
import type { WebhookView } from '../../plugin/webhooks/webhook-view.js';

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

export type WebhookStatus = WebhookView['status'];
export type { WebhookHealth };

/** A webhook as reads return it (every secret value masked); `health` only on GET reads. */
export type Webhook = WebhookView & { health?: WebhookHealth };

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
  /** Requests per second per worker process; null for no limit (on update, null removes it). */
  rate_limit_per_second?: number | null;
}

export type { AttemptOutcome };

/** One attempt as the delivery log shows it. */
export type Attempt = ReturnType<typeof toAttemptView>;

export type { DeliveryStatus };

export type Delivery = ReturnType<typeof toDeliveryView>;

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

export type TestResult = TestSendOutcome;

export interface RotatedSecret {
  secret: string;
  previous_expires_at: string;
}

export interface ErrorDetail {
  path: string;
  message: string;
}
