import { ConflictError, NotFoundError } from '../errors.js';
import type { EventCatalogue } from '../events/catalogue.js';
import type { EventRecorder } from '../events/event-recorder.js';
import { checkUrlAtSave, type EgressPolicy } from '../security/egress/webhook-url-rules.js';
import type { NormalizedContext } from '../events/event-context.js';
import { newId } from '../ids.js';
import type { SecretBox } from '../security/secret-box.js';
import { DEFAULT_SIGNATURE_SCHEME, generateSigningKey, type SignatureScheme } from '../security/signing-keys.js';
import type { Logger } from '../options.js';
import type { WebhookPatch, WebhookRecord, WebhookStore } from '../store/store-port.js';
import { toAuditWebhook } from './audit-view.js';
import { applyCredentialUpdate, originChanged } from './credential-origin.js';
import { DEFAULT_API_KEY_HEADER, validateWebhookInput, type WebhookInput, type WebhookUpdate } from './webhook-input.js';
import {
  SecretsUnreadableError, sealSecrets, tryOpenSecrets, withNewSigningKey, type WebhookSecrets,
} from './webhook-secrets.js';
import { toWebhookView, type RotatedSigningKey, type UpdatedWebhook, type WebhookView } from './webhook-view.js';

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

/** A create whose scheme is HMAC (the default): its answer carries the secret. */
type HmacWebhookInput = Partial<Omit<WebhookInput, 'signature_scheme'>> & { signature_scheme?: 'hmac-sha256'; [field: string]: unknown };

/**
 * Webhook management: validation, secrets sealed at rest, and an audit event for every change
 * (WEBHOOK_CREATED / _UPDATED / _DELETED, never carrying a secret) that other webhooks can
 * subscribe to. The admin API and host code both go through here.
 */
export class WebhookService {
  constructor(private readonly deps: WebhookServiceDeps) {}

