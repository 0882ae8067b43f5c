// Loads the wasm state machine (js/index.js `init` sees that it is loaded once), and the few
// helpers every driver needs to talk to it:
// strings into the scratch buffer, strings out of memory, the command list as f64s.
// The wire protocol is docs/protocol.md; this file knows nothing of what the numbers mean.

/** The instance's exports (`fl_*` and `memory`); `null` until `load` has resolved. */
export let wasm = null;

/** @type {WebAssembly.Memory | null} */
let memory = null;
/** A view of all of memory; replaced when memory grows (the old buffer is detached then). */
let u8 = new Uint8Array(0);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The response types `instantiateStreaming` accepts, as wasm-bindgen's glue checks them. */
const STREAMABLE = new Set(['basic', 'cors', 'default']);

/** The MIME type's essence (`application/wasm; x=y` → `application/wasm`). */
function essence(contentType) {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * Instantiates from a `Response`: streaming when the server says `application/wasm`, else
 * (or when streaming fails before the body was touched) from the bytes.
 * @param {Response} response
 * @param {WebAssembly.Imports} imports
 * @returns {Promise<WebAssembly.Instance>}
 */
async function fromResponse(response, imports) {
  if (!response.ok) {
    throw new Error(`fetchlane: fetching the wasm module gave HTTP ${response.status}${response.url ? ` from ${response.url}` : ''}`);
  }
  const streamable =
    typeof WebAssembly.instantiateStreaming === 'function' &&
    STREAMABLE.has(response.type) &&
    essence(response.headers.get('Content-Type')) === 'application/wasm';
  if (streamable) {
    try {
      return (await WebAssembly.instantiateStreaming(response, imports)).instance;
    } catch (error) {
      // A body already read cannot be read again: that failure is the real one.
      if (response.bodyUsed) throw error;
    }
  }
  const { instance } = await WebAssembly.instantiate(await response.arrayBuffer(), imports);
  return instance;
}

/**
 * Instantiates `source`: a Response, a WebAssembly.Module, or bytes.
 * @param {unknown} source
 * @returns {Promise<WebAssembly.Instance>}
 */
async function instantiate(source) {
  // The machine imports nothing; an empty `env` covers a toolchain that declares one.
  const imports = { env: {} };
  if (typeof Response === 'function' && source instanceof Response) return fromResponse(source, imports);
  const made = await WebAssembly.instantiate(/** @type {any} */ (source), imports);
  // From a Module, the instance itself; from bytes, `{ module, instance }`.
  return source instanceof WebAssembly.Module ? made : made.instance;
}

/**
 * Loads the wasm module (js/index.js `init` calls it once, and again after a failure).
 * `input` is what wasm-bindgen's `--target web` init took: a URL (string or `URL`), a
 * `Request`, a `Response`, an `ArrayBuffer` or typed array, a `WebAssembly.Module`, or a
 * promise of one of these; `{ module_or_path }` is unwrapped too. Default: the
 * `fetchlane_bg.wasm` next to this file.
 * @param {unknown} input
 */
export async function load(input) {
  let source = await input;
  if (source !== null && typeof source === 'object' && Object.getPrototypeOf(source) === Object.prototype && 'module_or_path' in source) {
    source = await source.module_or_path;
  }
  if (source === undefined) source = new URL('fetchlane_bg.wasm', import.meta.url);
  const named =
    typeof source === 'string' ||
    (typeof URL === 'function' && source instanceof URL) ||
    (typeof Request === 'function' && source instanceof Request);
  // Only fetched: the Node entry (js/node.js) reads the file and passes the bytes, so that this
  // bundle never imports `node:` modules that bundlers for the browser would trip over.
  if (named) source = await fetch(/** @type {string | URL | Request} */ (source));
  const instance = await instantiate(source);
  const exports = /** @type {any} */ (instance.exports);
  if (!(exports.memory instanceof WebAssembly.Memory) || typeof exports.fl_new !== 'function') {
    throw new Error('fetchlane: the wasm module does not export the fetchlane machine (memory and fl_new are missing)');
  }
  memory = exports.memory;
  u8 = new Uint8Array(memory.buffer);
  wasm = exports;
}

/** The current view of memory (a fresh one after memory grew). */
function bytes() {
  if (u8.byteLength === 0 || u8.buffer !== memory.buffer) u8 = new Uint8Array(memory.buffer);
  return u8;
}

/**
 * The byte lengths written by the last `writeStrings` call, in argument order.
 * @type {number[]}
 */
export const lengths = [0, 0, 0, 0, 0];

/**
 * Writes `s` as UTF-8 at `ptr`; the caller has reserved `3 * s.length` bytes there.
 * ASCII (nearly every URL, method and header) is copied by a loop; the rest by `encodeInto`.
 * @param {Uint8Array} mem
 * @param {number} ptr
 * @param {string} s
 * @returns {number} bytes written
 */
function put(mem, ptr, s) {
  const n = s.length;
  let i = 0;
  if (n <= 128) {
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) break;
      mem[ptr + i] = c;
    }
    if (i === n) return n;
  }
  const rest = i === 0 ? s : s.slice(i);
  const { written } = encoder.encodeInto(rest, mem.subarray(ptr + i, ptr + i + rest.length * 3));
  return i + written;
}

/**
 * Writes strings, one after the other, into the scratch buffer (one `fl_scratch` call), for
 * the wasm call that follows. Their byte lengths land in `lengths`, in argument order.
 * @param {...string} strings at most five
 */
export function writeStrings(...strings) {
  let room = 0;
  for (const s of strings) room += s.length * 3;
  let ptr = wasm.fl_scratch(room) >>> 0;
  const mem = bytes();
  for (let i = 0; i < strings.length; i++) {
    const n = put(mem, ptr, strings[i]);
    lengths[i] = n;
    ptr += n;
  }
}

/**
 * The UTF-8 string of `len` bytes at `ptr`.
 * @param {number} ptr
 * @param {number} len
 * @returns {string}
 */
export function readString(ptr, len) {
  if (len === 0) return '';
  return decoder.decode(bytes().subarray(ptr, ptr + len));
}

/**
 * UTF-8 bytes (an ArrayBuffer or a view) as a string, as `Response.text()` decodes them.
 * @param {AllowSharedBufferSource} bytes
 * @returns {string}
 */
export function decodeUtf8(bytes) {
  return decoder.decode(bytes);
}

/** A view of all of memory as f64s; replaced when memory grows. */
let f64 = new Float64Array(0);

/**
 * All of memory as f64s, for reading commands: command `i` at `ptr` starts at index
 * `(ptr >>> 3) + i * 8` (the machine's `Vec<f64>` is 8-aligned). A grown memory detaches the
 * view (its length becomes 0): ask again after any call into the machine.
 * @returns {Float64Array}
 */
export function memoryF64() {
  if (f64.length === 0 || f64.buffer !== memory.buffer) f64 = new Float64Array(memory.buffer);
  return f64;
}
