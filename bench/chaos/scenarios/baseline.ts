/**
 * Reference run, no fault: the healthy endpoint alone at the rate of scenarios d-f, on the same
 * machine in the same run. What the healthy endpoint's latency is beside a bad neighbour means
 * little without what it is without one.
 */
import { runBadNeighbour, type NeighbourProfile, type NeighbourResult } from './bad-neighbour.js';
import type { ScenarioEnv } from '../scenario-kit.js';

export const FULL: NeighbourProfile = { rate: 300, seconds: 10, graceMs: 60_000, maxMs: 120_000, options: {} };

export function runBaseline(profile: NeighbourProfile, env: ScenarioEnv): Promise<NeighbourResult> {
  return runBadNeighbour({
    key: 'baseline',
    title: '0. Baseline: the healthy endpoint alone (no fault)',
    badDescription: '',
    setup: async () => ({ badUrl: null, figures: () => [] }),
  }, profile, env);
}
