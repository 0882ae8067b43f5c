//! The kinds of failure every rejection is classified into.

use crate::prelude::*;

/// Why a request failed. The JS API exposes it as `FetchlaneError.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The server answered with a status that is not a success (after any retries).
    Http = 1,
    /// The transport failed: DNS, connection refused, CORS, offline.
    Network,
    /// A per-attempt `timeoutMs` or the `totalTimeoutMs` ran out.
    Timeout,
    /// The caller (or a failing `all` group, or `clearQueue`) aborted the request. Closing
    /// the client is [`ErrorKind::Closed`], not this.
    Abort,
    /// The server asked to wait longer than `maxRetryAfterMs` allows.
    RateLimit,
    /// The body could not be decoded as asked (bad JSON, not an array for a loader).
    Decode,
    /// A loader's batch response did not contain the key.
    Missing,
    /// `cache-only` found nothing in the cache.
    Cache,
    /// The client was closed: the request was in flight or queued at `close`, or came after.
    Closed,
}

impl ErrorKind {
    /// The name the JS API uses for this kind (`'http'`, `'network'`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Http => "http",
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Abort => "abort",
            ErrorKind::RateLimit => "rate-limit",
            ErrorKind::Decode => "decode",
            ErrorKind::Missing => "missing",
            ErrorKind::Cache => "cache",
            ErrorKind::Closed => "closed",
        }
    }

    /// The kind the JS API names `name` (`'http'`, `'network'`, …); `None` for another name.
    pub fn parse(name: &str) -> Option<ErrorKind> {
        const KINDS: [ErrorKind; 9] = [
            ErrorKind::Http,
            ErrorKind::Network,
            ErrorKind::Timeout,
            ErrorKind::Abort,
            ErrorKind::RateLimit,
            ErrorKind::Decode,
            ErrorKind::Missing,
            ErrorKind::Cache,
            ErrorKind::Closed,
        ];
        KINDS.into_iter().find(|k| k.as_str() == name)
    }
}

/// Appends the decimal digits of `n` to `out`, without the formatting machinery (which costs
/// about 14 KB of wasm).
pub fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    while len > 0 {
        len -= 1;
        out.push(digits[len] as char);
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        for n in [0u64, 7, 10, 429, 65535, u64::MAX] {
            let mut s = String::new();
            push_decimal(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }

    #[test]
    fn kinds_parse_from_their_js_names_and_nothing_else() {
        for name in ["http", "network", "timeout", "abort", "rate-limit", "decode", "missing", "cache", "closed"] {
            assert_eq!(ErrorKind::parse(name).map(ErrorKind::as_str), Some(name));
        }
        for name in ["", "HTTP", "rate_limit", "nope"] {
            assert_eq!(ErrorKind::parse(name), None);
        }
    }
}
