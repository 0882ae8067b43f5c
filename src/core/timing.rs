//! Where a request's time went: a stopwatch per network operation, read by the driver.
//!
//! The machine decides; the driver does the I/O and so is the one that knows when an attempt
//! left and when its body was in. It starts the op's [`Stopwatch`] at each dispatch, stops it
//! when the head arrives (or the attempt fails), runs it again while it reads the body, and
//! reads a [`Timing`] off it when a caller settles. The JS driver (js/driver.js) keeps the
//! same fields on its `Op` records.

/// The split of a settled request's time. `None` where the request had no such part: a
/// cache hit never reached the network, so it has no network fields rather than zeroes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timing {
    /// From the call to its first attempt's dispatch (rate-limit and host pauses included);
    /// for a request that never started, its whole wait.
    pub queued_ms: Option<f64>,
    /// Between attempts: backoff, `Retry-After`, and the queue again.
    pub retry_wait_ms: Option<f64>,
    /// On the network: each attempt from dispatch to the end of its body where the driver
    /// reads it (to its head where the caller reads the body itself).
    pub network_ms: Option<f64>,
    /// Response body bytes: what was read, else `Content-Length`.
    pub bytes: Option<f64>,
}

/// One operation's clock readings (ms, on the driver's `performance.now()` clock).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stopwatch {
    /// When its first attempt was dispatched (NaN: not yet).
    first: f64,
    /// Since when it is on the network (NaN: it is not).
    since: f64,
    /// When it last left the network (NaN: never).
    ended: f64,
    net: f64,
    wait: f64,
    /// See [`Timing::bytes`] (NaN: unknown).
    pub bytes: f64,
}

impl Default for Stopwatch {
    fn default() -> Self {
        Stopwatch {
            first: f64::NAN,
            since: f64::NAN,
            ended: f64::NAN,
            net: 0.0,
            wait: 0.0,
            bytes: f64::NAN,
        }
    }
}

impl Stopwatch {
    /// An attempt is dispatched at `now`: the wait since the last one ended is retry wait.
    pub fn start(&mut self, now: f64) {
        if self.first.is_nan() {
            self.first = now;
        } else if !self.ended.is_nan() {
            self.wait += now - self.ended;
        }
        self.since = now;
    }

    /// The driver starts reading the body at `now`: that is network time too.
    pub fn resume(&mut self, now: f64) {
        self.since = now;
    }

    /// The attempt (or the body read) leaves the network at `now`: its time is added up.
    pub fn stop(&mut self, now: f64) {
        if !self.since.is_nan() {
            self.net += now - self.since;
            self.since = f64::NAN;
            self.ended = now;
        }
    }

    /// Whether an attempt was ever dispatched.
    pub fn started(&self) -> bool {
        !self.first.is_nan()
    }

    /// When the first attempt was dispatched, if one was.
    pub fn first_ms(&self) -> Option<f64> {
        self.started().then_some(self.first)
    }

    /// The time of a caller that came at `called_ms`, as of `now` (an attempt still on the
    /// network counts up to `now`). A dedupe join that came after the dispatch waited 0.
    pub fn timing(&self, called_ms: f64, now: f64) -> Timing {
        if !self.started() {
            return Timing {
                queued_ms: Some(now - called_ms),
                ..Timing::default()
            };
        }
        let flying = if self.since.is_nan() { 0.0 } else { now - self.since };
        Timing {
            queued_ms: Some((self.first - called_ms).max(0.0)),
            retry_wait_ms: Some(self.wait),
            network_ms: Some(self.net + flying),
            bytes: (!self.bytes.is_nan()).then_some(self.bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_retry_wait_and_network_add_up_from_the_clock_readings() {
        let mut w = Stopwatch::default();
        assert_eq!(w.timing(0.0, 70.0), Timing { queued_ms: Some(70.0), ..Timing::default() });
        // Queued 200 ms; attempt 1 on the network 30 ms; 100 ms of backoff; attempt 2 50 ms to
        // its head, then 20 ms reading its body.
        w.start(200.0);
        w.stop(230.0);
        w.start(330.0);
        w.stop(380.0);
        w.resume(380.0);
        w.bytes = 5.0;
        assert_eq!(w.timing(0.0, 390.0).network_ms, Some(90.0), "the body read counts while it runs");
        w.stop(400.0);
        let t = w.timing(0.0, 400.0);
        assert_eq!(t, Timing { queued_ms: Some(200.0), retry_wait_ms: Some(100.0), network_ms: Some(100.0), bytes: Some(5.0) });
        // A caller that joined after the dispatch did not wait in the queue.
        assert_eq!(w.timing(250.0, 400.0).queued_ms, Some(0.0));
        assert_eq!(w.first_ms(), Some(200.0));
    }

    #[test]
    fn a_second_stop_and_a_stop_before_any_start_change_nothing() {
        let mut w = Stopwatch::default();
        w.stop(10.0);
        assert!(!w.started());
        w.start(20.0);
        w.stop(25.0);
        w.stop(40.0);
        assert_eq!(w.timing(20.0, 50.0).network_ms, Some(5.0));
        assert_eq!(w.timing(20.0, 50.0).bytes, None);
    }
}
