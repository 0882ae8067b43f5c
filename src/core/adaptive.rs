//! Adaptive concurrency: one host's limit, moved by what the server shows.
//!
//! Attempts are judged in windows of completed attempts: one per permit while the limit
//! first ramps up, two per permit after (and at least [`MIN_WINDOW`]), more when the server
//! is noisy, so that noise moves a window's mean by less than 5 %. Latency is measured from
//! dispatch, so our own queue never counts. At the end of a window its mean is compared with
//! the floor, the lowest latency the server has shown:
//!
//! - **Above the floor** by more than 5 % plus the window's own noise (two standard
//!   errors): the server is queueing. The limit drops in proportion (`limit × floor / mean`),
//!   which lands on the knee of a server that slows in proportion to its load; the next
//!   window only confirms. A cut that did not lower the latency shows the latency was the
//!   server's base, not our load: it becomes the floor.
//! - **A 429 or 503, or a timed-out attempt**: the server refuses. The limit drops by a
//!   quarter at once (once per window: attempts dispatched before a change are ignored).
//! - **Flat, with the window full**: the limit rises by 1, then 2, 4, … while latency stays
//!   clearly flat, and by 1 near the noise. A server that never pushes back is found in a
//!   few windows; a knee is approached one step at a time.
//! - **Re-measuring**: after the server pushed back, one window runs at half the limit and
//!   its mean becomes the floor (first after 10 windows, since the first floor was measured
//!   at `initial`, perhaps above the knee; then every [`REMEASURE_EVERY`]), as Envoy
//!   re-measures its minimum RTT.
//!
//! Why this one: `machine::sim` runs it against simulated servers (a knee at 8 and 429s above
//! 16; the knee dropping to 4; ±50 % noise; no pushback at all; a knee at 50), each against
//! every fixed limit on the same server. Plain AIMD on 429 climbs to the refusal threshold,
//! where each 429 pauses the host. A Gradient2-style `limit × floor / mean + √limit` keeps
//! √limit of headroom above the knee for good (p99 1.3–1.4× the best fixed limit's). A
//! fixed tolerance and a plain minimum as floor took ±50 % noise for queueing and sank
//! (goodput 0.80–0.88). What is left: goodput 0.96–0.98 and p99 1.0–1.13× of the best fixed
//! limit in every scenario.

/// Fewest samples in a window (half as many during the first ramp).
pub const MIN_WINDOW: u32 = 16;
/// Windows between floor re-measurements (only while latency has been cutting the limit).
pub const REMEASURE_EVERY: u32 = 50;
/// Most samples in a window, however noisy the server.
pub const MAX_WINDOW: u32 = 256;
/// Latency may exceed the floor by this fraction plus the window's noise before it counts.
const TOLERANCE: f64 = 0.05;
/// How finely a window's mean should be known, as a fraction of it.
const RESOLUTION: f64 = 0.05;


/// Why a limit changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitReason {
    /// Latency rose above its floor.
    Latency = 1,
    /// The server answered 429 or 503, or an attempt timed out.
    Overload = 2,
    /// Latency stayed flat with the window full: probing for more.
    Probe = 3,
    /// A window at half the limit re-measures the latency floor.
    Remeasure = 4,
}

impl LimitReason {
    /// The JS name: `latency`, `overload`, `probe`, `remeasure`.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitReason::Latency => "latency",
            LimitReason::Overload => "overload",
            LimitReason::Probe => "probe",
            LimitReason::Remeasure => "remeasure",
        }
    }
}

/// The bounds of an adaptive limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdaptiveSettings {
    /// Lowest limit. Default 1.
    pub min: u32,
    /// Highest limit. Default the per-host limit.
    pub max: u32,
    /// The limit a new host starts at. Default `min(4, max)`.
    pub initial: u32,
}

