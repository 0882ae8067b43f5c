//! Stateful failure routes keyed by (run, key): `/flaky/{key}`, `/storm/{key}`, `/limited/{key}`.

use super::{json, set_header, too_many};
use crate::params::Params;
use crate::state::{lock, AppState};
use axum::extract::{Path, State};
use axum::http::{header, HeaderName, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/flaky/{key}", get(flaky).post(flaky))
        .route("/storm/{key}", get(storm))
        .route("/limited/{key}", get(limited))
}

/// First `fails` hits answer `status` (default 503), then 200.
async fn flaky(State(state): State<AppState>, Path(key): Path<String>, p: Params) -> Response {
    let attempt = {
        let mut keys = lock(&state.keys);
        let n = keys.flaky.entry((p.run(), key)).or_insert(0);
        *n += 1;
        *n
    };
    if attempt <= p.u64_or("fails", 1) {
        let status = StatusCode::from_u16(p.u64_or("status", 503).min(999) as u16)
            .ok()
            .filter(|s| s.as_u16() >= 400)
            .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut resp = json(status, json!({"error": "flaky", "attempt": attempt}));
        if let Some(ra) = p.get("retryAfter") {
            set_header(&mut resp, header::RETRY_AFTER, ra);
        }
        resp
    } else {
        json(StatusCode::OK, json!({"ok": true, "attempt": attempt}))
    }
}

/// First `count` hits answer 429 with `Retry-After`, then 200.
async fn storm(State(state): State<AppState>, Path(key): Path<String>, p: Params) -> Response {
    let hit = {
        let mut keys = lock(&state.keys);
        let n = keys.storm.entry((p.run(), key)).or_insert(0);
        *n += 1;
        *n
    };
    if hit <= p.u64_or("count", 20) {
        too_many(
            p.str_or("retryAfter", "1"),
            json!({"error": "rate limited"}),
            false,
        )
    } else {
        json(StatusCode::OK, json!({"ok": true, "hit": hit}))
    }
}

/// Strict sliding window: at most `limit` accepted requests in any `window` ms.
async fn limited(State(state): State<AppState>, Path(key): Path<String>, p: Params) -> Response {
    let limit = p.u64_or("limit", 20) as usize;
    let window = p.f64_or("window", 1000.0).max(0.0);
    let now = state.now_ms();
    let mut keys = lock(&state.keys);
    let accepted = keys.limited.entry((p.run(), key)).or_default();
    while accepted.front().is_some_and(|&t| t <= now - window) {
        accepted.pop_front();
    }
    if accepted.len() < limit {
        accepted.push_back(now);
        let remaining = limit - accepted.len();
        drop(keys);
        let mut resp = json(StatusCode::OK, json!({"ok": true}));
        set_header(
            &mut resp,
            HeaderName::from_static("ratelimit-limit"),
            &limit.to_string(),
        );
        set_header(
            &mut resp,
            HeaderName::from_static("ratelimit-remaining"),
            &remaining.to_string(),
        );
        resp
    } else {
        let oldest = accepted.front().copied().unwrap_or(now);
        drop(keys);
        let secs = (((oldest + window - now) / 1000.0).ceil() as u64).max(1);
        too_many(
            &secs.to_string(),
            json!({"error": "rate limited", "retryAfter": secs}),
            true,
        )
    }
}
