/**
 * The event catalogue: the single source of truth for which event types exist.
 *
 * Built-in types come from the cidaas "Available webhook events" table (seed 003),
 * plus a few that identity servers built on Passport need and cidaas lacks. Hosts
 * may register their own types per plugin instance through {@link EventCatalogue}.
 *
 * Every type carries the JSON Schema of its `data` (payload-schemas/): only the fields it
 * declares leave the host. Built-in schemas live in payload-schemas/built-in-payload-schemas.ts;
 * a host type brings its own (`schema`) or, without one, falls back to the credential scrubber.
 */
import { JSON_SCHEMA_DIALECT, deepFreeze, type DataSchema } from './payload-schemas/data-schema.js';
import { BUILT_IN_PAYLOADS } from './payload-schemas/built-in-payload-schemas.js';
import { hostTypePayload } from './payload-schemas/host-type-payload.js';
import { selfContained } from './payload-schemas/schema-parts.js';

/**
 * Categories used to group built-in event types in docs and UIs.
 *
 * A category is presentation only: subscription patterns such as `USER_*` match on
 * the type name's prefix, not on this field, so `USER_LOGIN` can sit under AUTH
 * and still be selected by `USER_*`.
 */
export const EVENT_CATEGORIES = Object.freeze([
  'USER',
  'AUTH',
  'MFA',
  'APP',
  'ROLE',
  'PERMISSION',
  'GROUP',
  'PROVIDER',
  'INVITE',
  'TENANT',
  'NOTIFICATION',
  'SCOPE',
  'REGISTRATION',
  'HOSTED_PAGE',
  'TEMPLATE',
  'WEBHOOK',
  'CAPTCHA',
  'PROFILE',
  'VERIFICATION',
  'FLOW',
] as const);

/** One of the built-in {@link EVENT_CATEGORIES}. */
export type EventCategory = (typeof EVENT_CATEGORIES)[number];

/** Category given to a host-registered type that does not name one. */
export const DEFAULT_CUSTOM_CATEGORY = 'CUSTOM';

/**
 * The event sent only by an explicit "send test" action. Selectors never match it
 * (see event-selector.ts), so a test send cannot leak to other subscribers.
 */
export const TEST_EVENT_TYPE = 'WEBHOOK_TEST';

/**
 * Every built-in event type, grouped by category in {@link EVENT_CATEGORIES} order so
 * that `list()` and the generated docs read the same way.
 *
 * Seed 003 runs some names together; they are split here as two events each:
 * APP_CREATEDAPP_MODIFIED, ROLE_CREATEDROLE_UPDATED, INVITE_USERRE_INVITE_USER,
 * INVITE_ACCEPTEDINVITE_REVOKED, TOKEN_RENEWEDCODE_OBTAINED (TOKEN_RENEWED +
 * CODE_OBTAINED: the only cut that leaves two past-tense events) and
 * COMBINEDLOGOUTTOKEN_CHECKED. For the last, COMBINED_LOGOUT + TOKEN_CHECKED is the
 * cut that yields two real events: "COMBINEDLOGOUT" is itself a run-together
 * "COMBINED LOGOUT" (spelt here in UPPER_SNAKE like every other name), and
 * TOKEN_CHECKED is the verification the seed's description talks about. Cutting
 * after COMBINED instead would leave a bare, meaningless "COMBINED" event.
 */
