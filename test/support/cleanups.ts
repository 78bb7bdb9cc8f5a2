/**
 * Registers mocha hooks that run, after each test (also a failing one), everything the test
 * started, in reverse order. Returns the function that adds one; a failing cleanup does not
 * stop the others.
 */
export function cleanupAfterEach(): (cleanup: () => Promise<unknown>) => void {
  let cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    const pending = cleanups.reverse();
    cleanups = [];
    for (const cleanup of pending) await cleanup().catch(() => undefined);
  });
  return (cleanup) => void cleanups.push(cleanup);
}
