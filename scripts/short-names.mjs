// Short names for the wasm's `fl_*` exports in the shipped package (scripts/build.mjs).
//
// The machine's exports keep readable names in the sources (src/npm.rs, js/driver.js,
// docs/protocol.md); in pkg/ each `fl_*` export is renamed to one or two letters, in the wasm's
// export section and in the bundled JS where it is read as a property (`x.fl_submit` ->
// `x.a`). Names sit in the wasm once and in the JS once or twice, and do not compress well:
// about 0.5 KiB gzipped. The map (`{ fl_submit: 'a', … }`) is written to
// target/wasm-export-names.json; tests/types/check.mjs reads it to compare the shipped exports
// with their golden file under their source names. `memory` and any other export keep theirs,
// except the linker's `__data_end` and `__heap_base` globals, which are dropped (nothing reads
// them).
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

/** The exports section of `wasm` rewritten with `rename(name, kind) -> name` (`null`: the export
 * is dropped); other sections as they are. */
function renameExports(wasm, rename) {
  const out = [wasm.subarray(0, 8)];
  let at = 8;
  while (at < wasm.length) {
    const id = wasm[at];
    const r = reader(wasm, at + 1);
    const size = r.u32();
    const start = r.at;
    const body = wasm.subarray(start, start + size);
    if (id === 7) {
      const b = reader(body);
      const kept = [];
      for (let n = b.u32(); n > 0; n--) {
        const field = b.name();
        const kind = b.byte();
        const index = b.u32();
        const renamed = rename(field, kind);
        if (renamed !== null) kept.push([...name(renamed), kind, ...u32(index)]);
      }
      if (b.at !== body.length) throw new Error('short-names: the export section did not parse to its end');
      const rewritten = [...u32(kept.length), ...kept.flat()];
      out.push(Uint8Array.from([id, ...u32(rewritten.length), ...rewritten]));
    } else out.push(wasm.subarray(at, start + size));
    at = start + size;
  }
  return Buffer.concat(out);
}

/** The `fl_*` names that `code` reads as properties (`.fl_name`), each once. */
const propertyUses = (code) => new Set(Array.from(code.matchAll(/\.(fl_[a-z_]+)(?![\w$])/g), (m) => m[1]));

/**
 * Renames the `fl_*` function exports of `wasmFile` (rewritten in place; the `__*` globals
 * dropped) and their property
 * reads in the module `code`; returns `{ code, names }`. Without `names`, each export gets the
 * next short name (`a`, `b`, …, `Z`, `ba`, …) in the order of the export section; with `names`
 * (a map from a previous build whose wasm is already renamed, `build.mjs --js-only`), only the
 * JS is renamed. Throws when the JS reads an `fl_*` name that the wasm does not export.
 */
export function shortenExports(wasmFile, code, names) {
  if (!names) {
    names = {};
    const renamed = renameExports(readFileSync(wasmFile), (field, kind) => {
      // The linker's `__data_end` and `__heap_base` globals: nothing reads them.
      if (kind === 3 && field.startsWith('__')) return null;
      if (kind !== 0 || !field.startsWith('fl_')) return field;
      if (Object.hasOwn(names, field)) throw new Error(`short-names: ${field} is exported twice`);
      return (names[field] = shortName(Object.keys(names).length));
    });
    writeFileSync(wasmFile, renamed);
  }
  const missing = [...propertyUses(code)].filter((field) => !Object.hasOwn(names, field));
  if (missing.length > 0) throw new Error(`short-names: the JS reads ${missing.join(', ')}, which the wasm does not export`);
  code = code.replace(/\.(fl_[a-z_]+)(?![\w$])/g, (_, field) => `.${names[field]}`);
  return { code, names };
}