export const BUILT_IN_EVENT_TYPES = Object.freeze([
  // USER
  { type: 'USER_CREATED', category: 'USER', description: 'A new user account was created.' },
  { type: 'USER_MODIFIED', category: 'USER', description: "A user account's details were changed." },
  { type: 'USER_DELETED', category: 'USER', description: 'A user account was removed.' },
  { type: 'USER_ENABLED', category: 'USER', description: 'A disabled user account was reactivated.' },
  { type: 'USER_DISABLED', category: 'USER', description: 'A user account was deactivated.' },
  { type: 'USER_BLOCKED', category: 'USER', description: "A user's account was temporarily blocked." },
  { type: 'USER_EMAIL_VERIFIED', category: 'USER', description: "A user's email address was confirmed." },
  { type: 'USER_MOBILE_NO_VERIFIED', category: 'USER', description: "A user's mobile phone number was verified." },
  {
    type: 'USER_IDENTITY_ADDED',
    category: 'USER',
    description: 'An extra identity, such as a social media profile, was linked to a user account.',
  },
  { type: 'USER_IDENTITY_REMOVED', category: 'USER', description: 'A linked identity was disconnected from a user account.' },
  { type: 'USER_PASSWORD_CHANGED', category: 'USER', description: 'A user changed their password.' },
  { type: 'USER_PASSWORD_RESET_INITIATE', category: 'USER', description: 'A user started the password reset process.' },
  { type: 'USER_PASSWORD_RESET', category: 'USER', description: 'A user successfully reset their password.' },
  { type: 'EMAIL_CHANGED', category: 'USER', description: 'A user changed their email address.' },
  { type: 'USER_CREATED_WITH_INVITE', category: 'USER', description: 'A user account was created from an invitation.' },
  {
    type: 'USER_SECURITY_KEYS_PROVISIONED',
    category: 'USER',
    description: "A user's security keys, such as those on a YubiKey, were provisioned.",
  },

  // AUTH: sessions, tokens and codes
  { type: 'USER_LOGIN', category: 'AUTH', description: 'A user successfully logged in.' },
  { type: 'USER_LOGIN_FAILURE', category: 'AUTH', description: "A user's login attempt failed." },
  { type: 'USER_LOGOUT', category: 'AUTH', description: 'A user logged out.' },
  {
    type: 'COMBINED_LOGOUT',
    category: 'AUTH',
    description: "A combined logout signed the user out of several sessions or applications at once.",
  },
  {
    type: 'TOKEN_CHECKED',
    category: 'AUTH',
    description: 'A token was checked, such as the special code verified during a secure logout.',
  },
  { type: 'TOKEN_RENEWED', category: 'AUTH', description: 'A token was renewed.' },
  { type: 'CODE_OBTAINED', category: 'AUTH', description: 'A code that can be exchanged for tokens was obtained.' },
  { type: 'ACCESS_TOKEN_OBTAINED', category: 'AUTH', description: 'An access token was obtained.' },

  // MFA
  { type: 'MFA_REQUIRED', category: 'MFA', description: 'A user was required to complete multi-factor authentication.' },
  { type: 'MFA_INITIATED', category: 'MFA', description: 'Multi-factor authentication was started.' },
  { type: 'MFA_RE_INITIATED', category: 'MFA', description: 'Multi-factor authentication was restarted.' },
  { type: 'MFA_VERIFIED', category: 'MFA', description: 'Multi-factor authentication was successfully confirmed.' },

  // APP
  { type: 'APP_CREATED', category: 'APP', description: 'A new app was created.' },
  { type: 'APP_MODIFIED', category: 'APP', description: 'An existing app was changed.' },
  { type: 'APP_DELETED', category: 'APP', description: 'An app was removed.' },

  // ROLE
  { type: 'ROLE_CREATED', category: 'ROLE', description: 'A new user role was created.' },
  { type: 'ROLE_UPDATED', category: 'ROLE', description: 'An existing user role was changed.' },
  { type: 'ROLE_DELETED', category: 'ROLE', description: 'A user role was removed.' },
  { type: 'ROLE_ASSIGNED', category: 'ROLE', description: 'A role was assigned to a user.' },
  { type: 'ROLE_UNASSIGNED', category: 'ROLE', description: 'A role was taken away from a user.' },

  // PERMISSION
  { type: 'PERMISSION_CREATED', category: 'PERMISSION', description: 'A new permission was created.' },
  { type: 'PERMISSION_UPDATED', category: 'PERMISSION', description: 'A permission was changed.' },
  { type: 'PERMISSION_DELETED', category: 'PERMISSION', description: 'A permission was removed.' },

  // GROUP
  { type: 'GROUP_CREATED', category: 'GROUP', description: 'A new group was created.' },
  { type: 'GROUP_UPDATED', category: 'GROUP', description: "A group's details were changed." },
  { type: 'GROUP_DELETED', category: 'GROUP', description: 'A group was removed.' },
  { type: 'GROUP_NEW_USER_ADDED', category: 'GROUP', description: 'A user was added to a group.' },
  { type: 'GROUP_USER_ROLE_UPDATED', category: 'GROUP', description: "A user's role in a group was changed." },
  { type: 'GROUP_USER_REMOVED', category: 'GROUP', description: 'A user was removed from a group.' },
  { type: 'GROUP_CATEGORY_CREATED', category: 'GROUP', description: 'A new group category was defined.' },
  { type: 'GROUP_CATEGORY_UPDATED', category: 'GROUP', description: 'A group category was changed.' },
  { type: 'GROUP_CATEGORY_DELETED', category: 'GROUP', description: 'A group category was removed.' },
  { type: 'GROUP_TYPE_CREATED', category: 'GROUP', description: 'A new group type was created.' },
  { type: 'GROUP_TYPE_UPDATED', category: 'GROUP', description: "An existing group type's details were changed." },
  // The seed says "Group category is removed" here, a copy slip from GROUP_CATEGORY_DELETED.
  { type: 'GROUP_TYPE_DELETED', category: 'GROUP', description: 'A group type was removed.' },

  // PROVIDER
  { type: 'PROVIDER_CREATED', category: 'PROVIDER', description: 'A new authentication provider was added.' },
  { type: 'PROVIDER_UPDATED', category: 'PROVIDER', description: "An authentication provider's settings were changed." },
  { type: 'PROVIDER_DELETED', category: 'PROVIDER', description: 'An authentication provider was removed.' },

  // INVITE
  { type: 'INVITE_USER', category: 'INVITE', description: 'An invitation was sent to a user.' },
  { type: 'RE_INVITE_USER', category: 'INVITE', description: 'An invitation was sent to a user again.' },
  { type: 'INVITE_ACCEPTED', category: 'INVITE', description: 'An invitation was accepted.' },
  { type: 'INVITE_REVOKED', category: 'INVITE', description: 'An invitation was cancelled.' },

  // TENANT
  { type: 'TENANT_CREATED', category: 'TENANT', description: 'A new tenant was created.' },

  // NOTIFICATION
  { type: 'SMS_SENT', category: 'NOTIFICATION', description: 'An SMS message was sent.' },
  { type: 'EMAIL_SENT', category: 'NOTIFICATION', description: 'An email was sent.' },
  { type: 'IVR_TRIGGERED', category: 'NOTIFICATION', description: 'An interactive voice response (IVR) call was triggered.' },
  { type: 'PUSH_SENT', category: 'NOTIFICATION', description: 'A push notification was sent.' },

  // SCOPE
  { type: 'SCOPE_CREATED', category: 'SCOPE', description: 'A new scope was created.' },
  { type: 'SCOPE_UPDATED', category: 'SCOPE', description: "A scope's details were changed." },
  { type: 'SCOPE_DELETED', category: 'SCOPE', description: 'A scope was removed.' },
  { type: 'SCOPE_DEC_CREATED', category: 'SCOPE', description: 'A decision related to a scope was made.' },
  { type: 'SCOPE_DEC_UPDATED', category: 'SCOPE', description: 'A decision related to a scope was changed.' },
  { type: 'SCOPE_DEC_DELETED', category: 'SCOPE', description: 'A decision related to a scope was removed.' },

  // REGISTRATION
  { type: 'REGISTRATION_FIELD_CREATED', category: 'REGISTRATION', description: 'A new registration field was created.' },
  { type: 'REGISTRATION_FIELD_UPDATED', category: 'REGISTRATION', description: 'A registration field was changed.' },
  { type: 'REGISTRATION_FIELD_DELETED', category: 'REGISTRATION', description: 'A registration field was removed.' },

  // HOSTED_PAGE
  { type: 'HOSTED_PAGE_CREATED', category: 'HOSTED_PAGE', description: 'A new hosted page was created.' },
  { type: 'HOSTED_PAGE_UPDATED', category: 'HOSTED_PAGE', description: "A hosted page's details were changed." },
  { type: 'HOSTED_PAGE_DELETED', category: 'HOSTED_PAGE', description: 'A hosted page was removed.' },

  // TEMPLATE
  { type: 'TEMPLATE_CREATED', category: 'TEMPLATE', description: 'A new template was created.' },
  { type: 'TEMPLATE_UPDATED', category: 'TEMPLATE', description: 'A template was changed.' },
  { type: 'TEMPLATE_DELETED', category: 'TEMPLATE', description: 'A template was removed.' },
  { type: 'CUSTOM_TEMPLATE_CREATED', category: 'TEMPLATE', description: 'A new custom template was created.' },
  { type: 'CUSTOM_TEMPLATE_UPDATED', category: 'TEMPLATE', description: 'A custom template was changed.' },
  { type: 'CUSTOM_TEMPLATE_DELETED', category: 'TEMPLATE', description: 'A custom template was removed.' },

  // WEBHOOK
  { type: 'WEBHOOK_CREATED', category: 'WEBHOOK', description: 'A new webhook was created.' },
  { type: 'WEBHOOK_UPDATED', category: 'WEBHOOK', description: 'A webhook was changed.' },
  { type: 'WEBHOOK_DELETED', category: 'WEBHOOK', description: 'A webhook was removed.' },
  // Operational events (Svix's "operational webhooks"): about the delivery of other webhooks.
  // Never delivered to the webhook they are about (see OperationalEventPublisher).
  { type: 'WEBHOOK_DISABLED', category: 'WEBHOOK', description: 'The plugin disabled a webhook (410 Gone, or failing for longer than delivery.disableAfterMs); data.reason says why.' },
  { type: 'WEBHOOK_FAILING', category: 'WEBHOOK', description: 'Every delivery of a webhook has failed for delivery.failingEventAfterMs; sent once per failing run.' },
  { type: 'DELIVERY_EXHAUSTED', category: 'WEBHOOK', description: 'A delivery failed its last scheduled attempt and will not be retried.' },
  {
    type: TEST_EVENT_TYPE,
    category: 'WEBHOOK',
    description: 'A test event sent only by an explicit test send, never matched by subscriptions.',
  },

  // CAPTCHA
  { type: 'CAPTCHA_CREATED', category: 'CAPTCHA', description: 'A new CAPTCHA was created.' },
  { type: 'CAPTCHA_UPDATED', category: 'CAPTCHA', description: 'A CAPTCHA was changed.' },
  { type: 'CAPTCHA_DELETED', category: 'CAPTCHA', description: 'A CAPTCHA was removed.' },

  // PROFILE
  { type: 'PROFILE_IMAGE_UPDATED', category: 'PROFILE', description: "A user's profile image was changed." },
  { type: 'PROFILE_IMAGE_REMOVED', category: 'PROFILE', description: "A user's profile image was removed." },

  // VERIFICATION
  { type: 'PHYSICAL_VERIFICATION_CONFIG', category: 'VERIFICATION', description: 'Settings for physical verification were defined.' },
  { type: 'PHYSICAL_VERIFICATION_REMOVED', category: 'VERIFICATION', description: 'Physical verification settings were removed.' },
  { type: 'PHYSICAL_VERIFICATION', category: 'VERIFICATION', description: 'A physical verification was started or completed.' },

  // FLOW
  { type: 'FLOW_CREATED', category: 'FLOW', description: 'A new blueprint was created.' },
  { type: 'FLOW_UPDATED', category: 'FLOW', description: 'An existing blueprint was updated.' },
  { type: 'FLOW_DELETED', category: 'FLOW', description: 'An existing blueprint was deleted.' },
] as const satisfies readonly { type: string; category: EventCategory; description: string }[]);

