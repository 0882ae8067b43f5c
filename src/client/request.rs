//! URLs: resolving them, building GET requests, and the host a request counts against.

use crate::prelude::*;

use crate::core::text;

use super::error::{Error, ErrorKind};

/// The `host[:port]` part of an absolute URL (what per-host limits and pauses key on).
pub(crate) fn host_of(url: &str) -> &str {
    let rest = text::split_once(url, "://").map_or(url, |(_, r)| r);
    let end = rest.find(|c| c == '/' || c == '?' || c == '#').unwrap_or(rest.len());
    let authority = text::part(rest, 0, end);
    authority.rsplit_once('@').map_or(authority, |(_, h)| h)
}

/// Resolves `url` against `base` (when given) with the URL parser of the platform.
pub(crate) fn resolve(base: Option<&str>, url: &str) -> Result<String, String> {
    let parsed = match base {
        Some(b) => web_sys::Url::new_with_base(url, b),
        None => web_sys::Url::new(url),
    };
    parsed.map(|u| u.href()).map_err(|_| {
        let mut m = String::from("fetchlane: cannot resolve the URL `");
        m.push_str(url);
        m.push('`');
        match base {
            Some(b) => {
                m.push_str(" against baseUrl `");
                m.push_str(b);
                m.push('`');
            }
            None => m.push_str(": it is relative and there is no base to resolve it against; set the `baseUrl` option"),
        }
        m
    })
}

/// A GET request for `url`, resolved against `base`.
pub(crate) fn new_get(base: Option<&str>, url: &str) -> Result<web_sys::Request, Error> {
    let absolute = match base {
        Some(_) => resolve(base, url),
        None => Ok(url.to_owned()),
    }
    .map_err(|m| Error::new(ErrorKind::Network, url).with_message(m))?;
    web_sys::Request::new_with_str(&absolute)
        .map_err(|cause| Error::new(ErrorKind::Network, url).with_cause(cause))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::host_of;

    #[test]
    fn hosts() {
        assert_eq!(host_of("http://127.0.0.1:8080/a?b"), "127.0.0.1:8080");
        assert_eq!(host_of("https://user:pw@api.example.com/x"), "api.example.com");
        assert_eq!(host_of("http://localhost:1#frag"), "localhost:1");
        assert_eq!(host_of("https://example.com"), "example.com");
    }
}
