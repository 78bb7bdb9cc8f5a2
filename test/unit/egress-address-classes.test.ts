import assert from 'node:assert/strict';
import { describeForbiddenAddress, isForbiddenAddress } from '../../plugin/security/egress/address-classes.js';

describe('egress address classes', () => {
  describe('isForbiddenAddress', () => {
    const forbidden: Array<[string, string]> = [
      ['0.0.0.0', '"this network" 0/8'],
      ['0.255.255.255', '"this network" 0/8, last address'],
      ['10.0.0.1', 'private 10/8'],
      ['10.255.255.255', 'private 10/8, last address'],
      ['100.64.0.1', 'carrier-grade NAT 100.64/10'],
      ['100.127.255.255', 'carrier-grade NAT, last address'],
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback, not only 127.0.0.1'],
      ['169.254.169.254', 'cloud metadata endpoint'],
      ['169.254.0.1', 'link-local 169.254/16'],
      ['172.16.0.1', 'private 172.16/12'],
      ['172.31.255.255', 'private 172.16/12, last address'],
      ['192.0.0.1', 'IETF protocol assignments 192.0.0/24'],
      ['192.0.2.1', 'documentation TEST-NET-1'],
      ['192.88.99.1', 'deprecated 6to4 relay anycast'],
      ['192.168.1.1', 'private 192.168/16'],
      ['198.18.0.1', 'benchmarking 198.18/15'],
      ['198.19.255.255', 'benchmarking 198.18/15, last address'],
      ['198.51.100.7', 'documentation TEST-NET-2'],
      ['203.0.113.9', 'documentation TEST-NET-3'],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast (SSDP)'],
      ['240.0.0.1', 'reserved 240/4'],
      ['255.255.255.255', 'limited broadcast'],
      ['::', 'IPv6 unspecified'],
      ['::1', 'IPv6 loopback'],
      ['0:0:0:0:0:0:0:1', 'IPv6 loopback, uncompressed'],
      ['fc00::1', 'unique local fc00::/7'],
      ['fd12:3456:789a::1', 'unique local fd00::/8 half'],
      ['fe80::1', 'link-local fe80::/10'],
      ['fe80::1%eth0', 'link-local with a zone id'],
      ['febf:ffff::1', 'link-local, last /16'],
      ['fec0::1', 'deprecated site-local'],
      ['ff02::1', 'multicast ff00::/8'],
      ['2001:db8::1', 'documentation 2001:db8::/32'],
      ['3fff::1', 'documentation 3fff::/20'],
      ['100::1', 'discard-only 100::/64'],
      ['2001::1', 'Teredo 2001::/32'],
      ['2001:2::1', 'benchmarking, inside 2001::/23'],
      ['2001:1ff::1', 'IETF protocol assignments, last /32 of 2001::/23'],
      ['2002:7f00:1::1', '6to4 2002::/16'],
      ['::ffff:127.0.0.1', 'IPv4-mapped loopback, dotted'],
      ['::ffff:7f00:1', 'IPv4-mapped loopback, hex'],
      ['::ffff:169.254.169.254', 'IPv4-mapped cloud metadata'],
      ['::ffff:a00:1', 'IPv4-mapped private 10.0.0.1'],
      ['0:0:0:0:0:ffff:c0a8:101', 'IPv4-mapped 192.168.1.1, uncompressed'],
      ['64:ff9b::7f00:1', 'NAT64 of loopback'],
      ['64:ff9b::169.254.169.254', 'NAT64 of cloud metadata'],
      ['64:ff9b:1::a00:1', 'local-use NAT64 64:ff9b:1::/48'],
      ['::127.0.0.1', 'deprecated IPv4-compatible ::/96'],
      ['::ffff:0:7f00:1', 'IPv4-translated (SIIT), outside global unicast'],
      ['4000::1', 'unallocated, outside 2000::/3'],
    ];
    for (const [ip, why] of forbidden) {
      it(`forbids ${ip} (${why})`, () => {
        assert.equal(isForbiddenAddress(ip), true);
      });
    }

    const allowed: Array<[string, string]> = [
      ['93.184.216.34', 'public IPv4'],
      ['8.8.8.8', 'public IPv4'],
      ['100.63.255.255', 'just below carrier-grade NAT'],
      ['100.128.0.0', 'just above carrier-grade NAT'],
      ['172.15.255.255', 'just below 172.16/12'],
      ['172.32.0.0', 'just above 172.16/12'],
      ['169.253.255.255', 'just below link-local'],
      ['198.17.255.255', 'just below benchmarking'],
      ['198.20.0.0', 'just above benchmarking'],
      ['223.255.255.255', 'just below multicast'],
      ['2606:4700::1', 'public IPv6'],
      ['2001:4860:4860::8888', 'public IPv6'],
      ['2001:200::1', 'just above 2001::/23'],
      ['2003::1', 'just above 6to4'],
      ['::ffff:93.184.216.34', 'IPv4-mapped public address, dotted'],
      ['::ffff:5db8:d822', 'IPv4-mapped public address, hex'],
      ['64:ff9b::5db8:d822', 'NAT64 of a public address'],
    ];
    for (const [ip, why] of allowed) {
      it(`allows ${ip} (${why})`, () => {
        assert.equal(isForbiddenAddress(ip), false);
      });
    }

    it('fails closed on strings that are not IP addresses', () => {
      for (const notIp of ['', 'example.com', '999.1.1.1', '127.1', '1.2.3.4.5', ':::1']) {
        assert.equal(isForbiddenAddress(notIp), true, notIp);
      }
    });

    it('names the range in describeForbiddenAddress, and returns undefined for public addresses', () => {
      assert.equal(describeForbiddenAddress('169.254.169.254'), 'link-local, incl. cloud metadata (169.254.0.0/16)');
      assert.equal(describeForbiddenAddress('::ffff:7f00:1'), 'IPv4-mapped loopback (127.0.0.0/8)');
      assert.equal(describeForbiddenAddress('64:ff9b::a00:1'), 'NAT64-embedded private (10.0.0.0/8)');
      assert.equal(describeForbiddenAddress('::1'), 'loopback (::1/128)');
      assert.equal(describeForbiddenAddress('nope'), 'not an IP address');
      assert.equal(describeForbiddenAddress('93.184.216.34'), undefined);
    });
  });
});
