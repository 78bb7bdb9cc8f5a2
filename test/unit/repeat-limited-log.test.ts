import assert from 'node:assert/strict';
import { repeatLimitedLog } from '../../plugin/repeat-limited-log.js';

describe('repeat-limited log', () => {
  it('logs the first of a repeating message, holds repeats for the window, then says how many it held', () => {
    const lines: Array<[string, string, unknown]> = [];
    const logger = {
      info: () => undefined,
      warn: (m: string, f?: unknown) => void lines.push(['warn', m, f]),
      error: (m: string, f?: unknown) => void lines.push(['error', m, f]),
    };
    let now = 0;
    const log = repeatLimitedLog(logger, 1_000, () => now);
    log('warn', 'Database connection error', { error: 'a' });
    for (let i = 0; i < 50; i += 1) log('warn', 'Database connection error', { error: 'b' });
    log('error', 'Agenda error', { error: 'c' });
    now = 1_000;
    log('warn', 'Database connection error', { error: 'd' });
    assert.deepEqual(lines, [
      ['warn', 'Database connection error', { error: 'a' }],
      ['error', 'Agenda error', { error: 'c' }],
      ['warn', 'Database connection error', { error: 'd', repeated: 50 }],
    ]);
  });
});
