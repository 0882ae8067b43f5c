//! Freshness (RFC 9111 §4.2, RFC 5861): a stored response's lifetime and age, and how it may
//! be used now.

use crate::prelude::*;

use super::control::CacheControl;
use super::headers::{delta_seconds, first};
use crate::core::http_date::parse_http_date;
use crate::core::http_date::MS_PER_SECOND;

/// RFC 9111 §4.2.2's "typical setting" for the heuristic lifetime.
const HEURISTIC_FRACTION: f64 = 0.1;
/// Without the cap, a file last modified years ago would be trusted for months.
const HEURISTIC_CAP_MS: f64 = 86_400_000.0;

/// Freshness lifetime in ms.
///
/// The caller's `ttl_override_ms` if given (negative counts as 0), else `max-age`, else
/// `Expires` − `Date` (an invalid `Expires` such as `"0"` means already expired), else 10% of
/// `Date` − `Last-Modified` capped at one day (RFC 9111 §4.2.2), else 0. A missing or invalid
/// `Date` is taken as `response_time_ms`, when the response arrived (ms since the epoch).
pub fn freshness_lifetime_ms(
    headers: &[(String, String)],
    response_time_ms: f64,
    ttl_override_ms: Option<f64>,
) -> f64 {
    match ttl_override_ms {
        Some(ttl) => ttl.max(0.0),
        None => server_lifetime_ms(
            &CacheControl::from_headers(headers),
            headers,
            response_time_ms,
        ),
    }
}

fn server_lifetime_ms(
    cc: &CacheControl,
    headers: &[(String, String)],
    response_time_ms: f64,
) -> f64 {
    if let Some(max_age) = cc.max_age {
        return max_age * MS_PER_SECOND;
    }
    let date = first(headers, "date")
        .and_then(parse_http_date)
        .unwrap_or(response_time_ms);
    if let Some(expires) = first(headers, "expires") {
        return parse_http_date(expires).map_or(0.0, |at| (at - date).max(0.0));
    }
    if let Some(modified) = first(headers, "last-modified").and_then(parse_http_date) {
        return ((date - modified) * HEURISTIC_FRACTION).clamp(0.0, HEURISTIC_CAP_MS);
    }
    0.0
}

/// Current age in ms: the `Age` header plus the time since `response_time_ms` (both ms since
/// the epoch; a clock going backwards counts as 0).
///
/// Simplified from RFC 9111 §4.2.3 for a client: the apparent age (`response_time` − `Date`)
/// is left out because it compares the server's clock with the user's, and a user clock a few
/// minutes fast would make every short-lived response stale on arrival.
pub fn current_age_ms(headers: &[(String, String)], response_time_ms: f64, now_ms: f64) -> f64 {
    let age = first(headers, "age")
        .and_then(|v| delta_seconds(crate::core::text::trim(v)))
        .unwrap_or(0.0);
    age * MS_PER_SECOND + (now_ms - response_time_ms).max(0.0)
}

/// How a stored response may be used now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// Serve it as is.
    Fresh,
    /// Revalidate (or refetch) before use, with two ways out.
    Stale {
        /// Within `stale-while-revalidate`: serve it now and revalidate in the background.
        within_swr: bool,
        /// Within `stale-if-error`: serve it if revalidation fails (network error or 5xx).
        within_sie: bool,
    },
    /// Never serve it without a successful revalidation (`no-cache`, or stale with
    /// `must-revalidate`).
    MustRevalidate,
}

