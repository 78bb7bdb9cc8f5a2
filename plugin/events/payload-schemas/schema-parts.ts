/**
 * Shapes shared by many event types' data: a user, a role, an app... Event schemas refer to
 * them as `{ "$ref": "#/$defs/<Name>" }`; published schemas carry the parts they use under
 * `$defs` (see {@link selfContained}), and the OpenAPI document under `components/schemas`.
 *
 * `User` is exactly what the allow-list mapper (user-mapper.ts) can produce: every field a
 * receiver may see of a user, and nothing a host's user model carries besides. A host type's
 * schema marks a user with `{ "$ref": "#/$defs/User" }`; such objects go through the mapper.
 *
 * Every field is something a receiver can act on (ids, names, states, times); none is a
 * secret, and none can hold one by design (no links, no message bodies, no codes).
 */
import { DEFS_PREFIX, deepFreeze, partNameOf, type DataSchema, type JsonType } from './data-schema.js';

const text = (description: string, extra: Partial<DataSchema> = {}): DataSchema => ({ type: 'string', description, ...extra });
const flag = (description: string): DataSchema => ({ type: 'boolean', description });
const time = (description: string): DataSchema => ({ type: 'string', format: 'date-time', description });
const names = (description: string): DataSchema => ({ type: 'array', items: { type: 'string' }, description });

/** An object that allows exactly `properties`. */
export function objectOf(description: string, properties: Record<string, DataSchema>, required: string[] = []): DataSchema {
  return { type: 'object', description, properties, ...(required.length ? { required } : {}), additionalProperties: false };
}

/** A reference to a shared part. */
export function ref(name: PartName): DataSchema {
  return { $ref: `${DEFS_PREFIX}${name}` };
}

/** A configuration object of the identity server (a scope, a template, a flow...): id, name, description. */
function resource(description: string, extra: Record<string, DataSchema> = {}): DataSchema {
  return objectOf(description, {
    id: text('Its id in the identity server'),
    name: text('Its name'),
    description: text('What it is for'),
    ...extra,
  }, ['id']);
}

const created = time('When it was created');
const updated = time('When it was last changed');
const enabled = flag('Whether it is in use');

