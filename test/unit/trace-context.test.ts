import assert from 'node:assert/strict';
import { normalizeContext } from '../../plugin/events/event-context.js';
import {
  attemptTraceHeaders, isValidTraceparent, MAX_TRACESTATE_LENGTH, parseTraceparent, resolveTraceContext, sanitizeTracestate,
} from '../../plugin/observability/trace-context.js';
import { ValidationError } from '../../plugin/errors.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const VALID = `00-${TRACE_ID}-${PARENT}-01`;
const OTHER = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';

describe('trace context', () => {
  describe('parseTraceparent', () => {
    it('reads the four fields of a W3C traceparent', () => {
      assert.deepEqual(parseTraceparent(VALID), { version: '00', traceId: TRACE_ID, parentId: PARENT, flags: '01' });
    });

    it('refuses malformed values, all-zero ids and the forbidden version ff', () => {
      for (const bad of [
        '', 'garbage', VALID.toUpperCase(), `${VALID} `, ` ${VALID}`, `${VALID}-extra`,
        `0-${TRACE_ID}-${PARENT}-01`, `00-${TRACE_ID.slice(1)}-${PARENT}-01`, `00-${TRACE_ID}-${PARENT}0-01`,
        `00-${'0'.repeat(32)}-${PARENT}-01`, `00-${TRACE_ID}-${'0'.repeat(16)}-01`, `ff-${TRACE_ID}-${PARENT}-01`,
        `00-${TRACE_ID.replace('4', 'g')}-${PARENT}-01`, 42, null, undefined, [VALID],
      ]) {
        assert.equal(parseTraceparent(bad), null, `refuses ${JSON.stringify(bad)}`);
        assert.equal(isValidTraceparent(bad), false);
      }
    });
  });

  describe('sanitizeTracestate', () => {
    it('keeps a printable, bounded tracestate and drops the rest', () => {
      assert.equal(sanitizeTracestate(' congo=t61rcWkgMzE,rojo=00f067aa0ba902b7 '), 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
      assert.equal(sanitizeTracestate('a'.repeat(MAX_TRACESTATE_LENGTH)), 'a'.repeat(MAX_TRACESTATE_LENGTH));
      assert.equal(sanitizeTracestate('a'.repeat(MAX_TRACESTATE_LENGTH + 1)), null);
      assert.equal(sanitizeTracestate('vendor=a\r\nx-injected: 1'), null);
      assert.equal(sanitizeTracestate(''), null);
      assert.equal(sanitizeTracestate(undefined), null);
    });
  });

  describe('resolveTraceContext', () => {
    const active = { traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 };

    it('takes the explicit traceparent first, then the request header, then the active span', () => {
      const headers = { traceparent: OTHER, tracestate: 'h=1' };
      assert.deepEqual(resolveTraceContext({ explicit: { traceparent: VALID, tracestate: 'e=1' }, headers, active }),
        { traceparent: VALID, tracestate: 'e=1' });
      assert.deepEqual(resolveTraceContext({ headers, active }), { traceparent: OTHER, tracestate: 'h=1' });
      assert.deepEqual(resolveTraceContext({ active }), { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`, tracestate: null });
      assert.equal(resolveTraceContext({}), null);
    });

    it('skips a malformed header (from the internet) and an invalid span context', () => {
      assert.equal(resolveTraceContext({ headers: { traceparent: 'evil\r\nx: 1' } }), null);
      assert.deepEqual(resolveTraceContext({ headers: { traceparent: ['junk'] }, active }),
        { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`, tracestate: null });
      assert.equal(resolveTraceContext({ active: { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 } }), null);
    });
  });

  describe('attemptTraceHeaders', () => {
    const stored = { traceparent: VALID, tracestate: 'vendor=1' };

    it('sends the stored trace context when no tracer records the attempt', () => {
      assert.deepEqual(attemptTraceHeaders(stored, undefined), { traceparent: VALID, tracestate: 'vendor=1' });
      assert.deepEqual(attemptTraceHeaders({ traceparent: VALID, tracestate: null }, undefined), { traceparent: VALID });
      assert.deepEqual(attemptTraceHeaders(null, undefined), {});
    });

    it('names the attempt span as the parent when it is in the same trace', () => {
      const span = { traceId: TRACE_ID, spanId: 'abcdefabcdefabcd', traceFlags: 1 };
      assert.deepEqual(attemptTraceHeaders(stored, span), { traceparent: `00-${TRACE_ID}-abcdefabcdefabcd-01`, tracestate: 'vendor=1' });
      assert.deepEqual(attemptTraceHeaders(stored, { ...span, traceId: '3'.repeat(32) }).traceparent, VALID);
    });
  });

  describe('hook context', () => {
    it('keeps an explicit traceparent over the request header, and the header without one', () => {
      const req = { headers: { traceparent: OTHER, tracestate: 'h=1' } };
      assert.deepEqual(normalizeContext({ req, traceparent: VALID }, 't').trace, { traceparent: VALID, tracestate: null });
      assert.deepEqual(normalizeContext({ req }, 't').trace, { traceparent: OTHER, tracestate: 'h=1' });
      assert.equal(normalizeContext({}, 't').trace, null);
    });

    it('refuses a malformed explicit traceparent or tracestate with a ValidationError', () => {
      for (const context of [{ traceparent: 'nope' }, { traceparent: `00-${'0'.repeat(32)}-${PARENT}-01` },
        { traceparent: VALID, tracestate: 'x'.repeat(MAX_TRACESTATE_LENGTH + 1) }, { traceparent: VALID, tracestate: 'a\nb' }]) {
        assert.throws(() => normalizeContext(context, 't'), ValidationError, JSON.stringify(context));
      }
    });
  });
});
