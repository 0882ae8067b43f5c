//! Client configuration, validated once when the client is built.

use crate::prelude::*;

use alloc::rc::Rc;

use crate::core::error::push_decimal;
use crate::core::retry_policy::RetryPolicy;
use crate::core::scheduler::UNLIMITED;
use crate::machine::{AdaptiveSettings, CacheSettings, MachineConfig, RateRule};
use crate::web::transport::Transport;

/// One rate-limit rule: at most `limit` requests start in any window of `interval_ms`.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimit {
    /// Starts allowed per window (at least 1).
    pub limit: u32,
    /// The window's length in milliseconds (positive).
    pub interval_ms: f64,
    /// The host (`api.example.com` or `127.0.0.1:8080`) it applies to; `None` (the default)
    /// for every request.
    pub host: Option<String>,
}

/// How a request uses the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Strategy {
    /// A fresh entry answers without the network; a stale or missing one goes to the
    /// network (revalidating when it can). The default.
    #[default]
    CacheFirst,
    /// Always the network; the stored entry answers when the network fails or times out.
    NetworkFirst,
    /// A stored entry answers at once, even stale; a stale one is refreshed in the background.
    StaleWhileRevalidate,
    /// Never reads or writes the cache.
    NetworkOnly,
    /// Only the cache; a miss fails with kind `cache`.
    CacheOnly,
    /// Per request only (`'none'`): bypasses the cache entirely.
    Bypass,
}

impl Strategy {
    /// Parses a JS strategy name (`'cache-first'`, …, and `'none'` for [`Strategy::Bypass`]).
    pub fn parse(name: &str) -> Option<Strategy> {
        Some(match name {
            "cache-first" => Strategy::CacheFirst,
            "network-first" => Strategy::NetworkFirst,
            "stale-while-revalidate" => Strategy::StaleWhileRevalidate,
            "network-only" => Strategy::NetworkOnly,
            "cache-only" => Strategy::CacheOnly,
            "none" => Strategy::Bypass,
            _ => return None,
        })
    }

    /// The JS name of the strategy (what [`Strategy::parse`] reads).
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::CacheFirst => "cache-first",
            Strategy::NetworkFirst => "network-first",
            Strategy::StaleWhileRevalidate => "stale-while-revalidate",
            Strategy::NetworkOnly => "network-only",
            Strategy::CacheOnly => "cache-only",
            Strategy::Bypass => "none",
        }
    }
}

impl Strategy {
    /// The machine's strategy.
    pub(crate) fn to_machine(self) -> crate::machine::Strategy {
        use crate::machine::Strategy as M;
        match self {
            Strategy::CacheFirst => M::CacheFirst,
            Strategy::NetworkFirst => M::NetworkFirst,
            Strategy::StaleWhileRevalidate => M::StaleWhileRevalidate,
            Strategy::NetworkOnly => M::NetworkOnly,
            Strategy::CacheOnly => M::CacheOnly,
            Strategy::Bypass => M::Bypass,
        }
    }
}

/// The browser Cache API store (`persist`).
#[derive(Clone, Debug, PartialEq)]
pub struct PersistConfig {
    /// Part of the Cache API cache's name (`fetchlane:<name>:<namespace>`). Required.
    pub name: String,
    /// Keep at most this many entries, the most recently stored. Default no limit.
    pub max_entries: Option<usize>,
    /// Entries older than this (counted from when they were stored) are dropped. Default no
    /// limit.
    pub max_age_ms: Option<f64>,
}

/// The cache (`cache` option). Off by default.
#[derive(Clone, Debug, PartialEq)]
pub struct CacheConfig {
    /// The strategy of requests that name none. Default [`Strategy::CacheFirst`].
    pub strategy: Strategy,
    /// Freshness override in ms. Default none: `Cache-Control` / `Expires` decide.
    pub ttl_ms: Option<f64>,
    /// Memory store entry budget. Default 500.
    pub max_entries: usize,
    /// Memory store byte budget (bodies). Default 50 MiB.
    pub max_bytes: usize,
    /// Keeps clients apart (one per signed-in user): two namespaces never see each other's
    /// entries. Default `"default"`.
    pub namespace: String,
    /// Also keep entries in the browser Cache API. Default off.
    pub persist: Option<PersistConfig>,
    /// Store `private` responses and answers to requests with `Authorization` or
    /// credentials. Default false.
    pub allow_private: bool,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            strategy: Strategy::CacheFirst,
            ttl_ms: None,
            max_entries: 500,
            max_bytes: 50 * 1024 * 1024,
            namespace: String::from("default"),
            persist: None,
            allow_private: false,
        }
    }
}

