//! Per-request options (`LaneInit`'s additions to `RequestInit`).

use crate::prelude::*;

use web_sys::AbortSignal;

use crate::core::lane::Lane;
use crate::core::retry_policy::RetryPolicy;

/// What a request's body is turned into before it is handed back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BodyAs {
    /// The `Response` itself, body unread.
    Response,
    /// `response.json()`. The default for `all` and `allSettled`.
    #[default]
    Json,
    /// `response.text()`.
    Text,
}

impl BodyAs {
    /// Parses the JS name (`'json'`, `'text'`, `'response'`).
    pub fn parse(name: &str) -> Option<BodyAs> {
        match name {
            "json" => Some(BodyAs::Json),
            "text" => Some(BodyAs::Text),
            "response" => Some(BodyAs::Response),
            _ => None,
        }
    }
}

/// Options for one request; unset fields take the client's value.
#[derive(Clone, Default)]
pub struct RequestOptions {
    /// The lane it queues in. Default [`Lane::Normal`].
    pub lane: Lane,
    /// Per-attempt timeout in ms. Default: the client's `timeoutMs` (none).
    pub timeout_ms: Option<f64>,
    /// Timeout over queue wait and every attempt, in ms. Default: the client's `totalTimeoutMs`.
    pub total_timeout_ms: Option<f64>,
    /// Retry policy. Default: the client's.
    pub retry: Option<RetryPolicy>,
    /// Whether it may share an identical request in flight. Default: the client's `dedupe`
    /// (true for GET and HEAD).
    pub dedupe: Option<bool>,
    /// Overrides the cache and de-duplication key. Default: derived from the request.
    pub key: Option<String>,
    /// The cache strategy. Default: the client's (`cache.strategy`).
    pub strategy: Option<super::config::Strategy>,
    /// Freshness override for this request's entry, in ms. Default: the client's `cache.ttlMs`.
    pub ttl_ms: Option<f64>,
    /// Aborts the request while queued or in flight. Default none.
    pub signal: Option<AbortSignal>,
}
