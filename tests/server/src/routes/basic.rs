//! Simple routes: `/status/{code}`, `/echo`, `/bad-json`, `/not-json`, `/bytes/{n}`, `/hang`,
//! `/chunked?items=N` (a JSON array of N objects sent without `Content-Length`).
//!
//! `/echo` (any method) answers 200 with
//! `{method, path, query, headers, contentEncoding, bytesReceived, bytesDecoded, bodyLength,
//! bodySha256, body?}`:
//! - `headers`: the request headers as received (lower-case names, repeats joined with `, `),
//!   so a compressed request still shows its `content-encoding` and wire `content-length`;
//! - `contentEncoding`: the `Content-Encoding` that was undone (`"gzip"`, `"deflate"`, …), or
//!   `null` for a plain body. Compressed `POST`/`PUT`/`PATCH` bodies are decoded by the
//!   `crate::decode` middleware before this handler runs (bad body 400, unknown encoding 415);
//! - `bytesReceived`: body size on the wire (compressed); `bytesDecoded`: size after
//!   decompression (equal for a plain body); `bodyLength` is `bytesDecoded` again;
//! - `bodySha256`: lower-case hex SHA-256 of the decoded body, always present;
//! - `body`: the decoded body as (lossy UTF-8) text, only when it is at most
//!   [`ECHO_BODY_MAX`] (4 KiB) bytes; larger bodies are reported by length and hash only.

use super::{json, set_header};
use crate::decode::WireBody;
use crate::params::Params;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Extension;
use axum::Router;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Largest decoded body `/echo` returns as text (larger: `bodyLength` + `bodySha256` only).
pub const ECHO_BODY_MAX: usize = 4 * 1024;

/// Largest body `/bytes/{n}` will produce.
const MAX_BYTES: usize = 64 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/status/{code}", any(status))
        .route("/echo", any(echo))
        .route("/bad-json", get(bad_json))
        .route("/not-json", get(not_json))
        .route("/bytes/{n}", get(bytes))
        .route("/hang", get(hang))
        .route("/chunked", get(chunked))
}

async fn status(Path(code): Path<String>, p: Params) -> Response {
    let Some(status) = code.parse::<u16>().ok().filter(|c| (200..=599).contains(c)) else {
        return json(
            StatusCode::BAD_REQUEST,
            json!({"error": "status must be 200..=599"}),
        );
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = if matches!(status.as_u16(), 204 | 205 | 304) {
        status.into_response()
    } else {
        json(status, json!({"status": status.as_u16()}))
    };
    if let Some(ra) = p.get("retryAfter") {
        set_header(&mut resp, header::RETRY_AFTER, ra);
    }
    resp
}

async fn echo(
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    wire: Option<Extension<WireBody>>,
    body: Bytes,
) -> Response {
    let wire = wire.map(|Extension(w)| w);
    let received = wire.as_ref().map_or(&headers, |w| &w.headers);
    let mut h = Map::new();
    for (name, value) in received {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match h.get_mut(name.as_str()) {
            Some(Value::String(prev)) => {
                prev.push_str(", ");
                prev.push_str(&v);
            }
            _ => {
                h.insert(name.as_str().to_string(), Value::String(v));
            }
        }
    }
    let sha: String = Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut out = json!({
        "method": method.as_str(),
        "path": uri.path(),
        "query": uri.query().unwrap_or(""),
        "headers": h,
        "contentEncoding": wire.as_ref().map(|w| w.encoding.clone()),
        "bytesReceived": wire.as_ref().map_or(body.len(), |w| w.bytes_received),
        "bytesDecoded": body.len(),
        "bodyLength": body.len(),
        "bodySha256": sha,
    });
    if body.len() <= ECHO_BODY_MAX {
        out["body"] = Value::String(String::from_utf8_lossy(&body).into_owned());
    }
    json(StatusCode::OK, out)
}

async fn bad_json() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], "{\"oops\": ").into_response()
}

async fn not_json() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<html>hello</html>",
    )
        .into_response()
}

async fn bytes(Path(n): Path<String>) -> Response {
    let Some(n) = n.parse::<usize>().ok().filter(|n| *n <= MAX_BYTES) else {
        return json(
            StatusCode::BAD_REQUEST,
            json!({"error": "n must be 0..=67108864"}),
        );
    };
    let body: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
    ([(header::CONTENT_TYPE, "application/octet-stream")], body).into_response()
}

/// Never answers in practice: the client is expected to give up (the future is dropped then).
async fn hang() -> Response {
    tokio::time::sleep(Duration::from_secs(300)).await;
    json(StatusCode::OK, json!({"ok": true, "hung": true}))
}

/// `/chunked?items=N` (default 10, at most 10 000): `[{"i":0},…]` as a streamed body, so the
/// response has no `Content-Length` (HTTP/1.1 chunked), for counting bytes a client reads.
async fn chunked(p: Params) -> Response {
    let n = p.f64_or("items", 10.0).clamp(0.0, 10_000.0) as usize;
    let items: Vec<Value> = (0..n).map(|i| json!({ "i": i })).collect();
    let text = Value::Array(items).to_string();
    let stream =
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(text)) });
    let mut resp = axum::body::Body::from_stream(stream).into_response();
    set_header(&mut resp, header::CONTENT_TYPE, "application/json");
    resp
}
