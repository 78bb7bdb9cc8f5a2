import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../plugin/security/secret-box.js';
import { generateSecret, publicKeyOf } from '../../plugin/security/signing-keys.js';
import {
  MAX_SIGNING_KEYS, activeSigningSecrets, currentPublicKey, openSecrets, sealSecrets, withNewSigningKey, type WebhookSecrets,
} from '../../plugin/webhooks/webhook-secrets.js';

const box = new SecretBox([{ id: 'k1', key: randomBytes(32).toString('base64') }]);
const NOW = new Date('2026-12-01T12:00:00.000Z');
const HOUR = 3_600_000;
const at = (ms: number) => new Date(NOW.getTime() + ms);

function hmacWebhook(): WebhookSecrets {
  return { scheme: 'hmac-sha256', signing: [{ secret: generateSecret(), expiresAt: null }], apiKey: null, authorization: null, headers: {} };
}

describe('webhook secrets', () => {
  it('reads a blob sealed before signature schemes existed as HMAC', () => {
    const secret = generateSecret();
    const legacy = box.encrypt(JSON.stringify({ signing: [{ secret, expiresAt: null }], apiKey: null, authorization: null, headers: {} }), 'wh_1');
    const opened = openSecrets(box, 'wh_1', legacy);
    assert.equal(opened.scheme, 'hmac-sha256');
    assert.deepEqual(activeSigningSecrets(opened, NOW), [secret]);
    assert.equal(currentPublicKey(opened), null);
    // Sealed again, the scheme is written down.
    assert.equal(JSON.parse(box.decrypt(sealSecrets(box, 'wh_1', opened), 'wh_1')).scheme, 'hmac-sha256');
  });

  it('keeps at most two signing keys after any number of rotations: the new one and the one it replaced', () => {
    let secrets = hmacWebhook();
    const made: string[] = [secrets.signing[0].secret];
    for (let i = 0; i < 10; i += 1) {
      const rotated = withNewSigningKey(secrets, 'hmac-sha256', at(i * 1_000), 24 * HOUR);
      secrets = rotated.secrets;
      made.unshift(rotated.secret!);
      assert.equal(rotated.previousExpiresAt, at(i * 1_000 + 24 * HOUR).toISOString());
    }
    assert.equal(secrets.signing.length, MAX_SIGNING_KEYS);
    assert.deepEqual(activeSigningSecrets(secrets, at(10_000)), made.slice(0, 2));
    assert.deepEqual(secrets.signing[1].expiresAt, at(9_000 + 24 * HOUR).toISOString());
    // The previous key stops at the end of its overlap; the new one signs on alone.
    assert.deepEqual(activeSigningSecrets(secrets, at(9_000 + 24 * HOUR + 1)), [made[0]]);
  });

  it('signs with at most two keys from a blob stored before the cap, newest first', () => {
    const secrets = hmacWebhook();
    const many = Array.from({ length: 121 }, () => ({ secret: generateSecret(), expiresAt: at(HOUR).toISOString() }));
    secrets.signing = [secrets.signing[0], ...many];
    assert.deepEqual(activeSigningSecrets(secrets, NOW), [secrets.signing[0].secret, many[0].secret]);
  });

  it('switches scheme with new key material while the previous key signs through the overlap', () => {
    const secrets = hmacWebhook();
    const switched = withNewSigningKey(secrets, 'ed25519', NOW, HOUR);
    assert.equal(switched.secrets.scheme, 'ed25519');
    assert.equal(switched.secret, null, 'an Ed25519 secret key is never handed out');
    assert.match(switched.publicKey!, /^whpk_/);
    assert.equal(currentPublicKey(switched.secrets), switched.publicKey);
    assert.equal(publicKeyOf(switched.secrets.signing[0].secret), switched.publicKey);
    assert.deepEqual(activeSigningSecrets(switched.secrets, NOW).map((s) => s.split('_')[0]), ['whsk', 'whsec']);
    const back = withNewSigningKey(switched.secrets, 'hmac-sha256', at(1), HOUR);
    assert.match(back.secret!, /^whsec_/);
    assert.equal(currentPublicKey(back.secrets), null);
    assert.deepEqual(back.secrets.signing.map((s) => s.secret.split('_')[0]), ['whsec', 'whsk']);
  });

  it('drops a replaced key that has already expired instead of reviving it', () => {
    const secrets = hmacWebhook();
    secrets.signing = [{ secret: secrets.signing[0].secret, expiresAt: at(-1).toISOString() }];
    const rotated = withNewSigningKey(secrets, 'hmac-sha256', NOW, HOUR);
    assert.equal(rotated.secrets.signing.length, 1);
  });
});
