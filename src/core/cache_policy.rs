//! HTTP caching rules (RFC 9111, RFC 5861) for a private, page-side cache.
//!
//! "Within reason": the cache serves one user's page, so shared-cache rules (`s-maxage`,
//! `proxy-revalidate`) are ignored, as are `Pragma` (deprecated by RFC 9111) and the request
//! directives `max-stale`, `min-fresh` and `only-if-cached`. Headers are `(name, value)` pairs
//! with lower-case names; names are still compared case-insensitively.
//!
//! Cross-origin `fetch` responses expose only the CORS-safelisted headers (`Cache-Control`,
//! `Expires`, `Last-Modified`, `Content-Type`, ...) unless the server lists more in
//! `Access-Control-Expose-Headers`, so every rule here copes with `Date`, `Age` and `ETag`
//! being absent.

use crate::prelude::*;

use alloc::borrow::Cow;

use super::retry_after::parse_http_date;

const MS_PER_SECOND: f64 = 1000.0;
/// RFC 9111 §1.2.2: a delta-seconds too large to represent counts as 2^31 seconds.
const MAX_DELTA_SECONDS: u64 = 1 << 31;
/// RFC 9111 §4.2.2's "typical setting" for the heuristic lifetime.
const HEURISTIC_FRACTION: f64 = 0.1;
/// Without the cap, a file last modified years ago would be trusted for months.
const HEURISTIC_CAP_MS: f64 = 86_400_000.0;

/// Headers that describe the message or its framing rather than the stored body, so a 304
/// never overwrites them (RFC 9111 §3.2).
const KEPT_ON_304: [&str; 10] = [
    "content-length",
    "content-encoding",
    "content-range",
    "content-type",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
];

/// Parsed `Cache-Control` directives, from a response or a request.
///
/// On the request side only `no_store`, `no_cache` and `max_age` (the oldest acceptable
/// response) mean anything. Every field defaults to off / `None`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CacheControl {
    /// `no-store`: never store. Default false.
    pub no_store: bool,
    /// `no-cache`, with or without a field list (a private cache may treat both alike):
    /// revalidate before every use. Default false.
    pub no_cache: bool,
    /// `private`, with or without a field list: stored only when
    /// [`StoreRules::allow_private`] is set. Default false.
    pub private: bool,
    /// `public`: a response to a request with `Authorization` or credentials may be stored.
    /// Default false.
    pub public: bool,
    /// `must-revalidate`: once stale, never served without a successful revalidation, not even
    /// on error. Default false.
    pub must_revalidate: bool,
    /// `immutable`: the body will not change while fresh, so a reload need not revalidate.
    /// Default false.
    pub immutable: bool,
    /// `max-age`, in seconds. Default `None`.
    pub max_age: Option<f64>,
    /// `stale-while-revalidate`, in seconds. Default `None`.
    pub stale_while_revalidate: Option<f64>,
    /// `stale-if-error`, in seconds. Default `None`.
    pub stale_if_error: Option<f64>,
}

impl CacheControl {
    /// Parses every `cache-control` field in `headers` as one list, as HTTP combines repeated
    /// fields.
    pub fn from_headers(headers: &[(String, String)]) -> Self {
        let mut cc = CacheControl::default();
        for value in values(headers, "cache-control") {
            cc.add_list(value);
        }
        cc
    }

    fn add_list(&mut self, list: &str) {
        let mut rest = list;
        while !rest.is_empty() {
            let (item, tail) = split_item(rest);
            rest = tail;
            match item.split_once('=') {
                Some((name, arg)) => self.add(name.trim(), Some(arg.trim())),
                None => self.add(item.trim(), None),
            }
        }
    }