// `as const` is only a compile-time promise; freezing the entries makes the shared
// table immutable at run time too, so no caller can edit another plugin's catalogue.
for (const entry of BUILT_IN_EVENT_TYPES) Object.freeze(entry);

/** Name of a built-in event type. */
export type BuiltInEventType = (typeof BUILT_IN_EVENT_TYPES)[number]['type'];

/** One event type as the catalogue exposes it. */
export interface EventTypeDefinition {
  readonly type: string;
  readonly category: string;
  readonly description: string;
  /** False for types the host registered. */
  readonly builtIn: boolean;
  /**
   * JSON Schema (2020-12) of the event's `data`, self-contained (shared parts under `$defs`).
   * Null for a host type registered without one: its data is only scrubbed of credentials.
   */
  readonly schema: DataSchema | null;
  /** An example `data` that validates against {@link schema}; `{}` when there is no schema. */
  readonly example: Readonly<Record<string, unknown>>;
}

/** A type the host registers on top of the built-ins. */
export interface CustomEventTypeInput {
  type: string;
  /** Defaults to {@link DEFAULT_CUSTOM_CATEGORY}. */
  category?: string;
  description: string;
  /**
   * JSON Schema of the event's `data` in the supported subset (type, properties, required,
   * items, enum, format, minLength, maxLength, description, title); mark a user with
   * `{ "$ref": "#/$defs/User" }`. Fields it does not declare never leave the host. Default:
   * none, and the data is only scrubbed of credential names and values (a warning at start-up).
   * @example { type: 'object', properties: { order: { type: 'object', properties: { id: { type: 'string' } } }, customer: { $ref: '#/$defs/User' } }, required: ['order'] }
   */
  schema?: Record<string, unknown>;
  /** Example `data`, checked against `schema` at start-up. Default: one made from the schema. */
  example?: Record<string, unknown>;
}

