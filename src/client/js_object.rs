//! Plain JS objects the Rust API hands to its JS snippets (`js/outbox.js`, `js/share.js`) and
//! reads back from them.

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

use super::error::Error;

/// `object[key] = value` on an object of our own (it cannot fail).
pub(crate) fn set(object: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(object, &key.into(), value);
}

/// `object[key]`, `undefined` where it has none.
pub(crate) fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// A FetchlaneError-shaped rejection for the snippets: `kind`, `status`, `attempts`,
/// `message` and, for kind `http`, `response`.
pub(crate) fn rejection(e: Error) -> JsValue {
    let o = Object::new();
    set(&o, "kind", &e.kind.as_str().into());
    if let Some(s) = e.status {
        set(&o, "status", &f64::from(s).into());
    }
    set(&o, "attempts", &e.attempts.into());
    set(&o, "message", &e.message.as_str().into());
    if let Some(r) = &e.response {
        set(&o, "response", r);
    }
    o.into()
}
