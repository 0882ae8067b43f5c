//! HTTP caching routes: `/cache/{key}` (+ `/bump`), `/cache-nostore/{key}`, `/cache-private/{key}`.
//! Versions are per (run, key) and shared by the three GET variants.

use super::{json, set_header};
use crate::params::Params;
use crate::state::{lock, AppState};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Largest `size=` padding accepted.
const MAX_PAD: usize = 16 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/cache/{key}",
            get(
                |s: State<AppState>, k: Path<String>, p: Params, h: HeaderMap| async move {
                    cached(&s, &k, &p, &h, None)
                },
            ),
        )
        .route(
            "/cache-nostore/{key}",
            get(
                |s: State<AppState>, k: Path<String>, p: Params, h: HeaderMap| async move {
                    cached(&s, &k, &p, &h, Some("no-store"))
                },
            ),
        )
        .route(
            "/cache-private/{key}",
            get(
                |s: State<AppState>, k: Path<String>, p: Params, h: HeaderMap| async move {
                    cached(&s, &k, &p, &h, Some("private, max-age=60"))
                },
            ),
        )
        .route("/cache/{key}/bump", post(bump))
}

fn version(state: &AppState, run: String, key: &str) -> u64 {
    *lock(&state.keys)
        .cache
        .get(&(run, key.to_string()))
        .unwrap_or(&1)
}

/// Fixed Last-Modified per version: 2025-01-01T00:00:00Z plus one hour per version.
fn last_modified(v: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_735_689_600 + v * 3600)
}

/// Does an `If-None-Match` value (list, `*`, weak tags) match `etag`?
fn etag_matches(inm: &str, etag: &str) -> bool {
    inm.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/") == etag)
}

fn cached(
    state: &AppState,
    key: &str,
    p: &Params,
    req: &HeaderMap,
    preset_cc: Option<&str>,
) -> Response {
    let v = version(state, p.run(), key);
    let etag = p.flag("etag").then(|| format!("\"{key}-{v}\""));
    let lm = p.flag("lastModified").then(|| last_modified(v));
    let cc = match (preset_cc, p.get("cc")) {
        (Some(preset), _) => preset.to_string(),
        (None, Some(cc)) => cc.to_string(),
        (None, None) => format!("max-age={}", p.u64_or("maxAge", 60)),
    };
    let vary = p.get("vary").filter(|v| !v.is_empty());

    let header_str = |name: HeaderName| req.get(name).and_then(|h| h.to_str().ok());
    let not_modified = match header_str(header::IF_NONE_MATCH) {
        Some(inm) => etag.as_deref().is_some_and(|e| etag_matches(inm, e)),
        None => match (
            header_str(header::IF_MODIFIED_SINCE).and_then(|s| httpdate::parse_http_date(s).ok()),
            lm,
        ) {
            (Some(ims), Some(lm)) => ims >= lm,
            _ => false,
        },
    };

    let mut resp = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let vary_value = vary
            .and_then(|name| req.get(name))
            .and_then(|h| h.to_str().ok());
        let mut body = json!({
            "key": key, "version": v, "servedAt": state.now_ms(),
            "vary": vary_value.map_or(Value::Null, |s| Value::String(s.to_string())),
        });
        if let Some(size) = p.get("size").and_then(|s| s.parse::<usize>().ok()) {
            body["pad"] = Value::String("x".repeat(size.min(MAX_PAD)));
        }
        json(StatusCode::OK, body)
    };
    set_header(&mut resp, header::CACHE_CONTROL, &cc);
    if let Some(etag) = &etag {
        set_header(&mut resp, header::ETAG, etag);
    }
    if let Some(lm) = lm {
        set_header(
            &mut resp,
            header::LAST_MODIFIED,
            &httpdate::fmt_http_date(lm),
        );
    }
    if let Some(name) = vary {
        set_header(&mut resp, header::VARY, name);
    }
    resp
}

async fn bump(State(state): State<AppState>, Path(key): Path<String>, p: Params) -> Response {
    let v = {
        let mut keys = lock(&state.keys);
        let v = keys.cache.entry((p.run(), key.clone())).or_insert(1);
        *v += 1;
        *v
    };
    json(StatusCode::OK, json!({"key": key, "version": v}))
}
