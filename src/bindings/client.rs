//! The `Client` class of the JS API, a thin layer over [`crate::Client`].

use crate::prelude::*;

use alloc::rc::Rc;

use futures_util::FutureExt;
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::errors::{config_error, to_js, type_error};
use super::events::{event_to_js, stats_to_js};
use super::input::{request, request_like};
use super::options::{client_options, group_options, schedule_options};
use super::values::{describe, index, limit};
use crate::client::{BodyAs, Client, EventType, Progress};
use crate::core::scheduler::UNLIMITED;

/// A fetchlane client: `createClient(options)` resolves to one.
#[wasm_bindgen(js_name = Client)]
pub struct JsClient {
    client: Client,
}

/// Calls a JS listener; what it throws surfaces as an unhandled rejection (visible in the
/// console) instead of breaking the request that emitted the event.
fn call_listener(listener: &Function, arg: &JsValue) {
    if let Err(thrown) = listener.call1(&JsValue::UNDEFINED, arg) {
        let _ = Promise::reject(&thrown);
    }
}

fn reject(error: JsValue) -> Promise {
    Promise::reject(&error)
}

#[wasm_bindgen(js_class = Client)]
impl JsClient {
    /// Builds a client; throws a `TypeError` or `RangeError` naming a bad option.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<JsClient, JsValue> {
        let decoded = client_options(&options).map_err(config_error)?;
        let client = Client::new(decoded.config).map_err(config_error)?;
        if let Some(listener) = decoded.on_event {
            client.on(None, Rc::new(move |e| call_listener(&listener, &event_to_js(e))));
        }
        Ok(JsClient { client })
    }

    fn send(&self, input: &JsValue, init: &JsValue, body_as: BodyAs) -> Promise {
        let (req, opts) = match request(self.client.config().base_url.as_deref(), input, init, "input") {
            Ok(r) => r,
            Err(e) => return reject(e),
        };
        let run = self.client.send(&req, opts, body_as);
        super::promise(run.map(|r| r.map_err(to_js)))
    }

    /// One request through the pipeline; resolves to a readable `Response`.
    pub fn fetch(&self, input: JsValue, init: JsValue) -> Promise {
        self.send(&input, &init, BodyAs::Response)
    }

    /// Like `fetch`, with the body parsed as JSON.
    pub fn json(&self, input: JsValue, init: JsValue) -> Promise {
        self.send(&input, &init, BodyAs::Json)
    }

    /// Like `fetch`, with the body read as text.
    pub fn text(&self, input: JsValue, init: JsValue) -> Promise {
        self.send(&input, &init, BodyAs::Text)
    }

    fn requests(&self, requests: &JsValue) -> Result<Vec<(web_sys::Request, crate::RequestOptions)>, JsValue> {
        if !Array::is_array(requests) {
            let mut m = String::from("fetchlane: requests must be an array (got ");
            m.push_str(&describe(requests));
            m.push(')');
            return Err(type_error(&m));
        }
        let base = self.client.config().base_url.clone();
        let list: Array = requests.clone().unchecked_into();
        list.iter()
            .enumerate()
            .map(|(i, item)| request_like(base.as_deref(), &item, &index("requests", i)))
            .collect()
    }

    /// Every request; results in input order; the first failure rejects and aborts the rest.
    pub fn all(&self, requests: JsValue, opts: JsValue) -> Promise {
        let (group, _) = match group_options(&opts) {
            Ok(g) => g,
            Err(e) => return reject(config_error(e)),
        };
        let list = match self.requests(&requests) {
            Ok(l) => l,
            Err(e) => return reject(e),
        };
        let run = self.client.all(list, group);
        super::promise(run.map(|r| Ok(r.map_err(to_js)?.into_iter().collect::<Array>().into())))
    }

    /// Every request's outcome, in input order, shaped like `Promise.allSettled`.
    #[wasm_bindgen(js_name = allSettled)]
    pub fn all_settled(&self, requests: JsValue, opts: JsValue) -> Promise {
        let (group, progress) = match group_options(&opts) {
            Ok(g) => g,
            Err(e) => return reject(config_error(e)),
        };
        let list = match self.requests(&requests) {
            Ok(l) => l,
            Err(e) => return reject(e),
        };
        let report = progress.map(|f| -> Box<dyn Fn(Progress)> {
            Box::new(move |p: Progress| {
                let o = Object::new();
                let _ = Reflect::set(&o, &"done".into(), &(p.done as f64).into());
                let _ = Reflect::set(&o, &"total".into(), &(p.total as f64).into());
                let _ = Reflect::set(&o, &"failed".into(), &(p.failed as f64).into());
                call_listener(&f, &o);
            })
        });
        let run = self.client.all_settled(list, group, report);
        super::promise(run.map(|results| {
            let out = Array::new();
            for result in results {
                let o = Object::new();
                let (status, key, value) = match result {
                    Ok(v) => ("fulfilled", "value", v),
                    Err(e) => ("rejected", "reason", to_js(e)),
                };
                let _ = Reflect::set(&o, &"status".into(), &status.into());
                let _ = Reflect::set(&o, &key.into(), &value);
                out.push(&o);
            }
            Ok(out.into())
        }))
    }

    /// Runs `task(signal)` under the same limits; its own result or error passes through.
    pub fn schedule(&self, task: JsValue, opts: JsValue) -> Promise {
        let Some(task) = task.dyn_ref::<Function>().cloned() else {
            let mut m = String::from("fetchlane: schedule(task) needs a function (got ");
            m.push_str(&describe(&task));
            m.push(')');
            return reject(type_error(&m));
        };
        let options = match schedule_options(&opts) {
            Ok(o) => o,
            Err(e) => return reject(config_error(e)),
        };
        let run = self.client.schedule(options, move |signal| async move {
            let value = task.call1(&JsValue::UNDEFINED, &signal)?;
            if value.has_type::<Promise>() || is_thenable(&value) {
                JsFuture::from(Promise::resolve(&value)).await
            } else {
                Ok(value)
            }
        });
        super::promise(run.map(|r| r.map_err(to_js)?))
    }

    /// Drops matching cached entries; resolves to how many. `match` is a URL (absolute or
    /// relative to `baseUrl`; a trailing `*` makes it a prefix), a RegExp tested against the
    /// absolute URL, or a function of the URL.
    pub fn invalidate(&self, matcher: JsValue) -> Promise {
        let matches: Rc<dyn Fn(&str) -> bool> = if let Some(text) = matcher.as_string() {
            let (pattern, prefix) = match text.strip_suffix('*') {
                Some(p) => (p.to_owned(), true),
                None => (text.clone(), false),
            };
            // Relative to baseUrl, else to the page (or worker) itself.
            let base = self.client.config().base_url.clone().or_else(|| {
                let location = Reflect::get(&js_sys::global(), &"location".into()).ok()?;
                Reflect::get(&location, &"href".into()).ok()?.as_string()
            });
            let absolute = match crate::client::resolve_url(base.as_deref(), &pattern) {
                Ok(a) if !(prefix && pattern.is_empty()) => a,
                _ => pattern,
            };
            Rc::new(move |url: &str| if prefix { url.starts_with(&absolute) } else { url == absolute })
        } else if let Some(re) = matcher.dyn_ref::<js_sys::RegExp>().cloned() {
            Rc::new(move |url: &str| re.test(url))
        } else if let Some(f) = matcher.dyn_ref::<Function>().cloned() {
            Rc::new(move |url: &str| f.call1(&JsValue::UNDEFINED, &JsValue::from_str(url)).map(|v| v.is_truthy()).unwrap_or(false))
        } else {
            let mut m = String::from("fetchlane: invalidate(match) needs a string, a RegExp or a function (got ");
            m.push_str(&describe(&matcher));
            m.push(')');
            return reject(type_error(&m));
        };
        let run = self.client.invalidate(matches);
        super::promise(run.map(|n| Ok((n as f64).into())))
    }

    /// Drops every cached entry of this client's namespace.
    #[wasm_bindgen(js_name = clearCache)]
    pub fn clear_cache(&self) -> Promise {
        let run = self.client.clear_cache();
        super::promise(async move {
            run.await;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Rejects every queued request and task with kind `abort`.
    #[wasm_bindgen(js_name = clearQueue)]
    pub fn clear_queue(&self) {
        self.client.clear_queue();
    }

    /// Resolves when nothing is queued or running.
    #[wasm_bindgen(js_name = onIdle)]
    pub fn on_idle(&self) -> Promise {
        let client = self.client.clone();
        super::promise(async move {
            client.on_idle().await;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Requests and tasks running now.
    #[wasm_bindgen(getter, js_name = activeCount)]
    pub fn active_count(&self) -> f64 {
        self.client.active_count() as f64
    }

    /// Requests and tasks waiting in the queue.
    #[wasm_bindgen(getter, js_name = pendingCount)]
    pub fn pending_count(&self) -> f64 {
        self.client.pending_count() as f64
    }

    /// The global limit (`Infinity` when unlimited).
    #[wasm_bindgen(getter)]
    pub fn concurrency(&self) -> f64 {
        let n = self.client.concurrency();
        if n == UNLIMITED {
            f64::INFINITY
        } else {
            n as f64
        }
    }

    /// Changes the global limit at run time; throws a `RangeError` or `TypeError` for a value
    /// that is not a positive integer or `Infinity`.
    #[wasm_bindgen(setter)]
    pub fn set_concurrency(&self, value: JsValue) -> Result<(), JsValue> {
        let n = limit(&value, "concurrency").map_err(config_error)?;
        self.client.set_concurrency(n).map_err(config_error)
    }

    /// Counters since creation.
    pub fn stats(&self) -> JsValue {
        stats_to_js(&self.client.stats())
    }

    /// Listens to `type`; returns a function that removes the listener.
    pub fn on(&self, kind: JsValue, listener: JsValue) -> Result<Function, JsValue> {
        let Some(kind) = kind.as_string().and_then(|k| EventType::parse(&k)) else {
            let mut m = String::from(
                "fetchlane: on(type) needs one of 'queued', 'start', 'retry', 'cache-hit', 'cache-update', 'cache-error', 'rate-limited', 'settled' (got ",
            );
            m.push_str(&describe(&kind));
            m.push(')');
            return Err(type_error(&m));
        };
        let Some(listener) = listener.dyn_ref::<Function>().cloned() else {
            return Err(type_error("fetchlane: on(type, listener) needs a function as listener"));
        };
        let id = self.client.on(Some(kind), Rc::new(move |e| call_listener(&listener, &event_to_js(e))));
        let client = self.client.clone();
        let off = Closure::<dyn FnMut()>::new(move || client.off(id));
        Ok(off.into_js_value().unchecked_into())
    }

    /// Aborts all work; later calls reject with kind `closed`.
    pub fn close(&self) {
        self.client.close();
    }
}

fn is_thenable(value: &JsValue) -> bool {
    value.is_object()
        && Reflect::get(value, &JsValue::from_str("then")).map(|t| t.is_function()).unwrap_or(false)
}

#[wasm_bindgen(js_class = Client)]
impl JsClient {
    /// A DataLoader-style loader; throws a `TypeError` or `RangeError` naming a bad option.
    pub fn loader(&self, opts: JsValue) -> Result<super::loader::JsLoader, JsValue> {
        super::loader::JsLoader::new(&self.client, &opts)
    }

    /// The pages starting at `input`, an async iterable of each page's JSON body; throws a
    /// `TypeError` or `RangeError` naming a bad option.
    pub fn paginate(&self, input: JsValue, opts: JsValue) -> Result<super::paginate::JsPages, JsValue> {
        super::paginate::JsPages::new(&self.client, &input, &opts)
    }
}
