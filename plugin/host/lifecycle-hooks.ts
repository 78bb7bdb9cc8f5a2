import Joi from 'joi';
import { ValidationError } from '../errors.js';
import type { EventRecorder, RecordedEvent } from '../events/event-recorder.js';
import { scrubEventData } from '../events/sensitive-data.js';
import type { UserMapper } from '../events/user-mapper.js';
import { normalizeContext, type HookContext } from './hook-context.js';

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
  /** Any catalogue event (built-in or registered by the host); `data` is scrubbed of credentials. */
  emit(type: string, data?: Record<string, unknown>, context?: HookContext): Promise<RecordedEvent>;
}

const user = Joi.object().unknown(true).custom((value, helpers) => {
  const id = value.id ?? value._id ?? value.userId ?? value.sub;
  return id === undefined || id === null || id === '' ? helpers.error('any.custom', { error: new Error('needs an id') }) : value;
}).messages({ 'any.custom': '{{#label}} must have an id (id or _id)' });
const role = Joi.object({
  id: Joi.alternatives(Joi.string().min(1).max(200), Joi.number()).required(),
  name: Joi.string().min(1).max(200).required(),
  description: Joi.string().allow('').max(1000),
  permissions: Joi.array().items(Joi.string().max(200)).max(500),
}).unknown(true);
const shortText = Joi.string().max(200);
const fieldNames = Joi.array().items(Joi.string().max(100)).max(200);

const ARGUMENT_SCHEMAS = {
  userLogin: Joi.object({ user: user.required(), strategy: shortText, mfa: Joi.boolean() }),
  userLoginFailure: Joi.object({ username: shortText, reason: Joi.string().max(500), strategy: shortText, user }),
  userLogout: Joi.object({ user: user.required() }),
  userCreated: Joi.object({ user: user.required() }),
  userModified: Joi.object({ user: user.required(), changedFields: fieldNames }),
  userDeleted: Joi.object({ user: user.required() }),
  mfaVerified: Joi.object({ user: user.required(), method: shortText.required() }),
  roleCreated: Joi.object({ role: role.required() }),
  roleUpdated: Joi.object({ role: role.required(), changedFields: fieldNames }),
  roleDeleted: Joi.object({ role: role.required() }),
  roleAssigned: Joi.object({ user: user.required(), role: role.required() }),
  roleUnassigned: Joi.object({ user: user.required(), role: role.required() }),
} as const;

function validateArgs(hook: keyof typeof ARGUMENT_SCHEMAS, args: unknown): any {
  const { value, error } = ARGUMENT_SCHEMAS[hook].required().validate(args, { abortEarly: false });
  if (error) {
    throw new ValidationError(`Invalid arguments to ${hook}(): ${error.message}`,
      error.details.map((d) => ({ path: d.path.join('.'), message: d.message })));
  }
  return value;
}

function mapRole(r: HostRole) {
  return {
    id: String(r.id), name: r.name,
    ...(r.description !== undefined ? { description: r.description } : {}),
    ...(r.permissions !== undefined ? { permissions: r.permissions } : {}),
  };
}

/** Wires the typed hooks to the recorder; each maps its arguments to the event's `data`. */
export function createLifecycleHooks(deps: { recorder: EventRecorder; mapUser: UserMapper; defaultTenantId: string }): LifecycleHooks {
  const { recorder, mapUser, defaultTenantId } = deps;
  const record = async (type: string, data: Record<string, unknown>, context: HookContext | undefined) =>
    recorder.record(type, data, normalizeContext(context, defaultTenantId));
  const withoutUndefined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

  return {
    async userLogin(args, context) {
      const a = validateArgs('userLogin', args);
      return record('USER_LOGIN', withoutUndefined({ user: mapUser(a.user), strategy: a.strategy, mfa: a.mfa }), context);
    },
    async userLoginFailure(args, context) {
      const a = validateArgs('userLoginFailure', args);
      return record('USER_LOGIN_FAILURE', withoutUndefined({
        username: a.username, reason: a.reason, strategy: a.strategy, user: a.user ? mapUser(a.user) : undefined,
      }), context);
    },
    async userLogout(args, context) {
      const a = validateArgs('userLogout', args);
      return record('USER_LOGOUT', { user: mapUser(a.user) }, context);
    },
    async userCreated(args, context) {
      const a = validateArgs('userCreated', args);
      return record('USER_CREATED', { user: mapUser(a.user) }, context);
    },
    async userModified(args, context) {
      const a = validateArgs('userModified', args);
      return record('USER_MODIFIED', withoutUndefined({ user: mapUser(a.user), changed_fields: a.changedFields }), context);
    },
    async userDeleted(args, context) {
      const a = validateArgs('userDeleted', args);
      return record('USER_DELETED', { user: mapUser(a.user) }, context);
    },
    async mfaVerified(args, context) {
      const a = validateArgs('mfaVerified', args);
      return record('MFA_VERIFIED', { user: mapUser(a.user), method: a.method }, context);
    },
    async roleCreated(args, context) {
      const a = validateArgs('roleCreated', args);
      return record('ROLE_CREATED', { role: mapRole(a.role) }, context);
    },
    async roleUpdated(args, context) {
      const a = validateArgs('roleUpdated', args);
      return record('ROLE_UPDATED', withoutUndefined({ role: mapRole(a.role), changed_fields: a.changedFields }), context);
    },
    async roleDeleted(args, context) {
      const a = validateArgs('roleDeleted', args);
      return record('ROLE_DELETED', { role: mapRole(a.role) }, context);
    },
    async roleAssigned(args, context) {
      const a = validateArgs('roleAssigned', args);
      return record('ROLE_ASSIGNED', { user: mapUser(a.user), role: mapRole(a.role) }, context);
    },
    async roleUnassigned(args, context) {
      const a = validateArgs('roleUnassigned', args);
      return record('ROLE_UNASSIGNED', { user: mapUser(a.user), role: mapRole(a.role) }, context);
    },
    async emit(type, data = {}, context) {
      if (typeof type !== 'string') throw new ValidationError('emit() needs an event type string', [{ path: 'type', message: 'must be a string' }]);
      if (data === null || typeof data !== 'object' || Array.isArray(data)) {
        throw new ValidationError('emit() data must be a plain object', [{ path: 'data', message: 'must be an object' }]);
      }
      return record(type, scrubEventData(data, mapUser) as Record<string, unknown>, context);
    },
  };
}