/// How the stored response with these `headers`, received at `response_time_ms`, may be used
/// at `now_ms` (both ms since the epoch).
///
/// Fresh while the age is below the lifetime (see [`freshness_lifetime_ms`] and
/// [`current_age_ms`]). A `ttl_override_ms` is the caller's own clock: it replaces the
/// server's freshness (`max-age`, `Expires`, the heuristic, and `no-cache`, which is a
/// lifetime of zero in effect) and is measured from `response_time_ms`, ignoring `Age`;
/// `must-revalidate` and the stale windows still apply once it runs out.
pub fn freshness(
    headers: &[(String, String)],
    response_time_ms: f64,
    ttl_override_ms: Option<f64>,
    now_ms: f64,
) -> Freshness {
    let cc = CacheControl::from_headers(headers);
    let (lifetime, age) = match ttl_override_ms {
        Some(ttl) => (ttl.max(0.0), (now_ms - response_time_ms).max(0.0)),
        None if cc.no_cache => return Freshness::MustRevalidate,
        None => (
            server_lifetime_ms(&cc, headers, response_time_ms),
            current_age_ms(headers, response_time_ms, now_ms),
        ),
    };
    if age < lifetime {
        return Freshness::Fresh;
    }
    if cc.must_revalidate {
        return Freshness::MustRevalidate;
    }
    let stale_ms = age - lifetime;
    let within = |window: Option<f64>| window.is_some_and(|s| stale_ms < s * MS_PER_SECOND);
    Freshness::Stale {
        within_swr: within(cc.stale_while_revalidate),
        within_sie: within(cc.stale_if_error),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::core::cache::headers::testing::{h, T0, T0_DATE};
    use proptest::prelude::*;
    use proptest::test_runner::RngSeed;

    const HOUR_MS: f64 = 3_600_000.0;

    #[test]
    fn lifetime_sources_in_order() {
        let lifetime = |pairs: &[(&str, &str)], ttl| freshness_lifetime_ms(&h(pairs), T0, ttl);
        let one_hour_later = "Tue, 14 Nov 2023 23:13:20 GMT";
        let day_before = "Mon, 13 Nov 2023 22:13:20 GMT";
        let year_before = "Mon, 14 Nov 2022 22:13:20 GMT";

        assert_eq!(lifetime(&[("cache-control", "max-age=60")], None), 60_000.0);
        assert_eq!(lifetime(&[("cache-control", "max-age=0")], None), 0.0);
        // max-age beats Expires.
        assert_eq!(
            lifetime(
                &[
                    ("cache-control", "max-age=5"),
                    ("date", T0_DATE),
                    ("expires", one_hour_later)
                ],
                None
            ),
            5_000.0
        );
        assert_eq!(
            lifetime(&[("date", T0_DATE), ("expires", one_hour_later)], None),
            HOUR_MS
        );
        // Without Date (typical cross-origin), the response time stands in.
        assert_eq!(lifetime(&[("expires", one_hour_later)], None), HOUR_MS);
        assert_eq!(
            lifetime(&[("date", "garbage"), ("expires", one_hour_later)], None),
            HOUR_MS
        );
        let server_behind = "Tue, 14 Nov 2023 22:13:00 GMT";
        assert_eq!(
            lifetime(
                &[("date", server_behind), ("expires", one_hour_later)],
                None
            ),
            HOUR_MS + 20_000.0
        );
        // Expires in the past, or invalid, means already expired.
        assert_eq!(
            lifetime(&[("date", T0_DATE), ("expires", day_before)], None),
            0.0
        );
        assert_eq!(lifetime(&[("expires", "0")], None), 0.0);
        // An invalid max-age falls through to Expires.
        assert_eq!(
            lifetime(
                &[("cache-control", "max-age=-1"), ("expires", one_hour_later)],
                None
            ),
            HOUR_MS
        );
        // Heuristic: 10% of the time since Last-Modified, capped at a day.
        assert_eq!(
            lifetime(&[("date", T0_DATE), ("last-modified", day_before)], None),
            HOUR_MS * 2.4
        );
        assert_eq!(
            lifetime(&[("last-modified", day_before)], None),
            HOUR_MS * 2.4
        );
        assert_eq!(
            lifetime(&[("last-modified", year_before)], None),
            24.0 * HOUR_MS
        );
        assert_eq!(lifetime(&[("last-modified", one_hour_later)], None), 0.0);
        assert_eq!(lifetime(&[("last-modified", "yesterday")], None), 0.0);
        // Expires, even invalid, is explicit and beats the heuristic.
        assert_eq!(
            lifetime(&[("expires", "0"), ("last-modified", day_before)], None),
            0.0
        );
        assert_eq!(lifetime(&[], None), 0.0);
        // The caller's ttl beats everything.
        assert_eq!(
            lifetime(&[("cache-control", "max-age=60")], Some(1_234.0)),
            1_234.0
        );
        assert_eq!(
            lifetime(&[("cache-control", "no-cache")], Some(1_234.0)),
            1_234.0
        );
        assert_eq!(lifetime(&[], Some(-5.0)), 0.0);
        assert_eq!(lifetime(&[], Some(f64::NAN)), 0.0);
    }

    #[test]
    fn age_is_age_header_plus_resident_time() {
        let age = |pairs: &[(&str, &str)], now| current_age_ms(&h(pairs), T0, now);
        assert_eq!(age(&[], T0), 0.0);
        assert_eq!(age(&[], T0 + 1_500.0), 1_500.0);
        assert_eq!(age(&[("age", "30")], T0 + 1_500.0), 31_500.0);
        assert_eq!(age(&[("age", " 30 ")], T0), 30_000.0);
        assert_eq!(age(&[("age", "-30")], T0), 0.0);
        assert_eq!(age(&[("age", "3.5")], T0), 0.0);
        // A clock that went backwards adds nothing.
        assert_eq!(age(&[("age", "10")], T0 - 60_000.0), 10_000.0);
        // Date is not used: a server clock far behind does not age the response.
        assert_eq!(age(&[("date", "Mon, 13 Nov 2023 22:13:20 GMT")], T0), 0.0);
    }

    fn fresh(pairs: &[(&str, &str)], ttl: Option<f64>, now: f64) -> Freshness {
        freshness(&h(pairs), T0, ttl, now)
    }

    fn stale(within_swr: bool, within_sie: bool) -> Freshness {
        Freshness::Stale {
            within_swr,
            within_sie,
        }
    }

    #[test]
    fn fresh_until_max_age() {
        let headers = [("cache-control", "max-age=60")];
        assert_eq!(fresh(&headers, None, T0), Freshness::Fresh);
        assert_eq!(fresh(&headers, None, T0 + 59_999.0), Freshness::Fresh);
        assert_eq!(fresh(&headers, None, T0 + 60_000.0), stale(false, false));
        assert_eq!(
            fresh(&[("cache-control", "max-age=0")], None, T0),
            stale(false, false)
        );
        assert_eq!(fresh(&[], None, T0), stale(false, false));
        // Age counts against the lifetime.
        let aged = [("cache-control", "max-age=60"), ("age", "50")];
        assert_eq!(fresh(&aged, None, T0 + 9_999.0), Freshness::Fresh);
        assert_eq!(fresh(&aged, None, T0 + 10_000.0), stale(false, false));
        let expires = [
            ("date", T0_DATE),
            ("expires", "Tue, 14 Nov 2023 22:14:20 GMT"),
        ];
        assert_eq!(fresh(&expires, None, T0 + 59_000.0), Freshness::Fresh);
        assert_eq!(fresh(&expires, None, T0 + 60_000.0), stale(false, false));
    }

    #[test]
    fn no_cache_and_must_revalidate() {
        let no_cache = [("cache-control", "no-cache, max-age=600, stale-if-error=600")];
        assert_eq!(fresh(&no_cache, None, T0), Freshness::MustRevalidate);
        let must = [(
            "cache-control",
            "max-age=60, must-revalidate, stale-while-revalidate=60, stale-if-error=60",
        )];
        assert_eq!(fresh(&must, None, T0 + 1_000.0), Freshness::Fresh);
        assert_eq!(fresh(&must, None, T0 + 61_000.0), Freshness::MustRevalidate);
    }

    #[test]
    fn stale_windows() {
        let headers = [(
            "cache-control",
            "max-age=60, stale-while-revalidate=30, stale-if-error=300",
        )];
        assert_eq!(fresh(&headers, None, T0 + 60_000.0), stale(true, true));
        assert_eq!(fresh(&headers, None, T0 + 89_999.0), stale(true, true));
        assert_eq!(fresh(&headers, None, T0 + 90_000.0), stale(false, true));
        assert_eq!(fresh(&headers, None, T0 + 359_999.0), stale(false, true));
        assert_eq!(fresh(&headers, None, T0 + 360_000.0), stale(false, false));
        let swr_only = [("cache-control", "max-age=0, stale-while-revalidate=10")];
        assert_eq!(fresh(&swr_only, None, T0 + 5_000.0), stale(true, false));
    }

    #[test]
    fn ttl_override() {
        let no_cache = [("cache-control", "no-cache"), ("age", "9999")];
        assert_eq!(
            fresh(&no_cache, Some(1_000.0), T0 + 999.0),
            Freshness::Fresh
        );
        assert_eq!(
            fresh(&no_cache, Some(1_000.0), T0 + 1_000.0),
            stale(false, false)
        );
        let short = [("cache-control", "max-age=1, stale-if-error=10")];
        assert_eq!(
            fresh(&short, Some(60_000.0), T0 + 30_000.0),
            Freshness::Fresh
        );
        assert_eq!(
            fresh(&short, Some(60_000.0), T0 + 65_000.0),
            stale(false, true)
        );
        let must = [("cache-control", "must-revalidate")];
        assert_eq!(fresh(&must, Some(0.0), T0), Freshness::MustRevalidate);
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 2048,
            rng_seed: RngSeed::Fixed(0xCAC4E),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn fresh_iff_age_below_lifetime(
            max_age in 0u64..200_000,
            age_header in proptest::option::of(0u64..200_000),
            resident_ms in 0u64..400_000_000,
        ) {
            let mut headers = h(&[("cache-control", "")]);
            headers[0].1 = "max-age=".to_owned() + &max_age.to_string();
            if let Some(age) = age_header {
                headers.push(("age".to_owned(), age.to_string()));
            }
            let now = T0 + resident_ms as f64;
            let lifetime = freshness_lifetime_ms(&headers, T0, None);
            let age = current_age_ms(&headers, T0, now);
            prop_assert_eq!(lifetime, max_age as f64 * 1000.0);
            prop_assert_eq!(age, (age_header.unwrap_or(0) * 1000 + resident_ms) as f64);
            let state = freshness(&headers, T0, None, now);
            prop_assert_eq!(state == Freshness::Fresh, age < lifetime);
            if age >= lifetime {
                prop_assert_eq!(state, stale(false, false));
            }
        }
    }
}
