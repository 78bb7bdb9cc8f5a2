import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createWebhooksPlugin, InvalidOptionsError } from '../../plugin/index.js';
import { resolveOptions, type Logger } from '../../plugin/options.js';
import { isPinoLogger } from '../../plugin/plugin-logger.js';

const minimal = () => ({
  storage: { postgres: { connectionString: 'postgresql://u:p@127.0.0.1:1/x' } },
  encryptionKeys: [{ id: 'k', key: randomBytes(32).toString('base64') }],
  runWorker: false,
});

/** A real pino logger writing its JSON lines into an array, synchronously. */
function recordingPino() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info', base: null, timestamp: false }, sink), lines };
}

/** Records each call with its arguments exactly as received. */
function recordingLogger() {
  const calls: Array<[string, ...unknown[]]> = [];
  const logger = {
    info: (...args: unknown[]) => void calls.push(['info', ...args]),
    warn: (...args: unknown[]) => void calls.push(['warn', ...args]),
    error: (...args: unknown[]) => void calls.push(['error', ...args]),
  };
  return { logger, calls };
}

describe('plugin logger', () => {
  it('keeps every field when the host passes a pino logger as it is', () => {
    const { logger, lines } = recordingPino();
    const resolved = resolveOptions({ ...minimal(), logger: logger as unknown as Logger });
    resolved.logger.warn('Delivery failed', { webhookId: 'wh_1', status: 503 });
    resolved.logger.error('stop() gave up');
    resolved.logger.info('Worker started', { worker: 'w1' });
    assert.deepEqual(lines, [
      { level: 40, webhookId: 'wh_1', status: 503, msg: 'Delivery failed' },
      { level: 50, msg: 'stop() gave up' },
      { level: 30, worker: 'w1', msg: 'Worker started' },
    ]);
  });

  it('recognises a pino child logger and keeps its bindings', () => {
    const { logger, lines } = recordingPino();
    const child = logger.child({ component: 'webhooks' });
    const plugin = createWebhooksPlugin({ ...minimal(), logger: child as unknown as Logger });
    plugin.logger.warn('Egress refused', { host: 'internal' });
    assert.deepEqual(lines, [{ level: 40, component: 'webhooks', host: 'internal', msg: 'Egress refused' }]);
    return plugin.stop();
  });

  it('calls a logger declared fields-first as (fields, message)', () => {
    const { logger, calls } = recordingLogger();
    const resolved = resolveOptions({ ...minimal(), logger, loggerStyle: 'fields-first' });
    resolved.logger.warn('Delivery failed', { status: 503 });
    resolved.logger.error('No fields');
    assert.deepEqual(calls, [['warn', { status: 503 }, 'Delivery failed'], ['error', 'No fields']]);
  });

  it('calls any other logger as (message, fields), unchanged', () => {
    const { logger, calls } = recordingLogger();
    // winston-like: a child() and a levels table, but not pino's.
    const winstonLike = Object.assign(logger, { child: () => logger, levels: { error: 0, warn: 1, info: 2 } });
    const resolved = resolveOptions({ ...minimal(), logger: winstonLike });
    assert.equal(resolved.logger, winstonLike);
    resolved.logger.warn('Delivery failed', { status: 503 });
    assert.deepEqual(calls, [['warn', 'Delivery failed', { status: 503 }]]);
  });

  it('lets loggerStyle message-first override the pino detection', () => {
    const { logger } = recordingPino();
    const resolved = resolveOptions({ ...minimal(), logger: logger as unknown as Logger, loggerStyle: 'message-first' });
    assert.equal(resolved.logger, logger);
  });

  it('tells pino from loggers that only look a little like it', () => {
    assert.equal(isPinoLogger(recordingPino().logger), true);
    assert.equal(isPinoLogger(recordingPino().logger.child({ a: 1 })), true);
    assert.equal(isPinoLogger(console), false);
    assert.equal(isPinoLogger({ levels: { values: { info: 30 } }, child: () => undefined }), false);
  });

  it('refuses an unknown loggerStyle, naming the option', () => {
    assert.throws(() => resolveOptions({ ...minimal(), loggerStyle: 'pino' }), (error: unknown) =>
      error instanceof InvalidOptionsError && /loggerStyle/.test(error.message));
  });
});
