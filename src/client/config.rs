//! Client configuration, validated once when the client is built.

use crate::core::error::push_decimal;
use crate::core::retry_policy::RetryPolicy;
use crate::core::scheduler::UNLIMITED;
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
    /// Whether identical GET and HEAD requests in flight share one network request. Default true.
    pub dedupe: bool,
    /// Headers added to every request unless the request sets them. Default none.
    pub headers: Vec<(String, String)>,
    /// The transport. Default the global `fetch`.
    pub transport: Transport,
    /// Whether a non-2xx response (other than 304) rejects with kind `http`, like ky.
    /// Default true.
    pub throw_http_errors: bool,
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
            dedupe: true,
            headers: Vec::new(),
            transport: Transport::Global,
            throw_http_errors: true,
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

/// `true` when `limit` means "no limit".
pub fn is_unlimited(limit: usize) -> bool {
    limit == UNLIMITED
}
