// Observability in the browser's terms: W3C trace context, User Timing measures for Chrome's
// Performance panel, Resource Timing and Server-Timing for a settled request. The driver
// measures where a request's time went (queue, retry wait, network); this module only speaks
// the browser's formats.

/** `00-<trace id>-<parent id>-<flags>`, lower-case hex, as W3C Trace Context writes it. */
const TRACEPARENT = /^([\da-f]{2})-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/;

/**
 * `n` random bytes as lower-case hex.
 * @param {number} n
 */
const randomHex = (n) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => (b | 256).toString(16).slice(1)).join('');

/**
 * The trace a request joins: the trace id and flags of `parent` (a `traceparent` value), or
 * of a new sampled trace. `null` for a value that is not one (version ff, all-zero ids).
 * @param {string | undefined} parent
 * @returns {[traceId: string, flags: string] | null}
 */
export function traceOf(parent) {
  if (parent === undefined) return [randomHex(16), '01'];
  const m = TRACEPARENT.exec(parent);
  if (m === null || m[1] === 'ff' || /^0+$/.test(m[2]) || /^0+$/.test(m[3])) return null;
  return [m[2], m[4]];
}

/**
 * The `traceparent` header of one attempt: the trace's id, a new span id.
 * @param {[string, string]} trace
 */
export const traceparent = (trace) => `00-${trace[0]}-${randomHex(8)}-${trace[1]}`;

/**
 * Whether requests to `url` carry `traceparent`: its origin is listed, or matches a RegExp.
 * @param {Array<string | RegExp>} origins
 * @param {string} url absolute
 */
export function propagates(origins, url) {
  const origin = new URL(url).origin;
  return origins.some((o) => (typeof o === 'string' ? o === origin : o.test(origin)));
}

/**
 * One User Timing measure on the `track` of Chrome's Performance panel (the DevTools
 * extensibility API reads `detail.devtools`); other browsers keep it as a plain measure.
 * @param {string} name
 * @param {number} start `performance.now()` time
 * @param {number} end
 * @param {string} track
 * @param {[string, string][]} properties
 */
export function measure(name, start, end, track, properties) {
  try {
    performance.measure(name, { start, end, detail: { devtools: { dataType: 'track-entry', track, properties } } });
  } catch {
    // A runtime without User Timing Level 3 (or a cleared time origin): nothing to draw on.
  }
}

/**
 * The `Server-Timing` header's metrics: `name;dur=1.2;desc="x", …`.
 * @param {string | null} header
 * @returns {Array<{ name: string, duration: number, description: string }> | undefined}
 */
export function serverTiming(header) {
  return header?.split(',').map((metric) => {
    const [name, ...params] = metric.split(';');
    const out = { name: name.trim(), duration: 0, description: '' };
    for (const p of params) {
      const [key, value = ''] = p.split('=').map((x) => x.trim());
      if (key === 'dur') out.duration = +value || 0;
      else if (key === 'desc') out.description = value.replace(/^"(.*)"$/, '$1');
    }
    return out;
  });
}

/**
 * The Resource Timing entry of the attempt to `url` that started at `sentAt`: the latest entry
 * for the URL that started after the attempt did. `undefined` where the browser has none (not
 * yet, its buffer is full, or no Resource Timing: Node).
 * @param {string} url
 * @param {number} sentAt `performance.now()` time
 * @returns {PerformanceResourceTiming | undefined}
 */
export function resourceTiming(url, sentAt) {
  // The entry's clock and ours may disagree by rounding (coarsened timers).
  return performance.getEntriesByName?.(url, 'resource').findLast((e) => e.startTime >= sentAt - 2);
}