  /**
   * Creates a webhook. An HMAC webhook's answer carries its `whsec_` secret, the one time it is
   * shown; an Ed25519 webhook's carries none (its view has the `public_key`).
   */
  async create(input: HmacWebhookInput, ctx: ManagementContext): Promise<{ webhook: WebhookView; secret: string }>;
  async create(input: unknown, ctx: ManagementContext): Promise<{ webhook: WebhookView; secret?: string }>;
  async create(input: unknown, ctx: ManagementContext): Promise<{ webhook: WebhookView; secret?: string }> {
    const value = validateWebhookInput(input, this.deps.catalogue, true);
    checkUrlAtSave(value.url, this.deps.egress, ctx.tenantId);
    const now = this.deps.clock();
    const id = newId('wh');
    const scheme: SignatureScheme = value.signature_scheme ?? DEFAULT_SIGNATURE_SCHEME;
    const key = generateSigningKey(scheme);
    const secrets: WebhookSecrets = {
      scheme,
      signing: [{ secret: key.secret, expiresAt: null }],
      apiKey: value.api_key ? { header: value.api_key.header ?? DEFAULT_API_KEY_HEADER, value: value.api_key.value } : null,
      authorization: value.authorization ?? null,
      headers: value.headers ?? {},
    };
    const enabled = value.enabled ?? true;
    const record: WebhookRecord = {
      id, tenantId: ctx.tenantId, name: value.name, description: value.description ?? '', url: value.url,
      events: value.events, notificationType: 'REST', secrets: sealSecrets(this.deps.box, id, secrets), enabled,
      disabledReason: null, disabledAt: enabled ? null : now, failingSince: null, rateLimitPerSecond: value.rate_limit_per_second ?? null,
      ordering: value.ordering ?? 'none', createdAt: now, updatedAt: now,
    };
    await this.deps.store.insertWebhook(record);
    this.deps.onWebhookChanged(id);
    const webhook = toWebhookView(record, secrets);
    await this.audit('WEBHOOK_CREATED', webhook, ctx);
    return scheme === 'hmac-sha256' ? { webhook, secret: key.secret } : { webhook };
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
   * and `headers` combine with what is stored, and how a new URL origin clears them.
   */
  async update(id: string, input: unknown, ctx: ManagementContext): Promise<UpdatedWebhook> {
    const value = validateWebhookInput(input, this.deps.catalogue, false);
    if (value.url !== undefined) checkUrlAtSave(value.url, this.deps.egress, ctx.tenantId);
    const current = await this.find(ctx.tenantId, id);
    const opened = tryOpenSecrets(this.deps.box, id, current.secrets);
    if (opened.secrets === null) return this.updateUnreadable(current, value, opened.error, ctx);
    const secrets = opened.secrets;
    const now = this.deps.clock();
    const patch = plainFieldsPatch(value, current.enabled, now);
    // Secret values the caller does not send again keep their stored values (see WebhookUpdate):
    // an API key header can be renamed, and one custom header set or removed, without retyping the
    // rest - unless the URL moves to another origin, which clears them (credential-origin.ts).
    const { credentials, cleared } = applyCredentialUpdate(secrets, value, originChanged(current.url, value.url));
    let next: WebhookSecrets = { ...secrets, ...credentials };
    let newSecret: string | null = null;
    if (value.signature_scheme !== undefined && value.signature_scheme !== secrets.scheme) {
      // New key material of the new scheme; the current key signs through the overlap, so a
      // receiver's header may carry v1 and v1a entries for a while (the spec allows it).
      const switched = withNewSigningKey(next, value.signature_scheme, now, this.deps.secretOverlapMs);
      next = switched.secrets;
      newSecret = switched.secret;
    }
    const secretsChanged = value.api_key !== undefined || value.authorization !== undefined || value.headers !== undefined
      || cleared.length > 0 || next.signing !== secrets.signing;
    if (secretsChanged || this.deps.box.needsReencryption(current.secrets)) {
      patch.secrets = sealSecrets(this.deps.box, id, next);
    }
    const updated = await this.write(ctx.tenantId, id, patch, current.updatedAt);
    this.deps.onWebhookChanged(id);
    const webhook = toWebhookView(updated, next);
    const changed = Object.keys(value);
    await this.audit('WEBHOOK_UPDATED', webhook, ctx, [...changed, ...cleared.filter((c) => !changed.includes(c))]);
    return {
      ...webhook,
      ...(cleared.length > 0 ? { cleared_credentials: cleared } : {}),
      ...(newSecret !== null ? { secret: newSecret } : {}),
    };
  }

  /**
   * An update of a webhook whose secrets cannot be read: fields outside the sealed blob (name,
   * description, events, enabled, rate limit, a URL on the same origin) change as usual and the
   * blob stays as stored, so restoring the key later still opens it. Anything that needs the
   * stored values - a credential, a scheme switch, a move to another origin (which clears the
   * credentials and so re-seals) - answers 409 `secret_unreadable`: rotate the secret first.
   */
  private async updateUnreadable(current: WebhookRecord, value: WebhookUpdate, reason: string, ctx: ManagementContext): Promise<UpdatedWebhook> {
    if (value.api_key !== undefined || value.authorization !== undefined || value.headers !== undefined
      || value.signature_scheme !== undefined || originChanged(current.url, value.url)) {
      throw new SecretsUnreadableError(reason);
    }
    const now = this.deps.clock();
    const patch = plainFieldsPatch(value, current.enabled, now);
    const updated = await this.write(ctx.tenantId, current.id, patch, current.updatedAt);
    this.deps.onWebhookChanged(current.id);
    const webhook = toWebhookView(updated, null, reason);
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
   * A new key of the webhook's scheme signs at once in this process (within seconds in others,
   * which re-read webhook settings every 2 s); the key it replaced keeps signing until the
   * overlap ends, and any older one stops at once (at most two sign: MAX_SIGNING_KEYS).
   */
  async rotateSecret(id: string, ctx: ManagementContext): Promise<RotatedSigningKey> {
    const current = await this.find(ctx.tenantId, id);
    const opened = tryOpenSecrets(this.deps.box, id, current.secrets);
    const now = this.deps.clock();
    // Unreadable secrets (sealed under a key no longer configured) are replaced, not rotated: a
    // fresh key of the default scheme signs at once (no old key is known to overlap with) and
    // the receiver credentials are cleared, to be entered again with an edit.
    const secrets: WebhookSecrets = opened.secrets
      ?? { scheme: DEFAULT_SIGNATURE_SCHEME, signing: [], apiKey: null, authorization: null, headers: {} };
    const rotated = opened.secrets
      ? withNewSigningKey(secrets, secrets.scheme, now, this.deps.secretOverlapMs)
      : { ...withNewSigningKey(secrets, secrets.scheme, now, 0), previousExpiresAt: now.toISOString() };
    const updated = await this.write(ctx.tenantId, id, { secrets: sealSecrets(this.deps.box, id, rotated.secrets), updatedAt: now }, current.updatedAt);
    this.deps.onWebhookChanged(id);
    const changed = opened.secrets ? ['secret'] : ['secret', 'api_key', 'authorization', 'headers'];
    await this.audit('WEBHOOK_UPDATED', toWebhookView(updated, rotated.secrets), ctx, changed);
    const previous_expires_at = rotated.previousExpiresAt;
    return rotated.secret !== null
      ? { signature_scheme: 'hmac-sha256', secret: rotated.secret, public_key: null, previous_expires_at }
      : { signature_scheme: 'ed25519', public_key: rotated.publicKey!, previous_expires_at };
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
    const opened = tryOpenSecrets(this.deps.box, record.id, record.secrets);
    return toWebhookView(record, opened.secrets, opened.error);
  }

  private async audit(type: string, webhook: WebhookView, ctx: ManagementContext, changedFields?: string[]): Promise<void> {
    // No secret value, not even masked, and the URL masked (audit-view.ts).
    const data: Record<string, unknown> = { webhook: toAuditWebhook(webhook) };
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

/** The patch of an update's fields that live outside the sealed secrets. */
function plainFieldsPatch(value: WebhookUpdate, currentlyEnabled: boolean, now: Date): WebhookPatch {
  const patch: WebhookPatch = { updatedAt: now };
  if (value.name !== undefined) patch.name = value.name;
  if (value.description !== undefined) patch.description = value.description;
  if (value.url !== undefined) patch.url = value.url;
  if (value.events !== undefined) patch.events = value.events;
  if (value.rate_limit_per_second !== undefined) patch.rateLimitPerSecond = value.rate_limit_per_second;
  if (value.ordering !== undefined) patch.ordering = value.ordering;
  applyEnabled(patch, value.enabled, currentlyEnabled, now);
  return patch;
}

/** An `enabled` change: re-enabling clears why the plugin disabled it and starts a fresh failure window. */
function applyEnabled(patch: WebhookPatch, enabled: boolean | undefined, current: boolean, now: Date): void {
  if (enabled === undefined || enabled === current) return;
  patch.enabled = enabled;
  patch.disabledReason = null;
  patch.disabledAt = enabled ? null : now;
  patch.failingSince = null;
}
