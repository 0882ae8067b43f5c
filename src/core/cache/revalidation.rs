//! Revalidation (RFC 9111 §4.3): the validator a conditional request sends, and merging a 304
//! into the stored response.

use crate::prelude::*;

use super::headers::first;

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

/// The validator to revalidate a stored response with: `if-none-match` from `ETag`, else
/// `if-modified-since` from `Last-Modified`, else `None`.
///
/// Only one is sent: a server must ignore `If-Modified-Since` when `If-None-Match` is present
/// (RFC 9110 §13.1.3). Either header makes a cross-origin request non-simple, so the pipeline
/// pays a CORS preflight for it.
pub fn conditional_header(stored: &[(String, String)]) -> Option<(&'static str, String)> {
    validator(stored).map(|(name, value)| (name, value.to_owned()))
}

/// [`conditional_header`] without copying the value out of `stored`. The machine only needs
/// the name: the copy was an allocation per revalidating attempt, and code in the wasm.
pub fn validator(stored: &[(String, String)]) -> Option<(&'static str, &str)> {
    let present = |name| first(stored, name).map(crate::core::text::trim).filter(|v| !v.is_empty());
    if let Some(etag) = present("etag") {
        return Some(("if-none-match", etag));
    }
    present("last-modified").map(|date| ("if-modified-since", date))
}

/// Merges a 304's headers into the stored ones (RFC 9111 §3.2, §4.3.4).
///
/// Every field the 304 carries replaces all stored fields of that name, except framing and
/// body-describing ones (`Content-Length`, `Content-Encoding`, `Content-Type`, ...). The stored
/// `Age` and `Date` are dropped even when the 304 lacks them: they described the old message,
/// and kept beside a new response time they would misdate the entry. The caller also sets the
/// entry's response time to when the 304 arrived.
pub fn merge_304(stored: &mut Vec<(String, String)>, not_modified: &[(String, String)]) {
    // Loops, not iterator chains (each chain was code of its own in the wasm).
    let update = |name: &str| {
        for kept in KEPT_ON_304 {
            if name.eq_ignore_ascii_case(kept) {
                return false;
            }
        }
        true
    };
    stored.retain(|(name, _)| {
        if name.eq_ignore_ascii_case("age") || name.eq_ignore_ascii_case("date") {
            return false;
        }
        for (n, _) in not_modified {
            if update(n) && n.eq_ignore_ascii_case(name) {
                return false;
            }
        }
        true
    });
    for (n, v) in not_modified {
        if update(n) {
            stored.push((n.to_ascii_lowercase(), v.clone()));
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::core::cache::headers::testing::{h, T0_DATE};

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
}
