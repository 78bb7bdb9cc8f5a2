import Joi from 'joi';
import { ValidationError } from '../errors.js';
import type { EventCatalogue } from '../events/catalogue.js';
import { isValidSelector } from '../events/event-selector.js';
import { joiDetails } from '../validation-details.js';

/**
 * The shape of a webhook as callers write it (snake_case, like the envelope and the admin API).
 * Secret values are write-only: they come in here and only ever go out masked.
 */
export interface WebhookInput {
  name: string;
  description?: string;
  url: string;
  events: string[];
  notification_type?: 'REST';
  api_key?: { header?: string; value: string } | null;
  authorization?: string | null;
  headers?: Record<string, string>;
  enabled?: boolean;
}

/** Header names the plugin sets itself; custom headers may never replace them. */
export const RESERVED_HEADERS = new Set([
  'host', 'content-type', 'content-length', 'transfer-encoding', 'connection', 'user-agent',
  'webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-webhook-event', 'authorization',
]);

export const DEFAULT_API_KEY_HEADER = 'x-api-key';
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;
// Header values may not carry CR/LF (header injection) or other control characters.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]{0,2000}$/;

function schema(catalogue: EventCatalogue, creating: boolean) {
  const headerName = Joi.string().pattern(HEADER_NAME).message('{{#label}} must be a valid HTTP header name');
  const headerValue = Joi.string().pattern(HEADER_VALUE).message('{{#label}} must be printable text without line breaks');
  const events = Joi.array()
    .items(Joi.string().max(100).custom((value, helpers) => (isValidSelector(value, catalogue) ? value : helpers.error('any.invalid')))
      .messages({ 'any.invalid': '{{#label}} is not a known event type, a PREFIX_* pattern or *' }))
    .min(1).max(200).unique();
  const required = <T extends Joi.Schema>(s: T) => (creating ? s.required() : s);
  return Joi.object({
    name: required(Joi.string().trim().min(1).max(100)),
    description: Joi.string().trim().allow('').max(500),
    url: required(Joi.string().max(2048)),
    events: required(events),
    notification_type: Joi.string().valid('REST'),
    api_key: Joi.object({
      header: headerName.custom((value, helpers) => (RESERVED_HEADERS.has(value.toLowerCase()) ? helpers.error('any.invalid') : value))
        .messages({ 'any.invalid': '{{#label}} is a header the plugin sets itself' }),
      value: headerValue.min(1).required(),
    }).allow(null),
    authorization: headerValue.min(1).allow(null),
    headers: Joi.object()
      .pattern(headerName.custom((value, helpers) => (RESERVED_HEADERS.has(value.toLowerCase()) ? helpers.error('any.invalid') : value))
        .messages({ 'any.invalid': '{{#label}} is a header the plugin sets itself and cannot be overridden' }), headerValue)
      .max(20),
    enabled: Joi.boolean(),
  }).min(creating ? 0 : 1).required().messages({ 'object.min': 'the update names no field', 'any.required': 'a JSON object body is required' });
}

export function validateWebhookInput(input: unknown, catalogue: EventCatalogue, creating: boolean): WebhookInput {
  const { value, error } = schema(catalogue, creating).validate(input, { abortEarly: false, stripUnknown: false });
  if (error) {
    throw new ValidationError(`Invalid webhook: ${error.details.map((d) => d.message).join('; ')}`,
      joiDetails(error));
  }
  return value as WebhookInput;
}
