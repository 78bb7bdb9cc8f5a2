import express, { type Request } from 'express';
import Joi from 'joi';
import type passport from 'passport';
import { requireAdmin } from '../auth/guards.js';
import { ADMIN_ROLE, hookContext, type Principal } from '../auth/principal.js';
import { handle, HttpError, notFound, parseBody } from '../http-error.js';
import { DuplicateError, type Role, type RolePatch, type User } from '../users/user-repository.js';
import { hookRole, roleView, userView } from '../users/user-view.js';
import type { RouteDeps } from './route-deps.js';

const roleName = Joi.string().trim().pattern(/^[A-Za-z0-9._:-]{1,64}$/).messages({ 'string.pattern.base': 'name must be 1-64 letters, digits or . _ : -' });
const permissions = Joi.array().items(Joi.string().trim().min(1).max(100)).max(100).unique();
const createRoleSchema = Joi.object({ name: roleName.required(), description: Joi.string().allow('').max(500).default(''), permissions: permissions.default([]) });
const updateRoleSchema = Joi.object({ name: roleName, description: Joi.string().allow('').max(500), permissions }).min(1);
const assignSchema = Joi.object({ role_id: Joi.string().max(100), role: roleName }).xor('role_id', 'role');

const duplicateRole = (error: unknown) => {
  if (error instanceof DuplicateError) return new HttpError(409, 'role_exists', 'A role with that name already exists');
  return error;
};

/**
 * The host's administration API for people and roles, under `/api/admin`, for an admin's
 * session or the admin API token; everything is scoped to the caller's tenant.
 */
export function adminRoutes(deps: RouteDeps & { authenticator: passport.Authenticator }): express.Router {
  const { users, events } = deps;
  const router = express.Router();
  router.use(...requireAdmin(deps.authenticator));

  const principal = (req: Request) => req.user as Principal;
  const tenant = (req: Request) => principal(req).tenantId;
  const context = (req: Request) => hookContext(req, principal(req));

  async function userInTenant(req: Request): Promise<User> {
    const user = await users.findUserById(String(req.params.id));
    if (!user || user.tenantId !== tenant(req)) throw notFound('User');
    return user;
  }
  async function roleInTenant(req: Request, id: string): Promise<Role> {
    const role = await users.findRole(tenant(req), id);
    if (!role) throw notFound('Role');
    return role;
  }

  router.get('/users', handle(async (req, res) => {
    res.json({ users: (await users.listUsers(tenant(req))).map(userView) });
  }));

  for (const [action, enabled, eventType] of [['enable', true, 'USER_ENABLED'], ['disable', false, 'USER_DISABLED']] as const) {
    router.post(`/users/:id/${action}`, handle(async (req, res) => {
      const user = await userInTenant(req);
      if (!enabled && user.id === principal(req).id) throw new HttpError(409, 'self_disable', 'You cannot disable your own account');
      if (user.enabled === enabled) return res.json({ user: userView(user), changed: false });
      // The change and its event commit together (the webhooks plugin's outbox).
      const updated = await users.inTransaction(async (transaction) => {
        const saved = (await users.updateUser(user.id, { enabled }, { ...context(req), transaction }))!;
        await events.emit(eventType, { user: saved }, { ...context(req), transaction });
        return saved;
      });
      res.json({ user: userView(updated), changed: true });
    }));
  }

  router.get('/roles', handle(async (req, res) => {
    res.json({ roles: (await users.listRoles(tenant(req))).map(roleView) });
  }));

  router.post('/roles', handle(async (req, res) => {
    const input = parseBody(createRoleSchema, req.body);
    const role = await users.createRole(tenant(req), input).catch((e) => { throw duplicateRole(e); });
    await events.call('roleCreated', { role: hookRole(role) }, context(req));
    res.status(201).json({ role: roleView(role) });
  }));

  router.patch('/roles/:id', handle(async (req, res) => {
    const input = parseBody(updateRoleSchema, req.body) as RolePatch;
    const role = await roleInTenant(req, String(req.params.id));
    if (role.name === ADMIN_ROLE && input.name !== undefined && input.name !== ADMIN_ROLE) {
      throw new HttpError(409, 'built_in_role', 'The admin role cannot be renamed');
    }
    const changed = (Object.keys(input) as Array<keyof RolePatch>)
      .filter((key) => JSON.stringify(input[key]) !== JSON.stringify(role[key]));
    if (changed.length === 0) return res.json({ role: roleView(role), changed_fields: [] });
    const updated = await users.updateRole(tenant(req), role.id, input).catch((e) => { throw duplicateRole(e); });
    if (!updated) throw notFound('Role');
    await events.call('roleUpdated', { role: hookRole(updated), changedFields: changed }, context(req));
    res.json({ role: roleView(updated), changed_fields: changed });
  }));

  router.delete('/roles/:id', handle(async (req, res) => {
    const role = await roleInTenant(req, String(req.params.id));
    if (role.name === ADMIN_ROLE) throw new HttpError(409, 'built_in_role', 'The admin role cannot be deleted');
    const deleted = await users.deleteRole(tenant(req), role.id);
    if (!deleted) throw notFound('Role');
    await events.call('roleDeleted', { role: hookRole(deleted) }, context(req));
    res.status(204).end();
  }));

  router.post('/users/:id/roles', handle(async (req, res) => {
    const input = parseBody(assignSchema, req.body);
    const user = await userInTenant(req);
    const role = input.role_id ? await roleInTenant(req, input.role_id) : await users.findRoleByName(tenant(req), input.role!);
    if (!role) throw notFound('Role');
    const assigned = await users.assignRole(user.id, role, context(req));
    const updated = (await users.findUserById(user.id))!;
    if (assigned) await events.call('roleAssigned', { user: updated, role: hookRole(role) }, context(req));
    res.status(assigned ? 201 : 200).json({ user: userView(updated), changed: assigned });
  }));

  router.delete('/users/:id/roles/:roleId', handle(async (req, res) => {
    const user = await userInTenant(req);
    const role = await roleInTenant(req, String(req.params.roleId));
    if (role.name === ADMIN_ROLE && user.id === principal(req).id) throw new HttpError(409, 'self_demote', 'You cannot remove your own admin role');
    const removed = await users.unassignRole(user.id, role, context(req));
    const updated = (await users.findUserById(user.id))!;
    if (removed) await events.call('roleUnassigned', { user: updated, role: hookRole(role) }, context(req));
    res.json({ user: userView(updated), changed: removed });
  }));

  return router;
}
