//! Strict sliding-window rate limits.
//!
//! A rule `{ limit, interval_ms }` guarantees that no half-open window `[t, t + interval_ms)`
//! contains more than `limit` starts. That holds exactly when any `limit + 1` consecutive starts
//! are at least `interval_ms` apart, so remembering only the last `limit` start times is enough:
//! the next start must wait until the oldest of them is `interval_ms` old. Unlike a fixed window
//! (reset every interval), this never lets `2 * limit` starts through around a boundary.

use std::collections::VecDeque;

/// Starting capacity of the ring: large limits (say 10 000/hour) only pay for the starts that
/// actually happen.
const INITIAL_CAPACITY: usize = 16;

/// One `{ limit, intervalMs }` rule: in no half-open window of `interval_ms` do more than
/// `limit` starts happen.
///
/// Memory is O(`limit`): a ring of the last `limit` start times.
#[derive(Clone, Debug)]
pub struct RateWindow {
    limit: u32,
    interval_ms: f64,
    /// The last (up to) `limit` start times, oldest first, non-decreasing.
    starts: VecDeque<f64>,
}

impl RateWindow {
    /// A rule allowing `limit` starts per `interval_ms`, with no starts recorded yet.
    ///
    /// Callers validate (`limit >= 1`, `interval_ms > 0` and finite); this never panics. A
    /// `limit` of 0 is treated as 1, and an `interval_ms` that is not positive and finite
    /// disables the rule (every start is allowed at once).
    pub fn new(limit: u32, interval_ms: f64) -> Self {
        let limit = limit.max(1);
        RateWindow {
            limit,
            interval_ms,
            starts: VecDeque::with_capacity((limit as usize).min(INITIAL_CAPACITY)),
        }
    }

    /// The earliest time `>= now_ms` at which one more start is allowed (`== now_ms` when
    /// allowed now). O(1).
    pub fn earliest_start(&self, now_ms: f64) -> f64 {
        if !self.enforced() || self.starts.len() < self.limit as usize {
            return now_ms;
        }
        match self.starts.front() {
            Some(&oldest) => now_ms.max(Self::after(oldest, self.interval_ms)),
            None => now_ms,
        }
    }

    /// Records a start at `now_ms`.
    ///
    /// Callers only call this when `earliest_start(now_ms) <= now_ms`, with non-decreasing
    /// times. An earlier time than the last recorded one is stored as the last one, which keeps
    /// the ring sorted and only ever makes the rule stricter.
    pub fn record_start(&mut self, now_ms: f64) {
        let at = match self.starts.back() {
            Some(&last) if now_ms < last || now_ms.is_nan() => last,
            _ => now_ms,
        };
        if self.starts.len() >= self.limit as usize {
            self.starts.pop_front();
        }
        self.starts.push_back(at);
    }

    /// The most starts allowed per interval (at least 1).
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The interval length in ms.
    pub fn interval_ms(&self) -> f64 {
        self.interval_ms
    }

    fn enforced(&self) -> bool {
        self.interval_ms.is_finite() && self.interval_ms > 0.0
    }

    /// The smallest representable `t` with `t >= oldest + interval` and `t - oldest >= interval`
    /// in floating point. Rounding can make `(a + b) - a < b`; nudging up keeps the guarantee
    /// true however a caller or test measures the gap.
    fn after(oldest: f64, interval: f64) -> f64 {
        let mut t = oldest + interval;
        // Each step moves one ulp; two or three are ever needed, the bound is only a backstop.
        for _ in 0..8 {
            if t - oldest >= interval || !t.is_finite() {
                break;
            }
            t = next_up(t);
        }
        t
    }
}

/// The next representable f64 above `x` (`f64::next_up` needs Rust 1.86; the crate targets
/// 1.81). Only called with finite `x`.
fn next_up(x: f64) -> f64 {
    if x == 0.0 {
        return f64::from_bits(1);
    }
    let bits = x.to_bits();
    if x > 0.0 {
        f64::from_bits(bits + 1)
    } else {
        f64::from_bits(bits - 1)
    }
}