/** Names a host-registered type must match (UPPER_SNAKE_CASE, no empty segments). */
export const EVENT_TYPE_NAME_PATTERN = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;

/** Longest accepted event type name. */
export const MAX_EVENT_TYPE_NAME_LENGTH = 64;

/** Longest accepted description (after trimming). */
export const MAX_EVENT_DESCRIPTION_LENGTH = 300;

/** Longest accepted category name: same bound as type names, since both end up in headers and UIs. */
export const MAX_EVENT_CATEGORY_LENGTH = 64;

const CATEGORY_PATTERN = /^[A-Z][A-Z0-9_]*$/;

/** Thrown when a host-registered event type is invalid. */
export class CatalogueError extends Error {
  /** Stable code for API error bodies. */
  readonly code = 'invalid_event_type' as const;
  /** The offending type name, when it was a string. */
  readonly eventType: string | undefined;

  constructor(message: string, eventType?: string) {
    super(message);
    this.name = 'CatalogueError';
    this.eventType = eventType;
  }
}

// Built-in definitions hold no per-instance state, so every catalogue shares these.
const BUILT_IN_DEFINITIONS: readonly EventTypeDefinition[] = Object.freeze(
  BUILT_IN_EVENT_TYPES.map((entry) => deepFreeze({
    type: entry.type, category: entry.category, description: entry.description, builtIn: true,
    schema: selfContained(BUILT_IN_PAYLOADS[entry.type].schema, JSON_SCHEMA_DIALECT),
    example: BUILT_IN_PAYLOADS[entry.type].example,
  })),
);

