import { activeSigningSecrets, type WebhookSecrets } from '../webhooks/webhook-secrets.js';
import { maskSecret } from '../webhooks/webhook-view.js';
import { signatureHeaders } from './signer.js';

/** Names the plugin and its version to receivers (and in receivers' access logs). */
export const USER_AGENT = 'identity-webhooks-plugin/0.1.0 (+standard-webhooks)';
/** Lets receivers route by event without parsing the body (Defguard's X-Defguard-Event, generalised). */
export const EVENT_TYPE_HEADER = 'x-webhook-event';

export interface DeliveryRequest {
  headers: Record<string, string>;
  /** The same headers with every secret value masked, for the delivery log. */
  loggedHeaders: Record<string, string>;
}

/**
 * The headers of one attempt: receiver credentials first, then the plugin's own headers,
 * so a custom header can never replace the signature, content type or user agent
 * (they are also refused when a webhook is saved).
 */
export function buildDeliveryRequest(input: {
  deliveryId: string;
  eventType: string;
  body: string;
  secrets: WebhookSecrets;
  now: Date;
  /** `traceparent` (and `tracestate`) of the attempt (observability/trace-context.ts); none when absent. */
  traceHeaders?: Record<string, string>;
}): DeliveryRequest {
  const { secrets } = input;
  const credentials: Record<string, string> = {};
  for (const [name, value] of Object.entries(secrets.headers)) credentials[name.toLowerCase()] = value;
  if (secrets.apiKey) credentials[secrets.apiKey.header.toLowerCase()] = secrets.apiKey.value;
  if (secrets.authorization) credentials.authorization = secrets.authorization;

  const timestamp = Math.floor(input.now.getTime() / 1000);
  const own = {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    [EVENT_TYPE_HEADER]: input.eventType,
    ...input.traceHeaders,
    ...signatureHeaders(activeSigningSecrets(secrets, input.now), input.deliveryId, timestamp, input.body),
  };
  const headers = { ...credentials, ...own };
  const loggedHeaders = { ...Object.fromEntries(Object.entries(credentials).map(([k, v]) => [k, maskSecret(v)])), ...own };
  return { headers, loggedHeaders };
}
