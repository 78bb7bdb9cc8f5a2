import assert from 'node:assert/strict';
import type { Webhook } from '../../admin-ui/src/api-types.js';
import { clearedNotice, credentialsToClear, isOtherOrigin, originChangeNotice } from '../../admin-ui/src/credential-origin.js';
import { headerRow } from '../../admin-ui/src/headers-editor.js';
import { buildWebhookBody, type WebhookFormState } from '../../admin-ui/src/webhook-body.js';

const STORED: Webhook = {
  id: 'wh_1', name: 'CRM', description: '', url: 'https://crm.example.com/hooks', events: ['USER_*'], notification_type: 'REST',
  api_key: { header: 'x-crm-key', value: '****cdef' }, authorization: '****cdef', headers: { 'x-tenant': '****alue' },
  signature_scheme: 'hmac-sha256', public_key: null, enabled: true, rate_limit_per_second: null, ordering: 'none',
  status: { state: 'enabled', reason: null, disabled_at: null, failing_since: null },
  created_at: '2026-12-01T00:00:00.000Z', updated_at: '2026-12-01T00:00:00.000Z', secrets_readable: true, secret_error: null,
};

/** The form as it opens on `STORED`, with `changes` typed in. */
function editing(changes: Partial<WebhookFormState> = {}): WebhookFormState {
  return {
    name: 'CRM', description: '', url: STORED.url, enabled: true, rateLimit: '', rateLimitBadInput: false, events: ['USER_*'],
    apiKeyHeader: 'x-crm-key', apiKeyValue: '', removeApiKey: false, authorization: '', removeAuthorization: false,
    headerRows: [headerRow('x-tenant', '', '****alue')], signatureScheme: 'hmac-sha256', ordering: 'none', ...changes,
  };
}

describe('webhook form: body and origin notice', () => {
  it('says, before saving, which stored credentials a URL on another host would clear', () => {
    assert.deepEqual(credentialsToClear(STORED, 'https://crm.example.com/other?x=1', editing()), [], 'same origin');
    assert.deepEqual(credentialsToClear(STORED, 'HTTPS://CRM.example.com:443/x', editing()), [], 'same origin, spelt otherwise');
    assert.deepEqual(credentialsToClear(STORED, 'https://crm.example.com:8443/hooks', editing()), ['api_key', 'authorization', 'headers']);
    assert.deepEqual(credentialsToClear(STORED, 'https://new.example.com/h', editing({ apiKeyValue: 'k'.repeat(20), removeAuthorization: true })), ['headers']);
    assert.deepEqual(credentialsToClear(null, 'https://new.example.com/h', editing()), [], 'a create has nothing stored');
    assert.equal(isOtherOrigin(STORED.url, 'not a url yet'), false, 'half-typed URLs do not flash a notice');
    assert.equal(originChangeNotice(['api_key', 'authorization', 'headers']),
      'Changing the host clears the stored API key, authorization and custom headers — enter them again to keep them.');
    assert.equal(originChangeNotice(['api_key']), 'Changing the host clears the stored API key — enter it again to keep it.');
    assert.match(clearedNotice(['authorization', 'headers']), /^The URL's host changed, so the stored authorization and custom headers were cleared/);
  });

  it('refuses to send an API key header alone to a new host, where the API would need the value', () => {
    const renamed = buildWebhookBody(editing({ url: 'https://new.example.com/h', apiKeyHeader: 'x-other' }), STORED);
    assert.match(String(renamed.errors.fields['api_key.value']), /Enter the API key again/);
    const sameHost = buildWebhookBody(editing({ apiKeyHeader: 'x-other' }), STORED);
    assert.deepEqual(sameHost.body, { api_key: { header: 'x-other' } });
    const moved = buildWebhookBody(editing({ url: 'https://new.example.com/h' }), STORED);
    assert.deepEqual(moved.body, { url: 'https://new.example.com/h' }, 'the stored credentials are simply not sent');
  });

  it('sends signature_scheme on create only for Ed25519, and on edit only when it changes', () => {
    const create = (signatureScheme: WebhookFormState['signatureScheme']) =>
      buildWebhookBody({ ...editing({ signatureScheme, headerRows: [], apiKeyHeader: '' }), url: 'https://crm.example.com/h' }, null).body;
    assert.equal('signature_scheme' in create('hmac-sha256'), false);
    assert.equal(create('ed25519').signature_scheme, 'ed25519');
    assert.deepEqual(buildWebhookBody(editing(), STORED).body, {});
    assert.deepEqual(buildWebhookBody(editing({ signatureScheme: 'ed25519' }), STORED).body, { signature_scheme: 'ed25519' });
  });

  it('sends ordering on create only for per-subject order, and on edit only when it changes', () => {
    const create = (ordering: WebhookFormState['ordering']) =>
      buildWebhookBody({ ...editing({ ordering, headerRows: [], apiKeyHeader: '' }), url: 'https://crm.example.com/h' }, null).body;
    assert.equal('ordering' in create('none'), false);
    assert.equal(create('per_subject').ordering, 'per_subject');
    assert.deepEqual(buildWebhookBody(editing({ ordering: 'per_subject' }), STORED).body, { ordering: 'per_subject' });
    assert.deepEqual(buildWebhookBody(editing(), { ...STORED, ordering: 'per_subject' }).body, { ordering: 'none' });
  });
});
