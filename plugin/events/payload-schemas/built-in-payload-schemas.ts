/**
 * The data schema and an example `data` of every built-in event type: one row per type, in
 * catalogue order. Only the fields declared here leave the host (payload-shaper.ts).
 *
 * The seed (cidaas' event table) names events without describing their data, so rows of a
 * kind share one shape: a configuration change carries the object (`{ scope }`,
 * `{ template }`...) and, for updates, `changed_fields`; a user's event carries `user`
 * (mapped through the allow-list) and what the event adds (a method, an identity, a role).
 * Fields are what a receiver can act on; nothing that is or could carry a secret (a link, a
 * code, a message body, a token) is declared, so none can be sent by mistake.
 *
 * The typed hooks (host/lifecycle-hooks.ts) produce data for some of these types; a test
 * checks that what they produce validates against these schemas.
 */
import type { BuiltInEventType } from '../catalogue.js';
import { deepFreeze, type DataSchema, type JsonType } from './data-schema.js';
import { objectOf, ref, type PartName } from './schema-parts.js';

/** A type's data schema and example data. */
export interface PayloadRow {
  readonly schema: DataSchema;
  readonly example: Readonly<Record<string, unknown>>;
}

const text = (description: string, extra: Partial<DataSchema> = {}): DataSchema => ({ type: 'string', description, ...extra });
const names = (description: string): DataSchema => ({ type: 'array', items: { type: 'string' }, description });
const time = (description: string): DataSchema => ({ type: 'string', format: 'date-time', description });

/** A row whose data is an object with `properties`, `required` naming the fields always present. */
function row(description: string, properties: Record<string, DataSchema>, required: string[], example: Record<string, unknown>): PayloadRow {
  return { schema: objectOf(description, properties, required), example };
}

// Example values: realistic, and nothing in them is (or looks like) a credential.
const USER = {
  id: 'usr_2f9c1e7a', username: 'jdoe', email: 'jane.doe@example.com', email_verified: true, first_name: 'Jane',
  last_name: 'Doe', display_name: 'Jane Doe', groups: ['finance'], roles: ['auditor'], enabled: true, tenant_id: 'acme',
  created_at: '2026-01-02T03:04:05.000Z', updated_at: '2026-01-14T08:00:00.000Z',
};
const ROLE = { id: 'rol_7d41', name: 'auditor', description: 'Reads audit logs', permissions: ['logs:read'] };
const CLIENT = { id: 'portal-web', name: 'Customer portal' };
const GROUP = { id: 'grp_finance', name: 'finance', description: 'Finance department', group_type: 'department' };
const EXAMPLES: Record<Exclude<PartName, 'User' | 'Role' | 'Client' | 'Group' | 'ChangedFields' | 'Identity' | 'SecurityKey' | 'Invite' | 'WebhookSummary'>, Record<string, unknown>> = {
  Permission: { id: 'perm_logs_read', name: 'logs:read', description: 'Read audit logs' },
  App: {
    id: 'app_5a1b', name: 'Customer portal', client_id: 'portal-web', app_type: 'web', enabled: true,
    redirect_uris: ['https://portal.example.com/callback'], allowed_scopes: ['openid', 'profile'],
  },
  GroupCategory: { id: 'gcat_org', name: 'Organisation', description: 'Groups that mirror the org chart' },
  GroupType: { id: 'gtype_department', name: 'department', roles: ['member', 'manager'] },
  Provider: { id: 'prov_google', name: 'Google', provider_type: 'google', enabled: true },
  Tenant: { id: 'acme', name: 'Acme Corp', created_at: '2026-01-01T00:00:00.000Z' },
  Scope: { id: 'scp_profile', name: 'profile', description: 'Basic profile', required_consent: true },
  ScopeDecision: { id: 'dec_profile', name: 'Ask for profile', scope: 'profile', decision: 'ask' },
  RegistrationField: { id: 'fld_birthdate', name: 'birthdate', field_type: 'date', required: false, enabled: true },
  HostedPage: { id: 'page_login', name: 'Login', page_type: 'login', locale: 'en-GB' },
  Template: { id: 'tpl_verify_email', name: 'Verify email', channel: 'email', locale: 'en-GB', template_type: 'verification' },
  Captcha: { id: 'cap_signup', name: 'Sign-up CAPTCHA', provider: 'hcaptcha', enabled: true },
  Flow: { id: 'flow_signup', name: 'Sign-up', description: 'Registration with email verification', version: 3, enabled: true },
  PhysicalVerificationConfig: { id: 'pv_docs', name: 'Document check', verification_type: 'document', enabled: true },
};

