// Batch planning for the loader, pure and synchronous: the string form keys are compared
// by, their URL encoding, `{keys}` URL templates, and splitting a batch so that every request
// respects both `maxBatchSize` and `maxUrlLength`. A port of src/core/batch.rs.

import { wellFormed } from './errors.js';

/** The placeholder a URL template holds; replaced by the comma-joined, encoded keys. */
const KEYS = '{keys}';

/** The form keys are compared in: `String(key)`, so the id `1` and the id `"1"` match. */
export const keyString = (key) => wellFormed(String(key));

/** `encodeURIComponent(key)` (keeps `A–Z a–z 0–9 - _ . ! ~ * ' ( )`, upper-case hex). */
export const encodeKey = (key) => encodeURIComponent(wellFormed(key));

const utf8 = new TextEncoder();

/** Length in UTF-8 bytes (URL limits count bytes). */
export const byteLength = (s) => utf8.encode(s).length;

/**
 * A URL template: `{ parts, fixed }`, the text around each `{keys}` (one more part than
 * there are placeholders) and its length in bytes; `null` when `template` holds none.
 */
export function parseTemplate(template) {
  const parts = template.split(KEYS);
  if (parts.length < 2) return null;
  return { parts, fixed: parts.reduce((n, p) => n + byteLength(p), 0) };
}

/** The length of the URL for keys whose encoded, comma-joined form is `joined` bytes long. */
export const lengthWith = (t, joined) => t.fixed + (t.parts.length - 1) * joined;

/** The URL for `encoded` keys (already encoded with `encodeKey`). */
export const buildUrl = (t, encoded) => t.parts.join(encoded.join(','));

/**
 * Splits keys (given by their encoded lengths, in order) into consecutive `[start, end)`
 * ranges of at most `maxBatchSize` keys whose URL is at most `maxUrlLength` long. A key
 * whose URL alone is longer still gets a range of its own; nothing is dropped, order is kept.
 */
export function chunk(lens, t, maxBatchSize, maxUrlLength) {
  const max = Math.max(maxBatchSize, 1);
  const out = [];
  let start = 0;
  let joined = 0; // the comma-joined length of keys[start..i]
  for (let i = 0; i < lens.length; i++) {
    const count = i - start;
    const grown = count === 0 ? lens[i] : joined + 1 + lens[i];
    if (count >= max || (count > 0 && lengthWith(t, grown) > maxUrlLength)) {
      out.push([start, i]);
      start = i;
      joined = lens[i];
    } else {
      joined = grown;
    }
  }
  if (start < lens.length) out.push([start, lens.length]);
  return out;
}

/**
 * Splits `0..len` into ranges of at most `maxBatchSize`, then halves any range for which
 * `build([start, end])` answers `{ fits: false }` until it fits or holds one key (always
 * kept). Returns `[[start, end], made]` pairs in order, `made` being what `build` returned.
 */
export function bisect(len, maxBatchSize, build) {
  const max = Math.max(maxBatchSize, 1);
  const out = [];
  for (let start = 0; start < len; ) {
    const end = Math.min(start + max, len);
    const todo = [[start, end]]; // the leftmost range on top
    while (todo.length) {
      const [s, e] = todo.pop();
      const made = build([s, e]);
      if (made.fits || e - s <= 1) {
        out.push([[s, e], made]);
      } else {
        const mid = s + Math.floor((e - s) / 2);
        todo.push([mid, e], [s, mid]);
      }
    }
    start = end;
  }
  return out;
}
