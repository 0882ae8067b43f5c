//! Outermost middleware: answers CORS preflights (uncounted) and adds CORS + `X-Served-At` headers
//! to every response.
//!
//! Preflights echo `Access-Control-Request-Headers` back as allowed, so any request header
//! (`Content-Type: application/json`, `Idempotency-Key`, `Content-Encoding`, …) passes. While
//! the run has a `down` fault (`/__faults`), its preflights are counted and then the connection
//! is reset instead of answering.

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub const EXPOSE_HEADERS: &str = "Retry-After, ETag, Last-Modified, Link, Cache-Control, Vary, Date, \
Content-Length, Content-Type, RateLimit-Reset, RateLimit-Limit, RateLimit-Remaining, X-RateLimit-Reset, \
X-Request-Count, X-Served-At, Server-Timing";

pub const ALLOW_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

pub async fn cors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let mut resp = if req.method() == Method::OPTIONS {
        if req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
            let run = crate::params::Params::parse(req.uri().query()).run();
            crate::state::lock(&state.stats).preflight(&run);
            let down = crate::state::lock(&state.faults).down(&run, state.now_ms());
            if let Some(kill) = down.then(|| crate::accounting::connection(&req)).flatten() {
                kill.kill();
                // Never sent: the first write on a killed connection fails.
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        }
        preflight(req.headers())
    } else {
        next.run(req).await
    };
    let h = resp.headers_mut();
    match origin {
        Some(o) => {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
            h.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
            add_vary(h, "Origin");
        }
        None => {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        }
    }
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
    // Resource Timing details (and `serverTiming`) for pages of other origins too.
    h.insert("timing-allow-origin", HeaderValue::from_static("*"));
    if let Ok(v) = HeaderValue::from_str(&format!("{:.3}", state.now_ms())) {
        h.insert("x-served-at", v);
    }
    resp
}

fn preflight(req: &HeaderMap) -> Response {
    let allow_headers = req
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("*"));
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(ALLOW_METHODS),
    );
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers);
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    h.insert(
        "access-control-allow-private-network",
        HeaderValue::from_static("true"),
    );
    h.insert(header::ALLOW, HeaderValue::from_static(ALLOW_METHODS));
    add_vary(h, "Access-Control-Request-Headers");
    resp
}

/// Merge a name into a single `Vary` header instead of overwriting what a route set.
fn add_vary(h: &mut HeaderMap, name: &str) {
    let existing: Vec<String> = h
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if existing
        .iter()
        .any(|e| e == "*" || e.eq_ignore_ascii_case(name))
    {
        return;
    }
    let mut all = existing;
    all.push(name.to_string());
    if let Ok(v) = HeaderValue::from_str(&all.join(", ")) {
        h.insert(header::VARY, v);
    }
}