const changedFields = ref('ChangedFields');

/**
 * `<PREFIX>_CREATED` / `_UPDATED` / `_DELETED` for a configuration object under `key`;
 * updates add `changed_fields`.
 */
function crud(key: string, part: keyof typeof EXAMPLES, what: string, changed: string[] = ['description']) {
  const object = EXAMPLES[part];
  return {
    created: row(`The new ${what}`, { [key]: ref(part) }, [key], { [key]: object }),
    updated: row(`The ${what} after the change`, { [key]: ref(part), changed_fields: changedFields }, [key], { [key]: object, changed_fields: changed }),
    deleted: row(`The ${what} as it was`, { [key]: ref(part) }, [key], { [key]: object }),
  };
}

/** An event about one user, with extra fields. */
function aboutUser(description: string, extra: Record<string, DataSchema> = {}, extraRequired: string[] = [], example: Record<string, unknown> = {}): PayloadRow {
  return row(description, { user: ref('User'), ...extra }, ['user', ...extraRequired], { user: USER, ...example });
}

const method = text('The second factor used, e.g. totp, sms, email, webauthn, recovery_code');
const reason = text('Why, in words meant for logs');
const strategy = text('How the user authenticated: a Passport strategy name, e.g. local, google, totp');
const scopes = names('Scopes granted');
const identity = { identity: ref('Identity') };
const IDENTITY = { provider: 'github', provider_user_id: '583231', username: 'janedoe' };
const app = crud('app', 'App', 'app', ['redirect_uris']);
const permission = crud('permission', 'Permission', 'permission');
const group = {
  created: row('The new group', { group: ref('Group') }, ['group'], { group: GROUP }),
  updated: row('The group after the change', { group: ref('Group'), changed_fields: changedFields }, ['group'], { group: GROUP, changed_fields: ['description'] }),
  deleted: row('The group as it was', { group: ref('Group') }, ['group'], { group: GROUP }),
};
const groupCategory = crud('group_category', 'GroupCategory', 'group category');
const groupType = crud('group_type', 'GroupType', 'group type', ['roles']);
const provider = crud('provider', 'Provider', 'provider', ['enabled']);
const scope = crud('scope', 'Scope', 'scope');
const scopeDecision = crud('scope_decision', 'ScopeDecision', 'scope decision', ['decision']);
const registrationField = crud('registration_field', 'RegistrationField', 'registration field', ['required']);
const hostedPage = crud('hosted_page', 'HostedPage', 'hosted page', ['locale']);
const template = crud('template', 'Template', 'template', ['locale']);
const customTemplate = crud('template', 'Template', 'custom template', ['locale']);
const captcha = crud('captcha', 'Captcha', 'CAPTCHA', ['enabled']);
const flow = crud('flow', 'Flow', 'blueprint', ['version']);
const INVITE = { id: 'inv_31c8', email: 'sam@example.com', invited_by: 'usr_2f9c1e7a', roles: ['member'], status: 'pending', expires_at: '2026-01-21T09:30:00.000Z' };
const invite = (description: string, status: string, withUser: boolean): PayloadRow => row(description, { invite: ref('Invite'), user: ref('User') }, withUser ? ['invite', 'user'] : ['invite'],
  withUser ? { invite: { ...INVITE, status }, user: USER } : { invite: { ...INVITE, status } });
