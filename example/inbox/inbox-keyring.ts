import type express from 'express';
import type { InboxSecret } from './inbox-routes.js';

/** How many secrets of one webhook are kept: the current one and the one still signing through a rotation's overlap. */
const SECRETS_PER_WEBHOOK = 2;

/**
 * The signing secrets of this server's webhooks that point at the inbox. The plugin shows an
 * HMAC secret once (the answer to a create, a rotation, or a PATCH that switches to HMAC) and
 * never again, so the inbox learns each one from that answer as the admin API sends it; no
 * other way to read a secret back is opened. A webhook is followed while its URL is the
 * inbox's, so a rotation of one moved there later is learned too. In memory: after a restart,
 * a webhook created in the tab verifies again once its secret is rotated.
 */
export class InboxKeyring {
  private readonly webhooks = new Map<string, { label: string; secrets: string[] }>();

  constructor(private readonly inboxUrl: () => string) {}

  /** Follows one webhook at the inbox, with a secret it was shown (e.g. the seeded one). */
  learn(webhookId: string, label: string, secret?: string): void {
    const known = this.webhooks.get(webhookId) ?? { label, secrets: [] };
    known.label = label;
    if (secret && !known.secrets.includes(secret)) known.secrets = [secret, ...known.secrets].slice(0, SECRETS_PER_WEBHOOK);
    this.webhooks.set(webhookId, known);
  }

  secrets(): InboxSecret[] {
    return [...this.webhooks.values()].flatMap(({ label, secrets }) => secrets.map((secret) => ({ label, secret })));
  }

  /**
   * Middleware for the plugin's admin API mount, placed before its router: it reads each
   * successful answer on its way out and never changes it.
   */
  watchAdminApi(): express.RequestHandler {
    return (req, res, next) => {
      const json = res.json.bind(res);
      res.json = (body: unknown) => {
        if (res.statusCode < 300) this.observe(req.method, req.path, body);
        return json(body);
      };
      next();
    };
  }

  private observe(method: string, path: string, body: unknown): void {
    if (typeof body !== 'object' || body === null) return;
    const answer = body as { id?: unknown; name?: unknown; url?: unknown; secret?: unknown };
    const secret = typeof answer.secret === 'string' ? answer.secret : undefined;
    const rotated = method === 'POST' ? /^\/webhooks\/([^/]+)\/rotate-secret$/.exec(path) : null;
    if (rotated) {
      // A rotation answers with the key only: it counts for a webhook already followed.
      const known = this.webhooks.get(decodeURIComponent(rotated[1]));
      if (known && secret) this.learn(decodeURIComponent(rotated[1]), known.label, secret);
      return;
    }
    const written = (method === 'POST' && path === '/webhooks') || (method === 'PATCH' && /^\/webhooks\/[^/]+$/.test(path));
    if (!written || typeof answer.id !== 'string') return;
    if (answer.url === this.inboxUrl()) this.learn(answer.id, typeof answer.name === 'string' ? answer.name : answer.id, secret);
    else this.webhooks.delete(answer.id); // moved elsewhere: its signatures no longer come here
  }
}
