// The package entry in Node 20+ (the `node` export condition of pkg/package.json): the browser
// entry (./index.js, the same module, not a copy), whose default wasm source Node's `fetch`
// cannot read (a file: URL), given the bytes of fetchlane_bg.wasm from the package directory.
// Kept apart so that the browser bundle never imports `node:` modules.
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFile } from 'node:fs/promises';
import { createClient as create, init as load } from './index.js';

// Everything else as the browser entry has it; the two declared below take precedence.
export * from './index.js';

// A queued task or request runs in its caller's async context (AsyncLocalStorage), as p-limit
// guarantees: the driver captures it with this when a call is made (js/context.js).
globalThis[Symbol.for('fetchlane.snapshot')] ??= AsyncLocalStorage.snapshot;

const WASM = new URL('fetchlane_bg.wasm', import.meta.url);

/**
 * The bytes of fetchlane_bg.wasm, read only when `init` awaits them (a thenable: `init`
 * ignores its input once the module is loaded, so a later call reads nothing). Its string
 * form is what `init`'s error names.
 */
const bytes = { then: (ok, fail) => readFile(WASM).then(ok, fail), toString: () => decodeURI(WASM.pathname) };

/**
 * Loads the wasm module once (later calls return the same promise). Without `input`, from
 * the fetchlane_bg.wasm next to this file; `input` as the browser entry's `init` takes it.
 * @param {unknown} [input]
 * @returns {Promise<void>}
 */
export function init(input) {
  return load(input === undefined ? bytes : input);
}

/**
 * Creates a client, loading the wasm from the package directory first when needed.
 * @param {object} [options] ClientOptions
 */
export function createClient(options) {
  // The browser entry's createClient calls its own `init()`, which then returns this load.
  init();
  return create(options);
}
