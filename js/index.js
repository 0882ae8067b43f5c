// The package entry: loads the wasm once and hands out clients. The pipeline's decisions live
// in the wasm state machine; js/driver.js carries out its commands, js/client.js is the public
// class. This file only adds what users meet first: `init`, `createClient`, and friendly
// messages for the mistakes people make in their first minute.
import { load as loadWasm } from './wasm.js';
import { Client } from './client.js';
import { FetchlaneError, isFetchlaneError } from './errors.js';

export { Client, FetchlaneError, isFetchlaneError };

/** @type {Promise<void> | undefined} */
let loading;

/**
 * Loads the wasm module once; later calls return the same promise (a failed load may be
 * tried again). `input` is what wasm-bindgen's `--target web` init takes (a URL, a Request, a
 * Response, bytes or a WebAssembly.Module, or a promise of one); by default the
 * `fetchlane_bg.wasm` next to this file (in Node, the `node` entry passes its bytes).
 * @param {unknown} [input]
 * @returns {Promise<void>}
 */
export function init(input) {
  if (!loading) {
    loading = loadWasm(input).catch((cause) => {
      loading = undefined;
      const where = input === undefined ? new URL('fetchlane_bg.wasm', import.meta.url).href : String(input);
      // `fetch` cannot read a file: URL: this is Node (or a page opened from disk) importing
      // this browser entry by its path, past the package's `node` export condition.
      const fix = where.startsWith('file:')
        ? "In Node, import 'fetchlane' by its name (its `node` export condition reads the wasm from disk), " +
          'or pass the bytes of fetchlane_bg.wasm to init(bytes) before createClient().'
        : 'Serve fetchlane_bg.wasm next to the package entry (with Content-Type application/wasm), ' +
          'or pass its URL or bytes to init(input) before createClient().';
      throw new Error(`fetchlane: could not load the wasm module from ${where}. ${fix}`, { cause });
    });
  }
  return loading;
}

/** The client's members: reading one on the un-awaited promise explains the mistake. */
const MEMBERS = [
  'fetch', 'json', 'text', 'all', 'allSettled', 'schedule', 'loader', 'paginate', 'invalidate',
  'clearCache', 'clearQueue', 'onIdle', 'stats', 'on', 'close',
];

/**
 * Creates a client (loading the wasm first when needed). Rejects with a TypeError or
 * RangeError that names a bad option.
 * @param {object} [options] ClientOptions
 * @returns {Promise<Client>}
 */
export function createClient(options) {
  const promise = init().then(() => new Client(options));
  // `const client = createClient()` without `await` is the classic first-minute mistake:
  // make the promise say so instead of "client.fetch is not a function".
  for (const name of MEMBERS) {
    Object.defineProperty(promise, name, {
      get() {
        throw new TypeError(
          `fetchlane: createClient() returns a Promise; write \`const client = await createClient(...)\` before calling client.${name}`,
        );
      },
    });
  }
  return promise;
}
