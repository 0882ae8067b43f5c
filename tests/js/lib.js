// Shared helpers of the test modules: the package under test, clients that close themselves
// after each test, URLs on the local API server.
// The package by its name, as a consumer imports it: an import map in the page (index.html),
// the package's own `exports` in Node (tests/js/node.mjs), so its `node` condition is what runs.
import { createClient, FetchlaneError, isFetchlaneError } from 'fetchlane';
import { assert, assertEqual, defer } from './harness.js';

export { createClient, FetchlaneError, isFetchlaneError };

/** The page's own origin (the test server) and a second host name for the same server. */
export const origin = location.origin;
export const other = `http://localhost:${location.port}`;

/** A client that is closed when the current test ends. */
export async function client(options) {
  const c = await createClient(options);
  defer(() => c.close());
  return c;
}

/** `path` with `run` and extra query parameters, on `base` (default: relative). */
export function url(path, run, params = {}, base = '') {
  const q = new URLSearchParams({ run, ...params });
  return `${base}${path}${path.includes('?') ? '&' : '?'}${q}`;
}

/** Asserts that `e` is a FetchlaneError of `kind` (and `fields`, when given). */
export function isKind(kind, fields = {}) {
  return (e) => {
    assert(e instanceof FetchlaneError, `expected a FetchlaneError, got ${e && e.name}: ${e && e.message}`);
    assert(isFetchlaneError(e), 'isFetchlaneError(e) should be true');
    assertEqual(e.kind, kind, `kind (message: ${e.message})`);
    for (const [k, v] of Object.entries(fields)) assertEqual(e[k], v, k);
  };
}

/** Asserts that `e` is a `Type` (TypeError, RangeError) whose message mentions every word. */
export function isError(Type, ...words) {
  return (e) => {
    assert(e instanceof Type, `expected a ${Type.name}, got ${e && e.name}: ${e && e.message}`);
    for (const w of words) assert(String(e.message).includes(w), `message should name \`${w}\`: ${e.message}`);
  };
}

/** A settled-state probe: `track(p)` returns p and records when it settled. */
export function tracker() {
  const settled = new Map();
  return {
    track(name, p) {
      settled.set(name, null);
      p.then(
        (v) => settled.set(name, { ok: true, value: v, t: performance.now() }),
        (e) => settled.set(name, { ok: false, error: e, t: performance.now() }),
      );
      return p;
    },
    get: (name) => settled.get(name),
    allSettled: () => [...settled.values()].every((v) => v !== null),
  };
}