    fn add(&mut self, name: &str, arg: Option<&str>) {
        let is = |directive: &str| name.eq_ignore_ascii_case(directive);
        let seconds = || arg.and_then(unquote).and_then(|a| delta_seconds(&a));
        // Flags ignore their argument: `no-cache="set-cookie"` still means no-cache here.
        if is("no-store") {
            self.no_store = true;
        } else if is("no-cache") {
            self.no_cache = true;
        } else if is("private") {
            self.private = true;
        } else if is("public") {
            self.public = true;
        } else if is("must-revalidate") {
            self.must_revalidate = true;
        } else if is("immutable") {
            self.immutable = true;
        } else if is("max-age") {
            self.max_age = self.max_age.or_else(seconds);
        } else if is("stale-while-revalidate") {
            self.stale_while_revalidate = self.stale_while_revalidate.or_else(seconds);
        } else if is("stale-if-error") {
            self.stale_if_error = self.stale_if_error.or_else(seconds);
        }
    }
}

/// Parses one `Cache-Control` value.
///
/// Names are case-insensitive; arguments may be quoted (with `\` escapes, and commas inside
/// the quotes). Unknown directives and invalid arguments (negative, decimal, empty, unclosed
/// quotes) are ignored as if absent. For a repeated directive the first valid one wins.
/// Seconds beyond 2^31 count as 2^31 (RFC 9111 §1.2.2).
pub fn parse_cache_control(value: &str) -> CacheControl {
    let mut cc = CacheControl::default();
    cc.add_list(value);
    cc
}

/// Splits off the first list item, honouring quoted strings.
fn split_item(s: &str) -> (&str, &str) {
    let (mut quoted, mut escaped) = (false, false);
    for (i, b) in s.bytes().enumerate() {
        if escaped {
            escaped = false;
        } else if quoted {
            match b {
                b'\\' => escaped = true,
                b'"' => quoted = false,
                _ => {}
            }
        } else if b == b'"' {
            quoted = true;
        } else if b == b',' {
            // `get`, not indexing: ',' is ASCII so both are always there, and indexing would
            // link the string-slicing panic (and its Unicode tables) into the wasm.
            if let (Some(item), Some(rest)) = (s.get(..i), s.get(i + 1..)) {
                return (item, rest);
            }
        }
    }
    (s, "")
}

/// A token as is, or a quoted string's content; `None` for an unclosed quote or junk after it.
fn unquote(arg: &str) -> Option<Cow<'_, str>> {
    let Some(inner) = arg.strip_prefix('"') else {
        return Some(Cow::Borrowed(arg));
    };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return chars.as_str().is_empty().then_some(Cow::Owned(out)),
            c => out.push(c),
        }
    }
    None
}

/// `1*DIGIT` as seconds, saturating at 2^31.
fn delta_seconds(s: &str) -> Option<f64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = s.trim_start_matches('0');
    // Eleven digits already exceed 2^31, and `u64` itself overflows past twenty.
    let n = if significant.len() > 10 {
        MAX_DELTA_SECONDS
    } else if significant.is_empty() {
        0
    } else {
        significant.parse::<u64>().ok()?.min(MAX_DELTA_SECONDS)
    };
    Some(n as f64)
}

fn values<'a>(headers: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn first<'a>(headers: &'a [(String, String)], name: &'a str) -> Option<&'a str> {
    values(headers, name).next()
}

/// What the pipeline knows about a response it might store.
#[derive(Clone, Copy, Debug)]
pub struct ResponseMeta<'a> {
    /// The response status.
    pub status: u16,
    /// The response headers, lower-case names.
    pub headers: &'a [(String, String)],
    /// The request method, as sent.
    pub request_method: &'a str,
    /// The request headers, lower-case names (`Authorization` and `Cache-Control` are read).
    pub request_headers: &'a [(String, String)],
    /// Whether the request was sent with `credentials: "include"`.
    pub request_credentials_include: bool,
}

/// The caller's storage choices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreRules {
    /// Store `private` responses and responses to requests with `Authorization` or
    /// `credentials: "include"`. Default false: the cache key does not include who asked, so
    /// storing them could hand one user's data to the next caller on the page.
    pub allow_private: bool,
}

