//! Response bodies: buffering one so that several callers (or a cache) can each get their
//! own readable copy, and decoding one as the caller asked.

use crate::prelude::*;

use wasm_bindgen::{JsCast, JsValue, UnwrapThrowExt};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Response, ResponseInit};

use super::error::{Error, ErrorKind};
use super::options::BodyAs;
use crate::core::timing::Stopwatch;

/// A response read to the end: status, headers and the body's bytes (kept as a JS
/// `ArrayBuffer`, outside wasm memory).
#[derive(Clone)]
pub(crate) struct Buffered {
    pub status: u16,
    pub status_text: String,
    /// Lower-case names, in the order the browser lists them.
    pub headers: Vec<(String, String)>,
    pub body: js_sys::ArrayBuffer,
    /// The network time of the op that last answered with it: the one that read it (as of the
    /// end of the read), or the one whose 304 revalidated it (none: it came from the Cache API
    /// and was not revalidated since).
    pub clock: Option<Stopwatch>,
}

/// The `(name, value)` pairs of a `Headers` object.
pub(crate) fn header_pairs(headers: &Headers) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Ok(Some(entries)) = js_sys::try_iter(headers) {
        for entry in entries.flatten() {
            let pair: js_sys::Array = entry.unchecked_into();
            out.push((pair.get(0).as_string().unwrap_or_default(), pair.get(1).as_string().unwrap_or_default()));
        }
    }
    out
}

impl Buffered {
    /// Reads `response` to the end.
    pub async fn read(response: &Response, url: &str) -> Result<Buffered, Error> {
        let body = match response.array_buffer() {
            Ok(p) => JsFuture::from(p).await,
            Err(e) => Err(e),
        }
        .map_err(|cause| Error::new(ErrorKind::Network, url).with_cause(cause))?;
        Ok(Buffered {
            status: response.status(),
            status_text: response.status_text(),
            headers: header_pairs(&response.headers()),
            body: body.unchecked_into(),
            clock: None,
        })
    }

    /// Bytes in the body.
    pub fn len(&self) -> usize {
        self.body.byte_length() as usize
    }

    /// A fresh, readable `Response` with this status, headers and body. The constructor
    /// copies the bytes, so every caller's body is its own.
    pub fn to_response(&self, status: Option<u16>) -> Response {
        let init = ResponseInit::new();
        init.set_status(status.unwrap_or(self.status));
        init.set_status_text(if status.is_some() { "OK" } else { &self.status_text });
        if let Ok(headers) = Headers::new() {
            for (name, value) in &self.headers {
                let _ = headers.append(name, value);
            }
            init.set_headers(&headers);
        }
        let body: &JsValue = self.body.as_ref();
        // A 204/304 must not carry a body; any other status may.
        let empty = matches!(status.unwrap_or(self.status), 101 | 103 | 204 | 205 | 304);
        let body = if empty { None } else { Some(body.unchecked_ref::<js_sys::Object>()) };
        // Only a status outside 200..=599 makes the constructor throw; ours come from a
        // real response.
        Response::new_with_opt_buffer_source_and_init(body, &init).unwrap_throw()
    }
}

/// The kind `decode` error of a body that did not decode as `body_as`.
pub(crate) fn decode_error(url: &str, body_as: BodyAs, cause: JsValue) -> Error {
    let mut message = String::from("fetchlane: the body of ");
    message.push_str(url);
    message.push_str(if body_as == BodyAs::Json { " is not valid JSON" } else { " could not be read as text" });
    if let Some(text) = cause.dyn_ref::<js_sys::Error>().and_then(|e| e.message().as_string()) {
        message.push_str(": ");
        message.push_str(&text);
    }
    Error::new(ErrorKind::Decode, url).with_cause(cause).with_message(message)
}

impl Buffered {
    /// The body as text, decoded as `Response.text()` does (UTF-8, a leading BOM dropped,
    /// invalid sequences replaced).
    pub fn text(&self) -> String {
        let bytes = js_sys::Uint8Array::new(&self.body).to_vec();
        let text = String::from_utf8_lossy(&bytes);
        text.strip_prefix('\u{feff}').unwrap_or(&text).to_owned()
    }

    /// The body turned into what the caller asked for: a fresh `Response`, the parsed JSON
    /// value or the text. Fails with kind `decode` when it does not parse.
    pub fn decode(&self, body_as: BodyAs, url: &str) -> Result<JsValue, Error> {
        match body_as {
            BodyAs::Response => Ok(self.to_response(None).into()),
            BodyAs::Text => Ok(JsValue::from_str(&self.text())),
            BodyAs::Json => js_sys::JSON::parse(&self.text()).map_err(|cause| decode_error(url, body_as, cause)),
        }
    }
}

/// Decodes a live `response` as asked; `url` names it in errors.
pub(crate) async fn decode(response: Response, body_as: BodyAs, url: &str) -> Result<JsValue, Error> {
    let promise = match body_as {
        BodyAs::Response => return Ok(response.into()),
        BodyAs::Json => response.json(),
        BodyAs::Text => response.text(),
    };
    let read = match promise {
        Ok(p) => JsFuture::from(p).await,
        Err(e) => Err(e),
    };
    read.map_err(|cause| decode_error(url, body_as, cause))
}