const notification = (channel: 'sms' | 'email' | 'ivr' | 'push', recipient: string | undefined): PayloadRow => row(`A ${channel} message or call: who, what for, through whom; never its content`, {
  user: ref('User'),
  channel: text('The channel', { enum: ['sms', 'email', 'ivr', 'push'] }),
  template: text('Id or name of the template used'),
  purpose: text('What it was for, e.g. verification, password_reset, mfa, invite, notice'),
  recipient: text('Address, number or device it went to'),
  provider: text('Service that delivered it'),
  message_id: text('The provider\'s id of the message'),
}, ['channel'], { user: USER, channel, template: `tpl_${channel}_verification`, purpose: 'verification', ...(recipient ? { recipient } : {}), provider: 'example-gateway', message_id: 'msg-8812' });
const WEBHOOK = {
  id: 'wh_Xb3k9QmR2tVw8YpL4nJ6aC', name: 'CRM sync', description: 'Keeps the CRM in step', url: 'https://crm.example.com/hooks/identity',
  events: ['USER_*'], notification_type: 'REST', enabled: true, rate_limit_per_second: null, ordering: 'none',
  status: { state: 'enabled', reason: null, disabled_at: null, failing_since: null },
  created_at: '2026-01-10T12:00:00.000Z', updated_at: '2026-01-15T09:29:00.000Z',
  api_key_header: 'x-api-key', has_authorization: false, header_names: ['x-tenant'], signature_scheme: 'hmac-sha256',
};
const webhookAudit = (description: string, changed: boolean): PayloadRow => row(description,
  { webhook: ref('WebhookSummary'), ...(changed ? { changed_fields: changedFields } : {}) }, ['webhook'],
  { webhook: WEBHOOK, ...(changed ? { changed_fields: ['description'] } : {}) });
const tokenEvent = (description: string, extra: Record<string, DataSchema>, example: Record<string, unknown>): PayloadRow => row(description,
  { user: ref('User'), client: ref('Client'), ...extra }, [], { user: USER, client: CLIENT, ...example });

