import assert from 'node:assert/strict';
import { failedAttemptLog } from '../../plugin/delivery/failed-attempt-log.js';

describe('failed-attempt log', () => {
  it('logs one line per webhook per window, folding the failures in between into `repeated`', () => {
    const lines: Array<[string, Record<string, unknown> | undefined]> = [];
    const logger = { info: () => undefined, warn: (m: string, f?: Record<string, unknown>) => void lines.push([m, f]), error: () => undefined };
    let now = 0;
    const log = failedAttemptLog(logger, 30_000, () => now);
    const failed = (webhookId: string, attempt: number) => log({
      webhookId, tenantId: 'acme', deliveryId: `msg_${attempt}`, outcome: 'http_error', statusCode: 503, attempt,
    });
    failed('wh_a', 1);
    for (let i = 2; i <= 20; i += 1) failed('wh_a', i);
    failed('wh_b', 1);
    now = 29_999;
    failed('wh_a', 21);
    now = 30_000;
    failed('wh_a', 22);
    assert.deepEqual(lines, [
      ['Delivery attempt failed', { webhookId: 'wh_a', tenantId: 'acme', deliveryId: 'msg_1', outcome: 'http_error', statusCode: 503, attempt: 1 }],
      ['Delivery attempt failed', { webhookId: 'wh_b', tenantId: 'acme', deliveryId: 'msg_1', outcome: 'http_error', statusCode: 503, attempt: 1 }],
      ['Delivery attempt failed', { webhookId: 'wh_a', tenantId: 'acme', deliveryId: 'msg_22', outcome: 'http_error', statusCode: 503, attempt: 22, repeated: 20 }],
    ]);
  });
});
