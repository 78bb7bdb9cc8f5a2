import Joi from 'joi';
import { ValidationError } from '../errors.js';
import type { EventRecorder, RecordedEvent } from '../events/event-recorder.js';
import { USER_ID_FIELDS, type UserMapper } from '../events/user-mapper.js';
import { normalizeContext, type HookContext } from '../events/event-context.js';
import { joiDetails } from '../validation-details.js';
import { traceHookCall } from '../observability/tracing.js';

/** A host user object: any object with an id (`id` or `_id`); only allow-listed fields leave. */
export type HostUser = Record<string, unknown>;

/** A role as the host knows it. */
export interface HostRole {
  id: string | number;
  name: string;
  description?: string;
  permissions?: string[];
}

/** The hooks a host calls. Each resolves once the event is durable, or rejects with a typed error. */
export interface LifecycleHooks {
  userLogin(args: { user: HostUser; strategy?: string; mfa?: boolean }, context?: HookContext): Promise<RecordedEvent>;
  userLoginFailure(args: { username?: string; reason?: string; strategy?: string; user?: HostUser }, context?: HookContext): Promise<RecordedEvent>;
  userLogout(args: { user: HostUser }, context?: HookContext): Promise<RecordedEvent>;
  userCreated(args: { user: HostUser }, context?: HookContext): Promise<RecordedEvent>;
  userModified(args: { user: HostUser; changedFields?: string[] }, context?: HookContext): Promise<RecordedEvent>;
  userDeleted(args: { user: HostUser }, context?: HookContext): Promise<RecordedEvent>;
  mfaVerified(args: { user: HostUser; method: string }, context?: HookContext): Promise<RecordedEvent>;
  roleCreated(args: { role: HostRole }, context?: HookContext): Promise<RecordedEvent>;
  roleUpdated(args: { role: HostRole; changedFields?: string[] }, context?: HookContext): Promise<RecordedEvent>;
  roleDeleted(args: { role: HostRole }, context?: HookContext): Promise<RecordedEvent>;
  roleAssigned(args: { user: HostUser; role: HostRole }, context?: HookContext): Promise<RecordedEvent>;
  roleUnassigned(args: { user: HostUser; role: HostRole }, context?: HookContext): Promise<RecordedEvent>;
  /**
   * Any catalogue event (built-in or registered by the host). Only the fields the type's data
   * schema declares are sent (users mapped through the allow-list, credential-shaped values
   * dropped); a type without a schema has its data scrubbed of credential names and values.
   */
  emit(type: string, data?: Record<string, unknown>, context?: HookContext): Promise<RecordedEvent>;
}

const user = Joi.object().unknown(true).custom((value, helpers) => {
  const id = USER_ID_FIELDS.map((field) => value[field]).find((v) => v !== undefined && v !== null && v !== '');
  return id === undefined ? helpers.error('any.custom', { error: new Error('needs an id') }) : value;
}).messages({ 'any.custom': `{{#label}} must have an id (one of ${USER_ID_FIELDS.join(', ')})` });
const role = Joi.object({
  id: Joi.alternatives(Joi.string().min(1).max(200), Joi.number()).required(),
  name: Joi.string().min(1).max(200).required(),
  description: Joi.string().allow('').max(1000),
  permissions: Joi.array().items(Joi.string().max(200)).max(500),
}).unknown(true);
const shortText = Joi.string().max(200);
const fieldNames = Joi.array().items(Joi.string().max(100)).max(200);

type Args = Record<string, any>;
type DataMapper = (args: Args, mapUser: UserMapper) => Record<string, unknown>;

const withoutUndefined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function mapRole(r: HostRole) {
  return withoutUndefined({ id: String(r.id), name: r.name, description: r.description, permissions: r.permissions });
}

/**
 * Every typed hook in one table: the event it records, the arguments it accepts, and how
 * they become the event's `data` (users always through the allow-list mapper). The recorder
 * then shapes that data by the type's schema like any other event's; a test checks that what
 * each hook produces validates against it.
 */
