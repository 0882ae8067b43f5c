//! The `Loader` class of the JS API and the decoding of `LoaderOptions`, a thin layer over
//! [`crate::client::Loader`].

use crate::prelude::*;

use alloc::rc::Rc;

use futures_util::FutureExt;
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;

use super::errors::{config_error, to_js, type_error};
use super::options::lane_init;
use super::values::*;
use crate::client::{BatchUrl, Client, ConfigError, Error, ErrorKind, ItemKey, Loader, LoaderConfig};
use crate::core::text;

const LOADER_KEYS: &[&str] = &[
    "url", "key", "select", "maxBatchSize", "windowMs", "maxUrlLength", "cache",
    // Passed on to every batch request.
    "lane", "headers", "retry", "timeoutMs", "totalTimeoutMs", "strategy", "ttlMs",
];

/// The `LaneInit` fields a loader passes on to its batch requests.
const PASSED_ON: &[&str] = &["lane", "retry", "timeoutMs", "totalTimeoutMs", "strategy", "ttlMs"];

/// An error about `init.x` from the shared `LaneInit` decoder, renamed to `opts.x`.
pub(crate) fn renamed(mut e: ConfigError) -> ConfigError {
    if let Some(rest) = e.option.strip_prefix("init.") {
        let mut option = String::from("opts.");
        option.push_str(rest);
        e.option = option;
    }
    e.message = text::replace(&text::replace(&e.message, "`init.", "`opts."), "`init`", "`opts`");
    e
}

/// A plain object with the own properties of `from` named in `keys`.
pub(crate) fn pick(from: &Object, keys: &[&str]) -> Object {
    let out = Object::new();
    for k in keys {
        if let Some(v) = get(from, k) {
            let _ = Reflect::set(&out, &JsValue::from_str(k), &v);
        }
    }
    out
}

/// Calls `f(arg)`, turning a throw into `Err(thrown)`.
fn call(f: &Function, arg: &JsValue) -> Result<JsValue, JsValue> {
    f.call1(&JsValue::UNDEFINED, arg)
}

fn loader_config(client: &Client, value: &JsValue) -> Result<LoaderConfig, ConfigError> {
    let o = options_object(value, "opts")?
        .ok_or_else(|| got(ConfigError::type_error("opts", "must be an object with at least `url`"), value))?;
    check_keys(&o, LOADER_KEYS, "opts")?;
    let url = get(&o, "url").ok_or_else(|| ConfigError::type_error("opts.url", "is required"))?;
    let url = if let Some(template) = url.as_string() {
        if !text::contains(&template, "{keys}") {
            return Err(got(
                ConfigError::type_error("opts.url", "must hold `{keys}` (where the comma-joined keys go), or be a function of the keys"),
                &url,
            ));
        }
        BatchUrl::Template(template)
    } else if let Some(f) = url.dyn_ref::<Function>().cloned() {
        let base = client.config().base_url.clone();
        BatchUrl::Build(Rc::new(move |keys: &[JsValue]| build_request(&f, keys, base.as_deref())))
    } else {
        return Err(got(ConfigError::type_error("opts.url", "must be a string holding `{keys}` or a function of the keys"), &url));
    };
    let mut config = LoaderConfig::new(url);
    if let Some(v) = get(&o, "key") {
        config.key = if let Some(field) = v.as_string() {
            ItemKey::Field(field)
        } else if let Some(f) = v.dyn_ref::<Function>().cloned() {
            ItemKey::Compute(Rc::new(move |item: &JsValue| call(&f, item)))
        } else {
            return Err(got(ConfigError::type_error("opts.key", "must be a field name or a function of an item"), &v));
        };
    }
    if let Some(v) = get(&o, "select") {
        let f = function(&v, "opts.select")?;
        config.select = Some(Rc::new(move |body: &JsValue| call(&f, body)));
    }
    if let Some(v) = get(&o, "maxBatchSize") {
        config.max_batch_size = limit(&v, "opts.maxBatchSize")?;
    }
    if let Some(v) = get(&o, "windowMs") {
        config.window_ms = non_negative(&v, "opts.windowMs")?;
    }
    if let Some(v) = get(&o, "maxUrlLength") {
        config.max_url_length = limit(&v, "opts.maxUrlLength")?;
    }
    if let Some(v) = get(&o, "cache") {
        config.cache = boolean(&v, "opts.cache")?;
    }
    if let Some(v) = get(&o, "headers") {
        let headers = web_sys::Headers::new_with_str_sequence_sequence(&v).map_err(|_| {
            got(ConfigError::type_error("opts.headers", "must be a Headers object, an object of strings or an array of pairs"), &v)
        })?;
        if let Ok(Some(entries)) = js_sys::try_iter(&headers) {
            for entry in entries.flatten() {
                let pair: Array = entry.unchecked_into();
                config.headers.push((pair.get(0).as_string().unwrap_or_default(), pair.get(1).as_string().unwrap_or_default()));
            }
        }
    }
    config.request = lane_init(&pick(&o, PASSED_ON).into()).map_err(renamed)?;
    Ok(config)
}

