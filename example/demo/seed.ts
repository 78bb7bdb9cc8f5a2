import { NotFoundError, WebhooksError, type WebhooksPlugin } from '../../plugin/index.js';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import { ADMIN_ROLE } from '../auth/principal.js';
import type { HostLogger } from '../host-logger.js';
import type { InboxSecret } from '../inbox/inbox-routes.js';
import type { UserRepository } from '../users/user-repository.js';

export const DEMO_TENANT = 'default';
export const DEMO_ADMIN_USERNAME = 'admin';

/** Tenants, the admin role and the `admin` user; idempotent, run at every start. */
export async function seedDirectory(users: UserRepository, adminPassword: string, logger: HostLogger): Promise<void> {
  await users.ensureTenant(DEMO_TENANT, 'Default tenant');
  await users.ensureTenant('acme', 'Acme Corp');
  for (const tenant of [DEMO_TENANT, 'acme']) {
    if (!(await users.findRoleByName(tenant, ADMIN_ROLE))) {
      await users.createRole(tenant, { name: ADMIN_ROLE, description: 'Manages users, roles and webhooks', permissions: ['users:manage', 'roles:manage', 'webhooks:manage'] });
    }
  }
  const adminRole = (await users.findRoleByName(DEMO_TENANT, ADMIN_ROLE))!;
  let admin = await users.findUserByUsername(DEMO_TENANT, DEMO_ADMIN_USERNAME);
  if (!admin) {
    admin = await users.createUser({
      tenantId: DEMO_TENANT, username: DEMO_ADMIN_USERNAME, email: 'admin@example.test', emailVerified: true,
      passwordHash: await hashPassword(adminPassword), displayName: 'Demo admin',
    });
  } else if (!(await verifyPassword(adminPassword, admin.passwordHash)) || !admin.enabled) {
    // The printed credentials must always work, so DEMO_ADMIN_PASSWORD wins at every start.
    await users.updateUser(admin.id, { passwordHash: await hashPassword(adminPassword), enabled: true });
    logger.info('the admin password was set from DEMO_ADMIN_PASSWORD');
  }
  await users.assignRole(admin.id, adminRole);
}

/**
 * The webhook that delivers every event to this server's inbox. Created on the first start;
 * its secret is kept by the caller (`remember`, into the demo state) because the plugin
 * never shows it again. It is created disabled and enabled once `remember` has run, so the
 * inbox knows the secret before the first delivery arrives.
 * Returns null when the egress allow-list does not admit the inbox (WEBHOOKS_EGRESS_ALLOW).
 */
export async function seedInboxWebhook(
  webhooks: WebhooksPlugin,
  inboxUrl: string,
  known: InboxWebhook | undefined,
  logger: HostLogger,
  remember: (inbox: InboxWebhook) => void,
): Promise<InboxWebhook | null> {
  const context = { ...webhooks.context({}, DEMO_TENANT), actor: { id: 'demo-seed', type: 'system' as const } };
  try {
    if (known) {
      try {
        const current = await webhooks.webhooks.get(DEMO_TENANT, known.webhookId);
        remember(known);
        // A different PORT this time: the inbox moved with it.
        if (current.url !== inboxUrl) await webhooks.webhooks.update(known.webhookId, { url: inboxUrl }, context);
        return known;
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
        logger.warn('the demo inbox webhook was deleted; creating a new one');
      }
    }
    const { webhook, secret } = await webhooks.webhooks.create({
      name: 'Demo inbox',
      description: 'Seeded by the demo: every event, to the inbox page on this server (GET /inbox).',
      url: inboxUrl,
      events: ['*'],
      enabled: false,
    }, context);
    const inbox = { webhookId: webhook.id, secret };
    remember(inbox);
    await webhooks.webhooks.update(webhook.id, { enabled: true }, context);
    return inbox;
  } catch (error) {
    if (error instanceof WebhooksError && (error.code === 'invalid_url' || error.code === 'egress_blocked')) {
      logger.warn(`the demo inbox webhook cannot point at ${inboxUrl}: ${error.message} (WEBHOOKS_EGRESS_ALLOW)`);
      return null;
    }
    throw error;
  }
}

/** The seeded inbox webhook: its id and signing secret. */
export interface InboxWebhook {
  webhookId: string;
  secret: string;
}

export const inboxSecrets = (inbox: { secret: string } | null): InboxSecret[] => (inbox ? [{ label: 'Demo inbox', secret: inbox.secret }] : []);
