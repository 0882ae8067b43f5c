//! Outbox collector: `POST /collect/{name}` (also `PUT`, `PATCH`), any name, for tests of
//! durable delivery (exactly once, oldest first). Each request is recorded under its run
//! (`run=`) and the collector's name; `/__stats?run=` shows them as `collected`.
//!
//! Which keys a request delivers (one rule):
//! - a body that is a JSON array is a batch: each element is one delivered item. Its keys are
//!   the request's `Idempotency-Key` header read as a comma-separated list with one key per
//!   element, in order (as fetchlane's outbox sends a batch); when the header does not hold
//!   exactly that many, each element's `idempotencyKey` field (a string; anything else counts
//!   as no key);
//! - any other body (a JSON object, other JSON, text, empty) is one item, whose key is the
//!   request's `Idempotency-Key` header.
//!
//! Bodies may be gzip/deflate-compressed (`Content-Encoding`, undone by `crate::decode`).
//! The answer is 200 (or `?status=` 200–299; 204 has no body)
//! `{"ok": true, "name", "items": n, "keys": [...], "duplicates": [...]}`, where `duplicates`
//! are the keys of this request that had been delivered before (in this run, to this name).
//! Nothing is deduplicated: a key delivered twice is recorded twice.
//!
//! `/__stats?run=ID` → `collected: {name: {keys, counts, duplicates, missing, items,
//! requests}}`:
//! - `keys`: every delivered item's key, in arrival order (`null` for an item without a key);
//! - `counts`: `{key: times delivered}`, in first-delivery order;
//! - `duplicates`: keys delivered more than once, in first-delivery order;
//! - `missing`: items without a key; `items`: all items (`keys.length`);
//! - `requests`: one per request, in arrival order: `{t, method, batch, items, keys,
//!   idempotencyKey, bytes, bytesReceived, contentEncoding, contentType, body}` (`t` in the
//!   arrivals' clock; `bytes` decoded, `bytesReceived` on the wire; `body` the parsed JSON, or
//!   the text when it is not JSON, `null` when empty or over 4 KiB).
//!
//! Requests a `/__faults` rule answers or drops never reach the collector (they were not
//! delivered); `drop-after` ones do (delivered, answer lost).

use super::basic::ECHO_BODY_MAX;
use super::json;
use crate::decode::WireBody;
use crate::params::Params;
use crate::state::{lock, AppState};
use crate::stats::Delivery;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new().route("/collect/{name}", post(collect).put(collect).patch(collect))
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

async fn collect(
    State(state): State<AppState>,
    Path(name): Path<String>,
    p: Params,
    method: Method,
    headers: HeaderMap,
    wire: Option<Extension<WireBody>>,
    body: Bytes,
) -> Response {
    let status = p
        .get("status")
        .and_then(|s| s.trim().parse::<u16>().ok())
        .filter(|s| (200..=299).contains(s))
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let idempotency_key = header_text(&headers, header::HeaderName::from_static("idempotency-key"));
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let listed: Vec<String> = idempotency_key
        .as_deref()
        .map(|h| h.split(',').map(|k| k.trim().to_string()).collect())
        .unwrap_or_default();
    let (batch, keys) = match &parsed {
        Some(Value::Array(items)) if listed.len() == items.len() && !items.is_empty() => {
            (true, listed.into_iter().map(Some).collect())
        }
        Some(Value::Array(items)) => (
            true,
            items
                .iter()
                .map(|it| {
                    it.get("idempotencyKey")
                        .and_then(Value::as_str)
                        .map(String::from)
                })
                .collect(),
        ),
        _ => (false, vec![idempotency_key.clone()]),
    };
    let kept = if body.is_empty() || body.len() > ECHO_BODY_MAX {
        None
    } else {
        Some(parsed.unwrap_or_else(|| Value::String(String::from_utf8_lossy(&body).into_owned())))
    };
    let wire = wire.map(|Extension(w)| w);
    let mut delivery = Delivery {
        t: 0.0,
        method: method.to_string(),
        batch,
        keys: keys.clone(),
        idempotency_key,
        bytes: body.len(),
        bytes_received: wire.as_ref().map_or(body.len(), |w| w.bytes_received),
        content_encoding: wire.map(|w| w.encoding),
        content_type: header_text(&headers, header::CONTENT_TYPE),
        body: kept,
    };
    let duplicates = {
        // Stamped under the stats lock, so that `requests` is in time order.
        let mut stats = lock(&state.stats);
        delivery.t = state.now_ms();
        stats.collect(&p.run(), &name, delivery)
    };
    if status == StatusCode::NO_CONTENT {
        return status.into_response();
    }
    json(
        status,
        json!({
            "ok": true, "name": name, "items": keys.len(), "keys": keys,
            "duplicates": duplicates,
        }),
    )
}
