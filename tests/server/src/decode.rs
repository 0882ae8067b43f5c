//! Request-body decompression for every body-reading route (one middleware, see
//! `routes::router`).
//!
//! A `POST`, `PUT` or `PATCH` with `Content-Encoding: gzip` (or `x-gzip`) or `deflate`
//! (zlib-wrapped, as the browser's `CompressionStream('deflate')` produces; raw deflate is not
//! accepted) has its body decompressed before the handler runs. A list such as
//! `deflate, gzip` is undone right to left; `identity` is a no-op. Then:
//! - the handler sees the decoded body, with `Content-Encoding` removed and `Content-Length`
//!   set to the decoded size; a [`WireBody`] request extension keeps the encoding, the size on
//!   the wire and the headers as received (`/echo` reports them);
//! - a body that does not decode is a 400 `{"error": "…", "encoding": "gzip"}` (the encoding
//!   that failed);
//! - any other encoding (`br`, `zstd`, …) is a 415 `{"error": "…", "encoding": "br"}`;
//! - a wire or decoded body over [`MAX_BODY`] is a 413 `{"error": "…", "encoding": …}`.
//!
//! Other methods, and bodies without `Content-Encoding`, pass through untouched.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use flate2::read::{MultiGzDecoder, ZlibDecoder};
use serde_json::json;
use std::io::Read;

/// Largest request body accepted, compressed on the wire or decoded (also the router's
/// `DefaultBodyLimit`).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// Request extension set when a body was decompressed.
#[derive(Clone, Debug)]
pub struct WireBody {
    /// The `Content-Encoding` header as sent (e.g. `gzip`).
    pub encoding: String,
    /// Body size on the wire, before decompression.
    pub bytes_received: usize,
    /// The request headers as received (before `Content-Encoding`/`Content-Length` were fixed).
    pub headers: HeaderMap,
}

#[derive(Clone, Copy)]
enum Coding {
    Gzip,
    Deflate,
}

fn error(status: StatusCode, msg: &str, encoding: &str) -> Response {
    crate::routes::json(status, json!({"error": msg, "encoding": encoding}))
}

fn decode(coding: Coding, input: &[u8]) -> std::io::Result<Vec<u8>> {
    let limit = MAX_BODY as u64 + 1;
    let mut out = Vec::new();
    match coding {
        Coding::Gzip => MultiGzDecoder::new(input)
            .take(limit)
            .read_to_end(&mut out)?,
        Coding::Deflate => ZlibDecoder::new(input).take(limit).read_to_end(&mut out)?,
    };
    Ok(out)
}

pub async fn decompress(req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH) {
        return next.run(req).await;
    }
    let Some(raw) = req.headers().get(header::CONTENT_ENCODING) else {
        return next.run(req).await;
    };
    let encoding = String::from_utf8_lossy(raw.as_bytes()).trim().to_string();
    let mut codings = Vec::new();
    for name in encoding.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match name.to_ascii_lowercase().as_str() {
            "identity" => {}
            "gzip" | "x-gzip" => codings.push((Coding::Gzip, name)),
            "deflate" => codings.push((Coding::Deflate, name)),
            _ => {
                return error(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    &format!("unsupported Content-Encoding {name:?}; use gzip or deflate"),
                    name,
                )
            }
        }
    }
    let (mut parts, body) = req.into_parts();
    let wire = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("request body over {MAX_BODY} bytes (or unreadable)"),
                &encoding,
            )
        }
    };
    let mut decoded = wire.to_vec();
    for (coding, name) in codings.iter().rev() {
        decoded = match decode(*coding, &decoded) {
            Ok(d) if d.len() > MAX_BODY => {
                return error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("decoded request body over {MAX_BODY} bytes"),
                    name,
                )
            }
            Ok(d) => d,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("request body is not valid {name}: {e}"),
                    name,
                )
            }
        };
    }
    let received = parts.headers.clone();
    parts.headers.remove(header::CONTENT_ENCODING);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(decoded.len()));
    parts.extensions.insert(WireBody {
        encoding,
        bytes_received: wire.len(),
        headers: received,
    });
    next.run(Request::from_parts(parts, Body::from(decoded)))
        .await
}
