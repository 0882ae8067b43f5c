//! The outbox of the Rust API: requests stored in IndexedDB and delivered later, each once by
//! its idempotency key ([`Client::outbox`](super::Client::outbox)).
//!
//! It is the npm package's own implementation, `js/outbox.js`, loaded as a wasm-bindgen
//! snippet: one implementation of the storage format, the delivery rules, the tab election
//! and the keepalive, so that a Rust page and a JS page share an outbox. This module gives it
//! this client's `fetch` (the `background` lane, no retries of the client's own, no cache, no
//! de-duplication) and turns its events into [`Event`]s.

use crate::prelude::*;

use alloc::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::{AbortSignal, Request, RequestInit};

use super::config::{ConfigError, Strategy};
use super::driver::Driver;
use super::events::{Event, EventType};
use super::js_object::{get, rejection, set};
use super::options::RequestOptions;
use super::Client;
use crate::core::lane::Lane;
use crate::core::retry_policy::RetryPolicy;

#[wasm_bindgen(module = "/js/outbox.js")]
extern "C" {
    #[wasm_bindgen(js_name = createOutbox)]
    fn create_outbox(client: &Object, name: &str, options: &Object, prepare: &Function) -> Object;

    /// The JS outbox object (`send`, `size`, `flush`, `clear`).
    type JsOutbox;
    #[wasm_bindgen(method)]
    fn send(this: &JsOutbox, input: &Request) -> Promise;
    #[wasm_bindgen(method)]
    fn size(this: &JsOutbox) -> Promise;
    #[wasm_bindgen(method)]
    fn flush(this: &JsOutbox) -> Promise;
    #[wasm_bindgen(method)]
    fn clear(this: &JsOutbox) -> Promise;
}

/// How an outbox delivers ([`Client::outbox`](super::Client::outbox)); the same options as
/// the JS API's `OutboxOptions`.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxConfig {
    /// The header that carries each item's idempotency key. Default `Idempotency-Key`.
    pub idempotency_header: String,
    /// Items older than this (from `send`) are dropped (event `outbox-drop`, reason
    /// `expired`). Default 604 800 000 ms (7 days).
    pub max_age_ms: f64,
    /// The first wait after a failed attempt at the head item, in ms. Default 1 000.
    /// `Retry-After` wins over the backoff.
    pub backoff_ms: f64,
    /// How much each wait grows (at least 1). Default 2.
    pub factor: f64,
    /// The longest wait, in ms. Default 300 000.
    pub max_backoff_ms: f64,
    /// A random wait up to the ceiling. Default true.
    pub jitter: bool,
    /// Items for one URL with JSON bodies go as one request, whose body is the JSON array of
    /// theirs and whose idempotency header lists their keys in the same order. Default none.
    pub batch: Option<OutboxBatch>,
}

/// [`OutboxConfig::batch`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutboxBatch {
    /// Items in one request at most (1 to 1 000).
    pub max_items: u32,
    /// Body bytes of one request at most (a single larger item still goes, alone). Default
    /// none.
    pub max_bytes: Option<u32>,
    /// How long a batch short of `max_items` waits for more, from its first item's `send`, in
    /// ms. Default 0.
    pub max_wait_ms: f64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            idempotency_header: String::from("Idempotency-Key"),
            max_age_ms: 604_800_000.0,
            backoff_ms: 1000.0,
            factor: 2.0,
            max_backoff_ms: 300_000.0,
            jitter: true,
            batch: None,
        }
    }
}

