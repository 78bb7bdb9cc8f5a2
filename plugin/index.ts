/**
 * Public entry of the identity-server webhooks plugin.
 * A host calls `createWebhooksPlugin(options)`, `await plugin.start()`, then the hooks.
 */
export { createWebhooksPlugin, type WebhooksPlugin } from './create-webhooks-plugin.js';
export type { PluginHealth } from './observability/health.js';
export type { OperationalEvent } from './webhooks/operational-event-publisher.js';
export type { WebhooksPluginOptions, StorageOptions, DeliveryOptions, EgressOptions, Logger } from './options.js';
export { DEFAULT_DELIVERY_OPTIONS } from './options.js';
export type { MetricsOptions } from './options.js';
export * from './errors.js';
export type { LifecycleHooks, HostUser, HostRole } from './host/lifecycle-hooks.js';
export type { HookContext } from './events/event-context.js';
export type { RecordedEvent } from './events/event-recorder.js';
export type { Envelope, CurrentContext } from './events/envelope.js';
export { EventCatalogue, BUILT_IN_EVENT_TYPES, EVENT_CATEGORIES, TEST_EVENT_TYPE, CatalogueError } from './events/catalogue.js';
export { mapUser } from './events/user-mapper.js';
export { EgressBlockedError, InvalidWebhookUrlError } from './security/egress/egress-errors.js';
export type { WebhookStore } from './store/store-port.js';
export { PostgresStore } from './store/postgres/postgres-store.js';
export { MongoStore } from './store/mongo/mongo-store.js';
export { createAdminRouter, type AdminRouterOptions, type AdminUser } from './admin/admin-router.js';
export { buildOpenApiDocument } from './admin/openapi.js';
export { mongooseUserPlugin, WEBHOOKS_CONTEXT_LOCAL, type MongooseUserPluginOptions, type UserLifecycleTarget } from './host/mongoose-user-plugin.js';
