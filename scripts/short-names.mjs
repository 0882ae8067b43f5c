// Short import and export names for the wasm and its wasm-bindgen glue.
//
// wasm-bindgen names every import `__wbg_<name>_<16 hex digits>` and exports the Rust names
// (`client_allSettled`, `wasm_bindgen__convert__closures_____invoke__h…`). Each name sits in
// the wasm and again in the glue, and the hash digits do not compress: renaming them to `a`,
// `b`, … takes about 4 KiB off the gzipped package. A name is renamed only where the glue uses
// it as such: an import as a key of the imports object, an export as `wasm.<name>`; a name the
// glue does not use that way, and `memory`, keep theirs, so nothing outside the glue can miss
// one. The glue's own identifiers (the closure shims' JS functions, exported JS functions) are
// left alone; esbuild shortens those.
import { readFileSync, writeFileSync } from 'node:fs';

const SHORT = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** 0 → a, 51 → Z, 52 → ba, …; used only as property names, where keywords are allowed. */
function shortName(n) {
  let s = '';
  do {
    s = SHORT[n % 52] + s;
    n = Math.floor(n / 52);
  } while (n > 0);
  return s;
}

/** A reader over a wasm section body: unsigned LEB128 numbers and length-prefixed names. */
function reader(bytes, at = 0) {
  return {
    get at() {
      return at;
    },
    byte() {
      if (at >= bytes.length) throw new Error('short-names: the wasm ends inside a section');
      return bytes[at++];
    },
    u32() {
      let result = 0;
      let shift = 0;
      for (;;) {
        const b = this.byte();
        result += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if (b < 0x80) return result;
      }
    },
    name() {
      const length = this.u32();
      const text = new TextDecoder().decode(bytes.subarray(at, at + length));
      at += length;
      return text;
    },
  };
}

function u32(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}
const name = (text) => {
  const utf8 = new TextEncoder().encode(text);
  return [...u32(utf8.length), ...utf8];
};

/** Skips a function import's description (its type index). wasm-bindgen imports only
 * functions; any other kind is refused rather than guessed at. */
function skipFunctionImport(r, field) {
  const kind = r.byte();
  if (kind !== 0) throw new Error(`short-names: import ${field} is not a function (kind ${kind})`);
  r.u32();
}

/** A section that is a vector of entries, with each entry as `entry(reader)` rewrites it. */
function rewriteVector(body, section, entry) {
  const r = reader(body);
  const count = r.u32();
  const out = u32(count);
  for (let i = 0; i < count; i++) out.push(...entry(r));
  if (r.at !== body.length) throw new Error(`short-names: the ${section} section did not parse to its end`);
  return out;
}

/** Renames the imports and exports of `wasmFile` that the glue's source `glue` uses: rewrites
 * the wasm file and returns the renamed glue. */
export function shortenNames(wasmFile, glue) {
  const wasm = readFileSync(wasmFile);
  const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // Where the glue uses a name: an import as a key of the imports object (`name: function`),
  // an export as a property of the instance's exports (`wasm.name`).
  const uses = {
    import: (text) => new RegExp(`(?<=[{,\\s])${escape(text)}(?=\\s*:)`, 'g'),
    export: (text) => new RegExp(`(?<=\\bwasm\\.)${escape(text)}(?![\\w$])`, 'g'),
  };
  const renames = [];
  const rename = (what, old) => {
    if (old === 'memory' || !uses[what](old).test(glue)) return old;
    const short = shortName(renames.length);
    renames.push([uses[what](old), short]);
    return short;
  };

  const out = [wasm.subarray(0, 8)];
  let at = 8;
  while (at < wasm.length) {
    const id = wasm[at];
    const r = reader(wasm, at + 1);
    const size = r.u32();
    const start = r.at;
    const body = wasm.subarray(start, start + size);
    let rewritten;
    if (id === 2) {
      rewritten = rewriteVector(body, 'import', (b) => {
        const module = b.name();
        const field = b.name();
        const descStart = b.at;
        skipFunctionImport(b, field);
        const renamed = module === './fetchlane_bg.js' ? rename('import', field) : field;
        return [...name(module), ...name(renamed), ...body.subarray(descStart, b.at)];
      });
    } else if (id === 7) {
      rewritten = rewriteVector(body, 'export', (b) => {
        const field = b.name();
        const kind = b.byte();
        const index = b.u32();
        return [...name(kind === 0 ? rename('export', field) : field), kind, ...u32(index)];
      });
    }
    if (rewritten) out.push(Uint8Array.from([id, ...u32(rewritten.length), ...rewritten]));
    else out.push(wasm.subarray(at, start + size));
    at = start + size;
  }

  for (const [pattern, short] of renames) glue = glue.replace(pattern, short);
  writeFileSync(wasmFile, Buffer.concat(out));
  return glue;
}
