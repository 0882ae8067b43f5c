// A tiny test framework for the JS API suite, the same in a page and in Node. Tests run one at
// a time, each with its own timeout, and the outcome is published as
// `globalThis.__fetchlaneResults` (read by scripts/webdriver.mjs in a page, by tests/js/node.mjs
// in Node) and, in a page, rendered into it. A test that needs what a runtime lacks (the
// Cache API in Node) says so with `needs` and is skipped there, by name, never silently.

const tests = [];
let cleanups = [];
let counter = 0;

export const state = (globalThis.__fetchlaneResults = {
  done: false,
  passed: 0,
  failed: 0,
  /** @type {{ name: string, missing: string[] }[]} tests not run, with the globals they lacked */
  skipped: [],
  current: null,
  /** unhandled rejections expected by the current test (see `quietRejections`) */
  quiet: 0,
  results: [],
});

/**
 * Registers a test. `opts.timeoutMs` (default 15 s) bounds it; `opts.needs` names the globals
 * it cannot run without (`['caches']`): where one is missing the test is skipped and listed.
 */
export function test(name, fn, opts = {}) {
  tests.push({ name, fn, timeoutMs: opts.timeoutMs ?? 15000, needs: opts.needs ?? [] });
}

/**
 * Lets the current test provoke unhandled rejections on purpose (a listener that throws)
 * without the runtime reporting them; call the returned function to stop. A page would log
 * them, Node would end the process: the Node runner counts them instead, unless quieted.
 * @returns {() => void}
 */
export function quietRejections() {
  const swallow = (e) => e.preventDefault();
  const page = typeof globalThis.addEventListener === 'function';
  if (page) globalThis.addEventListener('unhandledrejection', swallow);
  state.quiet += 1;
  return () => {
    if (page) globalThis.removeEventListener('unhandledrejection', swallow);
    state.quiet -= 1;
  };
}

/** `path` on the test server as an absolute URL (Node's own `fetch` takes no relative URL). */
export const at = (path) => new URL(path, globalThis.location.href).href;

/** Runs `fn` after the current test, whatever its outcome (closing clients, aborting). */
export function defer(fn) {
  cleanups.push(fn);
}

export class AssertionError extends Error {
  constructor(message) {
    super(message);
    this.name = 'AssertionError';
  }
}

const show = (v) => {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'bigint' || v == null || typeof v === 'boolean') return String(v);
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
};

export function assert(cond, message = 'assertion failed') {
  if (!cond) throw new AssertionError(message);
}

/** Deep equality for plain data (JSON-like values). */
export function assertEqual(actual, expected, message = '') {
  const a = show(actual);
  const e = show(expected);
  const same = Object.is(actual, expected) || (typeof actual === 'object' && actual !== null && a === e);
  if (!same) throw new AssertionError(`${message ? message + ': ' : ''}expected ${e}, got ${a}`);
}

/**
 * Awaits `promise`, which must reject; `check(error)` may assert on the error. Resolves to the
 * error.
 */
export async function assertRejects(promise, check, message = '') {
  let settled;
  try {
    const value = await (typeof promise === 'function' ? promise() : promise);
    settled = { value };
  } catch (error) {
    if (check) await check(error);
    return error;
  }
  throw new AssertionError(`${message ? message + ': ' : ''}expected a rejection, got a value ${show(settled.value)}`);
}

/** Asserts that `fn()` throws synchronously; `check(error)` may assert on it. */
export function assertThrows(fn, check, message = '') {
  try {
    fn();
  } catch (error) {
    if (check) check(error);
    return error;
  }
  throw new AssertionError(`${message ? message + ': ' : ''}expected a throw`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A run id unique to this page load, for the server's accounting. */
export function runId(name) {
  counter += 1;
  const slug = String(name).toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 40);
  return `${slug}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The server's accounting for a run (GET /__stats). */
export async function stats(run) {
  const res = await fetch(at(`/__stats?run=${encodeURIComponent(run)}`), { cache: 'no-store' });
  return res.json();
}

/** Polls the server until `pred(stats)` holds (or `timeoutMs` passes); resolves to the stats. */
export async function statsWhen(run, pred, timeoutMs = 3000) {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const s = await stats(run);
    if (pred(s) || performance.now() > end) return s;
    await sleep(25);
  }
}

function render(result) {
  if (globalThis.document === undefined) return;
  const list = document.getElementById('results') || document.body.appendChild(document.createElement('ol'));
  list.id = 'results';
  const li = document.createElement('li');
  li.className = result.ok ? 'ok' : 'fail';
  li.textContent = `${result.ok ? 'ok' : 'FAIL'} - ${result.name} (${Math.round(result.ms)} ms)${result.ok ? '' : ': ' + result.error}`;
  list.appendChild(li);
}

function record(result) {
  state.results.push(result);
  if (result.ok) state.passed += 1;
  else state.failed += 1;
  render(result);
}

/** A failure outside any test (a module that did not load). */
export function fail(name, error) {
  record({ name, ok: false, error: describeError(error), ms: 0 });
}

function describeError(e) {
  if (e instanceof Error) {
    const kind = e.kind ? ` [kind ${e.kind}]` : '';
    return `${e.name}: ${e.message}${kind}`;
  }
  return `thrown ${show(e)}`;
}

/** Runs every registered test in order, then marks the page done. `only` filters by name. */
export async function run({ only } = {}) {
  const selected = only ? tests.filter((t) => t.name.includes(only)) : tests;
  for (const t of selected) {
    const missing = t.needs.filter((name) => globalThis[name] === undefined);
    if (missing.length > 0) {
      state.skipped.push({ name: t.name, missing });
      continue;
    }
    state.current = t.name;
    const start = performance.now();
    let timer;
    let error = null;
    try {
      await Promise.race([
        Promise.resolve().then(() => t.fn()),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new AssertionError(`timed out after ${t.timeoutMs} ms`)), t.timeoutMs);
        }),
      ]);
    } catch (e) {
      error = describeError(e);
    } finally {
      clearTimeout(timer);
    }
    const pending = cleanups;
    cleanups = [];
    for (const fn of pending.reverse()) {
      try {
        await fn();
      } catch (e) {
        error = error ?? `cleanup failed: ${describeError(e)}`;
      }
    }
    record({ name: t.name, ok: error === null, error, ms: performance.now() - start });
  }
  state.current = null;
  state.done = true;
  const summary = globalThis.document?.getElementById('summary');
  if (summary) summary.textContent = `${state.passed} passed, ${state.failed} failed`;
  return state;
}