const TYPED_HOOKS = {
  userLogin: {
    type: 'USER_LOGIN', args: Joi.object({ user: user.required(), strategy: shortText, mfa: Joi.boolean() }),
    data: (a, mapUser) => withoutUndefined({ user: mapUser(a.user), strategy: a.strategy, mfa: a.mfa }),
  },
  userLoginFailure: {
    type: 'USER_LOGIN_FAILURE', args: Joi.object({ username: shortText, reason: Joi.string().max(500), strategy: shortText, user }),
    data: (a, mapUser) => withoutUndefined({ username: a.username, reason: a.reason, strategy: a.strategy, user: a.user ? mapUser(a.user) : undefined }),
  },
  userLogout: { type: 'USER_LOGOUT', args: Joi.object({ user: user.required() }), data: (a, mapUser) => ({ user: mapUser(a.user) }) },
  userCreated: { type: 'USER_CREATED', args: Joi.object({ user: user.required() }), data: (a, mapUser) => ({ user: mapUser(a.user) }) },
  userModified: {
    type: 'USER_MODIFIED', args: Joi.object({ user: user.required(), changedFields: fieldNames }),
    data: (a, mapUser) => withoutUndefined({ user: mapUser(a.user), changed_fields: a.changedFields }),
  },
  userDeleted: { type: 'USER_DELETED', args: Joi.object({ user: user.required() }), data: (a, mapUser) => ({ user: mapUser(a.user) }) },
  mfaVerified: {
    type: 'MFA_VERIFIED', args: Joi.object({ user: user.required(), method: shortText.required() }),
    data: (a, mapUser) => ({ user: mapUser(a.user), method: a.method }),
  },
  roleCreated: { type: 'ROLE_CREATED', args: Joi.object({ role: role.required() }), data: (a) => ({ role: mapRole(a.role) }) },
  roleUpdated: {
    type: 'ROLE_UPDATED', args: Joi.object({ role: role.required(), changedFields: fieldNames }),
    data: (a) => withoutUndefined({ role: mapRole(a.role), changed_fields: a.changedFields }),
  },
  roleDeleted: { type: 'ROLE_DELETED', args: Joi.object({ role: role.required() }), data: (a) => ({ role: mapRole(a.role) }) },
  roleAssigned: {
    type: 'ROLE_ASSIGNED', args: Joi.object({ user: user.required(), role: role.required() }),
    data: (a, mapUser) => ({ user: mapUser(a.user), role: mapRole(a.role) }),
  },
  roleUnassigned: {
    type: 'ROLE_UNASSIGNED', args: Joi.object({ user: user.required(), role: role.required() }),
    data: (a, mapUser) => ({ user: mapUser(a.user), role: mapRole(a.role) }),
  },
} satisfies Record<Exclude<keyof LifecycleHooks, 'emit'>, { type: string; args: Joi.ObjectSchema; data: DataMapper }>;

function validateArgs(hook: keyof typeof TYPED_HOOKS, args: unknown): Args {
  const { value, error } = TYPED_HOOKS[hook].args.required().validate(args, { abortEarly: false });
  if (error) {
    throw new ValidationError(`Invalid arguments to ${hook}(): ${error.message}`,
      joiDetails(error));
  }
  return value;
}

/**
 * Wires the typed hooks to the recorder; each maps its arguments to the event's `data`.
 * `mapUser` should be the shaper's (idempotent) mapper, so the recorder does not map a user twice.
 */
export function createLifecycleHooks(deps: { recorder: EventRecorder; mapUser: UserMapper; defaultTenantId: string }): LifecycleHooks {
  const { recorder, mapUser, defaultTenantId } = deps;
  const record = async (type: string, data: Record<string, unknown>, context: HookContext | undefined) => {
    const normalized = normalizeContext(context, defaultTenantId);
    // One `webhooks.hook <TYPE>` span per call; the event keeps the trace context it hands back.
    return traceHookCall(type, normalized.tenantId, normalized.trace ?? null,
      (eventTrace) => recorder.record(type, data, { ...normalized, trace: eventTrace }));
  };

  const typed = Object.fromEntries(Object.entries(TYPED_HOOKS).map(([name, hook]) => [
    name,
    async (args: unknown, context?: HookContext) => {
      const a = validateArgs(name as keyof typeof TYPED_HOOKS, args);
      return record(hook.type, (hook.data as DataMapper)(a, mapUser), context);
    },
  ])) as Omit<LifecycleHooks, 'emit'>;

  return {
    ...typed,
    async emit(type, data = {}, context) {
      if (typeof type !== 'string') throw new ValidationError('emit() needs an event type string', [{ path: 'type', message: 'must be a string' }]);
      if (data === null || typeof data !== 'object' || Array.isArray(data)) {
        throw new ValidationError('emit() data must be a plain object', [{ path: 'data', message: 'must be an object' }]);
      }
      // Shaped by the recorder, as every event is: by the type's schema, or scrubbed without one.
      return record(type, data, context);
    },
  };
}
