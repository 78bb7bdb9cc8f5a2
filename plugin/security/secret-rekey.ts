/**
 * Walks every stored webhook secret (all tenants, in pages by id) and sorts it by the
 * configured encryption keys: current (sealed under the first key), older (sealed under
 * another configured key: needs re-encryption) or unreadable (its key is not configured, or it
 * does not authenticate). `start()` surveys; the rekey command re-seals the older ones.
 *
 * Re-sealing works on the decrypted bytes as they are (no parsing), so it never changes what a
 * webhook holds, only which key guards it. It skips values already current, so a walk that was
 * interrupted is simply run again: it finds nothing left to do for what it already did.
 */
import type { WebhookRecord, WebhookStore } from '../store/store-port.js';
import { sealedKeyId, type SecretBox } from './secret-box.js';

/** Webhooks read per page. */
const PAGE_SIZE = 200;
/** Attempts at one webhook whose record kept changing under the walk before it is left for the next run. */
const WRITE_ATTEMPTS = 3;

/** Counts so far of one walk; `onProgress` gets one after each page. */
export interface SecretKeyCounts {
  /** Webhooks looked at. */
  scanned: number;
  /** Sealed under the first configured key already. */
  current: number;
  /** Sealed under another configured key: re-sealed by a rekey (left as they are by a survey). */
  older: number;
  /** Re-sealed under the first key by this walk. */
  reencrypted: number;
  /** Cannot be decrypted with any configured key; never touched. */
  unreadable: number;
  /** Changed by someone else on every attempt; left for the next run. */
  skipped: number;
}

/** One webhook whose secrets cannot be read, for the operator. */
export interface UnreadableSecret {
  webhookId: string;
  tenantId: string;
  /** The key id the stored value names; null when its format is unknown. */
  keyId: string | null;
}

export interface SecretKeyReport extends SecretKeyCounts {
  /** The key new values are sealed with. */
  activeKeyId: string;
  /** The first 100 unreadable webhooks (see `unreadable` for how many there are). */
  unreadableWebhooks: UnreadableSecret[];
}

export interface ReencryptOptions {
  /** Called after each page with the counts so far. */
  onProgress?: (counts: Readonly<SecretKeyCounts>) => void;
}

const MAX_LISTED = 100;

type Verdict = 'current' | 'older' | 'unreadable';

function judge(box: SecretBox, record: WebhookRecord): { verdict: Verdict; plaintext: string | null } {
  try {
    const plaintext = box.decrypt(record.secrets, record.id);
    return { verdict: box.needsReencryption(record.secrets) ? 'older' : 'current', plaintext };
  } catch {
    return { verdict: 'unreadable', plaintext: null };
  }
}

/**
 * Re-seals (with `write`) or only counts (without) every webhook's secrets. Writes use the
 * store's optimistic update with the record's own `updatedAt` as both guard and value: the
 * content is unchanged, so the webhook does not look edited, and an edit made meanwhile wins
 * (the record is read again and judged afresh).
 */
export async function walkSecrets(store: WebhookStore, box: SecretBox, write: boolean, options: ReencryptOptions = {}): Promise<SecretKeyReport> {
  const counts: SecretKeyCounts = { scanned: 0, current: 0, older: 0, reencrypted: 0, unreadable: 0, skipped: 0 };
  const unreadableWebhooks: UnreadableSecret[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await store.listAllWebhooks(after, PAGE_SIZE);
    if (page.length === 0) break;
    for (const first of page) {
      counts.scanned += 1;
      let record: WebhookRecord | null = first;
      let settled = false;
      for (let attempt = 0; attempt < WRITE_ATTEMPTS && record && !settled; attempt += 1) {
        const { verdict, plaintext } = judge(box, record);
        if (verdict !== 'older' || !write) {
          counts[verdict] += 1;
          if (verdict === 'unreadable' && unreadableWebhooks.length < MAX_LISTED) {
            unreadableWebhooks.push({ webhookId: record.id, tenantId: record.tenantId, keyId: sealedKeyId(record.secrets) });
          }
          settled = true;
          break;
        }
        const resealed = box.encrypt(plaintext!, record.id);
        const updated = await store.updateWebhook(record.tenantId, record.id, { secrets: resealed, updatedAt: record.updatedAt }, record.updatedAt);
        if (updated) {
          counts.reencrypted += 1;
          settled = true;
        } else {
          record = await store.findWebhook(record.tenantId, record.id); // changed or deleted meanwhile
        }
      }
      if (record === null) counts.scanned -= 1; // deleted while we walked: nothing to count
      else if (!settled) counts.skipped += 1;
    }
    after = page[page.length - 1].id;
    options.onProgress?.({ ...counts });
  }
  return { ...counts, activeKeyId: box.activeKey, unreadableWebhooks };
}