const ROWS: Record<BuiltInEventType, PayloadRow> = {
  // USER
  USER_CREATED: aboutUser('The new user'),
  USER_MODIFIED: aboutUser('The user after the change', { changed_fields: changedFields }, [], { changed_fields: ['last_name', 'display_name'] }),
  USER_DELETED: aboutUser('The user as it was'),
  USER_ENABLED: aboutUser('The reactivated user'),
  USER_DISABLED: aboutUser('The deactivated user', { reason }, [], { reason: 'disabled by an administrator' }),
  USER_BLOCKED: aboutUser('The blocked user', { reason, blocked_until: time('When the block ends, if it does') }, [],
    { reason: 'too many failed logins', blocked_until: '2026-01-15T10:00:00.000Z' }),
  USER_EMAIL_VERIFIED: aboutUser('The user whose email address was confirmed'),
  USER_MOBILE_NO_VERIFIED: aboutUser('The user whose phone number was confirmed'),
  USER_IDENTITY_ADDED: aboutUser('The user and the identity linked', identity, ['identity'], { identity: IDENTITY }),
  USER_IDENTITY_REMOVED: aboutUser('The user and the identity unlinked', identity, ['identity'], { identity: IDENTITY }),
  USER_PASSWORD_CHANGED: aboutUser('The user who changed their password (never the password)'),
  USER_PASSWORD_RESET_INITIATE: aboutUser('The user who asked for a reset (never the reset link or its token)', {
    channel: text('Where the reset link was sent', { enum: ['email', 'sms'] }),
    expires_at: time('When the reset link expires'),
  }, [], { channel: 'email', expires_at: '2026-01-15T10:30:00.000Z' }),
  USER_PASSWORD_RESET: aboutUser('The user whose password was reset (never the password)'),
  EMAIL_CHANGED: aboutUser('The user with the new address', { previous_email: text('The address before the change', { format: 'email' }) }, [],
    { previous_email: 'jane@old.example.com' }),
  USER_CREATED_WITH_INVITE: aboutUser('The new user and the invitation used', { invite: ref('Invite') }, [], { invite: { ...INVITE, status: 'accepted' } }),
  USER_SECURITY_KEYS_PROVISIONED: aboutUser('The user and the keys provisioned, by public id', {
    security_keys: { type: 'array', items: ref('SecurityKey'), description: 'The keys provisioned' },
  }, [], { security_keys: [{ id: 'cred_Hk29aPq', name: 'YubiKey 5C', key_type: 'cross-platform', created_at: '2026-01-15T09:30:00.000Z' }] }),

  // AUTH
  USER_LOGIN: aboutUser('The user who signed in', { strategy, mfa: { type: 'boolean', description: 'Whether a second factor was used' } }, [],
    { strategy: 'local', mfa: true }),
  USER_LOGIN_FAILURE: row('The failed attempt: who tried (if known) and why it failed', {
    username: text('The login name that was tried'),
    reason,
    strategy,
    user: ref('User'),
  }, [], { username: 'jdoe', reason: 'invalid password', strategy: 'local', user: USER }),
  USER_LOGOUT: aboutUser('The user who signed out'),
  COMBINED_LOGOUT: aboutUser('The user signed out everywhere', {
    sessions_ended: { type: 'integer', description: 'How many sessions were ended' },
    clients: { type: 'array', items: ref('Client'), description: 'Applications signed out' },
  }, [], { sessions_ended: 2, clients: [CLIENT] }),
  TOKEN_CHECKED: tokenEvent('A token check (never the token)', {
    token_type: text('Kind of token checked, e.g. access_token, logout_token'),
    active: { type: 'boolean', description: 'Whether the token was valid' },
    reason,
  }, { token_type: 'logout_token', active: true }),
  TOKEN_RENEWED: tokenEvent('A token renewal (never the tokens)', {
    token_type: text('Kind of token renewed, e.g. access_token'),
    scopes,
    expires_at: time('When the new token expires'),
  }, { token_type: 'access_token', scopes: ['openid', 'profile'], expires_at: '2026-01-15T10:30:00.000Z' }),
  CODE_OBTAINED: tokenEvent('An authorization code was issued (never the code)', { scopes }, { scopes: ['openid', 'profile'] }),
  ACCESS_TOKEN_OBTAINED: tokenEvent('An access token was issued (never the token)', {
    grant_type: text('OAuth grant used, e.g. authorization_code, refresh_token, client_credentials'),
    scopes,
    expires_at: time('When the token expires'),
  }, { grant_type: 'authorization_code', scopes: ['openid', 'profile'], expires_at: '2026-01-15T10:30:00.000Z' }),

  // MFA
  MFA_REQUIRED: aboutUser('The user asked for a second factor', { method, methods: names('Second factors the user may choose from') }, [],
    { method: 'totp', methods: ['totp', 'recovery_code'] }),
  MFA_INITIATED: aboutUser('The user and the second factor being set up or challenged (never its secret or code)', { method }, ['method'], { method: 'totp' }),
  MFA_RE_INITIATED: aboutUser('The user and the second factor restarted (never its secret or code)', { method }, ['method'], { method: 'sms' }),
  MFA_VERIFIED: aboutUser('The user and the second factor confirmed', { method }, ['method'], { method: 'totp' }),

  // APP
  APP_CREATED: app.created,
  APP_MODIFIED: app.updated,
  APP_DELETED: app.deleted,

  // ROLE
  ROLE_CREATED: row('The new role', { role: ref('Role') }, ['role'], { role: ROLE }),
  ROLE_UPDATED: row('The role after the change', { role: ref('Role'), changed_fields: changedFields }, ['role'], { role: ROLE, changed_fields: ['permissions'] }),
  ROLE_DELETED: row('The role as it was', { role: ref('Role') }, ['role'], { role: ROLE }),
  ROLE_ASSIGNED: aboutUser('The user and the role given', { role: ref('Role') }, ['role'], { role: ROLE }),
  ROLE_UNASSIGNED: aboutUser('The user and the role taken away', { role: ref('Role') }, ['role'], { user: { ...USER, roles: [] }, role: ROLE }),

  // PERMISSION
  PERMISSION_CREATED: permission.created,
  PERMISSION_UPDATED: permission.updated,
  PERMISSION_DELETED: permission.deleted,

  // GROUP
  GROUP_CREATED: group.created,
  GROUP_UPDATED: group.updated,
  GROUP_DELETED: group.deleted,
  GROUP_NEW_USER_ADDED: aboutUser('The group and the user added', { group: ref('Group'), roles: names('Roles the user holds in the group') }, ['group'],
    { group: GROUP, roles: ['member'] }),
  GROUP_USER_ROLE_UPDATED: aboutUser('The group, the user and their roles in it', {
    group: ref('Group'),
    roles: names('Roles the user now holds in the group'),
    previous_roles: names('Roles the user held before'),
  }, ['group', 'roles'], { group: GROUP, roles: ['manager'], previous_roles: ['member'] }),
  GROUP_USER_REMOVED: aboutUser('The group and the user removed', { group: ref('Group') }, ['group'], { group: GROUP }),
  GROUP_CATEGORY_CREATED: groupCategory.created,
  GROUP_CATEGORY_UPDATED: groupCategory.updated,
  GROUP_CATEGORY_DELETED: groupCategory.deleted,
  GROUP_TYPE_CREATED: groupType.created,
  GROUP_TYPE_UPDATED: groupType.updated,
  GROUP_TYPE_DELETED: groupType.deleted,

  // PROVIDER
  PROVIDER_CREATED: provider.created,
  PROVIDER_UPDATED: provider.updated,
  PROVIDER_DELETED: provider.deleted,

  // INVITE
  INVITE_USER: invite('The invitation sent (never its link or code)', 'pending', false),
  RE_INVITE_USER: invite('The invitation sent again (never its link or code)', 'pending', false),
  INVITE_ACCEPTED: invite('The invitation and the user who accepted it', 'accepted', true),
  INVITE_REVOKED: invite('The cancelled invitation', 'revoked', false),

  // TENANT
  TENANT_CREATED: row('The new tenant', { tenant: ref('Tenant') }, ['tenant'], { tenant: EXAMPLES.Tenant }),

  // NOTIFICATION
  SMS_SENT: notification('sms', '+44 7700 900123'),
  EMAIL_SENT: notification('email', 'jane.doe@example.com'),
  IVR_TRIGGERED: notification('ivr', '+44 7700 900123'),
  PUSH_SENT: notification('push', undefined),

  // SCOPE
  SCOPE_CREATED: scope.created,
  SCOPE_UPDATED: scope.updated,
  SCOPE_DELETED: scope.deleted,
  SCOPE_DEC_CREATED: scopeDecision.created,
  SCOPE_DEC_UPDATED: scopeDecision.updated,
  SCOPE_DEC_DELETED: scopeDecision.deleted,

  // REGISTRATION
  REGISTRATION_FIELD_CREATED: registrationField.created,
  REGISTRATION_FIELD_UPDATED: registrationField.updated,
  REGISTRATION_FIELD_DELETED: registrationField.deleted,

  // HOSTED_PAGE
  HOSTED_PAGE_CREATED: hostedPage.created,
  HOSTED_PAGE_UPDATED: hostedPage.updated,
  HOSTED_PAGE_DELETED: hostedPage.deleted,

  // TEMPLATE
  TEMPLATE_CREATED: template.created,
  TEMPLATE_UPDATED: template.updated,
  TEMPLATE_DELETED: template.deleted,
  CUSTOM_TEMPLATE_CREATED: customTemplate.created,
  CUSTOM_TEMPLATE_UPDATED: customTemplate.updated,
  CUSTOM_TEMPLATE_DELETED: customTemplate.deleted,

  // WEBHOOK
  WEBHOOK_CREATED: webhookAudit('The new webhook', false),
  WEBHOOK_UPDATED: webhookAudit('The webhook after the change; changed_fields names what the request changed (secret: the signing secret was rotated)', true),
  WEBHOOK_DELETED: webhookAudit('The webhook as it was', false),
  WEBHOOK_DISABLED: row('The webhook the plugin disabled, and why', { webhook: ref('WebhookSummary'), reason: text('Why it was disabled, in words meant for people') },
    ['webhook', 'reason'], {
      webhook: { ...WEBHOOK, enabled: false, status: { state: 'disabled', reason: 'The endpoint answered 410 Gone', disabled_at: '2026-01-15T09:30:00.000Z', failing_since: null } },
      reason: 'The endpoint answered 410 Gone',
    }),
  WEBHOOK_FAILING: row('The webhook whose every delivery has failed since failing_since', { webhook: ref('WebhookSummary'), failing_since: time('Start of the run of failures') },
    ['webhook', 'failing_since'], {
      webhook: { ...WEBHOOK, status: { ...WEBHOOK.status, failing_since: '2026-01-15T08:30:00.000Z' } },
      failing_since: '2026-01-15T08:30:00.000Z',
    }),
  DELIVERY_EXHAUSTED: row('The delivery that will not be retried, and its webhook', {
    delivery: objectOf('The delivery', {
      id: text('The delivery\'s id (the webhook-id header it was sent with)'),
      event_id: text('The event it carried'),
      event_type: text('That event\'s type'),
      attempts: { type: 'integer', description: 'Attempts made' },
      last_outcome: text('How the last attempt ended, e.g. http_error, timeout, connection_refused, dns, tls, network, blocked'),
      last_status_code: { type: ['integer', 'null'] as JsonType[], description: 'HTTP status of the last attempt; null when none came' },
    }, ['id', 'event_id', 'event_type', 'attempts']),
    webhook: ref('WebhookSummary'),
  }, ['delivery', 'webhook'], {
    delivery: { id: 'msg_2mQ8vN3xR9kP2sT7wY4zBc', event_id: 'evt_4mQ7vN2xR8kP1sT6wY3zAb', event_type: 'USER_CREATED', attempts: 8, last_outcome: 'http_error', last_status_code: 503 },
    webhook: WEBHOOK,
  }),
  WEBHOOK_TEST: row('A test send: it describes nothing that happened', {
    message: text('Says that this is a test'),
    webhook: objectOf('The webhook tested', { id: text('The webhook\'s id'), name: text('Its name') }, ['id', 'name']),
  }, ['message', 'webhook'], {
    message: 'A test event sent from Webhook Settings; it does not describe anything that happened.',
    webhook: { id: WEBHOOK.id, name: WEBHOOK.name },
  }),

  // CAPTCHA
  CAPTCHA_CREATED: captcha.created,
  CAPTCHA_UPDATED: captcha.updated,
  CAPTCHA_DELETED: captcha.deleted,

  // PROFILE
  PROFILE_IMAGE_UPDATED: aboutUser('The user and where the new image is', { image_url: text('Public address of the image', { format: 'uri' }) }, [],
    { image_url: 'https://cdn.example.com/avatars/jdoe.png' }),
  PROFILE_IMAGE_REMOVED: aboutUser('The user whose image was removed'),

  // VERIFICATION
  PHYSICAL_VERIFICATION_CONFIG: row('The verification settings', { physical_verification: ref('PhysicalVerificationConfig'), changed_fields: changedFields },
    ['physical_verification'], { physical_verification: EXAMPLES.PhysicalVerificationConfig }),
  PHYSICAL_VERIFICATION_REMOVED: row('The settings removed', { physical_verification: ref('PhysicalVerificationConfig') }, ['physical_verification'],
    { physical_verification: EXAMPLES.PhysicalVerificationConfig }),
  PHYSICAL_VERIFICATION: aboutUser('The user and the verification', {
    verification_type: text('Kind of verification, e.g. document, video, in_person'),
    status: text('Where it stands', { enum: ['started', 'completed', 'failed'] }),
  }, ['status'], { verification_type: 'document', status: 'completed' }),

  // FLOW
  FLOW_CREATED: flow.created,
  FLOW_UPDATED: flow.updated,
  FLOW_DELETED: flow.deleted,
};

/** Every built-in type's data schema (with `$ref`s to shared parts) and example data, frozen. */
export const BUILT_IN_PAYLOADS: Readonly<Record<BuiltInEventType, PayloadRow>> = deepFreeze(ROWS);
