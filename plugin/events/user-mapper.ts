/**
 * The allow-list between a host's user object and what leaves the host. Only the fields named
 * here are copied; password hashes, MFA secrets, recovery codes, tokens and anything else a
 * host's user model carries never reach a receiver, whatever the host adds to its model later.
 * Accepts camelCase or snake_case input and always emits snake_case, like the envelope.
 * Its output fields are the `User` part of the event schemas (payload-schemas/schema-parts.ts);
 * a host's replacement mapper fills those fields its own way, and anything else it returns is
 * dropped like any undeclared field.
 */
/** Where a host's user object may keep its id; the hooks' validation uses the same list. */
export const USER_ID_FIELDS = ['id', '_id', 'userId', 'user_id', 'sub'] as const;

const FIELD_ALIASES: Record<string, readonly string[]> = {
  id: USER_ID_FIELDS,
  username: ['username', 'userName', 'user_name', 'login'],
  email: ['email'],
  email_verified: ['emailVerified', 'email_verified'],
  first_name: ['firstName', 'first_name', 'givenName', 'given_name'],
  last_name: ['lastName', 'last_name', 'familyName', 'family_name'],
  display_name: ['displayName', 'display_name', 'name'],
  phone: ['phone', 'phoneNumber', 'phone_number', 'mobileNumber', 'mobile_number'],
  phone_verified: ['phoneVerified', 'phone_verified', 'mobileNumberVerified'],
  groups: ['groups'],
  roles: ['roles'],
  is_admin: ['isAdmin', 'is_admin'],
  enabled: ['enabled', 'isActive', 'is_active', 'active'],
  locale: ['locale'],
  tenant_id: ['tenantId', 'tenant_id'],
  created_at: ['createdAt', 'created_at'],
  updated_at: ['updatedAt', 'updated_at'],
  last_login_at: ['lastLoginAt', 'last_login_at'],
};

export type UserMapper = (user: Record<string, unknown>) => Record<string, unknown>;

export const mapUser: UserMapper = (user) => {
  const out: Record<string, unknown> = {};
  for (const [field, aliases] of Object.entries(FIELD_ALIASES)) {
    for (const alias of aliases) {
      const value = toPlainValue(readField(user, alias), field);
      if (value !== undefined) {
        out[field] = value;
        break;
      }
    }
  }
  return out;
};

/** Reads own data properties, and mongoose documents' getters through `get()`, never methods. */
function readField(user: Record<string, unknown>, key: string): unknown {
  const getter = (user as { get?: unknown }).get;
  if (typeof getter === 'function' && typeof (user as { toObject?: unknown }).toObject === 'function') {
    return (getter as (path: string) => unknown).call(user, key);
  }
  return Object.prototype.hasOwnProperty.call(user, key) ? user[key] : undefined;
}

function toPlainValue(value: unknown, field: string): unknown {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  // Ids are strings in every event schema (a numeric database id is sent as its digits).
  if (typeof value === 'number') return Number.isFinite(value) ? (field === 'id' ? String(value) : value) : undefined;
  if (field === 'id' && typeof (value as { toString?: unknown }).toString === 'function') {
    // An ObjectId (or similar) identifies the user by its string form.
    const text = String(value);
    return text === '[object Object]' ? undefined : text;
  }
  if ((field === 'groups' || field === 'roles') && Array.isArray(value)) {
    // Groups and roles may be documents; only their name (or id) leaves the host.
    return value
      .map((item) => (typeof item === 'string' ? item : (item?.name ?? item?.id ?? item?._id)))
      .filter((item) => item !== undefined && item !== null)
      .map(String);
  }
  return undefined;
}
