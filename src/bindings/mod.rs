//! The JS API: the only `#[wasm_bindgen]` exports. Values are decoded into the Rust API's
//! types once, here, and Rust errors become `FetchlaneError`, `TypeError` or `RangeError`.

mod client;
mod errors;
mod events;
mod input;
mod loader;
mod options;
mod paginate;
mod values;
