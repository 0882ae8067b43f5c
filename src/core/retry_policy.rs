//! Which failures are retried, and how long to wait before the next attempt.

use crate::prelude::*;

use super::backoff::Backoff;

/// How an attempt ended, as far as the retry decision cares.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AttemptOutcome {
    /// The server answered with this status.
    Status(u16),
    /// The transport failed (offline, connection refused, CORS).
    Network,
    /// The per-attempt timeout ran out.
    Timeout,
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RetryDecision {
    /// Give up and report this attempt's failure.
    GiveUp,
    /// Wait this many milliseconds, then try again.
    RetryAfter(f64),
    /// The server asked to wait longer than `max_retry_after_ms`: reject with kind
    /// `rate-limit` at once instead of waiting.
    TooLong(f64),
}

/// The retry contract (documented in the README as the defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt. Default 2; 0 turns retries off.
    pub limit: u32,
    /// Methods that are retried, upper case. Default GET, HEAD, PUT, DELETE, OPTIONS (not
    /// TRACE, which ky lists: `fetch` refuses to send it). Listing POST or PATCH here is how a
    /// caller opts them in.
    pub methods: Vec<String>,
    /// Statuses that are retried. Default 408, 413, 429, 500, 502, 503, 504 (413 only when it
    /// carries `Retry-After`).
    pub status_codes: Vec<u16>,
    /// The backoff between attempts when the server gives no timing. Default 300 ms × 2ⁿ,
    /// capped at 10 s, full jitter.
    pub backoff: Backoff,
    /// The longest server-ordered wait that is honoured. Default 60 000 ms.
    pub max_retry_after_ms: f64,
    /// Whether an attempt that timed out is retried. Default true.
    pub retry_on_timeout: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        // A loop and pushes, not an iterator chain collected (smaller in the wasm).
        let mut methods = Vec::new();
        for m in ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"] {
            methods.push(String::from(m));
        }
        RetryPolicy {
            limit: 2,
            methods,
            status_codes: vec![408, 413, 429, 500, 502, 503, 504],
            backoff: Backoff::default(),
            max_retry_after_ms: 60_000.0,
            retry_on_timeout: true,
        }
    }
}

impl RetryPolicy {
    /// No retries at all (`retry: 0` or `retry: false`).
    pub fn none() -> Self {
        RetryPolicy { limit: 0, ..RetryPolicy::default() }
    }

    /// Whether `method` may be retried; `has_idempotency_key` lets POST and PATCH through.
    pub fn method_allowed(&self, method: &str, has_idempotency_key: bool) -> bool {
        if self.methods.iter().any(|m| m.eq_ignore_ascii_case(method)) {
            return true;
        }
        has_idempotency_key
            && (method.eq_ignore_ascii_case("POST") || method.eq_ignore_ascii_case("PATCH"))
    }

    /// Decides after failed attempt number `attempt` (1 for the first). `server_wait_ms` is
    /// the wait the response asked for (`Retry-After`, else `RateLimit-Reset`), already
    /// parsed; it wins over the backoff and gets no jitter. `random` is in `[0, 1)`.
    pub fn decide(
        &self,
        method: &str,
        has_idempotency_key: bool,
        outcome: AttemptOutcome,
        attempt: u32,
        server_wait_ms: Option<f64>,
        random: f64,
    ) -> RetryDecision {
        if attempt > self.limit || !self.method_allowed(method, has_idempotency_key) {
            return RetryDecision::GiveUp;
        }
        let retryable = match outcome {
            AttemptOutcome::Network => true,
            AttemptOutcome::Timeout => self.retry_on_timeout,
            AttemptOutcome::Status(413) => {
                self.status_codes.contains(&413) && server_wait_ms.is_some()
            }
            AttemptOutcome::Status(code) => self.status_codes.contains(&code),
        };
        if !retryable {
            return RetryDecision::GiveUp;
        }
        match server_wait_ms {
            Some(wait) if wait > self.max_retry_after_ms => RetryDecision::TooLong(wait),
            Some(wait) => RetryDecision::RetryAfter(wait),
            None => RetryDecision::RetryAfter(self.backoff.delay_ms(attempt - 1, random)),
        }
    }
}

