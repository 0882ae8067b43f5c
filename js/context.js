// The caller's async context, carried to work that starts later: a queued `schedule` task or
// request starts when another one frees its slot, from that one's turn. p-limit guarantees
// that the task still sees its caller's context, and OpenTelemetry's context managers rely
// on it: `AsyncLocalStorage` in Node, zone.js in a browser.

/** Where the Node entry puts `AsyncLocalStorage.snapshot` (looked up once: every call reads it). */
const SNAPSHOT = Symbol.for('fetchlane.snapshot');

/**
 * A runner for the caller's async context, captured now: `AsyncLocalStorage.snapshot()` in
 * Node (the Node entry, js/node.js, installs it), zone.js's current zone in a browser.
 * `undefined` where neither exists: the work then runs as it would have.
 * @returns {(<T>(fn: () => T) => T) | undefined}
 */
export function captureContext() {
  const snapshot = /** @type {any} */ (globalThis)[SNAPSHOT];
  if (snapshot !== undefined) return snapshot();
  const zone = /** @type {any} */ (globalThis).Zone?.current;
  return zone === undefined ? undefined : (fn) => zone.run(fn);
}
