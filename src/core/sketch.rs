//! Latency percentiles from a bounded sketch: log-linear buckets read off the bits of an `f64`.
//!
//! A positive `f64`'s bits grow with its value, and its top mantissa bits split each power of
//! two into equal parts. So the bits shifted right give a bucket index with 32 buckets per
//! power of two, with no logarithm (which `core` has not). A bucket spans at most 1/32 of its
//! lower bound, and a percentile is reported as its bucket's midpoint: within 1/64 (1.6 %) of
//! the exact sample at the same rank. Values at or below 1/1024 ms share the first bucket
//! (an error under 1 µs there); values above 2^31 ms (25 days) share the last.
//!
//! Memory is 1 313 counters (5 KiB) from the first sample on, however many samples go in.

use crate::prelude::*;

/// Mantissa bits that split each power of two: 2^5 = 32 buckets per octave.
const SUB_BITS: u32 = 5;
/// The smallest value told apart: 2^-10 ms.
const MIN_MS: f64 = 1.0 / 1024.0;
/// The largest value told apart: 2^31 ms.
const MAX_MS: f64 = 2_147_483_648.0;
/// Buckets: 2^-10 ms to 2^31 ms, 32 per power of two, and one for 2^31 ms and above.
pub const BUCKETS: usize = 41 * 32 + 1;

/// The bucket of `ms` (NaN and negatives go to the first).
fn bucket(ms: f64) -> u32 {
    let v = if ms > MIN_MS { ms.min(MAX_MS) } else { MIN_MS };
    ((v.to_bits() - MIN_MS.to_bits()) >> (52 - SUB_BITS)) as u32
}

/// The lower bound of bucket `i`.
fn lower(i: u32) -> f64 {
    f64::from_bits(MIN_MS.to_bits() + (u64::from(i) << (52 - SUB_BITS)))
}

/// Nearest-rank percentiles in ms of a [`Sketch`] (`None` without samples), each within 1.6 %
/// of the exact value.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Percentiles {
    /// The median.
    pub p50: Option<f64>,
    /// 95 % of the samples are at or below it.
    pub p95: Option<f64>,
    /// 99 % of the samples are at or below it.
    pub p99: Option<f64>,
    /// Samples taken.
    pub count: u64,
}

/// Percentiles of durations in ms, from bounded memory: see the module docs for the error.
#[derive(Clone, Debug, Default)]
pub struct Sketch {
    /// By bucket: [`BUCKETS`] counters once a sample went in.
    counts: Vec<u32>,
    count: u64,
}

impl Sketch {
    /// Adds one duration (ms).
    pub fn add(&mut self, ms: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS];
        }
        if let Some(n) = self.counts.get_mut(bucket(ms) as usize) {
            *n = n.saturating_add(1);
        }
        self.count += 1;
    }

    /// The count of every bucket (empty before the first sample): bucket `i` holds values from
    /// `2^(i / 32 - 10) · (1 + (i % 32) / 32)` ms up to the next bucket's start.
    pub fn counts(&self) -> &[u32] {
        &self.counts
    }

    /// How many durations went in.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// p50, p95, p99 and the sample count, as `stats()` reports them.
    pub fn summary(&self) -> Percentiles {
        Percentiles {
            p50: self.quantile(0.5),
            p95: self.quantile(0.95),
            p99: self.quantile(0.99),
            count: self.count,
        }
    }

    /// The `q` quantile (`0.5` for p50), by nearest rank: the smallest sample with at least
    /// `q · count` samples at or below it, to within 1.6 %. `None` with no samples.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let want = q * self.count as f64;
        let mut rank = want as u64;
        if (rank as f64) < want {
            rank += 1;
        }
        let rank = rank.max(1);
        let mut seen = 0u64;
        for (k, n) in self.counts.iter().enumerate() {
            seen += u64::from(*n);
            if seen >= rank {
                let i = k as u32;
                return Some((lower(i) + lower(i + 1)) / 2.0);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact nearest-rank quantile of sorted samples.
    fn exact(sorted: &[f64], q: f64) -> f64 {
        let want = q * sorted.len() as f64;
        let rank = (want.ceil() as usize).max(1);
        sorted[rank - 1]
    }

    /// A small deterministic generator (xorshift), so the samples are the same on every run.
    fn samples(n: usize, seed: u64, spread: impl Fn(f64) -> f64) -> Vec<f64> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                spread((x >> 11) as f64 / (1u64 << 53) as f64)
            })
            .collect()
    }

    fn check(values: &[f64]) {
        let mut s = Sketch::default();
        for v in values {
            s.add(*v);
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
        for q in [0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0] {
            let want = exact(&sorted, q);
            let got = s.quantile(q).unwrap();
            let err = (got - want).abs() / want;
            assert!(err <= 1.0 / 64.0, "q {q}: sketch {got}, exact {want}, error {err}");
        }
        assert_eq!(s.count(), values.len() as u64);
    }

    #[test]
    fn percentiles_of_10k_samples_are_within_the_stated_error() {
        // Uniform 5..500 ms, log-uniform 0.1 ms..60 s, and a long tail (a few very slow).
        check(&samples(10_000, 7, |u| 5.0 + 495.0 * u));
        check(&samples(10_000, 11, |u| 0.1 * (600_000.0f64).powf(u)));
        check(&samples(10_000, 13, |u| if u > 0.98 { 2_000.0 + u * 10_000.0 } else { 20.0 + 30.0 * u }));
    }

    #[test]
    fn memory_stays_bounded_over_many_samples() {
        let mut s = Sketch::default();
        for v in samples(100_000, 17, |u| 1.0 + 10_000.0 * u) {
            s.add(v);
        }
        s.add(0.0);
        s.add(f64::NAN);
        s.add(f64::INFINITY);
        assert_eq!(s.counts.len(), BUCKETS);
        assert_eq!(s.counts().iter().map(|n| u64::from(*n)).sum::<u64>(), s.count());
        assert_eq!(s.quantile(0.0), s.quantile(1e-9));
        assert!(s.quantile(1.0).unwrap() >= MAX_MS);
    }

    #[test]
    fn no_samples_no_percentile() {
        assert_eq!(Sketch::default().quantile(0.5), None);
        let mut s = Sketch::default();
        s.add(100.0);
        let p = s.quantile(0.5).unwrap();
        assert!((p - 100.0).abs() <= 100.0 / 64.0, "{p}");
    }
}