/// One host's adaptive limit.
#[derive(Clone, Debug)]
pub struct AdaptiveLimit {
    bounds: AdaptiveSettings,
    limit: u32,
    /// Bumped on every change; samples from attempts dispatched before it are ignored.
    epoch: u32,
    floor: f64,
    sum: f64,
    sum_sq: f64,
    samples: u32,
    full: bool,
    step: u32,
    windows: u32,
    /// Windows since the floor was last (re-)measured.
    since_remeasure: u32,
    /// Latency has cut the limit since then.
    pushed_back: bool,
    /// Latency has ever cut the limit (the ramp is over).
    cut: bool,
    /// The window after a latency cut only confirms the new limit.
    hold: bool,
    /// Samples a window needs for the noise seen in the last one.
    noise_samples: u32,
    /// The mean latency of the window that caused the last latency cut.
    before_cut: f64,
    /// The floor has been re-measured at least once.
    remeasured: bool,
    /// The current window runs at half the limit to re-measure the floor; the limit to
    /// return to.
    remeasuring: Option<u32>,
}

impl AdaptiveLimit {
    /// A host's limit at `bounds.initial`, clamped to the bounds.
    pub fn new(bounds: AdaptiveSettings) -> AdaptiveLimit {
        AdaptiveLimit {
            bounds,
            limit: bounds.initial.max(bounds.min).min(bounds.max),
            epoch: 0,
            floor: f64::INFINITY,
            sum: 0.0,
            sum_sq: 0.0,
            samples: 0,
            full: false,
            step: 1,
            windows: 0,
            since_remeasure: 0,
            pushed_back: false,
            cut: false,
            hold: false,
            noise_samples: 0,
            before_cut: 0.0,
            remeasured: false,
            remeasuring: None,
        }
    }

    /// The limit now.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The epoch an attempt dispatched now carries into [`sample`](Self::sample).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Windows completed so far.
    pub fn windows(&self) -> u32 {
        self.windows
    }

    /// An attempt dispatched with `in_flight` attempts to this host (itself included).
    pub fn dispatched(&mut self, in_flight: usize) {
        if in_flight >= self.limit as usize {
            self.full = true;
        }
    }

    /// An attempt dispatched in `epoch` ended: answered after `latency_ms`, or refused
    /// (`overload`: 429, 503, a timeout). Returns the new limit when it changed.
    pub fn sample(&mut self, epoch: u32, latency_ms: f64, overload: bool) -> Option<(u32, LimitReason)> {
        if epoch != self.epoch {
            return None;
        }
        if overload {
            self.remeasuring = None;
            let to = (self.limit - self.limit / 4).min(self.limit - 1);
            return self.set(to, LimitReason::Overload);
        }
        self.sum += latency_ms;
        self.sum_sq += latency_ms * latency_ms;
        self.samples += 1;
        // Until the server first pushes back, a window is one round trip's worth (the ramp
        // is quick); after, two (the knee is judged on steadier means).
        let (least, per_permit) = if self.cut { (MIN_WINDOW, 2) } else { (MIN_WINDOW / 2, 1) };
        if self.samples < least.max(per_permit * self.limit).max(self.noise_samples) {
            return None;
        }
        self.windows += 1;
        self.since_remeasure = self.since_remeasure.saturating_add(1);
        let n = f64::from(self.samples);
        let mean = self.sum / n;
        let var = (self.sum_sq / n - mean * mean).max(0.0);
        let full = self.full;
        // A noisy server gets longer windows: enough samples that noise moves the mean by
        // less than RESOLUTION (two standard errors).
        let cv2 = var / (mean * mean);
        self.noise_samples = ((4.0 * cv2 / (RESOLUTION * RESOLUTION)) as u32).min(MAX_WINDOW);
        if let Some(back) = self.remeasuring.take() {
            self.floor = mean;
            self.since_remeasure = 0;
            self.pushed_back = false;
            self.remeasured = true;
            return self.set(back, LimitReason::Remeasure);
        }
        if self.floor.is_infinite() {
            self.floor = mean;
        }
        let ratio = mean / self.floor;
        // Above the floor by more than TOLERANCE plus twice the standard error of the mean
        // (what noise alone moves a window's mean by), compared squared: no `sqrt` in core.
        // No division by the floor, which a coarse clock can measure as 0 (that window's cut
        // does not lower the latency, so the next one makes its mean the floor).
        let excess = mean - self.floor * (1.0 + TOLERANCE);
        let queueing = excess > 0.0 && excess * excess > 4.0 * var / n;
        let held = core::mem::take(&mut self.hold);
        if queueing && (self.limit == self.bounds.min || (held && mean >= self.before_cut * (1.0 - RESOLUTION))) {
            // A cut that did not lower the latency, or no room left to cut: the latency is
            // not our queue at the server but its base (it rose, or the floor came from a
            // lucky window). It becomes the floor.
            self.floor = mean;
            self.reset_window();
            return None;
        }
        if queueing {
            self.before_cut = mean;
            self.cut = true;
            self.pushed_back = true;
            self.hold = true;
            let to = ((f64::from(self.limit) / ratio + 0.5) as u32).min(self.limit - 1);
            return self.set(to, LimitReason::Latency);
        }
        // A lower window pulls the floor halfway down, so one lucky window does not set it
        // for good. It never drifts up with the limit: only a re-measure raises it.
        if mean < self.floor {
            self.floor += 0.5 * (mean - self.floor);
        }
        // The first floor was measured at `initial`, perhaps above the knee: check it soon.
        let every = if self.remeasured { REMEASURE_EVERY } else { REMEASURE_EVERY / 5 };
        if self.pushed_back && self.since_remeasure >= every {
            self.remeasuring = Some(self.limit);
            let half = self.limit.div_ceil(2);
            return self.set(half, LimitReason::Remeasure);
        }
        if held {
            self.reset_window();
            return None;
        }
        if full && self.limit < self.bounds.max {
            let to = self.limit.saturating_add(self.step);
            // Clearly flat: probe further next time; near the noise: one step at a time.
            self.step = if ratio <= 1.0 + TOLERANCE / 2.0 { self.step.saturating_mul(2) } else { 1 };
            return self.set(to, LimitReason::Probe);
        }
        self.reset_window();
        None
    }

