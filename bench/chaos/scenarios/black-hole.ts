/**
 * Scenario d: a black-hole endpoint (accepts the TCP connection, never answers) beside a
 * healthy one, with the realistic per-attempt timeout (delivery.timeoutMs default 15 s).
 */
import { BlackHoleServer } from '../receivers.js';
import { FAST_DELIVERY } from '../scenario-kit.js';
import { runBadNeighbour, type NeighbourProfile, type NeighbourResult } from './bad-neighbour.js';
import type { ScenarioEnv } from '../scenario-kit.js';

// 40 s: longer than one deliver job (30 s), so the hand-over to the next job happens under load.
export const FULL: NeighbourProfile = { rate: 300, seconds: 40, graceMs: 60_000, maxMs: 240_000, options: {} };
export const QUICK: NeighbourProfile = { rate: 50, seconds: 1.5, graceMs: 20_000, maxMs: 60_000, options: { delivery: FAST_DELIVERY } };

export function runBlackHole(profile: NeighbourProfile, env: ScenarioEnv): Promise<NeighbourResult> {
  let hole: BlackHoleServer;
  return runBadNeighbour({
    key: 'black-hole',
    title: 'd. Black-hole endpoint beside a healthy one',
    badDescription: 'a black hole: a TCP server on 127.0.0.1 that accepts connections, reads and never answers',
    async setup(resources) {
      hole = await BlackHoleServer.start();
      resources.defer('black hole', () => hole.close());
      return {
        badUrl: `${hole.url}/hook`,
        figures: () => [
          { label: 'Black hole: connections accepted (open at the end)', value: `${hole.connections} (${hole.openConnections})` },
        ],
      };
    },
  }, profile, env);
}
