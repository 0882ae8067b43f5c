//! Storing (RFC 9111 §3): whether a response may be stored, or why not.

use crate::prelude::*;

use super::control::CacheControl;
use super::headers::first;
use super::vary::vary_names;

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

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::core::cache::headers::testing::h;

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
}
