/**
 * Scenario f: slow DNS. A DNS server on 127.0.0.1 (UDP, `test/support/dns-server.ts`) answers
 * one webhook's host name later than the plugin's DNS deadline, and another webhook's name at
 * once; both names point at receivers on 127.0.0.1. The plugin is pointed at that server with
 * `egress.dnsServers` and given `delivery.dnsTimeoutMs`; a plugin that does not know those
 * options yet makes the scenario report "not supported yet".
 */
import { fmt } from '../../measure.js';
import { startDnsServer, type TestDnsServer } from '../../../test/support/dns-server.js';
import { RecordingReceiver } from '../receivers.js';
import { FAST_DELIVERY } from '../scenario-kit.js';
import { runBadNeighbour, type NeighbourProfile, type NeighbourResult } from './bad-neighbour.js';
import type { ScenarioEnv } from '../scenario-kit.js';

export interface SlowDnsProfile extends NeighbourProfile {
  /** The plugin's `delivery.dnsTimeoutMs` for this run. */
  dnsTimeoutMs: number;
  /** How late the slow name is answered (longer than dnsTimeoutMs: every lookup of it times out). */
  slowAnswerMs: number;
}

export const FULL: SlowDnsProfile = { rate: 300, seconds: 10, graceMs: 60_000, maxMs: 180_000, options: {}, dnsTimeoutMs: 2_000, slowAnswerMs: 5_000 };
export const QUICK: SlowDnsProfile = {
  rate: 50, seconds: 1.5, graceMs: 20_000, maxMs: 60_000, options: { delivery: FAST_DELIVERY }, dnsTimeoutMs: 500, slowAnswerMs: 1_500,
};

export const SLOW_NAME = 'slow.chaos.test';
export const FAST_NAME = 'fast.chaos.test';

export function runSlowDns(profile: SlowDnsProfile, env: ScenarioEnv): Promise<NeighbourResult & { dnsQueries: { slow: number; fast: number } }> {
  let dns: TestDnsServer | null = null;
  let slowReceiver: RecordingReceiver;
  const result = runBadNeighbour({
    key: 'slow-dns',
    title: 'f. Slow DNS for one endpoint',
    badDescription: `a receiver reached as \`${SLOW_NAME}\`, a name the DNS server on 127.0.0.1 answers after ${fmt(profile.slowAnswerMs)} ms ` +
      `(\`delivery.dnsTimeoutMs\` ${fmt(profile.dnsTimeoutMs)}); the healthy receiver is reached as \`${FAST_NAME}\`, answered at once by the same server (TTL 1 s for both)`,
    async setup(resources, healthy) {
      slowReceiver = await RecordingReceiver.start();
      resources.defer('slow-DNS receiver', () => slowReceiver.close());
      dns = await startDnsServer({
        [SLOW_NAME]: { a: ['127.0.0.1'], ttl: 1, delayMs: profile.slowAnswerMs },
        [FAST_NAME]: { a: ['127.0.0.1'], ttl: 1 },
      });
      const server = dns;
      resources.defer('DNS server', () => server.close());
      return {
        badUrl: `http://${SLOW_NAME}:${slowReceiver.port}/hook`,
        healthyUrl: `http://${FAST_NAME}:${healthy.port}/hook`,
        required: { 'egress.dnsServers': [server.address], 'delivery.dnsTimeoutMs': profile.dnsTimeoutMs },
        figures: () => [
          { label: `DNS queries for ${SLOW_NAME} / ${FAST_NAME}`, value: `${fmt(server.queriesFor(SLOW_NAME))} / ${fmt(server.queriesFor(FAST_NAME))}` },
          { label: 'Slow-DNS endpoint: requests received', value: fmt(slowReceiver.receipts.length) },
        ],
      };
    },
  }, profile, env);
  return result.then((r) => ({ ...r, dnsQueries: { slow: dns?.queriesFor(SLOW_NAME) ?? 0, fast: dns?.queriesFor(FAST_NAME) ?? 0 } }));
}
