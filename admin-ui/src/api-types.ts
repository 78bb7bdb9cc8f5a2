/**
 * The admin API's shapes (snake_case, ISO dates). Response types come from the server's own
 * view modules - type-only imports, erased from the bundle - so the two cannot drift apart.
 */
import type { WebhookHealth } from '../../plugin/admin/webhook-health.js';
import type { toAttemptView, toDeliveryView } from '../../plugin/admin/delivery-view.js';
import type { TestSendOutcome } from '../../plugin/delivery/delivery-operations.js';
import type { AttemptOutcome, DeliveryStatus } from '../../plugin/store/store-port.js';
import type { RotatedSigningKey, UpdatedWebhook as UpdatedWebhookView, WebhookView } from '../../plugin/webhooks/webhook-view.js';

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

/** `hmac-sha256` (`v1` signatures, a shared secret) or `ed25519` (`v1a`, a public key). */
export type SignatureScheme = NonNullable<WebhookView['signature_scheme']>;

/** `none`: deliveries in any order; `per_subject`: one subject's deliveries one at a time, in order. */
export type DeliveryOrdering = WebhookView['ordering'];

/** A create's answer: an HMAC webhook's carries its `whsec_` secret, once; an Ed25519 one's none. */
export type CreatedWebhook = Webhook & { secret?: string };

/**
 * A PATCH answer: `cleared_credentials` names the stored credentials a move to another origin
 * cleared; `secret` is the new HMAC secret after a switch to `hmac-sha256` (shown once).
 */
export type UpdatedWebhook = UpdatedWebhookView;
export type ClearedCredential = NonNullable<UpdatedWebhook['cleared_credentials']>[number];

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
  /** On update, another scheme makes new key material (the current key signs through the overlap). */
  signature_scheme?: SignatureScheme;
  ordering?: DeliveryOrdering;
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

/** A rotation's answer: the new `secret` (HMAC, once) or the new `public_key` (Ed25519). */
export type RotatedSecret = RotatedSigningKey;

export interface ErrorDetail {
  path: string;
  message: string;
}
