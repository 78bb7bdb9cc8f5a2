import type {
  CreatedWebhook, DeliveryDetail, DeliveryFilter, DeliveryPage, ErrorDetail, EventCatalogueResponse, RotatedSecret, TestResult, UpdatedWebhook, Webhook,
  WebhookInput,
} from './api-types.js';

/** An error answer of the admin API (`{ error: { code, message, details } }`), or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[];

  constructor(status: number, code: string, message: string, details: ErrorDetail[] = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * Talks to the admin API and nothing else. Cookie sessions send the double-submit CSRF token
 * from `GET {base}/csrf-token` on unsafe requests; a bearer `token` needs none.
 */
export class AdminApiClient {
  private readonly base: string;
  private readonly token: string | null;
  private csrf: Promise<string> | null = null;

  /** `base` may be absolute or relative to the page (`..`, `/admin/webhooks/api`). */
  constructor(base: string, token?: string | null) {
    const resolved = new URL(base || '.', document.baseURI);
    this.base = resolved.href.replace(/\/+$/, '');
    this.token = token || null;
  }

  listEventTypes(): Promise<EventCatalogueResponse> {
    return this.request('GET', '/event-types');
  }

  async listWebhooks(): Promise<Webhook[]> {
    return (await this.request<{ webhooks: Webhook[] }>('GET', '/webhooks')).webhooks;
  }

  /** One webhook with its health. */
  getWebhook(id: string): Promise<Webhook> {
    return this.request('GET', `/webhooks/${encodeURIComponent(id)}`);
  }

  createWebhook(input: WebhookInput): Promise<CreatedWebhook> {
    return this.request('POST', '/webhooks', input);
  }

  updateWebhook(id: string, patch: WebhookInput): Promise<UpdatedWebhook> {
    return this.request('PATCH', `/webhooks/${encodeURIComponent(id)}`, patch);
  }

  deleteWebhook(id: string): Promise<void> {
    return this.request('DELETE', `/webhooks/${encodeURIComponent(id)}`);
  }

  rotateSecret(id: string): Promise<RotatedSecret> {
    return this.request('POST', `/webhooks/${encodeURIComponent(id)}/rotate-secret`);
  }

  sendTest(id: string): Promise<TestResult> {
    return this.request('POST', `/webhooks/${encodeURIComponent(id)}/test`);
  }

  listDeliveries(id: string, filter: DeliveryFilter = {}): Promise<DeliveryPage> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) if (value !== undefined && value !== '') query.set(key, String(value));
    const qs = query.toString();
    return this.request('GET', `/webhooks/${encodeURIComponent(id)}/deliveries${qs ? `?${qs}` : ''}`);
  }

  getDelivery(id: string): Promise<DeliveryDetail> {
    return this.request('GET', `/deliveries/${encodeURIComponent(id)}`);
  }

  retryDelivery(id: string): Promise<{ status: string }> {
    return this.request('POST', `/deliveries/${encodeURIComponent(id)}/retry`);
  }

  /** Discards the deliveries waiting for a (disabled) webhook: they are marked failed and never sent. */
  discardPending(id: string): Promise<{ discarded: number }> {
    return this.request('POST', `/webhooks/${encodeURIComponent(id)}/discard-pending`);
  }

  recover(id: string, since: Date): Promise<{ requeued: number }> {
    return this.request('POST', `/webhooks/${encodeURIComponent(id)}/recover`, { since: since.toISOString() });
  }

  private csrfToken(refresh = false): Promise<string> {
    if (!this.csrf || refresh) {
      this.csrf = this.request<{ token: string }>('GET', '/csrf-token').then((r) => r.token);
      this.csrf.catch(() => { this.csrf = null; });
    }
    return this.csrf;
  }

  async request<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    else if (!SAFE_METHODS.has(method)) headers['x-csrf-token'] = await this.csrfToken();
    // Unsafe routes without a body still get `{}`: the API refuses anything but an empty object.
    const payload = body !== undefined ? body : SAFE_METHODS.has(method) || method === 'DELETE' ? undefined : {};
    if (payload !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method, headers, credentials: 'same-origin', body: payload === undefined ? undefined : JSON.stringify(payload),
      });
    } catch {
      throw new ApiError(0, 'network', 'Could not reach the server. Check your connection and try again.');
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let data: any = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (res.ok) {
      if (data === null) throw new ApiError(res.status, 'bad_response', 'The server sent an answer this page cannot read.');
      return data as T;
    }
    const error = data?.error;
    // The CSRF cookie can be lost (a new session, cleared cookies): fetch a fresh token once.
    if (res.status === 403 && error?.code === 'csrf_failed' && !this.token && !retried) {
      await this.csrfToken(true);
      return this.request(method, path, body, true);
    }
    if (error && typeof error.code === 'string') {
      throw new ApiError(res.status, error.code, String(error.message ?? 'Request failed'), Array.isArray(error.details) ? error.details : []);
    }
    throw new ApiError(res.status, 'http_error', `The server answered ${res.status} ${res.statusText}`.trim());
  }
}