/// The earliest time `>= now_ms` at which one more start is allowed by every window together
/// (e.g. 5/s AND 100/min): the latest of their `earliest_start`s. With no windows, `now_ms`.
pub fn earliest_start_all<'a>(
    windows: impl IntoIterator<Item = &'a RateWindow>,
    now_ms: f64,
) -> f64 {
    windows
        .into_iter()
        .fold(now_ms, |at, w| at.max(w.earliest_start(now_ms)))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::RngSeed;

    #[test]
    fn ten_per_second() {
        let t0 = 5_000.0;
        let mut w = RateWindow::new(10, 1000.0);
        assert_eq!(w.limit(), 10);
        assert_eq!(w.interval_ms(), 1000.0);
        for _ in 0..10 {
            assert_eq!(w.earliest_start(t0), t0);
            w.record_start(t0);
        }
        assert_eq!(w.earliest_start(t0), t0 + 1000.0);
        assert_eq!(w.earliest_start(t0 + 999.0), t0 + 1000.0);
        // Half-open windows: exactly one interval later is allowed.
        assert_eq!(w.earliest_start(t0 + 1000.0), t0 + 1000.0);
        assert_eq!(w.earliest_start(t0 + 1500.0), t0 + 1500.0);
        for _ in 0..10 {
            assert_eq!(w.earliest_start(t0 + 1000.0), t0 + 1000.0);
            w.record_start(t0 + 1000.0);
        }
        assert_eq!(w.earliest_start(t0 + 1000.0), t0 + 2000.0);
    }

    #[test]
    fn sliding_not_fixed() {
        let mut w = RateWindow::new(2, 100.0);
        w.record_start(0.0);
        w.record_start(90.0);
        // A fixed window would reset at 100; the sliding one frees a slot at 100 only because
        // the start at 0 has aged out, and the next slot at 190.
        assert_eq!(w.earliest_start(95.0), 100.0);
        w.record_start(100.0);
        assert_eq!(w.earliest_start(101.0), 190.0);
    }

    #[test]
    fn several_windows_take_the_max() {
        let mut fast = RateWindow::new(2, 100.0);
        let mut slow = RateWindow::new(3, 1000.0);
        let mut now = 0.0;
        let mut starts = Vec::new();
        for _ in 0..5 {
            now = earliest_start_all([&fast, &slow], now);
            fast.record_start(now);
            slow.record_start(now);
            starts.push(now);
        }
        assert_eq!(starts, [0.0, 0.0, 100.0, 1000.0, 1000.0]);
        assert_eq!(earliest_start_all(std::iter::empty(), 42.0), 42.0);
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let mut w = RateWindow::new(0, 10.0);
        assert_eq!(w.limit(), 1);
        w.record_start(0.0);
        assert_eq!(w.earliest_start(0.0), 10.0);
        for interval in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let mut w = RateWindow::new(1, interval);
            w.record_start(0.0);
            w.record_start(0.0);
            assert_eq!(w.earliest_start(3.0), 3.0);
        }
        // Out-of-order recording keeps the ring sorted and conservative.
        let mut w = RateWindow::new(2, 100.0);
        w.record_start(50.0);
        w.record_start(10.0);
        assert_eq!(w.earliest_start(0.0), 150.0);
    }

    #[test]
    fn rounding_never_shortens_the_gap() {
        // (0.1 + 4.0) - 0.1 < 4.0 in f64.
        let (oldest, interval) = (0.1f64, 4.0f64);
        assert!((oldest + interval) - oldest < interval);
        let mut w = RateWindow::new(1, interval);
        w.record_start(oldest);
        let t = w.earliest_start(0.0);
        assert!(t - oldest >= interval && t >= oldest + interval);
    }

    #[test]
    fn large_limit_grows_lazily() {
        let mut w = RateWindow::new(u32::MAX, 1.0);
        for i in 0..100 {
            w.record_start(f64::from(i));
        }
        assert_eq!(w.earliest_start(100.0), 100.0);
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 512,
            rng_seed: RngSeed::Fixed(0x5EED_1A7E),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn fifo_queue_respects_every_window(
            mut arrivals in prop::collection::vec(0.0f64..5000.0, 0..200),
            rules in prop::collection::vec((1u32..10, prop_oneof![
                (1u32..2000).prop_map(f64::from),
                1.0f64..2000.0,
            ]), 1..=3),
        ) {
            arrivals.sort_by(f64::total_cmp);
            let mut windows: Vec<RateWindow> =
                rules.iter().map(|&(l, i)| RateWindow::new(l, i)).collect();
            let mut starts: Vec<f64> = Vec::with_capacity(arrivals.len());
            let mut prev = f64::NEG_INFINITY;
            for &arrival in &arrivals {
                let now = arrival.max(prev);
                let start = now.max(earliest_start_all(&windows, now));
                for w in &windows {
                    prop_assert!(w.earliest_start(start) <= start);
                }
                for w in &mut windows {
                    w.record_start(start);
                }
                starts.push(start);
                prev = start;
            }
            for (s, a) in starts.iter().zip(&arrivals) {
                prop_assert!(s >= a);
            }
            for pair in starts.windows(2) {
                prop_assert!(pair[0] <= pair[1]);
            }
            for &(limit, interval) in &rules {
                let l = limit as usize;
                for i in l..starts.len() {
                    let (first, last) = (starts[i - l], starts[i]);
                    prop_assert!(
                        last - first >= interval && last >= first + interval,
                        "limit {} interval {}: starts {} and {} too close", limit, interval, first, last
                    );
                }
            }
        }
    }
}
