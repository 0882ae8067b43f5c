//! `Cache-Control` (RFC 9111 §5.2): parsing the directives of a response or a request.

use crate::prelude::*;

use alloc::borrow::Cow;

use super::headers::{delta_seconds, values};
use crate::core::text::part;

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
    /// [`StoreRules::allow_private`](super::StoreRules::allow_private) is set. Default false.
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
            match crate::core::text::split_once(item, "=") {
                Some((name, arg)) => self.add(crate::core::text::trim(name), Some(crate::core::text::trim(arg))),
                None => self.add(crate::core::text::trim(item), None),
            }
        }
    }

    fn add(&mut self, name: &str, arg: Option<&str>) {
        let is = |directive: &str| name.eq_ignore_ascii_case(directive);
        // Flags ignore their argument: `no-cache="set-cookie"` still means no-cache here.
        let seconds = if is("no-store") {
            return self.no_store = true;
        } else if is("no-cache") {
            return self.no_cache = true;
        } else if is("private") {
            return self.private = true;
        } else if is("public") {
            return self.public = true;
        } else if is("must-revalidate") {
            return self.must_revalidate = true;
        } else if is("immutable") {
            return self.immutable = true;
        } else if is("max-age") {
            &mut self.max_age
        } else if is("stale-while-revalidate") {
            &mut self.stale_while_revalidate
        } else if is("stale-if-error") {
            &mut self.stale_if_error
        } else {
            return;
        };
        // One parse for the three directives with seconds; the first valid one wins.
        if seconds.is_none() {
            *seconds = arg.and_then(unquote).and_then(|a| delta_seconds(&a));
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
    let Some(inner) = arg.strip_prefix("\"") else {
        return Some(Cow::Borrowed(arg));
    };
    // By bytes, copying the runs between backslashes: `\\` and `"` are ASCII, so never inside a
    // multi-byte char, and the char a backslash escapes starts the next run.
    let bytes = inner.as_bytes();
    let mut out = String::new();
    let (mut start, mut i) = (0, 0);
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => {
                out.push_str(part(inner, start, i));
                start = i + 1;
                if start == bytes.len() {
                    return None;
                }
                i += 2;
            }
            b'"' => {
                out.push_str(part(inner, start, i));
                return (i + 1 == bytes.len()).then_some(Cow::Owned(out));
            }
            _ => i += 1,
        }
    }
    None
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::core::cache::headers::testing::h;

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
}
