import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { WebhooksError } from '../../plugin/errors.js';
import {
  InvalidSecretError,
  parseSecret,
  sign,
  signatureHeaders,
} from '../../plugin/delivery/signer.js';
import { generateSecret } from '../../plugin/security/signing-keys.js';

// The published Standard Webhooks test vector.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  msgId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function expectInvalidSecret(secret: string, messagePart: RegExp): void {
  assert.throws(
    () => parseSecret(secret),
    (err: unknown) => {
      assert.ok(err instanceof InvalidSecretError);
      assert.ok(err instanceof WebhooksError);
      assert.equal(err.code, 'invalid_secret');
      assert.equal(err.status, 400);
      assert.equal(err.name, 'InvalidSecretError');
      assert.match(err.message, messagePart);
      return true;
    },
  );
}

describe('signer', () => {
  describe('sign', () => {
    it('reproduces the published Standard Webhooks test vector', () => {
      assert.equal(sign([VECTOR.secret], VECTOR.msgId, VECTOR.timestamp, VECTOR.body), VECTOR.signature);
    });

    it('matches an independently computed HMAC-SHA256 over id.timestamp.body', () => {
      const secret = generateSecret();
      const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
      const expected = createHmac('sha256', key).update('msg_1.1700000000.{"a":"é"}').digest('base64');
      assert.equal(sign([secret], 'msg_1', 1700000000, '{"a":"é"}'), `v1,${expected}`);
    });

    it('emits one space-separated v1 entry per secret, in the order given', () => {
      const older = generateSecret();
      const newer = generateSecret();
      const header = sign([newer, older], 'msg_2', 1700000000, '{}');
      const entries = header.split(' ');
      assert.equal(entries.length, 2);
      assert.equal(entries[0], sign([newer], 'msg_2', 1700000000, '{}'));
      assert.equal(entries[1], sign([older], 'msg_2', 1700000000, '{}'));
    });

    it('refuses to sign without any secret', () => {
      assert.throws(() => sign([], 'msg_3', 1700000000, '{}'), InvalidSecretError);
    });

    it('refuses a fractional, negative or NaN timestamp', () => {
      assert.throws(() => sign([VECTOR.secret], 'msg_4', 1.5, '{}'), RangeError);
      assert.throws(() => sign([VECTOR.secret], 'msg_4', -1, '{}'), RangeError);
      assert.throws(() => sign([VECTOR.secret], 'msg_4', Number.NaN, '{}'), RangeError);
    });

    it('rejects an invalid secret among several instead of skipping it', () => {
      assert.throws(() => sign([VECTOR.secret, 'whsec_short'], 'msg_5', 1700000000, '{}'), InvalidSecretError);
    });
  });

  describe('signatureHeaders', () => {
    it('returns the three Standard Webhooks headers for the test vector', () => {
      assert.deepEqual(signatureHeaders([VECTOR.secret], VECTOR.msgId, VECTOR.timestamp, VECTOR.body), {
        'webhook-id': VECTOR.msgId,
        'webhook-timestamp': '1614265330',
        'webhook-signature': VECTOR.signature,
      });
    });

    it('is accepted by the standardwebhooks library for a generated secret', () => {
      const secret = generateSecret();
      const body = JSON.stringify({ type: 'user.created', data: { id: 'u1' } });
      const headers = signatureHeaders([secret], 'msg_ok', nowSeconds(), body);
      assert.deepEqual(new Webhook(secret).verify(body, { ...headers }), JSON.parse(body));
    });

    it('is accepted by receivers holding either secret during rotation', () => {
      const oldSecret = generateSecret();
      const newSecret = generateSecret(64);
      const body = '{"type":"user.updated"}';
      const headers = signatureHeaders([newSecret, oldSecret], 'msg_rot', nowSeconds(), body);
      assert.doesNotThrow(() => new Webhook(oldSecret).verify(body, { ...headers }));
      assert.doesNotThrow(() => new Webhook(newSecret).verify(body, { ...headers }));
    });

    it('fails verification when the body was tampered with', () => {
      const secret = generateSecret();
      const headers = signatureHeaders([secret], 'msg_t', nowSeconds(), '{"amount":1}');
      assert.throws(() => new Webhook(secret).verify('{"amount":100}', { ...headers }), /No matching signature/);
    });

    it('fails verification with a secret that did not sign', () => {
      const headers = signatureHeaders([generateSecret()], 'msg_w', nowSeconds(), '{}');
      assert.throws(() => new Webhook(generateSecret()).verify('{}', { ...headers }), /No matching signature/);
    });

    it('fails verification when the webhook-id was changed', () => {
      const secret = generateSecret();
      const headers = signatureHeaders([secret], 'msg_a', nowSeconds(), '{}');
      assert.throws(
        () => new Webhook(secret).verify('{}', { ...headers, 'webhook-id': 'msg_b' }),
        /No matching signature/,
      );
    });

    it('fails verification when the timestamp is older than the 5-minute tolerance', () => {
      const secret = generateSecret();
      const headers = signatureHeaders([secret], 'msg_old', nowSeconds() - 10 * 60, '{}');
      assert.throws(() => new Webhook(secret).verify('{}', { ...headers }), /too old/);
    });
  });

  describe('generateSecret', () => {
    it('returns whsec_ and 32 random bytes by default', () => {
      const secret = generateSecret();
      assert.match(secret, /^whsec_[A-Za-z0-9+/]+={0,2}$/);
      assert.equal(parseSecret(secret).length, 32);
      assert.notEqual(generateSecret(), secret);
    });

    it('honours a requested length within 24..64 bytes', () => {
      assert.equal(parseSecret(generateSecret(24)).length, 24);
      assert.equal(parseSecret(generateSecret(64)).length, 64);
    });

    it('refuses lengths outside 24..64 bytes', () => {
      assert.throws(() => generateSecret(16), RangeError);
      assert.throws(() => generateSecret(65), RangeError);
      assert.throws(() => generateSecret(32.5), RangeError);
    });
  });

  describe('parseSecret', () => {
    it('decodes the test-vector secret to its 24 key bytes', () => {
      const key = parseSecret(VECTOR.secret);
      assert.equal(key.length, 24);
      assert.equal(key.toString('base64'), 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    });

    it('rejects a secret without the whsec_ prefix', () => {
      expectInvalidSecret('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', /must start with "whsec_"/);
    });

    it('rejects a secret with nothing after the prefix', () => {
      expectInvalidSecret('whsec_', /base64/);
    });

    it('rejects characters outside standard base64', () => {
      expectInvalidSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa!w', /base64/);
      // base64url's alphabet is not standard base64 either
      expectInvalidSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa-_', /base64/);
    });

    it('rejects base64 with missing or misplaced padding', () => {
      expectInvalidSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwA', /base64/);
      expectInvalidSecret('whsec_MfKQ9r8GKYqr=wjUPD8ILPZIo2LaLaSw', /base64/);
    });

    it('rejects a secret shorter than 24 bytes, saying how long it is', () => {
      expectInvalidSecret(`whsec_${Buffer.alloc(23, 1).toString('base64')}`, /23 bytes; at least 24/);
    });

    it('rejects a secret longer than 64 bytes, saying how long it is', () => {
      expectInvalidSecret(`whsec_${Buffer.alloc(65, 1).toString('base64')}`, /65 bytes; at most 64/);
    });

    it('never echoes the secret in the error message', () => {
      const secret = `whsec_${Buffer.alloc(10, 7).toString('base64')}`;
      assert.throws(
        () => parseSecret(secret),
        (err: Error) => !err.message.includes(secret.slice('whsec_'.length)),
      );
    });
  });
});
