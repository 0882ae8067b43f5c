//! What the machine is told once, when the client is built. Every option has been checked
//! by the driver's edge already; the machine trusts these values.

use crate::prelude::*;

use alloc::rc::Rc;

pub use crate::core::adaptive::AdaptiveSettings;
use crate::core::retry_policy::RetryPolicy;
use crate::core::scheduler::UNLIMITED;

/// A cache strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Strategy {
    /// A fresh entry answers; stale or missing goes to the network. The default.
    #[default]
    CacheFirst = 1,
    /// The network answers; the stored entry stands in when it fails.
    NetworkFirst = 2,
    /// A stored entry answers at once and is refreshed in the background.
    StaleWhileRevalidate = 3,
    /// Never read or write the cache.
    NetworkOnly = 4,
    /// Only the cache answers; a miss fails with kind `cache`.
    CacheOnly = 5,
    /// Per request only: skip the cache stage entirely.
    Bypass = 6,
}

impl Strategy {
    /// From the wire code (1–6); `None` for anything else.
    pub fn from_code(code: u32) -> Option<Strategy> {
        Some(match code {
            1 => Strategy::CacheFirst,
            2 => Strategy::NetworkFirst,
            3 => Strategy::StaleWhileRevalidate,
            4 => Strategy::NetworkOnly,
            5 => Strategy::CacheOnly,
            6 => Strategy::Bypass,
            _ => return None,
        })
    }
}

/// The cache, when it is on.
#[derive(Clone, Debug, PartialEq)]
pub struct CacheSettings {
    /// Default [`Strategy::CacheFirst`].
    pub strategy: Strategy,
    /// Replaces the server's freshness when set. Default none.
    pub ttl_ms: Option<f64>,
    /// Memory budget in entries. Default 500.
    pub max_entries: usize,
    /// Memory budget in bytes. Default 50 MiB.
    pub max_bytes: usize,
    /// Store `private` responses and responses to credentialed requests. Default false.
    pub allow_private: bool,
    /// Whether the Cache API store is on. Default false.
    pub persist: bool,
    /// Entries older than this in the Cache API count as missing. Default none.
    pub persist_max_age_ms: Option<f64>,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            strategy: Strategy::CacheFirst,
            ttl_ms: None,
            max_entries: 500,
            max_bytes: 50 * 1024 * 1024,
            allow_private: false,
            persist: false,
            persist_max_age_ms: None,
        }
    }
}

/// One rate-limit rule.
#[derive(Clone, Debug, PartialEq)]
pub struct RateRule {
    /// Requests per window.
    pub limit: u32,
    /// The window, ms.
    pub interval_ms: f64,
    /// The host (`host:port`) it applies to; none for every host together.
    pub host: Option<String>,
}

/// The machine's configuration.
#[derive(Clone, Debug)]
pub struct MachineConfig {
    /// Global limit. Default 6; [`UNLIMITED`] for none.
    pub concurrency: usize,
    /// Per-host limit. Default 6.
    pub per_host: usize,
    /// Per-attempt timeout. Default none.
    pub timeout_ms: Option<f64>,
    /// Queue wait plus all attempts. Default none.
    pub total_timeout_ms: Option<f64>,
    /// De-duplicate identical GET and HEAD requests. Default true.
    pub dedupe: bool,
    /// A non-2xx answer (after retries) rejects with kind `http`. Default true.
    pub throw_http_errors: bool,
    /// The retry contract. Default [`RetryPolicy::default`].
    pub retry: Rc<RetryPolicy>,
    /// Rate limits, all enforced together. Default none.
    pub rate_limits: Vec<RateRule>,
    /// The cache; default off.
    pub cache: Option<CacheSettings>,
    /// Adaptive per-host limits; default off.
    pub adaptive: Option<AdaptiveSettings>,
}

impl Default for MachineConfig {
    fn default() -> Self {
        MachineConfig {
            concurrency: 6,
            per_host: 6,
            timeout_ms: None,
            total_timeout_ms: None,
            dedupe: true,
            throw_http_errors: true,
            retry: Rc::new(RetryPolicy::default()),
            rate_limits: Vec::new(),
            cache: None,
            adaptive: None,
        }
    }
}

/// `Infinity` (or anything past `usize`) as [`UNLIMITED`], else the integer.
pub fn limit_from_f64(n: f64) -> usize {
    if n.is_finite() && n >= 1.0 && n < 4_294_967_295.0 {
        n as usize
    } else if n.is_finite() && n < 1.0 {
        1
    } else {
        UNLIMITED
    }
}
