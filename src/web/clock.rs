//! Clocks: a monotonic one for scheduling and the wall clock for HTTP dates.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    fn date_now() -> f64;
    #[wasm_bindgen(js_namespace = Math, js_name = random)]
    fn math_random() -> f64;
}

/// Milliseconds on the page's monotonic clock (`performance.now()`).
pub fn now_ms() -> f64 {
    performance_now()
}

/// Milliseconds since the Unix epoch (`Date.now()`), for `Retry-After` dates.
pub fn wall_ms() -> f64 {
    date_now()
}

/// A number in `[0, 1)` for jitter (`Math.random()`).
pub fn random() -> f64 {
    math_random()
}
