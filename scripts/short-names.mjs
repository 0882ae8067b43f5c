// Short import and export names for the wasm and its wasm-bindgen glue.
//
// wasm-bindgen names every import `__wbg_<name>_<16 hex digits>` and exports the Rust names
// (`client_allSettled`, `wasm_bindgen__convert__closures_____invoke__h…`). Each name sits in
// the wasm and again in the glue, and the hash digits do not compress: renaming them to `a`,
// `b`, … takes about 4 KiB off the gzipped package. Only names the glue refers to are renamed
// (plus `memory`, which stays as it is), so nothing outside the glue can miss a name.
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
    byte: () => bytes[at++],
    u32() {
      let result = 0;
      let shift = 0;
      for (;;) {
        const b = bytes[at++];
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

/** Skips an import's description (function, table, memory, global or tag). */
function skipImportDesc(r) {
  const kind = r.byte();
  const limits = () => {
    const flags = r.byte();
    r.u32();
    if (flags & 1) r.u32();
  };
  if (kind === 0) r.u32();
  else if (kind === 1) {
    r.byte();
    limits();
  } else if (kind === 2) limits();
  else if (kind === 3) {
    r.byte();
    r.byte();
  } else if (kind === 4) {
    r.byte();
    r.u32();
  } else throw new Error(`short-names: unknown import kind ${kind}`);
}

/**
 * Renames the imports and exports of `wasmFile` that `glueFile` mentions, in both files.
 * Returns how many names were shortened.
 */
export function shortenNames(wasmFile, glueFile) {
  const wasm = readFileSync(wasmFile);
  let glue = readFileSync(glueFile, 'utf8');
  const word = (text) => new RegExp(`(?<![\\w$])${text.replace(/[$]/g, '\\$')}(?![\\w$])`, 'g');
  const mentioned = (text) => word(text).test(glue);
  const renames = new Map();
  const rename = (old) => {
    if (old === 'memory' || !mentioned(old)) return old;
    if (!renames.has(old)) renames.set(old, shortName(renames.size));
    return renames.get(old);
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
      const b = reader(body);
      const count = b.u32();
      rewritten = u32(count);
      for (let i = 0; i < count; i++) {
        const module = b.name();
        const field = b.name();
        const descStart = b.at;
        skipImportDesc(b);
        rewritten.push(...name(module), ...name(rename(field)), ...body.subarray(descStart, b.at));
      }
    } else if (id === 7) {
      const b = reader(body);
      const count = b.u32();
      rewritten = u32(count);
      for (let i = 0; i < count; i++) {
        const field = b.name();
        const kind = b.byte();
        const index = b.u32();
        rewritten.push(...name(rename(field)), kind, ...u32(index));
      }
    }
    if (rewritten) out.push(Uint8Array.from([id, ...u32(rewritten.length), ...rewritten]));
    else out.push(wasm.subarray(at, start + size));
    at = start + size;
  }

  for (const [old, short] of renames) glue = glue.replace(word(old), short);
  writeFileSync(wasmFile, Buffer.concat(out));
  writeFileSync(glueFile, glue);
  return renames.size;
}
