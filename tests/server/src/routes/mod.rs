//! Router assembly: API routes (counted in stats), `/__` admin routes, static fallback, CORS.
//! The API routes and what they do are listed in each module's doc comment: `basic`, `retry`,
//! `collections`, `cache`, `capacity` (`/api/capacity`, a server with a knee and a refusal
//! threshold), `demo`, `outbox` (`/collect/{name}`, the outbox collector that records
//! idempotency keys per run). The `/__` control routes are in `admin`.
//!
//! Cross-cutting behaviour:
//! - request bodies: a `POST`/`PUT`/`PATCH` with `Content-Encoding: gzip` or `deflate` (zlib) is
//!   decompressed before any handler (API or `/__` admin) reads it; a body that does not decode
//!   is a 400 `{"error", "encoding"}`, an unknown encoding (`br`, …) a 415. The middleware sits
//!   inside the accounting one, so those refusals are still recorded as arrivals. See
//!   `crate::decode`; `/echo` reports `bytesReceived`/`bytesDecoded` (see `basic`).
//! - `fields=a,b,c` keeps only those top-level keys on the object and list routes of
//!   `collections` (`/items`, `/users`, `/items/{id}`, `/users/{id}`, `/pages`) and `demo`
//!   (every `/api/...` route but `/api/capacity`); lists filter each object, envelopes
//!   (`{items: [...]}`, `{data: [...]}`) filter their items. See `crate::fields`.
//! - `serverTiming=1` on any counted route adds `Server-Timing: wait;dur=<latency=>;desc="latency
//!   param", app;dur=<ms the server held the request>`; every response has
//!   `Timing-Allow-Origin: *`, so pages of another origin see Resource Timing details.
//! - `traceparent` request headers are kept in the run's arrival records (`/__stats`), and
//!   CORS preflights for a run's URLs are counted there as `preflights`.
//! - per-run faults (`/__faults`, see `crate::faults`): a run's counted requests can be made to
//!   answer a status (503, 429 with `Retry-After`, …) or to have their connection reset
//!   (`drop`, `drop-after`, `down`), for a time or for a number of requests; other runs are
//!   untouched. Applied by the accounting middleware, after `latency=`. While a drop rule is
//!   in force, every answer has `Connection: close` (see `crate::conn` for why).

pub mod admin;
pub mod basic;
pub mod cache;
pub mod capacity;
pub mod collections;
pub mod demo;
pub mod outbox;
pub mod retry;

use crate::state::AppState;
use crate::{accounting, conn, cors, decode, static_files};
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::Value;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(basic::routes())
        .merge(retry::routes())
        .merge(collections::routes())
        .merge(cache::routes())
        .merge(capacity::routes())
        .merge(demo::routes())
        .merge(outbox::routes())
        // Inner to accounting: a 400/415 for a bad compressed body is still an arrival.
        .route_layer(from_fn(decode::decompress))
        .route_layer(from_fn_with_state(state.clone(), accounting::account));
    Router::new()
        .merge(api)
        .merge(admin::routes().route_layer(from_fn(decode::decompress)))
        .fallback(static_files::serve_static)
        .layer(DefaultBodyLimit::max(decode::MAX_BODY))
        .layer(from_fn_with_state(state.clone(), cors::cors))
        .layer(from_fn_with_state(state.clone(), conn::keep_alive))
        .with_state(state)
}

/// JSON response with a status code.
pub fn json(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// Set a header if the value is a valid header value (silently skipped otherwise).
pub fn set_header(resp: &mut Response, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
}

/// Standard 404 body used by the single-object routes.
pub fn not_found() -> Response {
    json(
        StatusCode::NOT_FOUND,
        serde_json::json!({"error": "not found"}),
    )
}

/// 429 with `Retry-After` (and `RateLimit-Reset` when `reset` is set).
pub fn too_many(retry_after: &str, body: Value, reset: bool) -> Response {
    let mut resp = json(StatusCode::TOO_MANY_REQUESTS, body);
    set_header(&mut resp, header::RETRY_AFTER, retry_after);
    if reset {
        set_header(
            &mut resp,
            HeaderName::from_static("ratelimit-reset"),
            retry_after,
        );
        set_header(
            &mut resp,
            HeaderName::from_static("x-ratelimit-reset"),
            retry_after,
        );
    }
    resp
}
