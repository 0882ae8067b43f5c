// Blanks the text that only a panic message would print: core's and alloc's message pieces
// ("index out of bounds: the len is …") and the source paths of panic locations. The shipped
// wasm's panic handler (src/lib.rs, feature `wasm-panic-handler`) traps without reading its
// PanicInfo, so nothing reads these bytes; rustc keeps them only because the panicking calls
// take them as arguments (stable Rust has no `-Zlocation-detail=none`). Blanking keeps every
// offset, so nothing moves; zeros gzip to almost nothing (0.6 KiB of the download).
import { readFileSync, writeFileSync } from 'node:fs';

const PIECES = [
  'slice index starts at ', ' but ends at ', ' index out of bounds: the len is ', ' but the index is ',
  'range start index ', 'range end index ', '" out of range for slice of length ', 'memory allocation of ',
  ' bytes failed', 'insertion index (is ', ') should be <= len (is ', 'swap_remove index (is ',
  ') should be < len (is ', 'called `Result::unwrap()` on an `Err` value', 'Hash table capacity overflow',
  'capacity overflow', 'LayoutError',
];
// core's two-digit table for formatting integers (`Display`). The shipped code formats no
// integer through core::fmt (no `format!`, `to_string` or `write!` outside tests; the Rust
// API's `push_decimal` has its own digits), so only a panic message would read it, and none
// is ever printed. Should that change, the digits would read as NULs, not crash.
const DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')).join('');
PIECES.push(DIGITS);
// Paths of Rust sources: the toolchain's, the registry's and ours.
// Path characters only (no spaces, quotes or colons), so that a match cannot reach back into
// a neighbouring string of the data section, where strings lie end to end.
export const PATHS = /(?:\/rustc\/[0-9a-f]{40}\/library|(?:\/[A-Za-z0-9_.+-]+)+\/\.cargo\/registry\/src\/[A-Za-z0-9_.+-]+|src)\/[A-Za-z0-9_./-]*?\.rs/g;

/** Reads a LEB128 unsigned integer at `i`; returns [value, next index]. */
export function leb(bytes, i) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[i++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [value, i];
  }
}

/** Blanks the panic text in the data section of the wasm file at `path`; returns bytes blanked. */
export function stripPanicText(path) {
  const bytes = readFileSync(path);
  let blanked = 0;
  for (let i = 8; i < bytes.length; ) {
    const id = bytes[i];
    const [size, start] = leb(bytes, i + 1);
    if (id === 11) {
      const data = bytes.subarray(start, start + size);
      const text = data.toString('latin1');
      const blank = (at, length) => {
        data.fill(0, at, at + length);
        blanked += length;
      };
      for (const piece of PIECES) {
        for (let at = text.indexOf(piece); at !== -1; at = text.indexOf(piece, at + piece.length)) blank(at, piece.length);
      }
      for (const m of text.matchAll(PATHS)) blank(m.index, m[0].length);
    }
    i = start + size;
  }
  writeFileSync(path, bytes);
  return blanked;
}