/// Everything a [`Client`](super::Client) is built from. Every field has a default.
#[derive(Clone)]
pub struct Config {
    /// Resolves relative URLs. Default: none (the page's own base URL applies).
    pub base_url: Option<String>,
    /// Global concurrency limit. Default 6; [`UNLIMITED`] for `Infinity`.
    pub concurrency: usize,
    /// Per-host concurrency limit. Default 6; [`UNLIMITED`] for `Infinity`.
    pub per_host: usize,
    /// Rate limits, all enforced together. Default none.
    pub rate_limits: Vec<RateLimit>,
    /// Retries. Default [`RetryPolicy::default`] (2 retries of idempotent methods).
    pub retry: RetryPolicy,
    /// Per-attempt timeout in ms. Default none.
    pub timeout_ms: Option<f64>,
    /// Timeout over queue wait, every attempt and every backoff, in ms. Default none.
    pub total_timeout_ms: Option<f64>,
    /// The cache. Default `None` (off).
    pub cache: Option<CacheConfig>,
    /// Whether identical GET and HEAD requests in flight share one network request. Default true.
    pub dedupe: bool,
    /// Headers added to every request unless the request sets them. Default none.
    pub headers: Vec<(String, String)>,
    /// The transport. Default the global `fetch`.
    pub transport: Transport,
    /// Whether a non-2xx response (other than 304) rejects with kind `http`, like ky.
    /// Default true.
    pub throw_http_errors: bool,
    /// Per-host limits that find the server's capacity. Default `None` (off: every host
    /// gets `per_host`).
    pub adaptive: Option<AdaptiveConfig>,
    /// Makes the clients of this name, in the tabs and workers of the origin, act as one
    /// (`ClientOptions.share`; see [`ShareConfig`]). Default `None` (this client alone).
    pub share: Option<ShareConfig>,
}

/// [`Config::share`]: the clients made with the same `name` in the tabs of one origin, in
/// Rust or in JS, act as one client. One tab (the holder of a Web Lock) runs every request;
/// the others hand theirs to it over a `BroadcastChannel` and get the answers back as bytes.
/// Where Web Locks or `BroadcastChannel` is missing, each tab runs alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareConfig {
    /// The name the clients meet under (any string, as in JS). Required.
    pub name: String,
}

/// Adaptive concurrency (`ClientOptions.adaptive`): each host's limit moves between `min`
/// and `max` from the latency and the 429/503 answers it sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdaptiveConfig {
    /// Lowest limit. Default 1.
    pub min: u32,
    /// Highest limit. Default `None`: `per_host` (which must then be finite, as must
    /// `concurrency`).
    pub max: Option<u32>,
    /// The limit a host starts at. Default `None`: `min(4, max)`.
    pub initial: Option<u32>,
}

impl Default for AdaptiveConfig {
    fn default() -> Self {
        AdaptiveConfig { min: 1, max: None, initial: None }
    }
}

impl AdaptiveConfig {
    /// The bounds the machine uses, after `check`.
    fn settings(&self, per_host: usize) -> AdaptiveSettings {
        let max = self.max.unwrap_or(per_host.min(u32::MAX as usize) as u32);
        AdaptiveSettings { min: self.min, max, initial: self.initial.unwrap_or(max.min(4).max(self.min)) }
    }

    fn check(&self, concurrency: usize, per_host: usize) -> Result<(), ConfigError> {
        if self.min == 0 {
            return Err(ConfigError::range_error("adaptive.min", "must be a positive integer"));
        }
        match self.max {
            None if is_unlimited(concurrency) || is_unlimited(per_host) => {
                return Err(ConfigError::range_error(
                    "adaptive.max",
                    "must be set when concurrency or perHost is Infinity",
                ))
            }
            Some(0) => return Err(ConfigError::range_error("adaptive.max", "must be a positive integer")),
            _ => {}
        }
        let max = self.settings(per_host).max;
        if !is_unlimited(per_host) && max as usize > per_host {
            return Err(ConfigError::range_error("adaptive.max", "must not be greater than perHost"));
        }
        if self.min > max {
            return Err(ConfigError::range_error("adaptive.min", "must not be greater than adaptive.max"));
        }
        if self.initial.is_some_and(|i| i < self.min || i > max) {
            return Err(ConfigError::range_error("adaptive.initial", "must lie between adaptive.min and adaptive.max"));
        }
        Ok(())
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            base_url: None,
            concurrency: 6,
            per_host: 6,
            rate_limits: Vec::new(),
            retry: RetryPolicy::default(),
            timeout_ms: None,
            total_timeout_ms: None,
            cache: None,
            dedupe: true,
            headers: Vec::new(),
            transport: Transport::Global,
            throw_http_errors: true,
            adaptive: None,
            share: None,
        }
    }
}

/// A configuration value that cannot be used. The JS API throws it as a `TypeError` (wrong
/// type or unknown name) or a `RangeError` (right type, value out of range).
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    /// The option's name as the JS API spells it (`concurrency`, `retry.limit`, …).
    pub option: String,
    /// What was wrong, starting with the option's name.
    pub message: String,
    /// True for a `RangeError`, false for a `TypeError`.
    pub range: bool,
}

