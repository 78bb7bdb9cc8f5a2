import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { InvalidOptionsError } from '../../plugin/errors.js';
import { resolveOptions } from '../../plugin/options.js';
import {
  assertValidEgressPolicy,
  InvalidAllowListEntryError,
  isAllowListed,
  policyForTenant,
  type EgressPolicy,
} from '../../plugin/security/egress/egress-allow-list.js';

const BLOCK_ALL: EgressPolicy = { allow: [], httpsOnly: false };

describe('egress allow-list', () => {
  describe('isAllowListed', () => {
    const policy = (...allow: string[]): EgressPolicy => ({ allow, httpsOnly: true });

    it('matches an IPv4 CIDR', () => {
      assert.equal(isAllowListed('10.1.2.3', '', policy('10.1.0.0/16')), true);
      assert.equal(isAllowListed('10.2.0.1', '', policy('10.1.0.0/16')), false);
    });

    it('matches an IPv6 CIDR', () => {
      assert.equal(isAllowListed('::1', '', policy('::1/128')), true);
      assert.equal(isAllowListed('fd00:1::5', '', policy('fd00:1::/32')), true);
      assert.equal(isAllowListed('fd00:2::5', '', policy('fd00:1::/32')), false);
    });

    it('treats a bare address as a single-address CIDR', () => {
      assert.equal(isAllowListed('10.0.0.7', '', policy('10.0.0.7')), true);
      assert.equal(isAllowListed('10.0.0.8', '', policy('10.0.0.7')), false);
      assert.equal(isAllowListed('::1', '', policy('::1')), true);
    });

    it('matches IPv4-mapped IPv6 addresses against IPv4 entries and vice versa', () => {
      assert.equal(isAllowListed('::ffff:127.0.0.1', '', policy('127.0.0.0/8')), true);
      assert.equal(isAllowListed('::ffff:7f00:1', '', policy('127.0.0.0/8')), true);
      assert.equal(isAllowListed('127.0.0.9', '', policy('::ffff:127.0.0.0/104')), true);
    });

    it('does not let an IPv4 entry admit a NAT64 address, which is a different host', () => {
      assert.equal(isAllowListed('64:ff9b::7f00:1', '', policy('127.0.0.0/8')), false);
    });

    it('does not let an IPv6 entry admit IPv4 addresses', () => {
      assert.equal(isAllowListed('127.0.0.1', '', policy('::/0')), false);
    });

    it('matches an exact hostname, ignoring case and a trailing dot, whatever the address', () => {
      assert.equal(isAllowListed('10.0.0.5', 'receiver.internal', policy('receiver.internal')), true);
      assert.equal(isAllowListed('10.0.0.5', 'Receiver.Internal.', policy('receiver.internal')), true);
      assert.equal(isAllowListed('10.0.0.5', 'localhost', policy('LOCALHOST')), true);
    });

    it('does not extend a hostname entry to subdomains or parents', () => {
      assert.equal(isAllowListed('10.0.0.5', 'evil.receiver.internal', policy('receiver.internal')), false);
      assert.equal(isAllowListed('10.0.0.5', 'internal', policy('receiver.internal')), false);
    });

    it('allows nothing with an empty allow-list', () => {
      assert.equal(isAllowListed('127.0.0.1', 'localhost', BLOCK_ALL), false);
    });

    it('rejects allow-list entries that are neither CIDR, address nor hostname, naming the entry', () => {
      for (const bad of ['10.0.0.0/33', '::1/129', '10.0.0.0/8/9', '10.0.0.0/x', '10.0.0.0/', 'nope/8', '*.internal', 'http://x', '', '::ffff:0:0/95']) {
        assert.throws(
          () => assertValidEgressPolicy(policy('127.0.0.0/8', bad)),
          (err: unknown) => err instanceof TypeError && err.message.includes(`allow[1] "${bad}"`),
          bad,
        );
      }
    });

    it('accepts CIDRs, addresses and hostnames', () => {
      assert.doesNotThrow(() =>
        assertValidEgressPolicy(policy('127.0.0.0/8', '::1/128', '10.0.0.1', 'fd00::1', 'receiver.internal', 'my_host')),
      );
    });
  });
  describe('per tenant', () => {
    const HOST_POLICY: EgressPolicy = {
      allow: ['10.0.0.0/24'],
      allowByTenant: { acme: ['127.0.0.1', 'receiver.internal'], globex: [] },
      httpsOnly: false,
    };

    it('admits what the global list or the tenant\'s own list admit, and nothing of another tenant\'s list', () => {
      const acme = policyForTenant(HOST_POLICY, 'acme');
      assert.equal(isAllowListed('127.0.0.1', '', acme), true, 'own list');
      assert.equal(isAllowListed('10.5.5.5', 'receiver.internal', acme), true, 'own hostname entry');
      assert.equal(isAllowListed('10.0.0.9', '', acme), true, 'global list');
      assert.equal(isAllowListed('127.0.0.2', '', acme), false, 'outside both');
      for (const other of ['globex', 'initech', undefined]) {
        const scoped = policyForTenant(HOST_POLICY, other);
        assert.equal(isAllowListed('127.0.0.1', '', scoped), false, `${other}: acme's address`);
        assert.equal(isAllowListed('10.5.5.5', 'receiver.internal', scoped), false, `${other}: acme's hostname`);
        assert.equal(isAllowListed('10.0.0.9', '', scoped), true, `${other}: global list`);
      }
    });

    it('gives tenants without a list of their own (or an empty one) one shared policy, and each tenant the same object every time', () => {
      const shared = policyForTenant(HOST_POLICY, undefined);
      assert.equal(policyForTenant(HOST_POLICY, 'globex'), shared);
      assert.equal(policyForTenant(HOST_POLICY, 'initech'), shared);
      assert.equal(shared.allow, HOST_POLICY.allow);
      assert.equal(policyForTenant(HOST_POLICY, 'acme'), policyForTenant(HOST_POLICY, 'acme'));
      assert.equal('allowByTenant' in policyForTenant(HOST_POLICY, 'acme'), false, 'a scoped policy is flat');
    });

    it('does not find inherited properties for tenants named like them', () => {
      for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
        assert.equal(policyForTenant(HOST_POLICY, name), policyForTenant(HOST_POLICY, undefined), name);
      }
    });

    it('names a bad entry of a tenant\'s list by its path', () => {
      assert.throws(
        () => assertValidEgressPolicy({ allow: ['127.0.0.0/8'], allowByTenant: { acme: ['10.0.0.1', 'not a host!'] }, httpsOnly: false }),
        (err: unknown) => {
          assert.ok(err instanceof InvalidAllowListEntryError);
          assert.equal(err.path, 'egress.allowByTenant.acme[1]');
          assert.match(err.message, /^egress\.allowByTenant\.acme\[1\] "not a host!" is not valid/);
          return true;
        },
      );
      assert.throws(
        () => assertValidEgressPolicy({ allow: ['nope/8'], httpsOnly: false }),
        (err: unknown) => err instanceof InvalidAllowListEntryError && err.path === 'egress.allow[0]',
      );
      assert.doesNotThrow(() => assertValidEgressPolicy(HOST_POLICY));
      assert.doesNotThrow(() => assertValidEgressPolicy(BLOCK_ALL));
    });

    it('is checked with the plugin\'s options at start-up, which name the bad path', () => {
      const options = (egress: unknown) => ({
        storage: { postgres: { connectionString: 'postgresql://u:p@127.0.0.1:1/x' } },
        encryptionKeys: [{ id: 'k', key: randomBytes(32).toString('base64') }],
        egress,
      });
      const refusal = (egress: unknown) => {
        try {
          resolveOptions(options(egress));
        } catch (error) {
          assert.ok(error instanceof InvalidOptionsError, String(error));
          return error.details;
        }
        return assert.fail('accepted');
      };
      assert.equal(refusal({ allowByTenant: { acme: ['10.0.0.1', '10.0.0.0/33'] } })[0].path, 'egress.allowByTenant.acme[1]');
      assert.equal(refusal({ allow: ['*.internal'] })[0].path, 'egress.allow[0]');
      assert.equal(refusal({ allowByTenant: { 'acme corp': [] } })[0].path, 'egress.allowByTenant.acme corp');
      const resolved = resolveOptions(options({ allowByTenant: { acme: ['receiver.internal'] } })).egress;
      assert.deepEqual(resolved, { allow: [], allowByTenant: { acme: ['receiver.internal'] }, httpsOnly: false, privateResponseBodies: false, dnsServers: [] });
    });
  });
});
