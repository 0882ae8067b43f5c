//! `input` and `init` (and `RequestLike`) into a `Request` plus its `LaneInit` options.

use crate::prelude::*;

use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Request, RequestInit};

use super::errors::{config_error, type_error};
use super::options::lane_init;
use super::values::describe;
use crate::client::{resolve_url, RequestOptions};

/// Builds the request for `fetch(input, init)`; `what` names the argument in errors.
pub(crate) fn request(
    base: Option<&str>,
    input: &JsValue,
    init: &JsValue,
    what: &str,
) -> Result<(Request, RequestOptions), JsValue> {
    let options = lane_init(init).map_err(config_error)?;
    let init: RequestInit = if init.is_undefined() || init.is_null() {
        RequestInit::new()
    } else {
        init.clone().unchecked_into()
    };
    let url = if let Some(s) = input.as_string() {
        Some(s)
    } else {
        input.dyn_ref::<web_sys::Url>().map(|u| u.href())
    };
    let built = match (url, input.dyn_ref::<Request>()) {
        (Some(url), _) => {
            let absolute = match base {
                Some(_) => resolve_url(base, &url).map_err(|m| type_error(&m))?,
                None => url,
            };
            Request::new_with_str_and_init(&absolute, &init).map_err(|cause| cannot_build(&absolute, cause))
        }
        // A copy, so the caller's request (and its body) stays theirs.
        (None, Some(req)) => req
            .clone()
            .and_then(|copy| Request::new_with_request_and_init(&copy, &init))
            .map_err(|cause| cannot_build(&req.url(), cause)),
        (None, None) => {
            let mut m = String::from("fetchlane: ");
            m.push_str(what);
            m.push_str(" must be a string, a URL or a Request (got ");
            m.push_str(&describe(input));
            m.push(')');
            Err(type_error(&m))
        }
    }?;
    Ok((built, options))
}

fn cannot_build(url: &str, cause: JsValue) -> JsValue {
    let mut m = String::from("fetchlane: cannot make a request for `");
    m.push_str(url);
    m.push_str("`: ");
    match cause.dyn_ref::<js_sys::Error>().and_then(|e| e.message().as_string()) {
        Some(text) => m.push_str(&text),
        None => m.push_str("the Request constructor refused it"),
    }
    if !crate::core::text::contains(url, "://") {
        m.push_str(" (a relative URL needs a page to resolve against, or the `baseUrl` option)");
    }
    let error = js_sys::TypeError::new(&m);
    error.set_cause(&cause);
    error.into()
}

/// A `RequestLike`: a string, URL or Request, or `{ input, init? }`.
pub(crate) fn request_like(base: Option<&str>, item: &JsValue, what: &str) -> Result<(Request, RequestOptions), JsValue> {
    let is_wrapper = item.is_object()
        && !item.is_instance_of::<Request>()
        && !item.is_instance_of::<web_sys::Url>()
        && Reflect::has(item, &JsValue::from_str("input")).unwrap_or(false);
    if is_wrapper {
        let o: &Object = item.unchecked_ref();
        let input = Reflect::get(o, &"input".into()).unwrap_or(JsValue::UNDEFINED);
        let init = Reflect::get(o, &"init".into()).unwrap_or(JsValue::UNDEFINED);
        return request(base, &input, &init, what);
    }
    request(base, item, &JsValue::UNDEFINED, what)
}
