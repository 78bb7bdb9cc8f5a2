import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { WebhooksError } from '../errors.js';

/** A 256-bit key with an id; the id is stored with each ciphertext so keys can rotate. */
export interface EncryptionKey {
  id: string;
  /** 32 bytes, base64. */
  key: string;
}

const FORMAT = 'v1';

/**
 * AES-256-GCM for secrets at rest (signing secrets, API keys, authorization values, custom
 * header values). The first key encrypts; every listed key decrypts, so an operator rotates by
 * putting a new key first and keeping the old one until stored values are re-encrypted.
 * The record id is bound as additional data, so a ciphertext copied onto another record
 * fails to decrypt instead of leaking one webhook's secrets through another.
 */
export class SecretBox {
  private readonly keys: Map<string, Buffer>;
  private readonly activeKeyId: string;

  constructor(keys: readonly EncryptionKey[]) {
    if (keys.length === 0) throw new Error('SecretBox needs at least one key');
    this.keys = new Map(keys.map((k) => [k.id, Buffer.from(k.key, 'base64')]));
    this.activeKeyId = keys[0].id;
  }

  encrypt(plaintext: string, recordId: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.activeKeyId)!, iv);
    cipher.setAAD(Buffer.from(recordId));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [FORMAT, this.activeKeyId, iv.toString('base64'), tag.toString('base64'), ciphertext.toString('base64')].join('.');
  }

  decrypt(sealed: string, recordId: string): string {
    const [format, keyId, iv, tag, ciphertext] = sealed.split('.');
    const key = this.keys.get(keyId);
    if (format !== FORMAT || !key || !iv || !tag || ciphertext === undefined) {
      throw new WebhooksError('secret_unreadable', `Stored secret uses unknown key "${keyId}" or format`, { status: 500 });
    }
    try {
      // authTagLength pins 16-byte tags: a truncated tag must not be accepted.
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'), { authTagLength: 16 });
      decipher.setAAD(Buffer.from(recordId));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString('utf8');
    } catch (cause) {
      throw new WebhooksError('secret_unreadable', 'Stored secret failed authentication', { status: 500, cause });
    }
  }

  /** True when the value was sealed with a key other than the active one. */
  needsReencryption(sealed: string): boolean {
    return sealed.split('.')[1] !== this.activeKeyId;
  }

  /** The id of the key that encrypts (the first configured). */
  get activeKey(): string {
    return this.activeKeyId;
  }

  /** Whether a key with this id is configured. */
  hasKey(keyId: string): boolean {
    return this.keys.has(keyId);
  }
}

/** The key id a sealed value names (it is stored in clear beside the ciphertext); null when the format is unknown. */
export function sealedKeyId(sealed: string): string | null {
  const [format, keyId] = sealed.split('.');
  return format === FORMAT && keyId ? keyId : null;
}