/// Why a response is not stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotStored {
    /// The method is not GET. HEAD is not stored either: its response has no body to answer a
    /// GET with, and caching HEAD on its own is not worth the code.
    Method,
    /// The status is not 200, 203 or 204.
    Status,
    /// The status is 206: a partial body cannot answer a full request.
    Partial,
    /// `no-store` on the response or the request.
    NoStore,
    /// `Vary: *`: no later request can be known to match.
    VaryStar,
    /// `private` without [`StoreRules::allow_private`].
    Private,
    /// The request had `Authorization`, without `public` or [`StoreRules::allow_private`].
    Authorization,
    /// The request used `credentials: "include"`, without `public` or
    /// [`StoreRules::allow_private`].
    Credentials,
}

/// Whether a response may be stored, or the first reason it may not.
///
/// Only complete responses to GET with status 200, 203 or 204 are stored. A response that is
/// `no-cache` or has no freshness at all is still stored: it can be revalidated. `public`
/// lifts the `Authorization` and credentials rules, as RFC 9111 §3.5 lets it, but not
/// `private`.
pub fn storable(meta: &ResponseMeta<'_>, rules: &StoreRules) -> Result<(), NotStored> {
    if !meta.request_method.eq_ignore_ascii_case("GET") {
        return Err(NotStored::Method);
    }
    match meta.status {
        200 | 203 | 204 => {}
        206 => return Err(NotStored::Partial),
        _ => return Err(NotStored::Status),
    }
    let cc = CacheControl::from_headers(meta.headers);
    if cc.no_store || CacheControl::from_headers(meta.request_headers).no_store {
        return Err(NotStored::NoStore);
    }
    if vary_names(meta.headers).star {
        return Err(NotStored::VaryStar);
    }
    if rules.allow_private {
        return Ok(());
    }
    if cc.private {
        return Err(NotStored::Private);
    }
    if !cc.public {
        if first(meta.request_headers, "authorization").is_some() {
            return Err(NotStored::Authorization);
        }
        if meta.request_credentials_include {
            return Err(NotStored::Credentials);
        }
    }
    Ok(())
}

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
        .and_then(|v| delta_seconds(v.trim()))
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

/// The request headers a response varies on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VaryNames {
    /// Lower-case, trimmed, sorted and deduplicated, so equal lists compare equal however the
    /// server wrote them. Default empty.
    pub names: Vec<String>,
    /// Whether `*` was listed (then the response is never stored). Default false.
    pub star: bool,
}

/// Reads every `vary` field in `headers`.
pub fn vary_names(headers: &[(String, String)]) -> VaryNames {
    let mut vary = VaryNames::default();
    for value in values(headers, "vary") {
        for name in value.split(',').map(str::trim) {
            if name == "*" {
                vary.star = true;
            } else if !name.is_empty() {
                // Sorted insertion: Vary lists are a handful of names, and `sort` would link
                // a few KB of sorting code into the wasm.
                let name = name.to_ascii_lowercase();
                if let Err(at) = vary.names.binary_search(&name) {
                    vary.names.insert(at, name);
                }
            }
        }
    }
    vary
}

/// The secondary cache key: for each of `names`, the request's value or its absence.
///
/// Repeated request fields are combined and each comma-separated element trimmed (RFC 9111
/// §4.1 allows this normalisation), so `"en,fr"`, `"en, fr"` and two fields `en` and `fr` match.
/// Values keep their case. An absent header and an empty one give different keys, and the
/// encoding is unambiguous whatever the names and values contain.
pub fn vary_key(names: &[String], request_headers: &[(String, String)]) -> String {
    let mut key = String::new();
    for name in names {
        push_escaped(&mut key, name);
        let mut present = false;
        let mut first_element = true;
        for value in values(request_headers, name) {
            if !present {
                key.push('=');
                present = true;
            }
            for element in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                if !first_element {
                    key.push(',');
                }
                first_element = false;
                push_escaped(&mut key, element);
            }
        }
        key.push('\n');
    }
    key
}

