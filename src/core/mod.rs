//! The pure core: scheduling, rate limits, backoff, retry decisions and cache policy.
//!
//! Nothing in here touches `web-sys` or `js-sys`. Time is passed in as milliseconds (a `f64`,
//! as `performance.now()` gives it) and randomness as a number in `[0, 1)`, so `cargo test`
//! drives every rule on the host with a fake clock.
//!
//! - [`backoff`]: exponential backoff between retries, with optional jitter.
//! - [`batch`]: the loader's batches: distinct keys, the batch URL, splitting to fit limits.
//! - [`cache`]: HTTP caching rules (Cache-Control, storing, freshness, Vary, revalidation) and
//!   the cache plan.
//! - [`error`]: the kinds of failure every rejection is classified into.
//! - [`http_date`]: HTTP-date parsing (IMF-fixdate, RFC 850, asctime).
//! - [`lane`]: the three strict priority classes of queued work.
//! - [`link`]: the `Link` header's `rel="next"` target, for pagination.
//! - [`lru`]: the memory store, a least-recently-used map with entry and byte budgets.
//! - [`rate_window`]: strict sliding-window rate limits, as the server sees them.
//! - [`retry_after`]: `Retry-After` and `RateLimit-Reset`.
//! - [`retry_policy`]: which failures are retried, and how long to wait before the next attempt.
//! - [`scheduler`]: the scheduler as a pure state machine: permits, lanes, host limits, time
//!   gates.
//! - [`sketch`]: latency percentiles from bounded memory (log-linear buckets, 1.6 % error).
//! - [`timing`]: where a request's time went (queue, retry wait, network), from the driver's
//!   clock readings.
//! - `hash`, `text` (crate-private): FNV-keyed hash maps; panic-free substring helpers.

pub mod adaptive;
pub mod backoff;
pub mod batch;
pub mod cache;
pub mod error;
pub(crate) mod hash;
pub mod http_date;
pub mod lane;
pub mod link;
pub mod lru;
pub mod rate_window;
pub mod retry_after;
pub mod retry_policy;
pub mod scheduler;
pub mod sketch;
pub mod str_map;
pub(crate) mod text;
pub mod timing;
