import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { InvalidSecretError, sign, signatureHeaders, type SignatureHeaders } from '../../plugin/delivery/signer.js';
import {
  generateSecret, generateSigningKey, generateSigningKeyPair, parseSecretKey, publicKeyOf, schemeOfSecret,
} from '../../plugin/security/signing-keys.js';

// RFC 8032, section 7.1, TEST 2: a one-byte message (0x72).
const RFC8032 = {
  seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
  publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
  message: '72',
  signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
};

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A receiver's public key, built only from the `whpk_` string (raw 32 bytes, via JWK). */
function receiverKey(whpk: string): KeyObject {
  assert.match(whpk, /^whpk_/);
  const raw = Buffer.from(whpk.slice('whpk_'.length), 'base64');
  assert.equal(raw.length, 32);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/**
 * A receiver's v1a check, written from the Standard Webhooks spec and node:crypto alone: the
 * timestamp within 5 minutes, then any `v1a` entry that verifies over `id.timestamp.body`.
 */
function verifyV1a(whpk: string, body: string, headers: SignatureHeaders, now = nowSeconds()): boolean {
  const timestamp = Number(headers['webhook-timestamp']);
  if (!Number.isInteger(timestamp) || Math.abs(now - timestamp) > 5 * 60) throw new Error('timestamp outside the tolerance');
  const content = Buffer.from(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`, 'utf8');
  const key = receiverKey(whpk);
  return headers['webhook-signature'].split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    return version === 'v1a' && edVerify(null, content, key, Buffer.from(signature, 'base64'));
  });
}

describe('Ed25519 signing (Standard Webhooks v1a)', () => {
  describe('key material', () => {
    it('makes a whsk_ secret key of seed and public key, and the whpk_ public key of the same pair', () => {
      const { secretKey, publicKey } = generateSigningKeyPair();
      assert.match(secretKey, /^whsk_[A-Za-z0-9+/]{86}==$/);
      assert.match(publicKey, /^whpk_[A-Za-z0-9+/]{43}=$/);
      const bytes = Buffer.from(secretKey.slice('whsk_'.length), 'base64');
      assert.equal(bytes.length, 64);
      // Independently: the public key node:crypto derives from the seed (as PKCS#8) is the whpk_ one.
      const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), bytes.subarray(0, 32)]);
      const derived = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({ format: 'jwk' }).x!;
      assert.equal(Buffer.from(derived, 'base64url').toString('base64'), publicKey.slice('whpk_'.length));
      assert.deepEqual(bytes.subarray(32), Buffer.from(derived, 'base64url'));
      assert.equal(publicKeyOf(secretKey), publicKey);
      assert.notEqual(generateSigningKeyPair().secretKey, secretKey);
    });

    it('reads a whsk_ key into a private key that reproduces the RFC 8032 test vector', () => {
      const whsk = `whsk_${Buffer.from(RFC8032.seed + RFC8032.publicKey, 'hex').toString('base64')}`;
      assert.equal(edSign(null, Buffer.from(RFC8032.message, 'hex'), parseSecretKey(whsk)).toString('hex'), RFC8032.signature);
      assert.equal(publicKeyOf(whsk), `whpk_${Buffer.from(RFC8032.publicKey, 'hex').toString('base64')}`);
    });

    it('makes key material per scheme: a whsec_ secret for HMAC, a key pair for Ed25519', () => {
      const hmac = generateSigningKey('hmac-sha256');
      assert.match(hmac.secret, /^whsec_/);
      assert.equal(hmac.publicKey, null);
      const ed = generateSigningKey('ed25519');
      assert.match(ed.secret, /^whsk_/);
      assert.equal(ed.publicKey, publicKeyOf(ed.secret));
      assert.equal(schemeOfSecret(hmac.secret), 'hmac-sha256');
      assert.equal(schemeOfSecret(ed.secret), 'ed25519');
    });

    it('refuses malformed secret keys without echoing them', () => {
      const short = `whsk_${Buffer.alloc(32, 9).toString('base64')}`;
      for (const [key, message] of [[short, /32 bytes; an Ed25519 secret key has 64/], ['whsk_not base64!', /base64/], ['wh_x', /must start with "whsk_"/]] as const) {
        assert.throws(() => parseSecretKey(key), (err: unknown) => err instanceof InvalidSecretError && message.test(err.message) && !err.message.includes(key));
      }
    });
  });

  describe('signing', () => {
    it('signs id.timestamp.body as v1a,<base64>, verified from the whpk_ key alone', () => {
      const { secretKey, publicKey } = generateSigningKeyPair();
      const body = JSON.stringify({ type: 'user.created', data: { name: 'Zoë' } });
      const headers = signatureHeaders([secretKey], 'msg_ed', nowSeconds(), body);
      assert.match(headers['webhook-signature'], /^v1a,[A-Za-z0-9+/]{86}==$/);
      assert.equal(verifyV1a(publicKey, body, headers), true);
      // Ed25519 is deterministic: the same content signs the same.
      assert.equal(sign([secretKey], 'msg_ed', Number(headers['webhook-timestamp']), body), headers['webhook-signature']);
    });

    it('fails verification for a tampered body, a changed id or timestamp, and another key', () => {
      const { secretKey, publicKey } = generateSigningKeyPair();
      const headers = signatureHeaders([secretKey], 'msg_t', nowSeconds(), '{"amount":1}');
      assert.equal(verifyV1a(publicKey, '{"amount":100}', headers), false);
      assert.equal(verifyV1a(publicKey, '{"amount":1}', { ...headers, 'webhook-id': 'msg_u' }), false);
      assert.equal(verifyV1a(publicKey, '{"amount":1}', { ...headers, 'webhook-timestamp': String(nowSeconds() + 1) }), false);
      assert.equal(verifyV1a(generateSigningKeyPair().publicKey, '{"amount":1}', headers), false);
    });

    it('is refused by a receiver once the timestamp is older than its tolerance', () => {
      const { secretKey, publicKey } = generateSigningKeyPair();
      const stale = signatureHeaders([secretKey], 'msg_old', nowSeconds() - 10 * 60, '{}');
      assert.throws(() => verifyV1a(publicKey, '{}', stale), /tolerance/);
    });

    it('mixes v1 and v1a entries in one header while a webhook switches scheme, each verifiable on its own', () => {
      const hmac = generateSecret();
      const { secretKey, publicKey } = generateSigningKeyPair();
      const body = '{"type":"user.updated"}';
      const headers = signatureHeaders([secretKey, hmac], 'msg_mix', nowSeconds(), body);
      const entries = headers['webhook-signature'].split(' ');
      assert.deepEqual(entries.map((e) => e.split(',')[0]), ['v1a', 'v1']);
      assert.equal(verifyV1a(publicKey, body, headers), true);
      // A receiver still on HMAC verifies with the standardwebhooks library, which skips v1a.
      assert.doesNotThrow(() => new Webhook(hmac).verify(body, { ...headers }));
    });
  });
});
