// Blanks the source locations of panics (`core::panic::Location`: file pointer and length,
// line, column; 16 bytes each on wasm32) in the data section, as scripts/strip-panic-text.mjs
// blanks their file names. The shipped wasm's panic handler (src/lib.rs, feature
// `wasm-panic-handler`) traps without reading its PanicInfo, and no shipped code asks for a
// `Location`, so nothing reads these bytes; rustc keeps them because every call that may panic
// passes one (stable Rust has no `-Zlocation-detail=none`). Line and column numbers differ
// from one location to the next and so gzip poorly; zeros gzip to almost nothing (0.3 KiB of
// the download). Blanking keeps every offset, so nothing moves.
//
// Run it before stripPanicText: a location is recognised by its file pointer and length, which
// must name exactly one of the source paths that script blanks (found here with the same
// pattern), followed by a plausible line and column.
import { readFileSync, writeFileSync } from 'node:fs';

// The source-path pattern and the LEB128 reader of scripts/strip-panic-text.mjs.
import { PATHS, leb } from './strip-panic-text.mjs';

/** The active data segments of a module: `{ addr, data }` (data a view into `bytes`). */
function dataSegments(bytes) {
  const segments = [];
  for (let i = 8; i < bytes.length; ) {
    const id = bytes[i];
    const [size, start] = leb(bytes, i + 1);
    if (id === 11) {
      let [count, j] = leb(bytes, start);
      for (; count > 0; count--) {
        // Only the form rustc and wasm-opt write: active, memory 0, `i32.const` offset.
        if (bytes[j] !== 0 || bytes[j + 1] !== 0x41) throw new Error('strip-panic-locations: unexpected data segment');
        j += 2;
        let addr = 0;
        let shift = 0;
        let b;
        do {
          b = bytes[j++];
          addr |= (b & 0x7f) << shift;
          shift += 7;
        } while (b & 0x80);
        if (shift < 32 && b & 0x40) addr |= -1 << shift;
        if (bytes[j++] !== 0x0b) throw new Error('strip-panic-locations: unexpected segment offset');
        const [length, at] = leb(bytes, j);
        segments.push({ addr: addr >>> 0, data: bytes.subarray(at, at + length) });
        j = at + length;
      }
    }
    i = start + size;
  }
  return segments;
}

/** Blanks the panic locations in the wasm file at `path`; returns how many. */
export function stripPanicLocations(path) {
  const bytes = readFileSync(path);
  const segments = dataSegments(bytes);
  const files = new Set();
  for (const { addr, data } of segments) {
    for (const m of data.toString('latin1').matchAll(PATHS)) files.add(`${addr + m.index}:${m[0].length}`);
  }
  let blanked = 0;
  for (const { addr, data } of segments) {
    // A segment leaves out its trailing zeros (wasm-opt's memory packing), so the last
    // location may end past it: bytes past the end read as 0.
    const word = (at) => (data[at] | (data[at + 1] << 8) | (data[at + 2] << 16) | (data[at + 3] << 24)) >>> 0;
    // Locations are 4-aligned in memory.
    for (let at = (4 - (addr % 4)) % 4; at + 9 <= data.length; at += 4) {
      const line = word(at + 8);
      const col = word(at + 12);
      if (!files.has(`${word(at)}:${word(at + 4)}`)) continue;
      if (line === 0 || line > 1e6 || col === 0 || col > 1e4) continue;
      data.fill(0, at, Math.min(at + 16, data.length));
      blanked++;
      at += 12;
    }
  }
  writeFileSync(path, bytes);
  return blanked;
}
