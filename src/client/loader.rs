//! DataLoader-style batching: `load(key)` calls made within one microtask tick (or one
//! `window_ms`) become one request per chunk of keys, and each caller gets its own item.
//!
//! ```text
//! load(key) ─▶ memo (per-key results, when `cache` is on)
//!   ─▶ collect (distinct keys of the current batch; duplicates join)
//!   ─▶ dispatch after one tick / the window (or at once when `max_batch_size` is reached)
//!   ─▶ chunk by max_batch_size and max_url_length (core::batch)
//!   ─▶ Client::send(BodyAs::Json) per chunk (dedupe, cache, rate limits, scheduler, retries)
//!   ─▶ select ─▶ match items to keys by their string form ─▶ settle every caller
//! ```
//!
//! Keys are compared by their string form (`String(key)` in JS), so the id `1` and the id
//! `"1"` are the same key, in the URL, in the memo and when matching items.

use crate::prelude::*;

use alloc::rc::Rc;
use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;

use super::config::ConfigError;
use super::error::{Error, ErrorKind};
use super::options::{BodyAs, RequestOptions};
use super::Client;
use crate::core::batch::{bisect, chunk, encode_key, Collector, UrlTemplate, KEYS_PLACEHOLDER};
use crate::core::hash::HashMap;
use crate::core::text;
use crate::web::timer::sleep;

#[wasm_bindgen]
extern "C" {
    /// `String(value)`: the form keys are compared in.
    #[wasm_bindgen(js_name = String)]
    fn js_string(value: &JsValue) -> String;
}

/// The string form of a key (`String(key)`), which keys are compared by.
pub fn key_string(key: &JsValue) -> String {
    match key.as_string() {
        Some(s) => s,
        None => js_string(key),
    }
}

/// Builds the batch request for some keys (the JS values as loaded, distinct, in order).
pub type BuildRequest = Rc<dyn Fn(&[JsValue]) -> Result<web_sys::Request, Error>>;

/// A JS-like function of one value that may throw (`select`, a key function).
pub type JsMap = Rc<dyn Fn(&JsValue) -> Result<JsValue, JsValue>>;

/// Where a batch goes.
#[derive(Clone)]
pub enum BatchUrl {
    /// A URL holding `{keys}`, replaced by the comma-joined keys, each encoded like
    /// `encodeURIComponent` (the commas stay literal). Relative to `baseUrl`, else the page.
    /// A batch whose URL would be longer than `max_url_length` is split.
    Template(String),
    /// Builds the request for a batch of keys. A request whose URL is longer than
    /// `max_url_length` is built again for each half of its keys.
    Build(BuildRequest),
}

/// How an item of the response maps to its key.
#[derive(Clone)]
pub enum ItemKey {
    /// A field of the item (`'id'` by default).
    Field(String),
    /// A function of the item.
    Compute(JsMap),
}

/// Everything a [`Loader`] is built from.
#[derive(Clone)]
pub struct LoaderConfig {
    /// Where each batch goes. Required.
    pub url: BatchUrl,
    /// How an item maps to its key. Default the field `id`.
    pub key: ItemKey,
    /// Picks the items out of the response body (an envelope such as `{ data: [...] }`).
    /// Default none: the body itself must be an array.
    pub select: Option<JsMap>,
    /// Most keys in one request. Default 100 (`usize::MAX` for no limit).
    pub max_batch_size: usize,
    /// How long keys are collected from the first load of a batch, in ms. Default 0: one
    /// microtask tick.
    pub window_ms: f64,
    /// Longest batch URL, in bytes; a longer batch is split. Default 2000.
    pub max_url_length: usize,
    /// Whether results are memoised per key (failed keys never are). Default true.
    pub cache: bool,
    /// Options of every batch request (lane, retry, timeouts, …). Default none.
    pub request: RequestOptions,
    /// Headers added to every batch request unless it sets them. Default none.
    pub headers: Vec<(String, String)>,
}

impl LoaderConfig {
    /// A configuration with every default and `url`.
    pub fn new(url: BatchUrl) -> LoaderConfig {
        LoaderConfig {
            url,
            key: ItemKey::Field("id".into()),
            select: None,
            max_batch_size: 100,
            window_ms: 0.0,
            max_url_length: 2000,
            cache: true,
            request: RequestOptions::default(),
            headers: Vec::new(),
        }
    }
}

// ---- one caller's result -------------------------------------------------------------------

#[derive(Default)]
struct SlotState {
    result: Option<Result<JsValue, Error>>,
    wakers: Vec<Waker>,
}

/// The result of one key, shared by every caller of that key.
#[derive(Default)]
struct Slot(RefCell<SlotState>);

