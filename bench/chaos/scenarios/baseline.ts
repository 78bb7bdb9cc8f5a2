/**
 * Reference run, no fault: the healthy endpoint alone at the rate of scenarios d-f, on the same
 * machine in the same run. What the healthy endpoint's latency is beside a bad neighbour means
 * little without what it is without one.
 */
import { runBadNeighbour, type NeighbourProfile, type NeighbourResult } from './bad-neighbour.js';
import type { ScenarioEnv } from '../scenario-kit.js';

// As long as the black-hole scenario, so the two compare like for like (a job hand-over included).
export const FULL: NeighbourProfile = { rate: 300, seconds: 40, graceMs: 60_000, maxMs: 180_000, options: {} };

export function runBaseline(profile: NeighbourProfile, env: ScenarioEnv): Promise<NeighbourResult> {
  return runBadNeighbour({
    key: 'baseline',
    title: '0. Baseline: the healthy endpoint alone (no fault)',
    badDescription: '',
    setup: async () => ({ badUrl: null, figures: () => [] }),
  }, profile, env);
}
