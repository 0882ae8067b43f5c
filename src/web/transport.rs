//! The one place that calls `fetch`: the global one, or the replacement given as the `fetch`
//! option.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use web_sys::Request;

#[wasm_bindgen]
extern "C" {
    // Bound on `globalThis`, so it works in windows and workers alike. `catch` turns a
    // synchronous throw into an `Err` instead of a trap.
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(request: &Request) -> Result<Promise, JsValue>;
}

/// Sends one request. The default is the global `fetch`.
#[derive(Clone, Default)]
pub enum Transport {
    /// `globalThis.fetch`, looked up at call time so that a page may replace it later.
    #[default]
    Global,
    /// A function with `fetch`'s signature (the `fetch` client option).
    Custom(Function),
}

impl Transport {
    /// Starts `request` (which carries the attempt's abort signal) and returns the promise
    /// of its `Response`. A synchronous throw or a non-promise result is turned into a
    /// promise, so callers have exactly one way to wait.
    pub fn send(&self, request: &Request) -> Promise {
        let result = match self {
            Transport::Global => global_fetch(request).map(JsValue::from),
            Transport::Custom(f) => f.call1(&JsValue::UNDEFINED, request),
        };
        match result {
            Ok(value) => Promise::resolve(&value),
            Err(thrown) => Promise::reject(&thrown),
        }
    }
}
