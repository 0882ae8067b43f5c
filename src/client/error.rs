//! The error every failed request ends in; the JS API turns it into a `FetchlaneError`.

use crate::prelude::*;

use wasm_bindgen::JsValue;

pub use crate::core::error::ErrorKind;
use crate::core::error::push_decimal;

/// A failed request: what kind of failure, for which URL, after how many attempts.
#[derive(Clone, Debug)]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The request's absolute URL (empty for `schedule` tasks).
    pub url: String,
    /// The last HTTP status, for kind `http` and `rate-limit`.
    pub status: Option<u16>,
    /// How many attempts were started (0 when it never left the queue).
    pub attempts: u32,
    /// A sentence for people, naming the URL.
    pub message: String,
    /// The underlying JS value: the transport's rejection, the abort reason, the parse error.
    pub cause: Option<JsValue>,
    /// The last response, for kind `http` (its body unread).
    pub response: Option<web_sys::Response>,
}

impl Error {
    /// A new error of `kind` for `url`, with a message made from both.
    pub fn new(kind: ErrorKind, url: &str) -> Error {
        Error {
            kind,
            url: url.to_owned(),
            status: None,
            attempts: 0,
            message: String::new(),
            cause: None,
            response: None,
        }
        .described()
    }

    /// Sets the status (and refreshes the message).
    pub fn with_status(mut self, status: u16) -> Error {
        self.status = Some(status);
        self.described()
    }

    /// Sets the number of attempts made.
    pub fn with_attempts(mut self, attempts: u32) -> Error {
        self.attempts = attempts;
        self
    }

    /// Keeps the underlying JS value.
    pub fn with_cause(mut self, cause: JsValue) -> Error {
        self.cause = Some(cause);
        self
    }

    /// Replaces the generated message (for decode errors that say what was found).
    pub fn with_message(mut self, message: String) -> Error {
        self.message = message;
        self
    }

    fn described(mut self) -> Error {
        let mut m = String::from("fetchlane: ");
        let what = match self.kind {
            ErrorKind::Http => "HTTP ",
            ErrorKind::Network => "network error for ",
            ErrorKind::Timeout => "timed out: ",
            ErrorKind::Abort => "aborted: ",
            ErrorKind::RateLimit => "rate limited for longer than maxRetryAfterMs allows: ",
            ErrorKind::Decode => "could not decode the body of ",
            ErrorKind::Missing => "the batch response has no item for the key: ",
            ErrorKind::Cache => "nothing cached (cache-only) for ",
            ErrorKind::Closed => "the client is closed: ",
        };
        m.push_str(what);
        if let (ErrorKind::Http, Some(status)) = (self.kind, self.status) {
            push_decimal(&mut m, status as u64);
            m.push_str(" from ");
        }
        m.push_str(&self.url);
        self.message = m;
        self
    }
}
