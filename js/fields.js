// Field selection (`LaneInit.fields`): the URL that asks for a sorted, de-duplicated field
// list, the requests of one tick for one URL coalesced into one for the union of their
// fields, a URL whose fields cover a caller's reused while it is in flight or fresh in the
// memory cache (the machine says which, `fl_answers`), and each caller's JSON trimmed to its
// own fields with `project`.

/** URLs remembered per base URL for reuse: the most recent few are enough for a page's panels. */
const SEEN_PER_URL = 8;
/** Base URLs remembered before they are all forgotten. */
const SEEN_URLS = 256;

/**
 * `url` with `param` set to the comma-joined `fields`.
 * @param {string} url absolute
 * @param {string} param
 * @param {string[]} fields sorted, unique
 */
export function withFields(url, param, fields) {
  const u = new URL(url);
  u.searchParams.set(param, fields.join(','));
  return u.href;
}

/**
 * Whether sorted `wide` holds every name of sorted `narrow`.
 * @param {string[]} wide
 * @param {string[]} narrow
 */
function covers(wide, narrow) {
  let i = 0;
  for (const name of narrow) {
    while (i < wide.length && wide[i] < name) i++;
    if (wide[i] !== name) return false;
  }
  return true;
}

/**
 * `value` trimmed to `fields` (an object's own keys; each object of an array) when the call
 * asked for `project`.
 * @param {{ pick: string[] | null }} rec
 * @param {unknown} value
 */
export function picked(rec, value) {
  const fields = rec.pick;
  if (fields === null) return value;
  /** @param {unknown} v */
  const trim = (v) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    /** @type {Record<string, unknown>} */
    const out = {};
    for (const f of fields) if (Object.hasOwn(v, f)) out[f] = /** @type {Record<string, unknown>} */ (v)[f];
    return out;
  };
  return Array.isArray(value) ? value.map(trim) : trim(value);
}

/**
 * The field batcher of one client. `hold(rec, headers, fields, send)` keeps a call with fields
 * until the end of the tick; then the calls for one URL (and the same request headers) go out
 * together, each through `send(url)`, with one URL whose fields cover them all.
 * @param {{ param: string, project: boolean }} options the client's `fields` option
 * @param {(url: string, headers: string) => boolean} answers whether the machine answers a GET
 *   of `url` now without a request of its own
 * @param {() => void} drain runs what the machine decided, after the tick's calls went in
 */
export function fieldBatcher(options, answers, drain) {
  /** @type {Map<string, { fields: string[], url: string }[]>} URLs asked for, by base URL */
  const seen = new Map();
  /** @type {Map<string, { base: string, headers: string, fields: Set<string>, calls: [any, (url: string) => void][] }> | null} */
  let held = null;

  function flush() {
    const groups = held;
    held = null;
    if (groups === null) return;
    for (const { base, headers, fields, calls } of groups.values()) {
      const union = [...fields].sort();
      const known = seen.get(base) ?? [];
      let url = known.find((k) => covers(k.fields, union) && answers(k.url, headers))?.url;
      if (url === undefined) {
        url = withFields(base, options.param, union);
        if (!known.some((k) => k.url === url)) known.unshift({ fields: union, url });
        if (known.length > SEEN_PER_URL) known.pop();
        // Bounded: a loader's batch URLs are each a new base; forgetting only costs reuse.
        if (seen.size >= SEEN_URLS) seen.clear();
        seen.set(base, known);
      }
      for (const [, send] of calls) send(url);
    }
    drain();
  }

  return {
    /**
     * @param {any} rec a call with `fields` (sorted, unique), its URL the base
     * @param {string} headers its request header lines (calls with other headers are not merged)
     * @param {string[]} fields
     * @param {(url: string) => void} send submits it for `url`, the URL that goes out
     */
    hold(rec, headers, fields, send) {
      if (held === null) {
        held = new Map();
        queueMicrotask(flush);
      }
      if (options.project && !rec.whole) rec.pick = fields;
      const id = `${rec.url}\n${headers}`;
      let group = held.get(id);
      if (group === undefined) held.set(id, (group = { base: rec.url, headers, fields: new Set(), calls: [] }));
      for (const f of fields) group.fields.add(f);
      group.calls.push([rec, send]);
    },

    /**
     * `clearQueue`: every held call goes to `fail` instead of the network.
     * @param {(rec: any) => void} fail
     */
    drop(fail) {
      const groups = held;
      held = null;
      for (const { calls } of groups?.values() ?? []) for (const [rec] of calls) fail(rec);
    },
  };
}
