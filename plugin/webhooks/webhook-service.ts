import { ConflictError, NotFoundError } from '../errors.js';
import type { EventCatalogue } from '../events/catalogue.js';
import type { EventRecorder } from '../events/event-recorder.js';
import { checkUrlAtSave, type EgressPolicy } from '../delivery/egress-guard.js';
import { generateSecret } from '../delivery/signer.js';
import type { NormalizedContext } from '../host/hook-context.js';
import { newId } from '../ids.js';
import type { SecretBox } from '../security/secret-box.js';
import type { Logger } from '../options.js';
import type { WebhookPatch, WebhookRecord, WebhookStore } from '../store/store-port.js';
import { applyApiKeyUpdate, applyHeadersUpdate, DEFAULT_API_KEY_HEADER, validateWebhookInput, type WebhookUpdate } from './webhook-input.js';
import { openSecrets, sealSecrets, type WebhookSecrets } from './webhook-secrets.js';
import { toWebhookView, type WebhookView } from './webhook-view.js';

export interface WebhookServiceDeps {
  store: WebhookStore;
  catalogue: EventCatalogue;
  box: SecretBox;
  recorder: EventRecorder;
  egress: EgressPolicy;
  clock: () => Date;
  secretOverlapMs: number;
  logger: Logger;
  /** Told after every change, so delivery stops using cached settings (other processes re-read within seconds). */
  onWebhookChanged: (id: string) => void;
}

/** A caller of the management operations: the tenant it acts in, and who it is (for audit events). */
export type ManagementContext = NormalizedContext;

/**
 * Webhook management: validation, secrets sealed at rest, and an audit event for every change
 * (WEBHOOK_CREATED / _UPDATED / _DELETED, never carrying a secret) that other webhooks can
 * subscribe to. The admin API and host code both go through here.
 */
export class WebhookService {
  constructor(private readonly deps: WebhookServiceDeps) {}

  async create(input: unknown, ctx: ManagementContext): Promise<{ webhook: WebhookView; secret: string }> {
    const value = validateWebhookInput(input, this.deps.catalogue, true);
    checkUrlAtSave(value.url, this.deps.egress);
    const now = this.deps.clock();
    const id = newId('wh');
    const secret = generateSecret();
    const secrets: WebhookSecrets = {
      signing: [{ secret, expiresAt: null }],
      apiKey: value.api_key ? { header: value.api_key.header ?? DEFAULT_API_KEY_HEADER, value: value.api_key.value } : null,
      authorization: value.authorization ?? null,
      headers: value.headers ?? {},
    };
    const enabled = value.enabled ?? true;
    const record: WebhookRecord = {
      id, tenantId: ctx.tenantId, name: value.name, description: value.description ?? '', url: value.url,
      events: value.events, notificationType: 'REST', secrets: sealSecrets(this.deps.box, id, secrets), enabled,
      disabledReason: null, disabledAt: enabled ? null : now, failingSince: null, rateLimitPerSecond: value.rate_limit_per_second ?? null,
      createdAt: now, updatedAt: now,
    };
    await this.deps.store.insertWebhook(record);
    this.deps.onWebhookChanged(id);
    const webhook = toWebhookView(record, secrets);
    await this.audit('WEBHOOK_CREATED', webhook, ctx);
    return { webhook, secret };
  }

  async list(tenantId: string): Promise<WebhookView[]> {
    const records = await this.deps.store.listWebhooks(tenantId);
    return records.map((r) => this.view(r));
  }

  async get(tenantId: string, id: string): Promise<WebhookView> {
    return this.view(await this.find(tenantId, id));
  }

