//! The `Pages` class of the JS API (what `client.paginate` returns) and the decoding of
//! `PaginateOptions`, a thin layer over [`crate::client::Pages`]. The package entry makes
//! the class async-iterable (`[Symbol.asyncIterator]() { return this }`).

use crate::prelude::*;

use alloc::rc::Rc;

use futures_util::FutureExt;
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;

use super::errors::{config_error, to_js};
use super::input::request;
use super::loader::{pick, renamed};
use super::options::lane_init;
use super::values::*;
use crate::client::{Client, ConfigError, Error, ErrorKind, PaginateOptions, Pages};

/// `RequestInit`'s keys, `LaneInit`'s additions, and paginate's own.
const PAGINATE_KEYS: &[&str] = &[
    "method", "headers", "body", "mode", "credentials", "cache", "redirect", "referrer",
    "referrerPolicy", "integrity", "keepalive", "signal", "priority", "duplex", "window",
    "lane", "strategy", "ttlMs", "timeoutMs", "totalTimeoutMs", "retry", "dedupe", "key",
    "next", "prefetch",
];

/// `{ done, value }`.
fn step(done: bool, value: &JsValue) -> JsValue {
    let o = Object::new();
    let _ = Reflect::set(&o, &"done".into(), &done.into());
    let _ = Reflect::set(&o, &"value".into(), value);
    o.into()
}

/// The `next(body, response)` option as the Rust API's [`crate::client::NextPage`].
fn next_page(f: Function) -> crate::client::NextPage {
    Rc::new(move |body: &JsValue, response: &web_sys::Response| {
        let failed = |message: &str| {
            let mut m = String::from("fetchlane: paginate's `next` option ");
            m.push_str(message);
            Error::new(ErrorKind::Decode, &response.url()).with_message(m)
        };
        let value = f
            .call2(&JsValue::UNDEFINED, body, response)
            .map_err(|thrown| failed("threw").with_cause(thrown))?;
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        if let Some(s) = value.as_string() {
            return Ok(Some(s));
        }
        if let Some(u) = value.dyn_ref::<web_sys::Url>() {
            return Ok(Some(u.href()));
        }
        let mut m = String::from("must return a string, a URL, null or undefined (got ");
        m.push_str(&describe(&value));
        m.push(')');
        Err(failed(&m))
    })
}

/// The pages of `client.paginate(input, opts)`, an async iterator of page bodies.
#[wasm_bindgen(js_name = Pages)]
pub struct JsPages {
    pages: Pages,
}

impl JsPages {
    /// Decodes `input` and `opts`; throws a `TypeError` or `RangeError` naming a bad option.
    pub(crate) fn new(client: &Client, input: &JsValue, opts: &JsValue) -> Result<JsPages, JsValue> {
        let mut options = PaginateOptions::default();
        let init: JsValue = match options_object(opts, "opts").map_err(config_error)? {
            None => JsValue::UNDEFINED,
            Some(o) => {
                check_keys(&o, PAGINATE_KEYS, "opts").map_err(config_error)?;
                if let Some(v) = get(&o, "next") {
                    options.next = Some(next_page(function(&v, "opts.next").map_err(config_error)?));
                }
                if let Some(v) = get(&o, "prefetch") {
                    let n = integer(&v, "opts.prefetch", 0.0).map_err(config_error)?;
                    options.prefetch = n.min(1e6) as usize;
                }
                let rest: Vec<&str> = PAGINATE_KEYS.iter().copied().filter(|k| *k != "next" && *k != "prefetch").collect();
                let init = pick(&o, &rest);
                options.request = lane_init(&init).map_err(|e: ConfigError| config_error(renamed(e)))?;
                init.into()
            }
        };
        let (first, _) = request(client.config().base_url.as_deref(), input, &init, "input")?;
        Ok(JsPages { pages: client.paginate(&first, options) })
    }
}

#[wasm_bindgen(js_class = Pages)]
impl JsPages {
    /// The next page: `{ done: false, value: body }`, or `{ done: true }` after the last one.
    /// A failed page rejects (with the pages before it already handed out); after that the
    /// iterator is done.
    pub fn next(&self) -> Promise {
        let run = self.pages.next();
        super::promise(run.map(|page| match page {
            Some(Ok(body)) => Ok(step(false, &body)),
            Some(Err(e)) => Err(to_js(e)),
            None => Ok(step(true, &JsValue::UNDEFINED)),
        }))
    }

    /// Ends the iteration (what `break` in `for await` calls): aborts the pages fetched
    /// ahead; resolves to `{ done: true, value }`.
    #[wasm_bindgen(js_name = "return")]
    pub fn return_(&self, value: JsValue) -> Promise {
        self.pages.close();
        Promise::resolve(&step(true, &value))
    }
}
