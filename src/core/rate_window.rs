//! Strict sliding-window rate limits, as the *server* sees them.
//!
//! A rule `{ limit, interval_ms }` promises that the server never sees more than `limit`
//! requests arrive within `interval_ms`. The client cannot know when a request arrives, only
//! that it arrived somewhere between the moment it was sent and the moment its answer (or
//! failure) came back. So each request counts in the window from its start until
//! `interval_ms` after it *completed*: while it is in flight it counts, and after that its
//! latest possible arrival time does. A new request may start only while fewer than `limit`
//! requests count.
//!
//! Why that is enough: take any `limit + 1` requests and the one of them that started last,
//! at `s`. When it started, at most `limit - 1` others still counted, so one of the other
//! `limit` had completed by `s - interval`, and so had arrived by then; the last one arrives
//! at `s` or later. No window shorter than `interval` can hold all `limit + 1` arrivals.
//!
//! The price is one round trip per window: with latency `L` the rule allows `limit`
//! requests per `interval + L` in the worst case. Counting start times only (what most
//! client-side limiters do) is faster but lets network jitter push `limit + 1` arrivals into
//! one server window now and then; measured here, that happened on a cold connection.

use crate::prelude::*;

/// One `{ limit, intervalMs }` rule.
#[derive(Clone, Debug)]
pub struct RateWindow {
    limit: u32,
    interval_ms: f64,
    /// Requests in flight, by id: each counts until it completes.
    in_flight: Vec<u64>,
    /// Completion times that may still count, in increasing order. Completions arrive in
    /// clock order, so this stays sorted without a sort (which would cost wasm size).
    finished: Vec<f64>,
}

impl RateWindow {
    /// A rule allowing `limit` requests per `interval_ms`.
    ///
    /// Callers validate (`limit >= 1`, `interval_ms > 0` and finite); this never panics. A
    /// `limit` of 0 is treated as 1, and an `interval_ms` that is not positive and finite
    /// disables the rule.
    pub fn new(limit: u32, interval_ms: f64) -> Self {
        RateWindow { limit: limit.max(1), interval_ms, in_flight: Vec::new(), finished: Vec::new() }
    }

    /// The rule's limit.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The rule's interval in milliseconds.
    pub fn interval_ms(&self) -> f64 {
        self.interval_ms
    }

    fn enforced(&self) -> bool {
        self.interval_ms > 0.0 && self.interval_ms.is_finite()
    }

    /// Whether an entry completed at `done` still counts at `now`.
    fn counts(&self, done: f64, now_ms: f64) -> bool {
        done + self.interval_ms > now_ms
    }

    /// The earliest time `>= now_ms` at which one more request may start: `now_ms` when it
    /// may start at once, `f64::INFINITY` when that depends on requests still in flight
    /// (their completion will tell).
    pub fn earliest_start(&self, now_ms: f64) -> f64 {
        if !self.enforced() {
            return now_ms;
        }
        let counting = &self.finished[self.expired(now_ms)..];
        let count = self.in_flight.len() + counting.len();
        let limit = self.limit as usize;
        if count < limit {
            return now_ms;
        }
        // `excess` entries must stop counting; the finished ones stop in completion order,
        // the ones in flight only after they complete.
        let excess = count - limit + 1;
        match counting.get(excess - 1) {
            Some(&deciding) => (deciding + self.interval_ms).max(now_ms),
            None => f64::INFINITY,
        }
    }

    /// How many of the oldest completions no longer count at `now_ms`.
    fn expired(&self, now_ms: f64) -> usize {
        self.finished.partition_point(|&d| !self.counts(d, now_ms))
    }

    /// Records that request `id` starts at `now_ms` (callers only do so when
    /// `earliest_start(now_ms) <= now_ms`). Completions that no longer count are dropped, so
    /// the memory is O(`limit` + requests in flight).
    pub fn record_start(&mut self, id: u64, now_ms: f64) {
        if !self.enforced() {
            return;
        }
        let expired = self.expired(now_ms);
        // A shift by hand: `drain` links core's range checks for this one call.
        let kept = self.finished.len() - expired;
        for i in 0..kept {
            self.finished[i] = self.finished[i + expired];
        }
        self.finished.truncate(kept);
        self.in_flight.push(id);
    }

    /// Records that request `id` completed (answered, failed or was aborted) at `now_ms`.
    /// Unknown ids are ignored.
    pub fn complete(&mut self, id: u64, now_ms: f64) {
        if let Some(i) = self.in_flight.iter().position(|&x| x == id) {
            self.in_flight.swap_remove(i);
            // In order already unless a caller's clock went backwards; then keep it sorted.
            let at = self.finished.partition_point(|&d| d <= now_ms);
            self.finished.insert(at, now_ms);
        }
    }
}