impl Slot {
    fn settle(&self, result: Result<JsValue, Error>) {
        let wakers = {
            let mut s = self.0.borrow_mut();
            if s.result.is_some() {
                return;
            }
            s.result = Some(result);
            core::mem::take(&mut s.wakers)
        };
        for w in wakers {
            w.wake();
        }
    }

    fn is_settled(&self) -> bool {
        self.0.borrow().result.is_some()
    }
}

/// Waits for a key's result.
#[must_use = "futures do nothing unless awaited"]
struct Wait(Rc<Slot>);

impl Future for Wait {
    type Output = Result<JsValue, Error>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = self.0 .0.borrow_mut();
        match &s.result {
            Some(r) => Poll::Ready(r.clone()),
            None => {
                s.wakers.push(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

// ---- the loader ----------------------------------------------------------------------------

/// The URL side, resolved once when the loader is built.
enum Target {
    Template(UrlTemplate),
    Build(BuildRequest),
}

/// The keys collected for the next dispatch.
struct Batch {
    generation: u64,
    collector: Collector,
    keys: Vec<JsValue>,
    slots: Vec<Rc<Slot>>,
}

#[derive(Default)]
struct State {
    /// Per-key results (pending or done) when `cache` is on.
    memo: HashMap<String, Rc<Slot>>,
    batch: Option<Batch>,
    generation: u64,
}

struct LoaderInner {
    client: Client,
    target: Target,
    config: LoaderConfig,
    state: RefCell<State>,
}

/// Batches `load` calls into one request per tick (or window) and chunk of keys; see the
/// module docs. Cloning is cheap and shares the batch and the memo.
#[derive(Clone)]
pub struct Loader {
    inner: Rc<LoaderInner>,
}

/// A marker that survives URL parsing unchanged anywhere in a URL.
const MARKER: &str = "fetchlane0keys0placeholder";

/// The page's (or worker's) own URL, what a relative `fetch` resolves against.
pub(crate) fn page_base() -> Option<String> {
    let location = Reflect::get(&js_sys::global(), &"location".into()).ok()?;
    Reflect::get(&location, &"href".into()).ok()?.as_string()
}

fn check(config: &LoaderConfig) -> Result<(), ConfigError> {
    if config.max_batch_size == 0 {
        return Err(ConfigError::range_error("maxBatchSize", "must be a positive integer or Infinity"));
    }
    if config.max_url_length == 0 {
        return Err(ConfigError::range_error("maxUrlLength", "must be a positive integer or Infinity"));
    }
    if !(config.window_ms >= 0.0) || config.window_ms.is_infinite() {
        return Err(ConfigError::range_error("windowMs", "must be a finite number >= 0"));
    }
    Ok(())
}

impl Loader {
    pub(crate) fn new(client: &Client, config: LoaderConfig) -> Result<Loader, ConfigError> {
        check(&config)?;
        let target = match &config.url {
            BatchUrl::Build(f) => Target::Build(f.clone()),
            BatchUrl::Template(t) => {
                if !text::contains(t, KEYS_PLACEHOLDER) {
                    return Err(ConfigError::type_error(
                        "url",
                        "must hold `{keys}` (where the comma-joined keys go), or be a function of the keys",
                    ));
                }
                let base = client.config().base_url.clone().or_else(page_base);
                let absolute = super::request::resolve(base.as_deref(), &text::replace(t, KEYS_PLACEHOLDER, MARKER))
                    .map_err(|_| {
                        ConfigError::type_error("url", "cannot be resolved: it must be absolute, or relative to `baseUrl` or the page")
                    })?;
                let template = UrlTemplate::parse(&text::replace(&absolute, MARKER, KEYS_PLACEHOLDER))
                    .ok_or_else(|| ConfigError::type_error("url", "lost its `{keys}` when resolved"))?;
                Target::Template(template)
            }
        };
        Ok(Loader {
            inner: Rc::new(LoaderInner { client: client.clone(), target, config, state: RefCell::new(State::default()) }),
        })
    }

    /// The item for `key`. Loads in the same tick (or window) share one request per chunk;
    /// the same key loaded twice is one key in the URL, and (with `cache`) a key loaded
    /// before answers from the memo without a request. Fails with kind `missing` when the
    /// response has no item for the key, with the batch's error when its request fails, and
    /// with kind `decode` when the body (after `select`) is not an array. The key is
    /// collected before this returns.
    pub fn load(&self, key: JsValue) -> impl Future<Output = Result<JsValue, Error>> {
        Wait(self.slot(key))
    }

    /// Every key's result, in order; failures in place.
    pub fn load_many(&self, keys: Vec<JsValue>) -> impl Future<Output = Vec<Result<JsValue, Error>>> {
        let slots: Vec<Rc<Slot>> = keys.into_iter().map(|k| self.slot(k)).collect();
        core::future::poll_fn(move |cx| {
            let mut pending = false;
            for slot in &slots {
                let mut s = slot.0.borrow_mut();
                if s.result.is_none() {
                    pending = true;
                    if !s.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                        s.wakers.push(cx.waker().clone());
                    }
                }
            }
            if pending {
                return Poll::Pending;
            }
            Poll::Ready(slots.iter().map(|s| s.0.borrow().result.clone().unwrap_or_else(|| Err(Error::new(ErrorKind::Missing, "")))).collect())
        })
    }

    /// Stores `value` for `key` without a request, unless the key is already memoised (or
    /// `cache` is off).
    pub fn prime(&self, key: &JsValue, value: JsValue) {
        if !self.inner.config.cache {
            return;
        }
        let id = key_string(key);
        self.inner.state.borrow_mut().memo.entry(id).or_insert_with(|| {
            let slot = Slot::default();
            slot.settle(Ok(value));
            Rc::new(slot)
        });
    }

    /// Forgets the memoised result of `key`; the next `load` requests it again.
    pub fn clear(&self, key: &JsValue) {
        let id = key_string(key);
        self.inner.state.borrow_mut().memo.remove(&id);
    }

    /// Forgets every memoised result.
    pub fn clear_all(&self) {
        self.inner.state.borrow_mut().memo.clear();
    }

    fn slot(&self, key: JsValue) -> Rc<Slot> {
        let inner = &self.inner;
        let id = key_string(&key);
        let cache = inner.config.cache;
        let (slot, schedule, full) = {
            let mut st = inner.state.borrow_mut();
            if cache {
                if let Some(slot) = st.memo.get(&id) {
                    return slot.clone();
                }
            }
            if let Some(b) = &st.batch {
                if let Some(i) = b.collector.position(&id) {
                    return b.slots[i].clone();
                }
            }
            let slot = Rc::new(Slot::default());
            if cache {
                st.memo.insert(id.clone(), slot.clone());
            }
            let schedule = if st.batch.is_none() {
                st.generation += 1;
                Some(st.generation)
            } else {
                None
            };
            let generation = st.generation;
            let batch = st.batch.get_or_insert_with(|| Batch {
                generation,
                collector: Collector::new(),
                keys: Vec::new(),
                slots: Vec::new(),
            });
            batch.collector.push(&id);
            batch.keys.push(key);
            batch.slots.push(slot.clone());
            let full = (batch.collector.len() >= inner.config.max_batch_size).then_some(batch.generation);
            (slot, schedule, full)
        };
        if let Some(generation) = full {
            // No point waiting: this batch cannot grow.
            self.dispatch(generation);
        } else if let Some(generation) = schedule {
            let me = self.clone();
            let window = inner.config.window_ms;
            wasm_bindgen_futures::spawn_local(async move {
                if window > 0.0 {
                    sleep(window).await;
                }
                me.dispatch(generation);
            });
        }
        slot
    }

    /// Sends the batch of `generation`, if it is still the one collecting.
    fn dispatch(&self, generation: u64) {
        let inner = &self.inner;
        let batch = {
            let mut st = inner.state.borrow_mut();
            match &st.batch {
                Some(b) if b.generation == generation => st.batch.take(),
                _ => None,
            }
        };
        let Some(Batch { collector, keys, slots, .. }) = batch else { return };
        let ids = collector.keys();
        let max_url = inner.config.max_url_length;
        let requests: Vec<(core::ops::Range<usize>, Result<web_sys::Request, Error>)> = match &inner.target {
            Target::Template(t) => {
                let encoded: Vec<String> = ids.iter().map(|k| encode_key(k)).collect();
                let lens: Vec<usize> = encoded.iter().map(String::len).collect();
                chunk(&lens, t, inner.config.max_batch_size, max_url)
                    .into_iter()
                    .map(|r| {
                        let url = t.build(&encoded[r.clone()]);
                        let req = web_sys::Request::new_with_str(&url)
                            .map_err(|cause| Error::new(ErrorKind::Network, &url).with_cause(cause));
                        (r, req)
                    })
                    .collect()
            }
            Target::Build(build) => bisect(keys.len(), inner.config.max_batch_size, |r| {
                let req = build(&keys[r]);
                let fits = req.as_ref().map_or(true, |q| q.url().len() <= max_url);
                (req, fits)
            }),
        };
        for (range, request) in requests {
            let chunk_ids: Vec<String> = ids[range.clone()].to_vec();
            let chunk_slots: Vec<Rc<Slot>> = slots[range].to_vec();
            let request = request.inspect(|r| add_headers(r, &inner.config.headers));
            match request {
                Err(e) => self.fail(&chunk_ids, &chunk_slots, &e),
                Ok(request) => {
                    let url = request.url();
                    let run = inner.client.send(&request, inner.config.request.clone(), BodyAs::Json);
                    let me = self.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        let result = run.await;
                        me.deliver(result, &url, &chunk_ids, &chunk_slots);
                    });
                }
            }
        }
    }

    /// Settles every key of `ids` with `error`, and forgets them so a later load retries.
    fn fail(&self, ids: &[String], slots: &[Rc<Slot>], error: &Error) {
        for (id, slot) in ids.iter().zip(slots) {
            self.fail_one(id, slot, error.clone());
        }
    }

    fn fail_one(&self, id: &str, slot: &Rc<Slot>, error: Error) {
        slot.settle(Err(error));
        let mut st = self.inner.state.borrow_mut();
        if st.memo.get(id).is_some_and(|s| Rc::ptr_eq(s, slot)) {
            st.memo.remove(id);
        }
    }

    /// Hands a batch response to its keys.
    fn deliver(&self, result: Result<JsValue, Error>, url: &str, ids: &[String], slots: &[Rc<Slot>]) {
        let items = result.and_then(|body| self.items(body, url));
        let items = match items {
            Ok(items) => items,
            Err(e) => return self.fail(ids, slots, &e),
        };
        let mut served = 0;
        for (id, slot) in ids.iter().zip(slots) {
            if slot.is_settled() {
                continue;
            }
            match items.get(id) {
                Some(item) => {
                    served += 1;
                    slot.settle(Ok(item.clone()));
                }
                None => {
                    let mut m = String::from("fetchlane: the batch response from ");
                    m.push_str(url);
                    m.push_str(" has no item for the key \"");
                    m.push_str(id);
                    m.push('"');
                    self.fail_one(id, slot, Error::new(ErrorKind::Missing, url).with_message(m));
                }
            }
        }
        self.inner.client.count_batched(served);
    }

    /// The items of a response body, by the string form of their key (the first item of a
    /// key wins; items without a key are skipped).
    fn items(&self, body: JsValue, url: &str) -> Result<HashMap<String, JsValue>, Error> {
        let decode_error = |what: &str, cause: Option<JsValue>| {
            let mut m = String::from("fetchlane: the batch response from ");
            m.push_str(url);
            m.push_str(what);
            let e = Error::new(ErrorKind::Decode, url).with_message(m);
            match cause {
                Some(c) => e.with_cause(c),
                None => e,
            }
        };
        let list = match &self.inner.config.select {
            Some(select) => select(&body).map_err(|c| decode_error(": the loader's `select` threw", Some(c)))?,
            None => body,
        };
        if !Array::is_array(&list) {
            let mut what = String::from(" is not usable: expected an array of items");
            if self.inner.config.select.is_some() {
                what.push_str(" from `select`");
            }
            what.push_str(", found ");
            what.push_str(describe(&list));
            return Err(decode_error(&what, None));
        }
        let list: Array = list.unchecked_into();
        let mut out = HashMap::with_capacity_and_hasher(list.length() as usize, Default::default());
        for item in list.iter() {
            let key = match &self.inner.config.key {
                ItemKey::Field(name) => {
                    if !item.is_object() {
                        continue;
                    }
                    Reflect::get(&item, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
                }
                ItemKey::Compute(f) => f(&item).map_err(|c| decode_error(": the loader's `key` function threw", Some(c)))?,
            };
            if key.is_undefined() || key.is_null() {
                continue;
            }
            out.entry(key_string(&key)).or_insert(item);
        }
        Ok(out)
    }
}

/// Adds the loader's headers that the request does not set.
fn add_headers(request: &web_sys::Request, headers: &[(String, String)]) {
    if headers.is_empty() {
        return;
    }
    let h = request.headers();
    for (name, value) in headers {
        if !h.has(name).unwrap_or(true) {
            let _ = h.set(name, value);
        }
    }
}

/// What a value is, for decode messages: `an object`, `a string`, `null`, ….
fn describe(value: &JsValue) -> &'static str {
    if value.is_null() {
        "null"
    } else if value.is_undefined() {
        "undefined"
    } else if value.is_string() {
        "a string"
    } else if value.as_f64().is_some() {
        "a number"
    } else if value.as_bool().is_some() {
        "a boolean"
    } else if value.is_function() {
        "a function"
    } else {
        "an object"
    }
}