/// Escapes the key's separators so no name or value can forge another entry.
fn push_escaped(key: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' | '=' | ',' => {
                key.push('\\');
                key.push(c);
            }
            '\n' => key.push_str("\\n"),
            c => key.push(c),
        }
    }
}

/// The validator to revalidate a stored response with: `if-none-match` from `ETag`, else
/// `if-modified-since` from `Last-Modified`, else `None`.
///
/// Only one is sent: a server must ignore `If-Modified-Since` when `If-None-Match` is present
/// (RFC 9110 §13.1.3). Either header makes a cross-origin request non-simple, so the pipeline
/// pays a CORS preflight for it.
pub fn conditional_header(stored: &[(String, String)]) -> Option<(&'static str, String)> {
    let present = |name| first(stored, name).map(str::trim).filter(|v| !v.is_empty());
    if let Some(etag) = present("etag") {
        return Some(("if-none-match", etag.to_owned()));
    }
    present("last-modified").map(|date| ("if-modified-since", date.to_owned()))
}

/// Merges a 304's headers into the stored ones (RFC 9111 §3.2, §4.3.4).
///
/// Every field the 304 carries replaces all stored fields of that name, except framing and
/// body-describing ones (`Content-Length`, `Content-Encoding`, `Content-Type`, ...). The stored
/// `Age` and `Date` are dropped even when the 304 lacks them: they described the old message,
/// and kept beside a new response time they would misdate the entry. The caller also sets the
/// entry's response time to when the 304 arrived.
pub fn merge_304(stored: &mut Vec<(String, String)>, not_modified: &[(String, String)]) {
    let updates = not_modified.iter().filter(|(name, _)| {
        !KEPT_ON_304
            .iter()
            .any(|kept| name.eq_ignore_ascii_case(kept))
    });
    stored.retain(|(name, _)| {
        !name.eq_ignore_ascii_case("age")
            && !name.eq_ignore_ascii_case("date")
            && !updates.clone().any(|(n, _)| n.eq_ignore_ascii_case(name))
    });
    stored.extend(updates.map(|(n, v)| (n.to_ascii_lowercase(), v.clone())));
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::RngSeed;

    /// 2023-11-14T22:13:20Z.
    const T0: f64 = 1_700_000_000_000.0;
    const T0_DATE: &str = "Tue, 14 Nov 2023 22:13:20 GMT";
    const HOUR_MS: f64 = 3_600_000.0;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn cc(value: &str) -> CacheControl {
        parse_cache_control(value)
    }

    #[test]
    fn parses_flags_case_insensitively_with_spaces() {
        let c = cc(" No-Store ,NO-CACHE,\tprivate , Public,must-revalidate, immutable ");
        assert_eq!(
            c,
            CacheControl {
                no_store: true,
                no_cache: true,
                private: true,
                public: true,
                must_revalidate: true,
                immutable: true,
                ..CacheControl::default()
            }
        );
        assert_eq!(cc(""), CacheControl::default());
        assert_eq!(cc(" , ,, "), CacheControl::default());
        assert_eq!(
            cc("no-store-please, x-no-cache, nostore"),
            CacheControl::default()
        );
    }

    #[test]
    fn parses_numbers() {
        assert_eq!(cc("max-age=60").max_age, Some(60.0));
        assert_eq!(cc("max-age=0").max_age, Some(0.0));
        assert_eq!(cc("MAX-AGE = 60").max_age, Some(60.0));
        assert_eq!(cc("max-age=\"60\"").max_age, Some(60.0));
        assert_eq!(cc("max-age=\"6\\0\"").max_age, Some(60.0));
        assert_eq!(cc("max-age=000120").max_age, Some(120.0));
        assert_eq!(cc("max-age=00000000000000000000000007").max_age, Some(7.0));
        let c = cc("stale-while-revalidate=30, stale-if-error=86400");
        assert_eq!(c.stale_while_revalidate, Some(30.0));
        assert_eq!(c.stale_if_error, Some(86_400.0));
    }

    #[test]
    fn huge_numbers_saturate_at_2_pow_31() {
        assert_eq!(cc("max-age=2147483648").max_age, Some(2_147_483_648.0));
        assert_eq!(cc("max-age=9999999999").max_age, Some(2_147_483_648.0));
        let huge = "max-age=".to_owned() + &"9".repeat(300);
        assert_eq!(cc(&huge).max_age, Some(2_147_483_648.0));
    }

    #[test]
    fn bad_numbers_are_ignored() {
        for bad in [
            "max-age",
            "max-age=",
            "max-age=-1",
            "max-age=+5",
            "max-age=1.5",
            "max-age=1e3",
            "max-age=abc",
            "max-age=6 0",
            "max-age=\"60",
            "max-age=\"60\"x",
            "max-age=\"\"",
            "max-age=6\"0\"",
        ] {
            assert_eq!(cc(bad).max_age, None, "{bad}");
        }
    }

    #[test]
    fn commas_inside_quotes_do_not_split() {
        let c = cc("no-cache=\"set-cookie, max-age=5\", max-age=60");
        assert!(c.no_cache);
        assert_eq!(c.max_age, Some(60.0));
        let c = cc("private=\"a,\\\"b\", max-age=7");
        assert!(c.private);
        assert_eq!(c.max_age, Some(7.0));
        // An unclosed quote swallows the rest of the list.
        let c = cc("x=\"unclosed, max-age=5");
        assert_eq!(c.max_age, None);
    }

    #[test]
    fn first_valid_duplicate_wins() {
        assert_eq!(cc("max-age=5, max-age=10").max_age, Some(5.0));
        assert_eq!(cc("max-age=0, max-age=10").max_age, Some(0.0));
        assert_eq!(cc("max-age=oops, max-age=10").max_age, Some(10.0));
        let headers = h(&[
            ("cache-control", "public"),
            ("content-type", "text/plain"),
            ("Cache-Control", "max-age=3, max-age=4"),
            ("cache-control", "max-age=9, no-store"),
        ]);
        let c = CacheControl::from_headers(&headers);
        assert!(c.public && c.no_store);
        assert_eq!(c.max_age, Some(3.0));
    }

    fn meta<'a>(
        status: u16,
        headers: &'a [(String, String)],
        method: &'a str,
        request_headers: &'a [(String, String)],
        credentials: bool,
    ) -> ResponseMeta<'a> {
        ResponseMeta {
            status,
            headers,
            request_method: method,
            request_headers,
            request_credentials_include: credentials,
        }
    }

    #[test]
    fn storability_matrix() {
        let plain = h(&[("cache-control", "max-age=60")]);
        let none = h(&[]);
        let auth = h(&[("authorization", "Bearer x")]);
        let strict = StoreRules::default();
        let opt_in = StoreRules {
            allow_private: true,
        };
        let check = |m: ResponseMeta<'_>, rules| storable(&m, &rules);

        assert_eq!(
            check(meta(200, &plain, "GET", &none, false), strict),
            Ok(())
        );
        assert_eq!(
            check(meta(200, &plain, "get", &none, false), strict),
            Ok(())
        );
        assert_eq!(
            check(meta(203, &plain, "GET", &none, false), strict),
            Ok(())
        );
        assert_eq!(
            check(meta(204, &plain, "GET", &none, false), strict),
            Ok(())
        );
        assert_eq!(check(meta(200, &none, "GET", &none, false), strict), Ok(()));
        let no_cache = h(&[("cache-control", "no-cache")]);
        assert_eq!(
            check(meta(200, &no_cache, "GET", &none, false), strict),
            Ok(())
        );

        for method in ["POST", "HEAD", "PUT", "DELETE", "OPTIONS"] {
            assert_eq!(
                check(meta(200, &plain, method, &none, false), opt_in),
                Err(NotStored::Method),
                "{method}"
            );
        }
        assert_eq!(
            check(meta(206, &plain, "GET", &none, false), opt_in),
            Err(NotStored::Partial)
        );
        for status in [0, 201, 202, 301, 304, 404, 410, 500, 503] {
            assert_eq!(
                check(meta(status, &plain, "GET", &none, false), opt_in),
                Err(NotStored::Status),
                "{status}"
            );
        }

        let no_store = h(&[("cache-control", "max-age=60, no-store")]);
        assert_eq!(
            check(meta(200, &no_store, "GET", &none, false), opt_in),
            Err(NotStored::NoStore)
        );
        let request_no_store = h(&[("cache-control", "no-store")]);
        assert_eq!(
            check(meta(200, &plain, "GET", &request_no_store, false), opt_in),
            Err(NotStored::NoStore)
        );

        let vary_star = h(&[("cache-control", "max-age=60"), ("vary", "Accept, *")]);
        assert_eq!(
            check(meta(200, &vary_star, "GET", &none, false), opt_in),
            Err(NotStored::VaryStar)
        );
        let vary = h(&[("cache-control", "max-age=60"), ("vary", "accept")]);
        assert_eq!(check(meta(200, &vary, "GET", &none, false), strict), Ok(()));

        let private = h(&[("cache-control", "private, max-age=60")]);
        assert_eq!(
            check(meta(200, &private, "GET", &none, false), strict),
            Err(NotStored::Private)
        );
        assert_eq!(
            check(meta(200, &private, "GET", &none, false), opt_in),
            Ok(())
        );

        assert_eq!(
            check(meta(200, &plain, "GET", &auth, false), strict),
            Err(NotStored::Authorization)
        );
        assert_eq!(
            check(meta(200, &plain, "GET", &auth, false), opt_in),
            Ok(())
        );
        let shouting = h(&[("Authorization", "Basic x")]);
        assert_eq!(
            check(meta(200, &plain, "GET", &shouting, false), strict),
            Err(NotStored::Authorization)
        );
        assert_eq!(
            check(meta(200, &plain, "GET", &none, true), strict),
            Err(NotStored::Credentials)
        );
        assert_eq!(check(meta(200, &plain, "GET", &none, true), opt_in), Ok(()));

        // `public` lifts the Authorization and credentials rules, but never `private`.
        let public = h(&[("cache-control", "public, max-age=60")]);
        assert_eq!(
            check(meta(200, &public, "GET", &auth, true), strict),
            Ok(())
        );
        let both = h(&[("cache-control", "public, private")]);
        assert_eq!(
            check(meta(200, &both, "GET", &auth, false), strict),
            Err(NotStored::Private)
        );
    }

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

    #[test]
    fn vary_names_are_normalised() {
        let vary = vary_names(&h(&[
            ("vary", " Accept-Language , accept-encoding,,"),
            ("Vary", "ACCEPT-LANGUAGE, Origin"),
        ]));
        assert_eq!(
            vary,
            VaryNames {
                names: vec![
                    "accept-encoding".into(),
                    "accept-language".into(),
                    "origin".into()
                ],
                star: false
            }
        );
        assert!(vary_names(&h(&[("vary", "origin, *")])).star);
        assert_eq!(vary_names(&h(&[])), VaryNames::default());
    }

    #[test]
    fn vary_key_separates_values() {
        let names = vec!["accept-language".to_owned()];
        let en = vary_key(&names, &h(&[("accept-language", "en")]));
        let fr = vary_key(&names, &h(&[("accept-language", "fr")]));
        let absent = vary_key(&names, &h(&[("accept", "en")]));
        let empty = vary_key(&names, &h(&[("accept-language", "")]));
        let blank = vary_key(&names, &h(&[("accept-language", "  ")]));
        assert_ne!(en, fr);
        assert_ne!(absent, empty);
        assert_eq!(empty, blank);
        assert_eq!(en, vary_key(&names, &h(&[("Accept-Language", " en ")])));
        // Normalised combining: one field or two, spaces or not.
        let two = vary_key(
            &names,
            &h(&[("accept-language", "en"), ("accept-language", "fr")]),
        );
        assert_eq!(two, vary_key(&names, &h(&[("accept-language", "en, fr")])));
        assert_eq!(two, vary_key(&names, &h(&[("accept-language", "en,fr")])));
        assert_ne!(two, vary_key(&names, &h(&[("accept-language", "fr, en")])));
        assert_ne!(en, vary_key(&names, &h(&[("accept-language", "EN")])));
        assert_eq!(vary_key(&[], &h(&[("accept-language", "en")])), "");
    }

    #[test]
    fn vary_key_cannot_be_forged() {
        let ab = vec!["a".to_owned(), "b".to_owned()];
        let a = vec!["a".to_owned()];
        // A value that looks like the next entry does not collide with it.
        let forged = vary_key(&a, &h(&[("a", "1\nb=2")]));
        let real = vary_key(&ab, &h(&[("a", "1"), ("b", "2")]));
        assert_ne!(forged, real);
        let forged = vary_key(&a, &h(&[("a", "1\\\nb=2")]));
        assert_ne!(forged, real);
        // An absent header against a value that spells "absent".
        assert_ne!(
            vary_key(&ab, &h(&[("b", "x")])),
            vary_key(&ab, &h(&[("a", "\nb=x")]))
        );
        assert_ne!(
            vary_key(&a, &h(&[("a", "x,y")])),
            vary_key(&a, &h(&[("a", "x\\,y")]))
        );
    }

    #[test]
    fn conditional_header_prefers_etag() {
        let both = h(&[("last-modified", T0_DATE), ("etag", "\"v1\"")]);
        assert_eq!(
            conditional_header(&both),
            Some(("if-none-match", "\"v1\"".to_owned()))
        );
        let weak = h(&[("ETag", " W/\"v1\" ")]);
        assert_eq!(
            conditional_header(&weak),
            Some(("if-none-match", "W/\"v1\"".to_owned()))
        );
        let modified = h(&[("last-modified", T0_DATE), ("etag", "")]);
        assert_eq!(
            conditional_header(&modified),
            Some(("if-modified-since", T0_DATE.to_owned()))
        );
        assert_eq!(
            conditional_header(&h(&[("cache-control", "max-age=1")])),
            None
        );
    }

    #[test]
    fn merge_304_replaces_carried_headers() {
        let mut stored = h(&[
            ("content-type", "application/json"),
            ("content-length", "42"),
            ("content-encoding", "gzip"),
            ("cache-control", "max-age=60"),
            ("etag", "\"v1\""),
            ("x-keep", "yes"),
            ("set-cookie", "a=1"),
            ("set-cookie", "b=2"),
            ("date", "Mon, 13 Nov 2023 22:13:20 GMT"),
            ("age", "100"),
        ]);
        merge_304(
            &mut stored,
            &h(&[
                ("Cache-Control", "max-age=120"),
                ("etag", "\"v2\""),
                ("set-cookie", "c=3"),
                ("content-length", "0"),
                ("content-type", "text/html"),
                ("content-encoding", "br"),
            ]),
        );
        stored.sort();
        assert_eq!(
            stored,
            h(&[
                ("cache-control", "max-age=120"),
                ("content-encoding", "gzip"),
                ("content-length", "42"),
                ("content-type", "application/json"),
                ("etag", "\"v2\""),
                ("set-cookie", "c=3"),
                ("x-keep", "yes"),
            ])
        );
        let mut stored = h(&[("date", "old"), ("age", "5"), ("expires", "x")]);
        merge_304(&mut stored, &h(&[("date", T0_DATE), ("age", "1")]));
        stored.sort();
        assert_eq!(
            stored,
            h(&[("age", "1"), ("date", T0_DATE), ("expires", "x")])
        );
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