const PARTS = {
  User: objectOf('A user as the allow-list mapper gives it: these fields only, never credentials or MFA settings', {
    id: text('The user\'s id'),
    username: text('Login name'),
    email: text('Email address', { format: 'email' }),
    email_verified: flag('Whether the email address was confirmed'),
    first_name: text('Given name'),
    last_name: text('Family name'),
    display_name: text('Name to show'),
    phone: text('Phone number'),
    phone_verified: flag('Whether the phone number was confirmed'),
    groups: names('Names (or ids) of the user\'s groups'),
    roles: names('Names (or ids) of the user\'s roles'),
    is_admin: flag('Whether the user administers the tenant'),
    enabled: flag('Whether the account may sign in'),
    locale: text('Preferred locale, e.g. en-GB'),
    tenant_id: text('Tenant of the account'),
    created_at: time('When the account was created'),
    updated_at: time('When the account was last changed'),
    last_login_at: time('When the user last signed in'),
  }, ['id']),
  Role: objectOf('A role', {
    id: text('The role\'s id'),
    name: text('The role\'s name'),
    description: text('What the role is for'),
    permissions: names('Permissions the role grants'),
  }, ['id', 'name']),
  Permission: resource('A permission'),
  App: resource('An application (OAuth/OIDC client) registered with the identity server', {
    client_id: text('Its public OAuth client id (never the client secret)'),
    app_type: text('Kind of application, e.g. web, spa, native, machine'),
    enabled,
    redirect_uris: { type: 'array', items: { type: 'string', format: 'uri' }, description: 'Allowed redirect URIs' },
    allowed_scopes: names('Scopes it may request'),
    created_at: created,
    updated_at: updated,
  }),
  Client: objectOf('The application a token or session belongs to', { id: text('Client id'), name: text('Client name') }, ['id']),
  Group: resource('A group of users', {
    group_type: text('Name of its group type'),
    parent_id: text('Id of the parent group, if any'),
    created_at: created,
    updated_at: updated,
  }),
  GroupCategory: resource('A category that group types are filed under'),
  GroupType: resource('A kind of group, with the roles members can hold in it', { roles: names('Roles a member can hold') }),
  Identity: objectOf('An external identity linked to a user account', {
    provider: text('Identity provider, e.g. google, github, saml-corp'),
    provider_user_id: text('The user\'s id at that provider'),
    username: text('The user\'s name at that provider'),
    email: text('The email address the provider gave', { format: 'email' }),
  }, ['provider']),
  SecurityKey: objectOf('A hardware or platform security key (FIDO2/WebAuthn), by its public id', {
    id: text('Public credential id'),
    name: text('Name the user gave it'),
    key_type: text('Kind of key, e.g. cross-platform, platform'),
    created_at: created,
  }, ['id']),
  Provider: resource('An authentication provider (social login, SAML or OIDC federation)', {
    provider_type: text('Kind of provider, e.g. google, saml, oidc'),
    enabled,
  }),
  Invite: objectOf('An invitation to join the tenant (never its link or code)', {
    id: text('The invitation\'s id'),
    email: text('Address it was sent to', { format: 'email' }),
    invited_by: text('Id of the user who sent it'),
    roles: names('Roles the invitee will get'),
    groups: names('Groups the invitee will join'),
    status: text('pending, accepted, revoked or expired', { enum: ['pending', 'accepted', 'revoked', 'expired'] }),
    expires_at: time('When it stops being valid'),
  }, ['id']),
  Tenant: resource('A tenant', { created_at: created }),
  Scope: resource('An OAuth scope', { required_consent: flag('Whether users must consent to it') }),
  ScopeDecision: resource('A rule deciding whether a scope is granted', {
    scope: text('Name of the scope it decides'),
    decision: text('What it decides, e.g. grant, deny, ask'),
  }),
  RegistrationField: resource('A field of the registration form', {
    field_type: text('Kind of input, e.g. text, email, date, select'),
    required: flag('Whether registration needs it'),
    enabled,
  }),
  HostedPage: resource('A page the identity server hosts (login, registration...)', {
    page_type: text('Which page it is, e.g. login, register, error'),
    locale: text('Language of the page'),
  }),
  Template: resource('A message template (email, SMS, push, IVR)', {
    channel: text('Channel it is for', { enum: ['email', 'sms', 'push', 'ivr'] }),
    locale: text('Language of the template'),
    template_type: text('What it is used for, e.g. verification, password_reset, invite'),
  }),
  Captcha: resource('A CAPTCHA configuration', { provider: text('CAPTCHA provider, e.g. recaptcha, hcaptcha'), enabled }),
  Flow: resource('A blueprint (an authentication or registration flow)', {
    version: { type: 'integer', description: 'Version of the blueprint' },
    enabled,
  }),
  PhysicalVerificationConfig: resource('Settings for verifying users in person or by document', {
    verification_type: text('Kind of verification, e.g. document, video, in_person'),
    enabled,
  }),
  ChangedFields: names('Names of the fields that changed (names only, never values)'),
  WebhookSummary: objectOf('A webhook as audit events show it: no secret values, only that they exist', {
    id: text('The webhook\'s id'),
    name: text('Its name'),
    description: text('Its description'),
    url: text('Where it sends events (as the plugin shows it; absent if it carried a credential)'),
    events: names('Event types and patterns it subscribes to'),
    notification_type: text('How it is notified', { enum: ['REST'] }),
    enabled: flag('Whether it is sending'),
    rate_limit_per_second: { type: ['integer', 'null'] as JsonType[], description: 'Most requests per second; null for no limit' },
    ordering: text('Delivery order: none (any order) or per_subject (one subject\'s events one at a time, in order)', { enum: ['none', 'per_subject'] }),
    status: objectOf('Whether it is sending, and why not', {
      state: text('enabled or disabled', { enum: ['enabled', 'disabled'] }),
      reason: { type: ['string', 'null'] as JsonType[], description: 'Why it was disabled' },
      disabled_at: { type: ['string', 'null'] as JsonType[], format: 'date-time', description: 'When it was disabled' },
      failing_since: { type: ['string', 'null'] as JsonType[], format: 'date-time', description: 'Start of the current run of failures' },
    }),
    created_at: created,
    updated_at: updated,
    api_key_header: { type: ['string', 'null'] as JsonType[], description: 'Header that carries its API key; null when it has none' },
    has_authorization: flag('Whether it sends an Authorization header'),
    header_names: names('Names of the custom headers it sends (values are never shown)'),
    signature_scheme: text('How deliveries are signed', { enum: ['hmac-sha256', 'ed25519'] }),
    public_key: { type: ['string', 'null'] as JsonType[], description: 'The whpk_ public key receivers verify ed25519 (v1a) signatures with; null for HMAC webhooks' },
  }, ['id', 'name']),
} satisfies Record<string, DataSchema>;

/** Name of a shared part. */
export type PartName = keyof typeof PARTS;

/** Every shared part, frozen. */
export const PAYLOAD_PARTS: Readonly<Record<PartName, DataSchema>> = deepFreeze(PARTS);

/** The part that marks a user: objects declared with it go through the user mapper. */
export const USER_PART: PartName = 'User';

export function isPartName(name: string): name is PartName {
  return Object.prototype.hasOwnProperty.call(PAYLOAD_PARTS, name);
}

/** Names of the parts `schema` refers to, directly or through other parts, in first-use order. */
export function partsUsedBy(schema: DataSchema): PartName[] {
  const found = new Set<PartName>();
  const visit = (node: DataSchema | undefined): void => {
    if (!node || typeof node !== 'object') return;
    const name = node.$ref === undefined ? undefined : partNameOf(node.$ref);
    if (name !== undefined && isPartName(name) && !found.has(name)) {
      found.add(name);
      visit(PAYLOAD_PARTS[name]);
    }
    for (const child of Object.values(node.properties ?? {})) visit(child);
    visit(node.items);
  };
  visit(schema);
  return [...found];
}

/** `schema` with the parts it uses under `$defs`, so it can be read (and validated) on its own. */
export function selfContained(schema: DataSchema, dialect?: string): DataSchema {
  const used = partsUsedBy(schema);
  const { $defs: _ignored, ...rest } = schema;
  return {
    ...(dialect ? { $schema: dialect } : {}),
    ...rest,
    ...(used.length ? { $defs: Object.fromEntries(used.map((name) => [name, PAYLOAD_PARTS[name]])) } : {}),
  };
}
