import assert from 'node:assert/strict';
import { REDACTED, redactExcerpt, secretValuesOf } from '../../plugin/delivery/excerpt-redaction.js';
import { generateSecret, generateSigningKeyPair } from '../../plugin/security/signing-keys.js';
import type { WebhookSecrets } from '../../plugin/webhooks/webhook-secrets.js';

const hmac = generateSecret();
const { secretKey } = generateSigningKeyPair();
const SECRETS: WebhookSecrets = {
  scheme: 'ed25519',
  signing: [{ secret: secretKey, expiresAt: null }, { secret: hmac, expiresAt: '2030-01-01T00:00:00.000Z' }],
  apiKey: { header: 'x-cidaas-key', value: 'api-key-0123456789abcdef' },
  authorization: 'Bearer tok/en"with+quotes-0123',
  headers: { 'x-tenant': 'acme-tenant-header-value', 'x-version': '2' },
};
const values = secretValuesOf(SECRETS);

describe('excerpt redaction', () => {
  it('lists every secret value of a webhook: credentials, the authorization credential alone, signing keys', () => {
    for (const value of ['api-key-0123456789abcdef', 'Bearer tok/en"with+quotes-0123', 'tok/en"with+quotes-0123', 'acme-tenant-header-value',
      secretKey, secretKey.slice('whsk_'.length), hmac, hmac.slice('whsec_'.length)]) {
      assert.ok(values.includes(value), value);
    }
  });

  it('replaces every raw occurrence, and the echoed headers of a typical echo server', () => {
    const echo = `x-cidaas-key: api-key-0123456789abcdef\nauthorization: Bearer tok/en"with+quotes-0123\nx-tenant: acme-tenant-header-value\n`
      + 'again: api-key-0123456789abcdef';
    assert.equal(redactExcerpt(echo, values),
      `x-cidaas-key: ${REDACTED}\nauthorization: ${REDACTED}\nx-tenant: ${REDACTED}\nagain: ${REDACTED}`);
  });

  it('replaces the JSON-escaped forms, with and without escaped slashes, and the credential without its scheme', () => {
    const json = JSON.stringify({ headers: { authorization: SECRETS.authorization, 'x-tenant': 'acme-tenant-header-value' } });
    assert.equal(redactExcerpt(json, values), JSON.stringify({ headers: { authorization: REDACTED, 'x-tenant': REDACTED } }));
    const php = json.replaceAll('/', '\\/');
    assert.ok(!redactExcerpt(php, values)!.includes('tok'), 'PHP escapes / as \\/');
    assert.equal(redactExcerpt('{"token":"tok/en\\"with+quotes-0123"}', values), `{"token":"${REDACTED}"}`);
  });

  it('replaces signing keys with or without their prefix', () => {
    const text = `secret=${hmac} key=${secretKey.slice('whsk_'.length)}`;
    assert.equal(redactExcerpt(text, values), `secret=${REDACTED} key=${REDACTED}`);
  });

  it('replaces the start of a secret the excerpt was cut in', () => {
    assert.equal(redactExcerpt('{"key":"api-key-0123456', values), `{"key":"${REDACTED}`);
    assert.equal(redactExcerpt('ends with acm', values), 'ends with acm', 'three characters are too few to tell');
  });

  it('leaves short non-secret values, other text and empty excerpts alone', () => {
    assert.equal(redactExcerpt('version 2 of 2, ok', values), 'version 2 of 2, ok');
    assert.equal(redactExcerpt(null, values), null);
    assert.equal(redactExcerpt('', values), '');
    assert.equal(redactExcerpt('ok', []), 'ok');
  });
});
