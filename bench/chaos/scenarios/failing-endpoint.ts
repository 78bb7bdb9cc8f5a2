/**
 * Scenario e: an endpoint that answers every request with HTTP 500 at once, beside a healthy one.
 */
import { fmt } from '../../measure.js';
import { RecordingReceiver } from '../receivers.js';
import { FAST_DELIVERY } from '../scenario-kit.js';
import { runBadNeighbour, type NeighbourProfile, type NeighbourResult } from './bad-neighbour.js';
import type { ScenarioEnv } from '../scenario-kit.js';

export const FULL: NeighbourProfile = { rate: 300, seconds: 10, graceMs: 60_000, maxMs: 180_000, options: {} };
export const QUICK: NeighbourProfile = { rate: 50, seconds: 1.5, graceMs: 20_000, maxMs: 60_000, options: { delivery: FAST_DELIVERY } };

export function runFailingEndpoint(profile: NeighbourProfile, env: ScenarioEnv): Promise<NeighbourResult> {
  let failing: RecordingReceiver;
  return runBadNeighbour({
    key: '5xx',
    title: 'e. 5xx endpoint beside a healthy one',
    badDescription: 'a receiver on 127.0.0.1 that answers every request `500` at once',
    async setup(resources) {
      failing = await RecordingReceiver.start({ status: 500 });
      resources.defer('5xx receiver', () => failing.close());
      return {
        badUrl: `${failing.url}/hook`,
        figures: () => [
          { label: '5xx endpoint: requests answered 500 (distinct deliveries)', value: `${fmt(failing.receipts.length)} (${fmt(failing.webhookIds.size)})` },
        ],
      };
    },
  }, profile, env);
}
