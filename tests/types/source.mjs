// Reading TypeScript source as text for the type checks: comments out, strings optionally
// blanked, line numbers kept.

/**
 * `source` with every comment replaced by blanks (newlines kept, so line numbers still
 * match). With `blankStrings`, string and template contents are blanked too (the quotes
 * stay); without, strings are kept (so `Pick<X, 'a' | 'b'>` survives).
 * @param {string} source
 * @param {{ blankStrings?: boolean }} [opts]
 * @returns {string}
 */
export function withoutComments(source, { blankStrings = false } = {}) {
  const blank = (text) => text.replace(/[^\n]/g, ' ');
  let out = '';
  for (let i = 0; i < source.length; ) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? source.length : end + 2;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < source.length && source[j] !== c) j += source[j] === '\\' ? 2 : 1;
      const inner = source.slice(i + 1, Math.min(j, source.length));
      out += c + (blankStrings ? blank(inner) : inner) + (j < source.length ? c : '');
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