/**
 * The event types known to one plugin instance: the built-ins plus the host's own.
 * Immutable once built, so it can be shared freely between request handlers.
 */
export class EventCatalogue {
  readonly #byType: ReadonlyMap<string, EventTypeDefinition>;
  readonly #list: readonly EventTypeDefinition[];

  /**
   * @param custom host-registered types, validated here so a typo fails at start-up
   *   rather than as silently undelivered events.
   * @throws {CatalogueError} naming the first invalid type and why it is invalid.
   */
  constructor(custom: readonly CustomEventTypeInput[] = []) {
    if (!Array.isArray(custom)) {
      throw new CatalogueError('Custom event types must be given as an array');
    }
    const byType = new Map<string, EventTypeDefinition>(BUILT_IN_DEFINITIONS.map((d) => [d.type, d]));
    const list: EventTypeDefinition[] = [...BUILT_IN_DEFINITIONS];
    custom.forEach((input, index) => {
      const definition = validateCustom(input, index, byType);
      byType.set(definition.type, definition);
      list.push(definition);
    });
    this.#byType = byType;
    this.#list = Object.freeze(list);
  }

  /** Whether `type` is a known event type. */
  has(type: string): boolean {
    return this.#byType.has(type);
  }

  /** The definition of `type`, or undefined when unknown. */
  get(type: string): EventTypeDefinition | undefined {
    return this.#byType.get(type);
  }

