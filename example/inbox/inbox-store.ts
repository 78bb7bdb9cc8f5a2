import { EventEmitter } from 'node:events';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

/** One request the demo inbox received, and whether its signature verified. */
export interface InboxEntry {
  id: number;
  received_at: string;
  verified: boolean;
  /** Label of the secret that verified it (e.g. the seeded webhook's name). */
  verified_with: string | null;
  /** Why verification failed. */
  error: string | null;
  /** `webhook-id`: the message id, the same on every retry of one delivery. */
  message_id: string | null;
  event_type: string | null;
  event_id: string | null;
  tenant_id: string | null;
  /** The parsed JSON body (or the first 8 KiB of a body that is not JSON). */
  body: unknown;
}

const MAX_RAW_BODY = 8_192;

/**
 * The inbox's list: newest last, read per tenant (the tenant id the envelope names: a demo
 * receiver stands for each tenant's own endpoint, and one tenant's admins must not read
 * another's events), bounded, appended to a JSON-lines file when given one so it
 * survives a restart like the deliveries it shows. Emits `entry` for each new one.
 */
export class InboxStore extends EventEmitter {
  private entries: InboxEntry[] = [];
  private appended = 0;
  private nextId = 1;

  /** `ownerTenantId`: whose inbox this is (default `default`), shown the requests that did not verify. */
  constructor(private readonly options: { file?: string; limit?: number; ownerTenantId?: string } = {}) {
    super();
    this.setMaxListeners(100);
    if (options.file && existsSync(options.file)) this.load(options.file);
  }

  private get limit(): number {
    return this.options.limit ?? 500;
  }

  private load(file: string): void {
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    for (const line of lines.slice(-this.limit)) {
      try {
        this.entries.push(JSON.parse(line) as InboxEntry);
      } catch {
        // A line cut short by a kill -9 mid-write is skipped; the next ones are whole.
      }
    }
    this.nextId = (this.entries[this.entries.length - 1]?.id ?? 0) + 1;
    // Rewrite the file down to what is kept, so it does not grow forever across restarts.
    this.rewriteFile();
  }

  add(input: Omit<InboxEntry, 'id' | 'received_at' | 'body'> & { rawBody: string }): InboxEntry {
    let body: unknown;
    try {
      body = JSON.parse(input.rawBody);
    } catch {
      body = input.rawBody.slice(0, MAX_RAW_BODY);
    }
    const { rawBody: _raw, ...rest } = input;
    const entry: InboxEntry = { id: this.nextId++, received_at: new Date().toISOString(), ...rest, body };
    this.entries.push(entry);
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
    if (this.options.file) {
      appendFileSync(this.options.file, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
      // Anyone can post to the inbox: the file is cut back to what is kept now and then, not only at a restart.
      this.appended += 1;
      if (this.appended >= this.limit) this.rewriteFile();
    }
    this.emit('entry', entry);
    return entry;
  }

  private rewriteFile(): void {
    this.appended = 0;
    if (this.options.file) writeFileSync(this.options.file, this.entries.map((e) => `${JSON.stringify(e)}\n`).join(''), { mode: 0o600 });
  }

  /**
   * One tenant's entries, oldest first. Requests that did not verify name no tenant we can
   * believe; they are shown to the inbox's owner (the tenant of the webhook it verifies).
   */
  list(tenantId: string): InboxEntry[] {
    return this.entries.filter((entry) => this.tenantOf(entry) === tenantId);
  }

  /** The tenant an entry belongs to: the one its verified body names, else the owner. */
  tenantOf(entry: InboxEntry): string {
    return entry.tenant_id ?? this.options.ownerTenantId ?? 'default';
  }

  /** Forgets one tenant's entries; emits `cleared` with the tenant id. */
  clear(tenantId: string): void {
    this.entries = this.entries.filter((entry) => this.tenantOf(entry) !== tenantId);
    this.rewriteFile();
    this.emit('cleared', tenantId);
  }
}