impl OutboxConfig {
    /// The options object `js/outbox.js` reads, after the same checks as the JS API's.
    fn to_js(&self) -> Result<Object, ConfigError> {
        if self.idempotency_header.is_empty() {
            return Err(ConfigError::type_error("opts.idempotencyHeader", "must be a header name"));
        }
        if !(self.max_age_ms > 0.0 && self.max_age_ms.is_finite()) {
            return Err(ConfigError::range_error("opts.maxAgeMs", "must be a positive, finite number of milliseconds"));
        }
        for (name, v) in [("opts.retry.backoffMs", self.backoff_ms), ("opts.retry.maxBackoffMs", self.max_backoff_ms)] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(ConfigError::range_error(name, "must be a finite number >= 0"));
            }
        }
        if !(self.factor >= 1.0 && self.factor.is_finite()) {
            return Err(ConfigError::range_error("opts.retry.factor", "must be >= 1"));
        }
        let retry = Object::new();
        set(&retry, "backoffMs", &self.backoff_ms.into());
        set(&retry, "factor", &self.factor.into());
        set(&retry, "maxBackoffMs", &self.max_backoff_ms.into());
        set(&retry, "jitter", &self.jitter.into());
        let o = Object::new();
        if let Some(b) = self.batch {
            if !(1..=1000).contains(&b.max_items) {
                return Err(ConfigError::range_error("opts.batch.maxItems", "must be an integer from 1 to 1000"));
            }
            if b.max_bytes == Some(0) {
                return Err(ConfigError::range_error("opts.batch.maxBytes", "must be a positive integer"));
            }
            if !(b.max_wait_ms >= 0.0 && b.max_wait_ms.is_finite()) {
                return Err(ConfigError::range_error("opts.batch.maxWaitMs", "must be a finite number >= 0"));
            }
            let batch = Object::new();
            set(&batch, "maxItems", &b.max_items.into());
            if let Some(n) = b.max_bytes {
                set(&batch, "maxBytes", &n.into());
            }
            set(&batch, "maxWaitMs", &b.max_wait_ms.into());
            set(&o, "batch", &batch);
        }
        set(&o, "idempotencyHeader", &self.idempotency_header.as_str().into());
        set(&o, "maxAgeMs", &self.max_age_ms.into());
        set(&o, "retry", &retry);
        Ok(o)
    }
}

/// What [`Outbox::send`] resolves with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxTicket {
    /// The item's id, unique in its outbox (`name:number`).
    pub id: String,
    /// The key sent with every attempt.
    pub idempotency_key: String,
}

/// What [`Outbox::flush`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlushReport {
    /// Items delivered by this flush.
    pub delivered: u32,
    /// Items dropped by it (a final 4xx, or expired).
    pub dropped: u32,
    /// Items still stored.
    pub remaining: u32,
}

/// The JS objects and callbacks one outbox lives on; kept by the client until it closes,
/// since the delivery loop calls the callbacks for as long as the client lives.
pub(crate) struct OutboxHandle {
    outbox: Rc<Outbox>,
    close: Function,
    _fetch: Closure<dyn FnMut(String, JsValue) -> Promise>,
    _notify: Closure<dyn FnMut(JsValue)>,
    _prepare: Closure<dyn FnMut(JsValue) -> Result<JsValue, JsValue>>,
}

impl OutboxHandle {
    /// The client closed: delivery stops.
    pub fn close(&self) {
        let _ = self.close.call0(&JsValue::UNDEFINED);
    }

    pub fn outbox(&self) -> Rc<Outbox> {
        self.outbox.clone()
    }
}

/// Requests stored in IndexedDB and delivered later, oldest first, in the `background`
/// lane, each with its idempotency key; see the README, "The outbox". Made by
/// [`Client::outbox`](super::Client::outbox).
pub struct Outbox {
    name: String,
    js: JsOutbox,
}

impl core::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Outbox").field("name", &self.name).finish()
    }
}