  /** Every known type: built-ins in catalogue order, then custom types in registration order. */
  list(): readonly EventTypeDefinition[] {
    return this.#list;
  }

  /** Distinct categories in the order they first appear in {@link list}. */
  categories(): string[] {
    return [...new Set(this.#list.map((d) => d.category))];
  }

  /** Types grouped by category, keys in {@link categories} order; a fresh object each call. */
  byCategory(): Record<string, EventTypeDefinition[]> {
    const groups: Record<string, EventTypeDefinition[]> = {};
    for (const definition of this.#list) {
      (groups[definition.category] ??= []).push(definition);
    }
    return groups;
  }
}

function validateCustom(
  input: CustomEventTypeInput,
  index: number,
  known: ReadonlyMap<string, EventTypeDefinition>,
): EventTypeDefinition {
  // Hosts may pass config parsed from JSON, so nothing here can trust the static types.
  if (typeof input !== 'object' || input === null) {
    throw new CatalogueError(`Custom event type at index ${index} must be an object with type and description`);
  }
  const { type, category = DEFAULT_CUSTOM_CATEGORY, description } = input as Partial<CustomEventTypeInput>;
  if (typeof type !== 'string') {
    throw new CatalogueError(`Custom event type at index ${index} has no type name: type must be a string`);
  }
  const fail = (why: string): never => {
    throw new CatalogueError(`Invalid custom event type "${type}": ${why}`, type);
  };
  if (type.length === 0) fail('name must not be empty');
  if (type.length > MAX_EVENT_TYPE_NAME_LENGTH) {
    fail(`name is ${type.length} characters long, the maximum is ${MAX_EVENT_TYPE_NAME_LENGTH}`);
  }
  if (!EVENT_TYPE_NAME_PATTERN.test(type)) {
    fail('name must be UPPER_SNAKE_CASE (A-Z, 0-9 and single underscores, starting with a letter), e.g. ORDER_SHIPPED');
  }
  const existing = known.get(type);
  if (existing?.builtIn) fail('name collides with a built-in event type');
  if (existing) fail('name is registered more than once');

  if (typeof category !== 'string') fail('category must be a string');
  if (category.length > MAX_EVENT_CATEGORY_LENGTH) {
    fail(`category is ${category.length} characters long, the maximum is ${MAX_EVENT_CATEGORY_LENGTH}`);
  }
  if (!CATEGORY_PATTERN.test(category)) {
    fail(`category "${category}" must be upper case (A-Z, 0-9, _), starting with a letter`);
  }

  if (typeof description !== 'string') fail('description must be a string');
  const trimmed = (description as string).trim();
  if (trimmed.length === 0) fail('description must not be empty');
  if (trimmed.length > MAX_EVENT_DESCRIPTION_LENGTH) {
    fail(`description is ${trimmed.length} characters long, the maximum is ${MAX_EVENT_DESCRIPTION_LENGTH}`);
  }

  const { schema, example } = hostTypePayload(input, fail);
  return deepFreeze({ type, category, description: trimmed, builtIn: false, schema, example });
}
