//! Reading a server's wait instructions: `Retry-After` and `RateLimit-Reset`.
//!
//! HTTP-dates in `Retry-After` are parsed by [`super::http_date`].

use super::http_date::{all_digits, parse_http_date};
use crate::core::http_date::MS_PER_SECOND;


/// Above this, a `RateLimit-Reset` number is a Unix timestamp in seconds (GitHub style), not a
/// delta: a billion seconds is ~31 years, far longer than any sane wait, and Unix time passed it
/// in 2001.
const RESET_TIMESTAMP_THRESHOLD: f64 = 1_000_000_000.0;

/// Milliseconds to wait from a `Retry-After` value.
///
/// Accepts delta-seconds (`"120"`, also a decimal like `"1.5"`) or an HTTP-date (IMF-fixdate
/// `"Sun, 06 Nov 1994 08:49:37 GMT"`, obsolete RFC 850 `"Sunday, 06-Nov-94 08:49:37 GMT"` or
/// asctime `"Sun Nov  6 08:49:37 1994"`). `now_ms` is the current wall-clock time in ms since
/// the Unix epoch (`Date.now()`). A date in the past gives `Some(0.0)`. Garbage, negative
/// numbers and empty values give `None`. Surrounding whitespace is ignored.
pub fn parse_retry_after(value: &str, now_ms: f64) -> Option<f64> {
    let value = crate::core::text::trim(value);
    if let Some(seconds) = parse_delta_seconds(value) {
        return Some(seconds * MS_PER_SECOND);
    }
    let at = parse_http_date(value)?;
    Some(until(at, now_ms))
}

/// Milliseconds to wait from a `RateLimit-Reset` / `X-RateLimit-Reset` value.
///
/// The value is delta-seconds (decimals allowed), except that a number larger than
/// 1 000 000 000 is taken as a Unix timestamp in seconds (GitHub style) and turned into a delta
/// from `now_ms` (ms since the Unix epoch); a timestamp in the past gives `Some(0.0)`. Garbage,
/// negative numbers and empty values give `None`. Surrounding whitespace is ignored.
pub fn parse_rate_limit_reset(value: &str, now_ms: f64) -> Option<f64> {
    let seconds = parse_delta_seconds(crate::core::text::trim(value))?;
    if seconds > RESET_TIMESTAMP_THRESHOLD {
        Some(until(seconds * MS_PER_SECOND, now_ms))
    } else {
        Some(seconds * MS_PER_SECOND)
    }
}

/// `until - now`, floored at zero (also when `now` is NaN, thanks to `f64::max`).
fn until(at_ms: f64, now_ms: f64) -> f64 {
    (at_ms - now_ms).max(0.0)
}

/// `digits ["." digits]`, nothing else: rejects signs, exponents, `inf`, `NaN` and trailing
/// junk, all of which `str::parse::<f64>` would accept or half-accept.
fn parse_delta_seconds(s: &str) -> Option<f64> {
    let (int, frac) = match crate::core::text::split_once(s, ".") {
        Some((int, frac)) => (int, Some(frac)),
        None => (s, None),
    };
    if !all_digits(int) || frac.is_some_and(|f| !all_digits(f)) {
        return None;
    }
    // Digits are folded by hand: `str::parse::<f64>` would link ~10 KB of float-parsing
    // code and tables into the wasm for a value that never needs more than ms precision.
    let mut seconds = 0.0f64;
    for b in int.bytes() {
        seconds = seconds * 10.0 + f64::from(b - b'0');
    }
    let mut scale = 0.1f64;
    for b in frac.unwrap_or("").bytes() {
        seconds += f64::from(b - b'0') * scale;
        scale /= 10.0;
    }
    // A few hundred digits parse to +inf; that is garbage, not "wait forever".
    if seconds.is_finite() && (seconds * MS_PER_SECOND).is_finite() {
        Some(seconds)
    } else {
        None
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    const NOW: f64 = 1_700_000_000_000.0;
    const EPOCH_1994: f64 = 784_111_777_000.0;

    #[test]
    fn delta_seconds() {
        assert_eq!(parse_retry_after("120", NOW), Some(120_000.0));
        assert_eq!(parse_retry_after("0", NOW), Some(0.0));
        assert_eq!(parse_retry_after("  7\t", NOW), Some(7_000.0));
        assert_eq!(parse_retry_after("1.5", NOW), Some(1_500.0));
        assert_eq!(parse_retry_after("0.25", NOW), Some(250.0));
        assert_eq!(parse_retry_after("007", NOW), Some(7_000.0));
    }

    #[test]
    fn garbage_is_none() {
        for bad in [
            "",
            "   ",
            "soon",
            "-5",
            "+5",
            "-0",
            "1e400",
            "1e3",
            "12abc",
            "abc12",
            "1.",
            ".5",
            "1.2.3",
            "1 2",
            "inf",
            "NaN",
            "0x10",
            "1_000",
            "Sun, 32 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, NOW), None, "{bad:?}");
            assert_eq!(parse_rate_limit_reset(bad, NOW), None, "{bad:?}");
        }
        let huge = "9".repeat(400);
        assert_eq!(parse_retry_after(&huge, NOW), None);
        assert_eq!(parse_rate_limit_reset(&huge, NOW), None);
    }

    #[test]
    fn retry_after_dates() {
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(parse_retry_after(date, EPOCH_1994 - 5_000.0), Some(5_000.0));
        assert_eq!(parse_retry_after(date, EPOCH_1994), Some(0.0));
        assert_eq!(parse_retry_after(date, NOW), Some(0.0));
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", EPOCH_1994 - 1.0),
            Some(1.0)
        );
        assert_eq!(
            parse_retry_after("Sun Nov  6 08:49:37 1994", EPOCH_1994 - 60_000.0),
            Some(60_000.0)
        );
    }

    #[test]
    fn rate_limit_reset() {
        assert_eq!(parse_rate_limit_reset("60", NOW), Some(60_000.0));
        assert_eq!(parse_rate_limit_reset("0.5", NOW), Some(500.0));
        assert_eq!(parse_rate_limit_reset(" 1000000000 ", NOW), Some(1e12));
        // GitHub-style Unix timestamps.
        assert_eq!(parse_rate_limit_reset("1700000030", NOW), Some(30_000.0));
        assert_eq!(parse_rate_limit_reset("1699999999", NOW), Some(0.0));
        assert_eq!(parse_rate_limit_reset("1700000000.5", NOW), Some(500.0));
        // Dates are not a reset format.
        assert_eq!(
            parse_rate_limit_reset("Sun, 06 Nov 1994 08:49:37 GMT", NOW),
            None
        );
    }
}