impl Outbox {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Stores `request` (its method, URL, headers, with the client's, and body bytes); resolves
    /// once it is on disk. A body that cannot be stored (a stream) is a `TypeError`, and
    /// nothing is stored.
    pub async fn send(&self, request: &Request) -> Result<OutboxTicket, JsValue> {
        let ticket = JsFuture::from(self.js.send(request)).await?;
        Ok(OutboxTicket {
            id: get(&ticket, "id").as_string().unwrap_or_default(),
            idempotency_key: get(&ticket, "idempotencyKey").as_string().unwrap_or_default(),
        })
    }

    /// Items stored and not yet delivered or dropped.
    pub async fn size(&self) -> Result<u32, JsValue> {
        Ok(JsFuture::from(self.js.size()).await?.as_f64().unwrap_or(0.0) as u32)
    }

    /// Delivers now, without waiting for a backoff; resolves once the queue is empty or an
    /// attempt failed. In a tab that does not deliver this outbox it only wakes the one that
    /// does.
    pub async fn flush(&self) -> Result<FlushReport, JsValue> {
        let r = JsFuture::from(self.js.flush()).await?;
        let n = |k| get(&r, k).as_f64().unwrap_or(0.0) as u32;
        Ok(FlushReport { delivered: n("delivered"), dropped: n("dropped"), remaining: n("remaining") })
    }

    /// Drops every stored item; resolves with how many there were.
    pub async fn clear(&self) -> Result<u32, JsValue> {
        Ok(JsFuture::from(self.js.clear()).await?.as_f64().unwrap_or(0.0) as u32)
    }
}

/// The `outbox-*` event `js/outbox.js` reports, as an [`Event`] (`id` is the item's number,
/// `outbox` its outbox, `idempotency_key` its key).
fn event_of(e: &JsValue) -> Option<Event> {
    let kind = EventType::parse(&get(e, "type").as_string()?)?;
    let text = |k| get(e, k).as_string().map(Rc::<str>::from);
    let number = |k| get(e, k).as_f64();
    let id = text("id").and_then(|id| id.rsplit(':').next().and_then(|n| n.parse::<u64>().ok())).unwrap_or(0);
    let reason = match get(e, "reason").as_string().as_deref() {
        Some("network") => Some("network"),
        Some("status") => Some("status"),
        Some("expired") => Some("expired"),
        _ => None,
    };
    Some(Event {
        id,
        url: text("url").unwrap_or_else(|| Rc::from("")),
        method: text("method").unwrap_or_else(|| Rc::from("")),
        lane: Lane::Background,
        attempt: number("attempt").unwrap_or(0.0) as u32,
        delay_ms: number("delayMs"),
        reason,
        status: number("status").map(|s| s as u16),
        outbox: text("outbox"),
        idempotency_key: text("idempotencyKey"),
        ..Event::of(kind, number("time").unwrap_or_else(crate::web::clock::now_ms))
    })
}

/// Makes the outbox `name` of `client` (which keeps the handle).
pub(crate) fn open(client: &Client, driver: &Rc<Driver>, name: &str, config: &OutboxConfig) -> Result<OutboxHandle, ConfigError> {
    if name.is_empty() {
        return Err(ConfigError::type_error("name", "must be a non-empty string"));
    }
    let options = config.to_js()?;
    if !Reflect::has(&js_sys::global(), &"indexedDB".into()).unwrap_or(false) {
        return Err(ConfigError::type_error("outbox", "needs IndexedDB, which this runtime does not have"));
    }
    // `fetch(url, init)`: through this client, as the JS client's outbox goes through its own.
    // A weak hold: the client keeps this callback, which must not keep the client.
    let weak = Rc::downgrade(&client.inner);
    let fetch = Closure::<dyn FnMut(String, JsValue) -> Promise>::new(move |url: String, init: JsValue| {
        let Some(inner) = weak.upgrade() else {
            return Promise::reject(&rejection(super::error::Error::new(super::error::ErrorKind::Closed, &url)));
        };
        let c = Client { inner };
        let signal = get(&init, "signal").dyn_into::<AbortSignal>().ok();
        let request = Request::new_with_str_and_init(&url, init.unchecked_ref::<RequestInit>());
        future_to_promise(async move {
            let request = request?;
            let options = RequestOptions {
                lane: Lane::Background,
                retry: Some(RetryPolicy { limit: 0, ..RetryPolicy::default() }),
                dedupe: Some(false),
                strategy: Some(Strategy::Bypass),
                signal,
                ..RequestOptions::default()
            };
            c.fetch(&request, options).await.map(JsValue::from).map_err(rejection)
        })
    });
    let emitter = Rc::downgrade(driver);
    let notify = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        if let (Some(event), Some(d)) = (event_of(&e), emitter.upgrade()) {
            d.emitter.emit(&event);
        }
    });
    // `prepare(input)`: Rust callers hand over a Request; the client adds its headers.
    let d = Rc::downgrade(driver);
    let prepare = Closure::<dyn FnMut(JsValue) -> Result<JsValue, JsValue>>::new(move |input: JsValue| {
        let request: Request = input
            .dyn_into()
            .map_err(|_| JsValue::from(js_sys::TypeError::new("fetchlane: outbox.send needs a Request")))?;
        let d = d.upgrade().ok_or_else(|| JsValue::from(js_sys::TypeError::new("fetchlane: the client is gone")))?;
        d.prepare(&request).map(JsValue::from).map_err(|e| JsValue::from(js_sys::TypeError::new(&e.message)))
    });
    let js_client = Object::new();
    set(&js_client, "fetch", fetch.as_ref());
    set(&js_client, "notify", notify.as_ref());
    let made = create_outbox(&js_client, name, &options, prepare.as_ref().unchecked_ref());
    let close: Function = get(&made, "close").unchecked_into();
    let js: JsOutbox = get(&made, "outbox").unchecked_into();
    Ok(OutboxHandle {
        outbox: Rc::new(Outbox { name: String::from(name), js }),
        close,
        _fetch: fetch,
        _notify: notify,
        _prepare: prepare,
    })
}
