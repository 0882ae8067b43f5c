// The package entry: loads the wasm once and hands out clients. Everything else lives in
// the wasm module; this file only adds what must be JS (the error class, friendly messages
// for the mistakes people make in their first minute).
import initWasm, { Client, Pages } from './fetchlane.js';
import { FetchlaneError, isFetchlaneError } from './__ERRORS__';

export { Client, FetchlaneError, isFetchlaneError };

// `client.paginate()` returns a Pages (next/return live in the wasm); `for await` needs it to
// be its own async iterator.
Pages.prototype[Symbol.asyncIterator] = function () {
  return this;
};

let loading;

/**
 * Loads the wasm module once; later calls return the same promise. `input` is what
 * wasm-bindgen's `--target web` init takes (a URL, a Response, bytes or a WebAssembly.Module);
 * by default the `fetchlane_bg.wasm` next to this file.
 */
export function init(input) {
  if (!loading) {
    loading = initWasm(input === undefined ? undefined : { module_or_path: input }).then(
      () => undefined,
      (cause) => {
        loading = undefined;
        const where = input === undefined ? new URL('fetchlane_bg.wasm', import.meta.url).href : String(input);
        throw new Error(
          `fetchlane: could not load the wasm module from ${where}. ` +
            'Serve fetchlane_bg.wasm next to the package entry (with Content-Type application/wasm), ' +
            'or pass its URL or bytes to init(input) before createClient().',
          { cause },
        );
      },
    );
  }
  return loading;
}

const MEMBERS = [
  'fetch', 'json', 'text', 'all', 'allSettled', 'schedule', 'loader', 'paginate', 'invalidate',
  'clearCache', 'clearQueue', 'onIdle', 'stats', 'on', 'close',
];

/**
 * Creates a client (loading the wasm first when needed). Rejects with a TypeError or
 * RangeError that names a bad option.
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