impl ConfigError {
    /// A `TypeError`-style error for `option`.
    pub fn type_error(option: &str, expected: &str) -> ConfigError {
        ConfigError::new(option, expected, false)
    }

    /// A `RangeError`-style error for `option`.
    pub fn range_error(option: &str, expected: &str) -> ConfigError {
        ConfigError::new(option, expected, true)
    }

    fn new(option: &str, expected: &str, range: bool) -> ConfigError {
        let mut message = String::from("fetchlane: option `");
        message.push_str(option);
        message.push_str("` ");
        message.push_str(expected);
        ConfigError { option: option.to_owned(), message, range }
    }
}

/// Checks a concurrency-like limit: a positive integer or [`UNLIMITED`].
pub fn check_limit(option: &str, value: usize) -> Result<usize, ConfigError> {
    if value == 0 {
        return Err(ConfigError::range_error(option, "must be a positive integer or Infinity"));
    }
    Ok(value)
}

fn check_ms(option: &str, value: Option<f64>) -> Result<(), ConfigError> {
    match value {
        Some(v) if !(v > 0.0) || v.is_infinite() => {
            Err(ConfigError::range_error(option, "must be a positive, finite number of milliseconds"))
        }
        _ => Ok(()),
    }
}

impl Config {
    /// Checks every value; the first problem found is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_limit("concurrency", self.concurrency)?;
        check_limit("perHost", self.per_host)?;
        check_ms("timeoutMs", self.timeout_ms)?;
        check_ms("totalTimeoutMs", self.total_timeout_ms)?;
        if let Some(a) = &self.adaptive {
            a.check(self.concurrency, self.per_host)?;
        }
        if let Some(c) = &self.cache {
            if c.strategy == Strategy::Bypass {
                return Err(ConfigError::type_error("cache.strategy", "cannot be 'none' for a whole client; set `cache: false`"));
            }
            if c.ttl_ms.is_some_and(|t| !(t >= 0.0) || t.is_infinite()) {
                return Err(ConfigError::range_error("cache.ttlMs", "must be a finite number >= 0"));
            }
            if let Some(p) = &c.persist {
                if p.name.is_empty() {
                    return Err(ConfigError::type_error("cache.persist.name", "must be a non-empty string"));
                }
            }
        }
        for (i, rule) in self.rate_limits.iter().enumerate() {
            let mut name = String::from("rateLimits[");
            push_decimal(&mut name, i as u64);
            name.push(']');
            if rule.limit == 0 {
                name.push_str(".limit");
                return Err(ConfigError::range_error(&name, "must be a positive integer"));
            }
            if !(rule.interval_ms > 0.0) || rule.interval_ms.is_infinite() {
                name.push_str(".intervalMs");
                return Err(ConfigError::range_error(&name, "must be a positive, finite number of milliseconds"));
            }
        }
        let b = &self.retry.backoff;
        if !(b.base_ms >= 0.0) || b.base_ms.is_infinite() {
            return Err(ConfigError::range_error("retry.backoffMs", "must be a finite number >= 0"));
        }
        if !(b.factor >= 1.0) || b.factor.is_infinite() {
            return Err(ConfigError::range_error("retry.factor", "must be a finite number >= 1"));
        }
        if !(b.max_ms >= 0.0) {
            return Err(ConfigError::range_error("retry.maxBackoffMs", "must be a number >= 0"));
        }
        if !(self.retry.max_retry_after_ms >= 0.0) {
            return Err(ConfigError::range_error("retry.maxRetryAfterMs", "must be a number >= 0"));
        }
        Ok(())
    }
}

impl Config {
    /// What the machine is told: the limits, timeouts, retry contract, rate limits and
    /// cache settings (the rest stays with the driver).
    pub(crate) fn machine_config(&self) -> MachineConfig {
        MachineConfig {
            concurrency: self.concurrency,
            per_host: self.per_host,
            timeout_ms: self.timeout_ms,
            total_timeout_ms: self.total_timeout_ms,
            dedupe: self.dedupe,
            throw_http_errors: self.throw_http_errors,
            retry: Rc::new(self.retry.clone()),
            rate_limits: self
                .rate_limits
                .iter()
                .map(|r| RateRule { limit: r.limit, interval_ms: r.interval_ms, host: r.host.clone() })
                .collect(),
            cache: self.cache.as_ref().map(|c| CacheSettings {
                strategy: c.strategy.to_machine(),
                ttl_ms: c.ttl_ms,
                max_entries: c.max_entries,
                max_bytes: c.max_bytes,
                allow_private: c.allow_private,
                persist: c.persist.is_some(),
                persist_max_age_ms: c.persist.as_ref().and_then(|p| p.max_age_ms),
            }),
            adaptive: self.adaptive.map(|a| a.settings(self.per_host)),
        }
    }
}

/// `true` when `limit` means "no limit".
pub fn is_unlimited(limit: usize) -> bool {
    limit == UNLIMITED
}