/// The earliest start allowed by every window at once (the latest of their answers).
pub fn earliest_start_all<'a>(windows: impl IntoIterator<Item = &'a RateWindow>, now_ms: f64) -> f64 {
    let mut at = now_ms;
    for w in windows {
        at = at.max(w.earliest_start(now_ms));
    }
    at
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn ten_per_second_with_instant_answers() {
        let mut w = RateWindow::new(10, 1000.0);
        for id in 0..10 {
            assert_eq!(w.earliest_start(0.0), 0.0);
            w.record_start(id, 0.0);
            w.complete(id, 0.0);
        }
        assert_eq!(w.earliest_start(0.0), 1000.0);
        assert_eq!(w.earliest_start(1000.0), 1000.0);
    }

    #[test]
    fn the_window_runs_from_completion() {
        let mut w = RateWindow::new(2, 1000.0);
        w.record_start(1, 0.0);
        w.record_start(2, 0.0);
        assert_eq!(w.earliest_start(10.0), f64::INFINITY, "both in flight");
        w.complete(2, 50.0);
        assert_eq!(w.earliest_start(60.0), 1050.0, "the answered one stops counting first");
        w.complete(1, 80.0);
        assert_eq!(w.earliest_start(100.0), 1050.0);
        assert_eq!(w.earliest_start(1060.0), 1060.0);
    }

    #[test]
    fn completions_out_of_clock_order_stay_sorted() {
        let mut w = RateWindow::new(2, 1000.0);
        w.record_start(1, 0.0);
        w.record_start(2, 0.0);
        w.complete(2, 80.0);
        w.complete(1, 50.0); // a clock reading older than the last completion
        assert_eq!(w.finished, vec![50.0, 80.0]);
        assert_eq!(w.earliest_start(60.0), 1050.0, "the earliest completion stops counting first");
        assert_eq!(w.earliest_start(1060.0), 1060.0);
    }

    #[test]
    fn sliding_not_fixed() {
        let mut w = RateWindow::new(2, 1000.0);
        for (id, t) in [(1, 900.0), (2, 950.0)] {
            w.record_start(id, t);
            w.complete(id, t);
        }
        // A fixed window would reset at 1000 and allow two more.
        assert_eq!(w.earliest_start(1000.0), 1900.0);
    }

    #[test]
    fn several_windows_take_the_max() {
        let mut a = RateWindow::new(1, 100.0);
        let mut b = RateWindow::new(1, 500.0);
        a.record_start(1, 0.0);
        b.record_start(1, 0.0);
        a.complete(1, 0.0);
        b.complete(1, 0.0);
        assert_eq!(earliest_start_all([&a, &b], 0.0), 500.0);
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        for interval in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let mut w = RateWindow::new(0, interval);
            w.record_start(1, 0.0);
            w.complete(1, 0.0);
            assert_eq!(w.earliest_start(5.0), 5.0);
        }
        let mut w = RateWindow::new(0, 10.0);
        w.record_start(1, 0.0);
        w.complete(1, 0.0);
        assert_eq!(w.limit(), 1);
        assert_eq!(w.earliest_start(0.0), 10.0);
        w.complete(99, 1.0); // unknown id: ignored
    }

    #[test]
    fn memory_stays_bounded() {
        let mut w = RateWindow::new(3, 10.0);
        let mut t = 0.0;
        for id in 0..10_000 {
            t = w.earliest_start(t);
            w.record_start(id, t);
            w.complete(id, t + 1.0);
        }
        assert!(w.in_flight.len() + w.finished.len() <= 4);
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

        /// Random arrivals and latencies, several rules at once, a FIFO queue with a fixed
        /// number of slots: whatever the server's arrival time inside `[start, completion]`,
        /// no window shorter than a rule's interval holds more than its limit.
        #[test]
        fn the_server_never_sees_more_than_the_limit(
            arrivals in proptest::collection::vec(0u32..5000, 1..120),
            latencies in proptest::collection::vec(0u32..300, 120),
            rules in proptest::collection::vec((1u32..8, 1u32..1500), 1..4),
            slots in 1usize..6,
        ) {
            let mut arrivals = arrivals;
            arrivals.sort_unstable();
            let mut windows: Vec<RateWindow> = rules.iter().map(|&(l, i)| RateWindow::new(l, i as f64)).collect();
            // (start, completion) per request, decided by a simple event loop on a fake clock.
            let mut done: Vec<(f64, f64)> = Vec::new();
            let mut running: Vec<(u64, f64)> = Vec::new();
            let mut next = 0usize;
            let mut now = 0.0f64;
            while done.len() < arrivals.len() {
                // Complete what is due.
                running.sort_by(|a, b| a.1.total_cmp(&b.1));
                while let Some(&(id, end)) = running.first() {
                    if end > now { break; }
                    for w in windows.iter_mut() { w.complete(id, end); }
                    running.remove(0);
                }
                // Start what may start.
                while next < arrivals.len() && arrivals[next] as f64 <= now && running.len() < slots
                    && earliest_start_all(&windows, now) <= now
                {
                    let id = next as u64;
                    for w in windows.iter_mut() { w.record_start(id, now); }
                    let end = now + latencies[next] as f64;
                    running.push((id, end));
                    done.push((now, end));
                    next += 1;
                }
                // Advance the clock to the next event.
                let mut t = f64::INFINITY;
                if let Some(&(_, end)) = running.iter().min_by(|a, b| a.1.total_cmp(&b.1)) { t = t.min(end); }
                if next < arrivals.len() {
                    t = t.min((arrivals[next] as f64).max(now));
                    let gate = earliest_start_all(&windows, now);
                    if gate.is_finite() && gate > now { t = t.min(gate); }
                }
                prop_assert!(t.is_finite(), "stuck");
                now = if t > now { t } else { now + 1.0 };
            }
            for (rule, &(limit, interval)) in rules.iter().enumerate() {
                let interval = interval as f64;
                let _ = rule;
                // Worst case for the property: latest possible arrivals for earlier requests
                // (their completion) and earliest for later ones (their start).
                for k in 0..done.len() {
                    let s_k = done[k].0;
                    let still_counting = done[..k].iter().filter(|&&(_, c)| c + interval > s_k).count();
                    prop_assert!(still_counting < limit as usize,
                        "request {} started while {} others could share its window", k, still_counting);
                }
            }
        }
    }
}