/// Whether a response with this status and a server-given wait should pause its whole host:
/// the server said "too many" (429) or "unavailable" (503) and said for how long.
pub fn pauses_host(status: u16, server_wait_ms: Option<f64>) -> bool {
    (status == 429 || status == 503) && server_wait_ms.is_some()
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn decide(p: &RetryPolicy, method: &str, outcome: AttemptOutcome, attempt: u32, wait: Option<f64>) -> RetryDecision {
        p.decide(method, false, outcome, attempt, wait, 0.5)
    }

    #[test]
    fn default_statuses_and_methods() {
        let p = RetryPolicy::default();
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(matches!(decide(&p, "GET", AttemptOutcome::Status(code), 1, None), RetryDecision::RetryAfter(_)), "{code}");
        }
        for code in [400, 401, 403, 404, 409, 422, 501] {
            assert_eq!(decide(&p, "GET", AttemptOutcome::Status(code), 1, None), RetryDecision::GiveUp, "{code}");
        }
        assert_eq!(decide(&p, "GET", AttemptOutcome::Status(413), 1, None), RetryDecision::GiveUp);
        assert_eq!(decide(&p, "GET", AttemptOutcome::Status(413), 1, Some(1000.0)), RetryDecision::RetryAfter(1000.0));
        for m in ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "get"] {
            assert!(matches!(decide(&p, m, AttemptOutcome::Network, 1, None), RetryDecision::RetryAfter(_)), "{m}");
        }
    }

    #[test]
    fn post_and_patch_only_with_key_or_opt_in() {
        let p = RetryPolicy::default();
        for m in ["POST", "PATCH"] {
            assert_eq!(decide(&p, m, AttemptOutcome::Status(503), 1, None), RetryDecision::GiveUp);
            assert!(matches!(p.decide(m, true, AttemptOutcome::Status(503), 1, None, 0.5), RetryDecision::RetryAfter(_)));
        }
        let opted = RetryPolicy { methods: vec!["POST".into()], ..RetryPolicy::default() };
        assert!(matches!(decide(&opted, "POST", AttemptOutcome::Network, 1, None), RetryDecision::RetryAfter(_)));
    }

    #[test]
    fn limit_counts_retries_after_the_first_attempt() {
        let p = RetryPolicy::default();
        assert!(matches!(decide(&p, "GET", AttemptOutcome::Network, 2, None), RetryDecision::RetryAfter(_)));
        assert_eq!(decide(&p, "GET", AttemptOutcome::Network, 3, None), RetryDecision::GiveUp);
        assert_eq!(decide(&RetryPolicy::none(), "GET", AttemptOutcome::Network, 1, None), RetryDecision::GiveUp);
    }

    #[test]
    fn server_timing_wins_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(decide(&p, "GET", AttemptOutcome::Status(429), 1, Some(2000.0)), RetryDecision::RetryAfter(2000.0));
        assert_eq!(decide(&p, "GET", AttemptOutcome::Status(429), 1, Some(61_000.0)), RetryDecision::TooLong(61_000.0));
    }

    #[test]
    fn backoff_applies_without_server_timing() {
        let p = RetryPolicy { backoff: Backoff { jitter: false, ..Backoff::default() }, ..RetryPolicy::default() };
        assert_eq!(decide(&p, "GET", AttemptOutcome::Status(500), 1, None), RetryDecision::RetryAfter(300.0));
        assert_eq!(decide(&p, "GET", AttemptOutcome::Status(500), 2, None), RetryDecision::RetryAfter(600.0));
    }

    #[test]
    fn timeouts_follow_retry_on_timeout() {
        let off = RetryPolicy { retry_on_timeout: false, ..RetryPolicy::default() };
        assert_eq!(decide(&off, "GET", AttemptOutcome::Timeout, 1, None), RetryDecision::GiveUp);
        assert!(matches!(decide(&RetryPolicy::default(), "GET", AttemptOutcome::Timeout, 1, None), RetryDecision::RetryAfter(_)));
    }

    #[test]
    fn host_pauses() {
        assert!(pauses_host(429, Some(1000.0)));
        assert!(pauses_host(503, Some(0.0)));
        assert!(!pauses_host(429, None));
        assert!(!pauses_host(500, Some(1000.0)));
    }
}
