// Observability in the browser's terms: W3C trace context, User Timing measures for Chrome's
// Performance panel, Resource Timing and Server-Timing for a settled request. The driver
// measures where a request's time went (queue, retry wait, network); this module only speaks
// the browser's formats.

/**
 * `n` random bytes as lower-case hex.
 * @param {number} n
 */
const randomHex = (n) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => (b | 256).toString(16).slice(1)).join('');

/**
 * The trace a request joins: the trace id and flags of `parent` (a `traceparent` value), or
 * of a new sampled trace. `null` for a value that is not one: W3C Trace Context's
 * `version-traceid-parentid-flags` in lower-case hex, version not ff, ids not all zero.
 * @param {string | undefined} parent
 * @returns {[traceId: string, flags: string] | null}
 */
export function traceOf(parent) {
  if (parent === undefined) return [randomHex(16), '01'];
  const m = /^(?!ff)[\da-f]{2}-(?!0{32})([\da-f]{32})-(?!0{16})[\da-f]{16}-([\da-f]{2})$/.exec(parent);
  return m && [m[1], m[2]];
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
 * @param {string} header
 * @returns {Array<{ name: string, duration: number, description: string }>}
 */
export const serverTiming = (header) =>
  header.split(',').map((metric) => ({
    name: metric.split(';')[0].trim(),
    duration: +(/;\s*dur\s*=\s*"?([\d.]+)/.exec(metric)?.[1] ?? 0),
    description: /;\s*desc\s*=\s*("?)(.*?)\1\s*(;|$)/.exec(metric)?.[2] ?? '',
  }));

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
