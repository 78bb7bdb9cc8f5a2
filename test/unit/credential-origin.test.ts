import assert from 'node:assert/strict';
import { ValidationError } from '../../plugin/errors.js';
import { maskUrlForAudit } from '../../plugin/webhooks/audit-view.js';
import { applyCredentialUpdate, originChanged, originOf } from '../../plugin/webhooks/credential-origin.js';

const STORED = {
  apiKey: { header: 'x-cidaas-key', value: 'api-key-0123456789abcdef' },
  authorization: 'Bearer token-0123456789abcdef',
  headers: { 'x-tenant': 'acme-tenant-header-value', 'X-Region': 'eu-central-region-value' },
};

describe('credentials bound to the URL origin', () => {
  it('compares scheme, host and port, with default ports and case normalised', () => {
    assert.equal(originOf('HTTPS://Hooks.Example.com:443/a?b=1'), 'https://hooks.example.com');
    assert.equal(originChanged('https://hooks.example.com/a', 'https://HOOKS.example.com:443/b?c'), false);
    assert.equal(originChanged('https://hooks.example.com/a', undefined), false, 'no new URL, no change');
    for (const other of ['http://hooks.example.com/a', 'https://hooks.example.com:8443/a', 'https://evil.example.com/a', 'https://user:pw@hooks.example.org/a']) {
      assert.equal(originChanged('https://hooks.example.com/a', other), true, other);
    }
  });

  it('keeps stored credentials within the same origin, as a PATCH always did', () => {
    const { credentials, cleared } = applyCredentialUpdate(STORED, { api_key: { header: 'x-new' } }, false);
    assert.deepEqual(credentials, { ...STORED, apiKey: { header: 'x-new', value: 'api-key-0123456789abcdef' } });
    assert.deepEqual(cleared, []);
  });

  it('clears every stored credential a change of origin does not send again, and says which', () => {
    const { credentials, cleared } = applyCredentialUpdate(STORED, {}, true);
    assert.deepEqual(credentials, { apiKey: null, authorization: null, headers: {} });
    assert.deepEqual(cleared, ['api_key', 'authorization', 'headers']);
  });

  it('keeps what the same update sends again; a removal with null is no clearing', () => {
    const { credentials, cleared } = applyCredentialUpdate(STORED, {
      api_key: { value: 'api-key-new-value-0001' }, authorization: null, headers: { 'x-region': 'eu-west-region-value', 'x-tenant': null },
    }, true);
    assert.deepEqual(credentials, {
      apiKey: { header: 'x-cidaas-key', value: 'api-key-new-value-0001' }, authorization: null, headers: { 'x-region': 'eu-west-region-value' },
    }, 'the header name, no secret, is kept');
    assert.deepEqual(cleared, []);
    const partial = applyCredentialUpdate(STORED, { headers: { 'x-tenant': 'acme-tenant-header-value' } }, true);
    assert.deepEqual(partial.credentials.headers, { 'x-tenant': 'acme-tenant-header-value' });
    assert.deepEqual(partial.cleared, ['api_key', 'authorization', 'headers'], 'x-Region was stored and not sent again');
    assert.deepEqual(applyCredentialUpdate({ apiKey: null, authorization: null, headers: {} }, {}, true).cleared, [], 'nothing stored, nothing cleared');
  });

  it('refuses an API key header alone after a change of origin, saying the value must be sent again', () => {
    assert.throws(() => applyCredentialUpdate(STORED, { api_key: { header: 'x-new' } }, true), (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.deepEqual(err.details.map((d) => d.path), ['api_key.value']);
      assert.match(err.details[0].message, /must be sent again: the URL's origin \(scheme, host or port\) changed/);
      return true;
    });
  });

  it('masks audit URLs to their origin: the path and query may be the credential', () => {
    assert.equal(maskUrlForAudit('https://hooks.slack.com/services/T000/B000/XXXXSECRET'), 'https://hooks.slack.com/****');
    assert.equal(maskUrlForAudit('https://user:pass@example.com:8443/hook?token=abc'), 'https://example.com:8443/****');
    assert.equal(maskUrlForAudit('http://127.0.0.1:3000'), 'http://127.0.0.1:3000/****');
    assert.equal(maskUrlForAudit('not a url/with-token'), '****');
    assert.doesNotThrow(() => new URL(maskUrlForAudit('https://hooks.slack.com/services/x')), 'still a valid URL');
  });
});
