//! The pure core: scheduling, rate limits, backoff, retry decisions and cache policy.
//!
//! Nothing in here touches `web-sys` or `js-sys`. Time is passed in as milliseconds (a `f64`,
//! as `performance.now()` gives it) and randomness as a number in `[0, 1)`, so `cargo test`
//! drives every rule on the host with a fake clock.

pub mod backoff;
pub mod cache_plan;
pub mod cache_policy;
pub mod error;
pub(crate) mod hash;
pub(crate) mod text;
pub mod lane;
pub mod lru;
pub mod rate_window;
pub mod retry_after;
pub mod retry_policy;
pub mod scheduler;
pub mod batch;
pub mod link;
