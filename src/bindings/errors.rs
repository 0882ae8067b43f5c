//! Rust errors to JS values: `FetchlaneError` for failed requests, `TypeError` and
//! `RangeError` for bad input.

use wasm_bindgen::prelude::*;

use crate::client::{ConfigError, Error};

#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    type FetchlaneError;

    #[wasm_bindgen(constructor)]
    fn new(
        kind: &str,
        message: &str,
        url: &str,
        status: Option<u16>,
        attempts: u32,
        cause: JsValue,
        response: JsValue,
    ) -> FetchlaneError;
}

/// The JS `FetchlaneError` for `error`.
pub(crate) fn to_js(error: Error) -> JsValue {
    FetchlaneError::new(
        error.kind.as_str(),
        &error.message,
        &error.url,
        error.status,
        error.attempts,
        error.cause.unwrap_or(JsValue::UNDEFINED),
        error.response.map(JsValue::from).unwrap_or(JsValue::UNDEFINED),
    )
    .into()
}

/// A `TypeError` with `message`.
pub(crate) fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

/// The `TypeError` or `RangeError` for a bad option.
pub(crate) fn config_error(error: ConfigError) -> JsValue {
    if error.range {
        js_sys::RangeError::new(&error.message).into()
    } else {
        type_error(&error.message)
    }
}
