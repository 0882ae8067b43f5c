// Latency percentiles from bounded memory: a count per logarithmic bucket, 32 buckets per
// doubling. A percentile is reported as its bucket's geometric middle, so it is within 1.1 %
// (2^(1/64) - 1) of the exact nearest-rank value, or reads 0 for values under 1 µs; and a
// sketch never holds more than MAX_BUCKET + 1 counters, however many samples it takes.

/** Buckets per doubling. */
const PER_OCTAVE = 32;
/** Bucket 1 starts at 2^-10 ms (about 1 µs); bucket 0 holds everything below (and 0). */
const OFFSET = 10 * PER_OCTAVE;
/** 2^53 ms and over share the last bucket. */
const MAX_BUCKET = OFFSET + 53 * PER_OCTAVE;

export class Sketch {
  constructor() {
    /** @type {number[]} Samples per bucket (holes: none). */
    this.counts = [];
    this.count = 0;
  }

  /** @param {number} ms */
  add(ms) {
    const k = ms >= 2 ** -10 ? Math.min(MAX_BUCKET, Math.floor(Math.log2(ms) * PER_OCTAVE) + OFFSET + 1) : 0;
    this.counts[k] = (this.counts[k] ?? 0) + 1;
    this.count++;
  }

  /**
   * The nearest-rank `q` quantile (0.5: the median); NaN without samples.
   * @param {number} q
   */
  quantile(q) {
    const rank = Math.max(1, Math.ceil(q * this.count));
    for (let k = 0, seen = 0; k < this.counts.length; k++) {
      seen += this.counts[k] ?? 0;
      if (seen >= rank) return k === 0 ? 0 : 2 ** ((k - OFFSET - 0.5) / PER_OCTAVE);
    }
    return NaN;
  }

  /** `{ p50, p95, p99, count }`, as `stats()` reports it. */
  summary() {
    return { p50: this.quantile(0.5), p95: this.quantile(0.95), p99: this.quantile(0.99), count: this.count };
  }
}
