//! The JS API: the only `#[wasm_bindgen]` exports. Values are decoded into the Rust API's
//! types once, here, and Rust errors become `FetchlaneError`, `TypeError` or `RangeError`.

use crate::prelude::*;

mod client;
mod errors;
mod events;
mod input;
mod loader;
mod options;
mod paginate;
mod values;

/// A JS promise for `work`. Every export goes through this one boxed instance, so that
/// `future_to_promise`'s machinery is compiled once rather than once per export.
fn promise(
    work: impl core::future::Future<Output = Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue>> + 'static,
) -> js_sys::Promise {
    boxed_promise(Box::pin(work))
}

#[inline(never)]
fn boxed_promise(
    work: core::pin::Pin<Box<dyn core::future::Future<Output = Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue>>>>,
) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(work)
}