/// The batch request from the `url` function's answer: a string or URL (relative to
/// `baseUrl`, else the page) or a `Request`.
fn build_request(f: &Function, keys: &[JsValue], base: Option<&str>) -> Result<web_sys::Request, Error> {
    let list: Array = keys.iter().collect();
    let failed = |message: &str| {
        let mut m = String::from("fetchlane: the loader's `url` function ");
        m.push_str(message);
        Error::new(ErrorKind::Network, "").with_message(m)
    };
    let value = call(f, &list).map_err(|thrown| failed("threw").with_cause(thrown))?;
    if let Some(req) = value.dyn_ref::<web_sys::Request>() {
        return Ok(req.clone().unwrap_or_else(|_| Clone::clone(req)));
    }
    let url = match (value.as_string(), value.dyn_ref::<web_sys::Url>()) {
        (Some(s), _) => s,
        (None, Some(u)) => u.href(),
        _ => {
            let mut m = String::from("must return a string, a URL or a Request (got ");
            m.push_str(&describe(&value));
            m.push(')');
            return Err(failed(&m));
        }
    };
    let absolute = match base {
        Some(_) => crate::client::resolve_url(base, &url).map_err(|m| Error::new(ErrorKind::Network, &url).with_message(m))?,
        None => url,
    };
    web_sys::Request::new_with_str(&absolute).map_err(|cause| Error::new(ErrorKind::Network, &absolute).with_cause(cause))
}

/// A DataLoader-style loader: `client.loader(opts)` makes one.
#[wasm_bindgen(js_name = Loader)]
pub struct JsLoader {
    loader: Loader,
}

impl JsLoader {
    /// Decodes `opts` and builds the loader; throws a `TypeError` or `RangeError` naming a
    /// bad option.
    pub(crate) fn new(client: &Client, opts: &JsValue) -> Result<JsLoader, JsValue> {
        let config = loader_config(client, opts).map_err(config_error)?;
        let loader = client.loader(config).map_err(|e| {
            let mut e = e;
            if !e.option.starts_with("opts.") {
                let option = e.option.clone();
                let mut renamed = String::from("opts.");
                renamed.push_str(&option);
                let mut tick = String::from("`");
                tick.push_str(&option);
                let mut new_tick = String::from("`");
                new_tick.push_str(&renamed);
                e.message = text::replace(&e.message, &tick, &new_tick);
                e.option = renamed;
            }
            config_error(e)
        })?;
        Ok(JsLoader { loader })
    }
}

fn missing_key(what: &str, key: &JsValue) -> Option<JsValue> {
    if key.is_undefined() || key.is_null() {
        let mut m = String::from("fetchlane: ");
        m.push_str(what);
        m.push_str(" needs a key that is not null or undefined (got ");
        m.push_str(&describe(key));
        m.push(')');
        return Some(type_error(&m));
    }
    None
}

#[wasm_bindgen(js_class = Loader)]
impl JsLoader {
    /// The item for `key`; rejects alone (kind `missing`) when the batch response lacks it.
    pub fn load(&self, key: JsValue) -> Promise {
        if let Some(e) = missing_key("loader.load(key)", &key) {
            return Promise::reject(&e);
        }
        let run = self.loader.load(key);
        super::promise(run.map(|r| r.map_err(to_js)))
    }

    /// The items for `keys`, in order; a failed key gives its error in place. Never rejects
    /// (but for `keys` that is not an array).
    #[wasm_bindgen(js_name = loadMany)]
    pub fn load_many(&self, keys: JsValue) -> Promise {
        if !Array::is_array(&keys) {
            let mut m = String::from("fetchlane: loader.loadMany(keys) needs an array (got ");
            m.push_str(&describe(&keys));
            m.push(')');
            return Promise::reject(&type_error(&m));
        }
        let keys: Array = keys.unchecked_into();
        // Bad keys get their TypeError in place; the others are loaded together.
        let mut bad: Vec<(usize, JsValue)> = Vec::new();
        let mut good = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            match missing_key("loader.loadMany(keys)", &k) {
                Some(e) => bad.push((i, e)),
                None => good.push(k),
            }
        }
        let run = self.loader.load_many(good);
        super::promise(run.map(move |results| {
            let mut results = results.into_iter();
            let mut bad = bad.into_iter().peekable();
            let out = Array::new();
            for i in 0..keys.length() as usize {
                if bad.peek().is_some_and(|(j, _)| *j == i) {
                    if let Some((_, e)) = bad.next() {
                        out.push(&e);
                    }
                    continue;
                }
                match results.next() {
                    Some(Ok(v)) => out.push(&v),
                    Some(Err(e)) => out.push(&to_js(e)),
                    None => out.push(&JsValue::UNDEFINED),
                };
            }
            Ok(out.into())
        }))
    }

    /// Stores `value` for `key` (no request) unless the key is already memoised.
    pub fn prime(&self, key: JsValue, value: JsValue) {
        self.loader.prime(&key, value);
    }

    /// Forgets the memoised value of `key`.
    pub fn clear(&self, key: JsValue) {
        self.loader.clear(&key);
    }

    /// Forgets every memoised value.
    #[wasm_bindgen(js_name = clearAll)]
    pub fn clear_all(&self) {
        self.loader.clear_all();
    }
}
