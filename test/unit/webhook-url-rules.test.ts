import assert from 'node:assert/strict';
import { WebhooksError } from '../../plugin/errors.js';
import type { EgressPolicy } from '../../plugin/security/egress/egress-allow-list.js';
import { EgressBlockedError, InvalidWebhookUrlError, type InvalidUrlReason } from '../../plugin/security/egress/egress-errors.js';
import { assertLiteralHostAllowed, checkUrlAtSave } from '../../plugin/security/egress/webhook-url-rules.js';

const BLOCK_ALL: EgressPolicy = { allow: [], httpsOnly: false };
const ALLOW_LOOPBACK_V4: EgressPolicy = { allow: ['127.0.0.0/8'], httpsOnly: false };

describe('webhook URL rules', () => {
  describe('checkUrlAtSave', () => {
    const rejects = (url: string, policy: EgressPolicy, reason: InvalidUrlReason): void => {
      assert.throws(
        () => checkUrlAtSave(url, policy),
        (err: unknown) => {
          assert.ok(err instanceof InvalidWebhookUrlError, `${url}: ${String(err)}`);
          assert.ok(err instanceof WebhooksError);
          assert.equal(err.code, 'invalid_url');
          assert.equal(err.reason, reason, url);
          assert.equal(err.status, 400);
          assert.deepEqual(err.details, [{ path: 'url', message: reason }]);
          return true;
        },
      );
    };
    const httpsOnly: EgressPolicy = { allow: [], httpsOnly: true };

    it('accepts an https URL with a public hostname', () => {
      assert.doesNotThrow(() => checkUrlAtSave('https://hooks.example.com/receive?x=1', httpsOnly));
    });

    it('accepts a public literal IPv4 or IPv6 address', () => {
      assert.doesNotThrow(() => checkUrlAtSave('https://93.184.216.34/', httpsOnly));
      assert.doesNotThrow(() => checkUrlAtSave('https://[2606:4700::1]:8443/', httpsOnly));
    });

    it('accepts a hostname that may resolve anywhere: it is checked when connecting', () => {
      assert.doesNotThrow(() => checkUrlAtSave('https://internal.corp.example/', httpsOnly));
    });

    it('rejects text that is not an absolute URL', () => {
      rejects('not a url', httpsOnly, 'unparseable');
      rejects('/relative/path', httpsOnly, 'unparseable');
      rejects('https://', httpsOnly, 'unparseable');
    });

    it('rejects schemes other than http and https', () => {
      for (const url of ['ftp://example.com/', 'file:///etc/passwd', 'gopher://example.com/', 'javascript:alert(1)', 'ws://example.com/']) {
        rejects(url, BLOCK_ALL, 'unsupported_scheme');
      }
    });

    it('rejects http when httpsOnly is set, and accepts it otherwise', () => {
      rejects('http://hooks.example.com/', httpsOnly, 'https_required');
      assert.doesNotThrow(() => checkUrlAtSave('http://hooks.example.com/', BLOCK_ALL));
    });

    it('rejects credentials in the URL', () => {
      rejects('https://user:pass@hooks.example.com/', httpsOnly, 'credentials_in_url');
      rejects('https://user@hooks.example.com/', httpsOnly, 'credentials_in_url');
      rejects('https://:pass@hooks.example.com/', httpsOnly, 'credentials_in_url');
    });

    it('rejects forbidden literal addresses, including cloud metadata', () => {
      for (const url of [
        'http://127.0.0.1:8080/',
        'http://169.254.169.254/latest/meta-data/',
        'http://10.0.0.1/',
        'http://0.0.0.0/',
        'http://[::1]/',
        'http://[fe80::1]/',
        'http://[::ffff:127.0.0.1]/',
        'http://[::ffff:7f00:1]/',
      ]) {
        rejects(url, BLOCK_ALL, 'forbidden_address');
      }
    });

    it('sees through the alternative IPv4 spellings the URL parser normalises', () => {
      rejects('http://2130706433/', BLOCK_ALL, 'forbidden_address');
      rejects('http://0x7f.1/', BLOCK_ALL, 'forbidden_address');
      rejects('http://0177.0.0.1/', BLOCK_ALL, 'forbidden_address');
      rejects('http://127.1/', BLOCK_ALL, 'forbidden_address');
    });

    it('names the address and range in the message', () => {
      assert.throws(() => checkUrlAtSave('http://169.254.169.254/', BLOCK_ALL), /169\.254\.169\.254.*link-local/);
    });

    it('accepts a forbidden literal address once it is allow-listed', () => {
      assert.doesNotThrow(() => checkUrlAtSave('http://127.0.0.1:8080/', ALLOW_LOOPBACK_V4));
      assert.doesNotThrow(() => checkUrlAtSave('http://[::1]:8080/', { allow: ['::1/128'], httpsOnly: false }));
      assert.doesNotThrow(() => checkUrlAtSave('http://10.0.0.1/', { allow: ['10.0.0.1'], httpsOnly: false }));
    });

    it('rejects localhost and *.localhost in any spelling', () => {
      for (const url of ['http://localhost:3000/', 'http://LOCALHOST/', 'http://localhost./', 'http://api.localhost/']) {
        rejects(url, BLOCK_ALL, 'localhost');
      }
    });

    it('accepts localhost when the hostname or a loopback range is allow-listed', () => {
      assert.doesNotThrow(() => checkUrlAtSave('http://localhost:3000/', { allow: ['localhost'], httpsOnly: false }));
      assert.doesNotThrow(() => checkUrlAtSave('http://localhost:3000/', ALLOW_LOOPBACK_V4));
      assert.doesNotThrow(() => checkUrlAtSave('http://localhost:3000/', { allow: ['::1/128'], httpsOnly: false }));
    });

    it('does not treat names that merely contain localhost as localhost', () => {
      assert.doesNotThrow(() => checkUrlAtSave('http://localhost.example.com/', BLOCK_ALL));
      assert.doesNotThrow(() => checkUrlAtSave('http://mylocalhost/', BLOCK_ALL));
    });
  });

  describe('assertLiteralHostAllowed', () => {
    it('throws EgressBlockedError for a forbidden literal IP', () => {
      assert.throws(
        () => assertLiteralHostAllowed('http://127.0.0.1:9/', BLOCK_ALL),
        (err: unknown) => {
          assert.ok(err instanceof EgressBlockedError);
          assert.equal(err.code, 'egress_blocked');
          assert.equal(err.address, '127.0.0.1');
          assert.equal(err.hostname, '127.0.0.1');
          assert.equal(err.range, 'loopback (127.0.0.0/8)');
          assert.match(err.message, /Refused to connect to 127\.0\.0\.1: .*loopback.*allow-list/);
          return true;
        },
      );
      assert.throws(() => assertLiteralHostAllowed(new URL('http://[::ffff:a9fe:a9fe]/'), BLOCK_ALL), EgressBlockedError);
    });

    it('passes allow-listed and public literal IPs', () => {
      assert.doesNotThrow(() => assertLiteralHostAllowed('http://127.0.0.1:9/', ALLOW_LOOPBACK_V4));
      assert.doesNotThrow(() => assertLiteralHostAllowed('https://93.184.216.34/', BLOCK_ALL));
    });

    it('leaves hostnames to the connect-time lookup', () => {
      assert.doesNotThrow(() => assertLiteralHostAllowed('http://localhost/', BLOCK_ALL));
    });
  });
  describe('per tenant', () => {
    const HOST_POLICY: EgressPolicy = { allow: [], allowByTenant: { acme: ['127.0.0.0/8'] }, httpsOnly: false };

    it('lets a tenant save the private addresses its own list admits, and no other tenant', () => {
      assert.doesNotThrow(() => checkUrlAtSave('http://127.0.0.1:8080/', HOST_POLICY, 'acme'));
      assert.doesNotThrow(() => checkUrlAtSave('http://localhost:8080/', HOST_POLICY, 'acme'));
      for (const tenant of ['globex', undefined]) {
        assert.throws(() => checkUrlAtSave('http://127.0.0.1:8080/', HOST_POLICY, tenant),
          (err: unknown) => err instanceof InvalidWebhookUrlError && err.reason === 'forbidden_address', String(tenant));
        assert.throws(() => checkUrlAtSave('http://localhost:8080/', HOST_POLICY, tenant),
          (err: unknown) => err instanceof InvalidWebhookUrlError && err.reason === 'localhost', String(tenant));
      }
    });

    it('refuses another tenant\'s private literal address before a request', () => {
      assert.doesNotThrow(() => assertLiteralHostAllowed('http://127.0.0.1:9/', HOST_POLICY, 'acme'));
      assert.throws(() => assertLiteralHostAllowed('http://127.0.0.1:9/', HOST_POLICY, 'globex'), EgressBlockedError);
      assert.throws(() => assertLiteralHostAllowed('http://127.0.0.1:9/', HOST_POLICY), EgressBlockedError);
    });
  });
});