  /**
   * Changes the fields `input` names; see {@link WebhookUpdate} for how `api_key`, `authorization`
   * and `headers` combine with what is stored.
   */
  async update(id: string, input: unknown, ctx: ManagementContext): Promise<WebhookView> {
    const value = validateWebhookInput(input, this.deps.catalogue, false);
    if (value.url !== undefined) checkUrlAtSave(value.url, this.deps.egress);
    const current = await this.find(ctx.tenantId, id);
    const secrets = openSecrets(this.deps.box, id, current.secrets);
    const now = this.deps.clock();
    const patch: WebhookPatch = { updatedAt: now };
    if (value.name !== undefined) patch.name = value.name;
    if (value.description !== undefined) patch.description = value.description;
    if (value.url !== undefined) patch.url = value.url;
    if (value.events !== undefined) patch.events = value.events;
    if (value.rate_limit_per_second !== undefined) patch.rateLimitPerSecond = value.rate_limit_per_second;
    if (value.enabled !== undefined && value.enabled !== current.enabled) {
      patch.enabled = value.enabled;
      // Re-enabling clears why the plugin disabled it and starts a fresh failure window.
      patch.disabledReason = null;
      patch.disabledAt = value.enabled ? null : now;
      patch.failingSince = null;
    }
    // Secret values the caller does not send again keep their stored values (see WebhookUpdate):
    // an API key header can be renamed, and one custom header set or removed, without retyping the rest.
    const credentialsChanged = value.api_key !== undefined || value.authorization !== undefined || value.headers !== undefined;
    if (value.api_key !== undefined) secrets.apiKey = applyApiKeyUpdate(secrets.apiKey, value.api_key);
    if (value.authorization !== undefined) secrets.authorization = value.authorization;
    if (value.headers !== undefined) secrets.headers = applyHeadersUpdate(secrets.headers, value.headers);
    if (credentialsChanged || this.deps.box.needsReencryption(current.secrets)) {
      patch.secrets = sealSecrets(this.deps.box, id, secrets);
    }
    const updated = await this.write(ctx.tenantId, id, patch, current.updatedAt);
    this.deps.onWebhookChanged(id);
    const webhook = toWebhookView(updated, secrets);
    await this.audit('WEBHOOK_UPDATED', webhook, ctx, Object.keys(value));
    return webhook;
  }

  async delete(id: string, ctx: ManagementContext): Promise<void> {
    const current = await this.find(ctx.tenantId, id);
    const view = this.view(current);
    if (!(await this.deps.store.deleteWebhook(ctx.tenantId, id))) throw new NotFoundError('Webhook');
    this.deps.onWebhookChanged(id);
    await this.audit('WEBHOOK_DELETED', view, ctx);
  }

  /**
   * A new secret signs at once in this process (within seconds in others, which re-read
   * webhook settings every 2 s); the previous ones keep signing until the overlap ends.
   */
  async rotateSecret(id: string, ctx: ManagementContext): Promise<{ secret: string; previous_expires_at: string }> {
    const current = await this.find(ctx.tenantId, id);
    const secrets = openSecrets(this.deps.box, id, current.secrets);
    const now = this.deps.clock();
    const expiresAt = new Date(now.getTime() + this.deps.secretOverlapMs).toISOString();
    const secret = generateSecret();
    secrets.signing = [
      { secret, expiresAt: null },
      ...secrets.signing
        .filter((s) => s.expiresAt === null || Date.parse(s.expiresAt) > now.getTime())
        .map((s) => ({ secret: s.secret, expiresAt: s.expiresAt === null || Date.parse(s.expiresAt) > Date.parse(expiresAt) ? expiresAt : s.expiresAt })),
    ];
    const updated = await this.write(ctx.tenantId, id, { secrets: sealSecrets(this.deps.box, id, secrets), updatedAt: now }, current.updatedAt);
    this.deps.onWebhookChanged(id);
    await this.audit('WEBHOOK_UPDATED', toWebhookView(updated, secrets), ctx, ['secret']);
    return { secret, previous_expires_at: expiresAt };
  }

  /** Writes only if nobody changed the webhook since `readAt`, so no edit silently undoes another. */
  private async write(tenantId: string, id: string, patch: WebhookPatch, readAt: Date): Promise<WebhookRecord> {
    const updated = await this.deps.store.updateWebhook(tenantId, id, patch, readAt);
    if (updated) return updated;
    await this.find(tenantId, id); // gone: 404
    throw new ConflictError('The webhook');
  }

  async find(tenantId: string, id: string): Promise<WebhookRecord> {
    const record = await this.deps.store.findWebhook(tenantId, id);
    if (!record) throw new NotFoundError('Webhook');
    return record;
  }

  private view(record: WebhookRecord): WebhookView {
    return toWebhookView(record, openSecrets(this.deps.box, record.id, record.secrets));
  }

  private async audit(type: string, webhook: WebhookView, ctx: ManagementContext, changedFields?: string[]): Promise<void> {
    // The view carries masked values only; the audit trail must not become a way to read secrets.
    const { api_key: apiKey, authorization, headers, ...rest } = webhook;
    const data: Record<string, unknown> = {
      webhook: { ...rest, api_key_header: apiKey?.header ?? null, has_authorization: authorization !== null, header_names: Object.keys(headers) },
    };
    if (changedFields) data.changed_fields = changedFields;
    try {
      await this.deps.recorder.record(type, data, { ...ctx, idempotencyKey: null });
    } catch (error) {
      // The change itself is committed (and a new secret may be on its way to the operator,
      // shown only once): failing the request now would hide a change that happened.
      this.deps.logger.error(`Could not record the ${type} audit event`, { webhookId: webhook.id, error: String(error) });
    }
  }
}