    fn set(&mut self, to: u32, reason: LimitReason) -> Option<(u32, LimitReason)> {
        let to = to.max(self.bounds.min).min(self.bounds.max);
        if reason != LimitReason::Probe {
            self.step = 1;
        }
        self.reset_window();
        if to == self.limit {
            return None;
        }
        self.limit = to;
        self.epoch = self.epoch.wrapping_add(1);
        Some((to, reason))
    }

    fn reset_window(&mut self) {
        self.sum = 0.0;
        self.sum_sq = 0.0;
        self.samples = 0;
        self.full = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn bounds(min: u32, max: u32, initial: u32) -> AdaptiveSettings {
        AdaptiveSettings { min, max, initial }
    }

    /// Feeds `latency` at the current limit until one window ends; returns its change.
    fn window(a: &mut AdaptiveLimit, latency: f64) -> Option<(u32, LimitReason)> {
        let before = a.windows();
        let mut out = None;
        while a.windows() == before {
            let e = a.epoch();
            a.dispatched(a.limit() as usize);
            if let Some(c) = a.sample(e, latency, false) {
                out = Some(c);
            }
        }
        out
    }

    #[test]
    fn starts_at_initial_within_bounds() {
        assert_eq!(AdaptiveLimit::new(bounds(1, 6, 4)).limit(), 4);
        assert_eq!(AdaptiveLimit::new(bounds(5, 6, 4)).limit(), 5);
        assert_eq!(AdaptiveLimit::new(bounds(1, 3, 4)).limit(), 3);
    }

    #[test]
    fn flat_latency_with_a_full_window_probes_upward_doubling_the_step() {
        let mut a = AdaptiveLimit::new(bounds(1, 100, 4));
        assert_eq!(window(&mut a, 20.0), Some((5, LimitReason::Probe)));
        assert_eq!(window(&mut a, 20.0), Some((7, LimitReason::Probe)));
        assert_eq!(window(&mut a, 20.0), Some((11, LimitReason::Probe)));
    }

    #[test]
    fn latency_in_proportion_to_load_lands_on_the_knee() {
        let mut a = AdaptiveLimit::new(bounds(1, 100, 8));
        assert_eq!(window(&mut a, 20.0), Some((9, LimitReason::Probe)));
        // Knee at 8: 9 in flight take 9/8 as long.
        assert_eq!(window(&mut a, 22.5), Some((8, LimitReason::Latency)));
    }

    #[test]
    fn a_refusal_drops_a_quarter_once_per_window_and_stale_samples_are_ignored() {
        let mut a = AdaptiveLimit::new(bounds(1, 100, 16));
        let e = a.epoch();
        assert_eq!(a.sample(e, 5.0, true), Some((12, LimitReason::Overload)));
        // Other attempts of the same burst were dispatched before the drop.
        assert_eq!(a.sample(e, 5.0, true), None);
        assert_eq!(a.limit(), 12);
        let e = a.epoch();
        assert_eq!(a.sample(e, 5.0, true), Some((9, LimitReason::Overload)));
    }

    #[test]
    fn never_leaves_its_bounds() {
        let mut a = AdaptiveLimit::new(bounds(2, 5, 4));
        for _ in 0..10 {
            let e = a.epoch();
            a.sample(e, 1.0, true);
            assert!((2..=5).contains(&a.limit()));
        }
        assert_eq!(a.limit(), 2);
        for _ in 0..10 {
            window(&mut a, 20.0);
            assert!((2..=5).contains(&a.limit()));
        }
        assert_eq!(a.limit(), 5);
    }

    #[test]
    fn a_window_not_full_does_not_raise_the_limit() {
        let mut a = AdaptiveLimit::new(bounds(1, 100, 4));
        for _ in 0..MIN_WINDOW {
            let e = a.epoch();
            a.dispatched(1);
            assert_eq!(a.sample(e, 20.0, false), None);
        }
        assert_eq!(a.limit(), 4);
    }

    #[test]
    fn a_cut_that_does_not_lower_latency_makes_it_the_new_floor() {
        let mut a = AdaptiveLimit::new(bounds(1, 100, 8));
        window(&mut a, 20.0);
        // The base latency doubled for good: the first cut is a mistake…
        assert_eq!(window(&mut a, 40.0), Some((5, LimitReason::Latency)));
        // …that the next window shows (no lower at 5), so 40 ms becomes the floor.
        assert_eq!(window(&mut a, 40.0), None);
        assert_eq!(window(&mut a, 40.0), Some((6, LimitReason::Probe)));
    }

    #[test]
    fn a_window_measured_as_0_ms_does_not_turn_latency_control_off() {
        // A coarse clock: the first answers all took "0 ms".
        let mut a = AdaptiveLimit::new(bounds(1, 100, 8));
        window(&mut a, 0.0);
        let mut seen = Vec::new();
        for _ in 0..6 {
            // Then a server with its knee at 8 and 20 ms answers.
            let latency = 20.0 * (f64::from(a.limit()) / 8.0).max(1.0);
            seen.extend(window(&mut a, latency));
        }
        assert!(seen.iter().any(|c| c.1 == LimitReason::Latency), "latency still cuts: {seen:?}");
        for _ in 0..20 {
            let latency = 20.0 * (f64::from(a.limit()) / 8.0).max(1.0);
            window(&mut a, latency);
            assert!(a.limit() <= 12, "the limit ran away to {}", a.limit());
        }
    }

    #[test]
    fn after_pushback_the_floor_is_remeasured_at_half_the_limit_and_the_limit_restored() {
        let mut a = AdaptiveLimit::new(bounds(1, 100, 8));
        window(&mut a, 20.0);
        assert_eq!(window(&mut a, 22.5), Some((8, LimitReason::Latency)));
        let mut seen = Vec::new();
        for _ in 0..REMEASURE_EVERY {
            // A server with its knee at 8.
            let latency = 20.0 * (f64::from(a.limit()) / 8.0).max(1.0);
            if let Some(c) = window(&mut a, latency) {
                seen.push(c);
            }
        }
        let at = seen.iter().position(|c| c.1 == LimitReason::Remeasure).expect("a re-measure");
        assert_eq!(seen[at + 1].1, LimitReason::Remeasure, "the limit went back after it");
        assert!(seen[at].0 < seen[at + 1].0);
    }
}
