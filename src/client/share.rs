//! Across tabs for the Rust API ([`Config::share`](super::config::Config::share)): the clients
//! of one name in the tabs of an origin act as one.
//!
//! The coordination is the npm package's own `js/share.js`, loaded as a wasm-bindgen snippet:
//! one election (a Web Lock), one protocol over one `BroadcastChannel`, so that Rust and JS
//! clients of one name share their leader. This module gives it the three hooks it calls:
//! - `run`: this tab leads, and carries out a follower's request through its own machine;
//! - `local`: this tab just became the leader, and sends a call that waited on the old one
//!   through its own machine;
//! - `answer`: the leader's reply (status, headers and body bytes, or an error's kind) to a
//!   call this tab handed over.
//!
//! The driver hands a call here instead of to its machine while this tab follows
//! (`Driver::submit`). A forwarded call's id carries `FORWARDED`, so that dropping its
//! future, its signal and its group's abort reach it here.

use crate::prelude::*;

use alloc::rc::{Rc, Weak};
use core::cell::{Cell, RefCell};

use js_sys::{Array, ArrayBuffer, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, spawn_local, JsFuture};
use web_sys::{AbortSignal, Headers, Request, RequestInit};

use super::body::{header_pairs, Buffered};
use super::config::{Config, Strategy};
use super::driver::{Driver, Sink};
use super::error::{Error, ErrorKind};
use super::js_object::{get, rejection, set};
use super::oneshot::{Receiver, Slot};
use super::options::{BodyAs, RequestOptions};
use crate::core::backoff::Backoff;
use crate::core::lane::Lane;
use crate::core::retry_policy::RetryPolicy;
use crate::web::abort::Listener;
use crate::web::timer::Timer;

#[wasm_bindgen(module = "/js/share.js")]
extern "C" {
    #[wasm_bindgen(js_name = createShare)]
    fn create_share(name: &str, hooks: &Object) -> JsShare;

    /// What `createShare` returns: `state`, `forward`, `abort`, `close`.
    type JsShare;
    #[wasm_bindgen(method, getter)]
    fn state(this: &JsShare) -> JsValue;
    #[wasm_bindgen(method)]
    fn forward(this: &JsShare, url: &str, init: &Object, idempotent: bool) -> JsValue;
    #[wasm_bindgen(method)]
    fn abort(this: &JsShare, key: u32);
    #[wasm_bindgen(method)]
    fn close(this: &JsShare);
}

/// Marks a call id as a forwarded call's (the machine's own ids are slab indexes, far below).
pub(crate) const FORWARDED: u32 = 1 << 31;

/// This tab's part in a shared client ([`ShareStats::role`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ShareRole {
    /// Not shared, or shared where Web Locks or `BroadcastChannel` is missing: it runs its own
    /// requests. The default.
    #[default]
    Alone,
    /// It runs the requests of every client of its name.
    Leader,
    /// It hands its requests to the leader.
    Follower,
}

/// `stats().share` in JS: this tab's role and how many tabs the clients of its name span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShareStats {
    /// Default [`ShareRole::Alone`].
    pub role: ShareRole,
    /// The tabs the leader counts, itself included. Default 1.
    pub tabs: u32,
}

impl Default for ShareStats {
    fn default() -> Self {
        ShareStats { role: ShareRole::Alone, tabs: 1 }
    }
}

/// A call handed to the leader (or reading its body to be).
struct Forwarded {
    /// This tab's number for it (the id callers hold, without [`FORWARDED`]).
    seq: u32,
    /// `js/share.js`'s key for it once handed over; 0 while its body is read.
    key: u32,
    url: String,
    /// What goes to the leader: method, headers, body and the [`RequestOptions`] fields.
    init: Object,
    idempotent: bool,
    // What this tab's machine needs should it lead before the answer comes.
    template: Request,
    options: RequestOptions,
    body_as: BodyAs,
    sink: Sink,
    group: u32,
    /// Settles it when the caller's signal fires.
    _listener: Option<Listener>,
    /// Ends it when its `total_timeout_ms` runs out, also while the leader cannot answer.
    _deadline: Option<Timer>,
}

type RunHook = Closure<dyn FnMut(String, JsValue) -> Promise>;
type LocalHook = Closure<dyn FnMut(u32)>;
type AnswerHook = Closure<dyn FnMut(u32, JsValue)>;

/// One client's side of the clients of its name.
pub(crate) struct Share {
    js: JsShare,
    /// The calls handed to the leader and not answered yet (few at a time: a scan finds one).
    calls: RefCell<Vec<Forwarded>>,
    seq: Cell<u32>,
    /// Forwarded calls that this tab's machine took over when it came to lead: `(seq, call)`.
    moved: RefCell<Vec<(u32, u32)>>,
    /// The client's retry rules and timeouts, for the calls that set none: they go with the
    /// call (the leader's client applies its own limits, cache and de-duplication only), and
    /// a call whose attempt may have died with the old leader goes again only where the rules
    /// allow it.
    retry: RetryPolicy,
    /// `retry` as the JS API's `RetryOptions`, made once: most calls send it.
    retry_js: Object,
    timeout_ms: Option<f64>,
    total_timeout_ms: Option<f64>,
    _hooks: (RunHook, LocalHook, AnswerHook),
}

impl Share {
    /// Joins the clients named `name`; `driver` is the client's (not yet reachable: the hooks
    /// run later, from events).
    pub fn new(config: &Config, name: &str, driver: Weak<Driver>) -> Share {
        let d = driver.clone();
        let run = RunHook::new(move |url: String, init: JsValue| match d.upgrade() {
            Some(driver) => lead(&driver, &url, &init),
            None => Promise::reject(&rejection(Error::new(ErrorKind::Closed, &url))),
        });
        let d = driver.clone();
        let local = LocalHook::new(move |key: u32| {
            if let Some(driver) = d.upgrade() {
                driver.share().run_here(&driver, |f| f.key == key);
            }
        });
        let answer = AnswerHook::new(move |key: u32, reply: JsValue| {
            if let Some(driver) = driver.upgrade() {
                driver.share().answered(&driver, key, &reply);
            }
        });
        let hooks = Object::new();
        set(&hooks, "run", run.as_ref());
        set(&hooks, "local", local.as_ref());
        set(&hooks, "answer", answer.as_ref());
        Share {
            js: create_share(name, &hooks),
            calls: RefCell::new(Vec::new()),
            seq: Cell::new(0),
            moved: RefCell::new(Vec::new()),
            retry: config.retry.clone(),
            retry_js: retry_to_js(&config.retry),
            timeout_ms: config.timeout_ms,
            total_timeout_ms: config.total_timeout_ms,
            _hooks: (run, local, answer),
        }
    }

    /// This tab's role and the number of tabs.
    pub fn stats(&self) -> ShareStats {
        let state = self.js.state();
        let role = match get(&state, "role").as_string().as_deref() {
            Some("leader") => ShareRole::Leader,
            Some("follower") => ShareRole::Follower,
            _ => ShareRole::Alone,
        };
        ShareStats { role, tabs: get(&state, "tabs").as_f64().unwrap_or(1.0) as u32 }
    }

    /// Whether this tab hands its calls to another (asked on every call: the role alone).
    pub fn follows(&self) -> bool {
        get(&self.js.state(), "role").as_string().as_deref() == Some("follower")
    }

    /// Calls waiting on the leader (they count as pending).
    pub fn waiting(&self) -> usize {
        self.calls.borrow().len()
    }

    /// Hands a call to the leader; returns its id (with [`FORWARDED`]). A body is read
    /// first (as bytes, the form in which it crosses).
    pub fn forward(&self, driver: &Rc<Driver>, template: Request, options: RequestOptions, body_as: BodyAs, sink: Sink, group: u32) -> u32 {
        let seq = self.seq.get() % (FORWARDED - 1) + 1;
        self.seq.set(seq);
        let method = template.method();
        let pairs = header_pairs(&template.headers());
        let keyed = pairs.iter().any(|(n, _)| n == "idempotency-key");
        let retry = options.retry.as_ref().unwrap_or(&self.retry);
        let idempotent = retry.limit > 0 && retry.method_allowed(&method, keyed);
        let url = template.url();
        let total = options.total_timeout_ms.or(self.total_timeout_ms);
        let retry_js = options.retry.as_ref().map_or_else(|| self.retry_js.clone(), retry_to_js);
        let init = init_of(&method, &pairs, &options, &retry_js, options.timeout_ms.or(self.timeout_ms), total);
        let weak = Rc::downgrade(driver);
        let listener = options.signal.as_ref().map(|signal| {
            let weak = weak.clone();
            Listener::new(signal, move || {
                if let Some(d) = weak.upgrade() {
                    let share = d.share();
                    if let Some(f) = share.take(|f| f.seq == seq) {
                        let reason = f.options.signal.as_ref().map(AbortSignal::reason);
                        share.end(&d, f, ErrorKind::Abort, reason);
                    }
                }
            })
        });
        let deadline = total.map(|ms| {
            Timer::once(ms, move || {
                if let Some(d) = weak.upgrade() {
                    let share = d.share();
                    if let Some(f) = share.take(|f| f.seq == seq) {
                        share.end(&d, f, ErrorKind::Timeout, Some(js_sys::Error::new("fetchlane: totalTimeoutMs ran out").into()));
                    }
                }
            })
        });
        let bodiless = method == "GET" || method == "HEAD";
        // The template keeps its body for this tab's machine; a copy is read for the leader.
        let copy = if bodiless { None } else { template.clone().ok() };
        self.calls.borrow_mut().push(Forwarded {
            seq,
            key: 0,
            url,
            init,
            idempotent,
            template,
            options,
            body_as,
            sink,
            group,
            _listener: listener,
            _deadline: deadline,
        });
        match copy {
            None if bodiless => self.hand_over(driver, seq),
            // The body cannot be copied (a stream being read): this tab's machine sends it.
            None => self.run_here(driver, |f| f.seq == seq),
            Some(copy) => {
                let weak = Rc::downgrade(driver);
                spawn_local(async move {
                    let bytes = match copy.array_buffer() {
                        Ok(p) => JsFuture::from(p).await.ok(),
                        Err(_) => None,
                    };
                    let Some(driver) = weak.upgrade() else { return };
                    let share = driver.share();
                    match bytes {
                        Some(bytes) => {
                            if let Some(f) = share.calls.borrow().iter().find(|f| f.seq == seq) {
                                set(&f.init, "body", &bytes);
                            }
                            share.hand_over(&driver, seq);
                        }
                        None => share.run_here(&driver, |f| f.seq == seq),
                    }
                });
            }
        }
        FORWARDED | seq
    }

    /// Posts call `seq` to the leader; when this tab leads by now, its machine runs it.
    fn hand_over(&self, driver: &Rc<Driver>, seq: u32) {
        let key = {
            let calls = self.calls.borrow();
            let Some(f) = calls.iter().find(|f| f.seq == seq) else { return };
            self.js.forward(&f.url, &f.init, f.idempotent)
        };
        match key.as_f64() {
            Some(key) => {
                if let Some(f) = self.calls.borrow_mut().iter_mut().find(|f| f.seq == seq) {
                    f.key = key as u32;
                }
            }
            None => self.run_here(driver, |f| f.seq == seq),
        }
    }

    /// Takes the first call that `which` picks out of the waiting ones.
    fn take(&self, which: impl Fn(&Forwarded) -> bool) -> Option<Forwarded> {
        let mut calls = self.calls.borrow_mut();
        let i = calls.iter().position(which)?;
        Some(calls.swap_remove(i))
    }

    /// Sends a waiting call through this tab's own machine (it leads now).
    fn run_here(&self, driver: &Rc<Driver>, which: impl Fn(&Forwarded) -> bool) {
        let Some(f) = self.take(which) else { return };
        let call = driver.submit_here(f.template, f.options, f.body_as, f.sink, f.group);
        if call != 0 {
            let mut moved = self.moved.borrow_mut();
            // Only a live call can be abandoned; the others' entries go.
            moved.retain(|&(_, c)| driver.has_call(c));
            moved.push((f.seq, call));
        }
        driver.drain();
    }

    /// The leader's reply to the call it knows as `key`.
    fn answered(&self, driver: &Rc<Driver>, key: u32, reply: &JsValue) {
        let Some(f) = self.take(|f| f.key == key) else { return };
        let result = result_of(&f.url, f.body_as, reply);
        driver.settle(f.sink, result);
        driver.drain();
    }

    /// Settles a call that will not be answered, and tells the leader it may stop.
    fn end(&self, driver: &Rc<Driver>, f: Forwarded, kind: ErrorKind, reason: Option<JsValue>) {
        if f.key != 0 {
            self.js.abort(f.key);
        }
        let mut e = Error::new(kind, &f.url);
        if let Some(r) = reason {
            e = e.with_cause(r);
        }
        driver.settle(f.sink, Err(e));
        driver.drain();
    }

    /// The caller of call `seq` stopped waiting; `Some(call)` when the machine runs it now.
    pub fn abandon(&self, seq: u32) -> Option<u32> {
        if let Some(f) = self.take(|f| f.seq == seq) {
            if f.key != 0 {
                self.js.abort(f.key);
            }
            return None;
        }
        let moved = self.moved.borrow();
        moved.iter().find(|&&(s, _)| s == seq).map(|&(_, call)| call)
    }

    /// Fails the waiting members of `group` with kind `abort`.
    pub fn abort_group(&self, driver: &Rc<Driver>, group: u32, reason: Option<JsValue>) {
        while let Some(f) = self.take(|f| f.group == group) {
            self.end(driver, f, ErrorKind::Abort, reason.clone());
        }
    }

    /// The client closes: it leaves the clients of its name, and what waited fails with kind
    /// `closed`.
    pub fn close(&self, driver: &Rc<Driver>) {
        self.js.close();
        while let Some(f) = self.take(|_| true) {
            self.end(driver, f, ErrorKind::Closed, None);
        }
    }
}

/// The `init` a follower sends: method, header pairs, body (set once read), the options that
/// were given and the client's retry rules and timeouts where they were not, by their JS names
/// (what the leader's `fetch` reads, in Rust or JS).
fn init_of(method: &str, headers: &[(String, String)], options: &RequestOptions, retry: &Object, timeout_ms: Option<f64>, total_timeout_ms: Option<f64>) -> Object {
    let o = Object::new();
    set(&o, "method", &method.into());
    let pairs = Array::new();
    for (name, value) in headers {
        pairs.push(&Array::of2(&name.as_str().into(), &value.as_str().into()));
    }
    set(&o, "headers", &pairs);
    set(&o, "body", &JsValue::NULL);
    set(&o, "lane", &options.lane.as_str().into());
    if let Some(s) = options.strategy {
        set(&o, "strategy", &s.as_str().into());
    }
    for (name, ms) in [("ttlMs", options.ttl_ms), ("timeoutMs", timeout_ms), ("totalTimeoutMs", total_timeout_ms)] {
        if let Some(ms) = ms {
            set(&o, name, &ms.into());
        }
    }
    if let Some(d) = options.dedupe {
        set(&o, "dedupe", &d.into());
    }
    if let Some(k) = &options.key {
        set(&o, "key", &k.as_str().into());
    }
    set(&o, "retry", retry);
    o
}

/// A [`RetryPolicy`] as the JS API's `RetryOptions`.
fn retry_to_js(r: &RetryPolicy) -> Object {
    let o = Object::new();
    set(&o, "limit", &r.limit.into());
    let methods = Array::new();
    for m in &r.methods {
        methods.push(&m.as_str().into());
    }
    set(&o, "methods", &methods);
    let codes = Array::new();
    for c in &r.status_codes {
        codes.push(&(*c).into());
    }
    set(&o, "statusCodes", &codes);
    set(&o, "backoffMs", &r.backoff.base_ms.into());
    set(&o, "factor", &r.backoff.factor.into());
    set(&o, "maxBackoffMs", &r.backoff.max_ms.into());
    set(&o, "jitter", &r.backoff.jitter.into());
    set(&o, "maxRetryAfterMs", &r.max_retry_after_ms.into());
    set(&o, "retryOnTimeout", &r.retry_on_timeout.into());
    o
}

/// The JS API's `RetryOptions` (as a JS follower sends them, decoded and complete) as a
/// [`RetryPolicy`]; a field it lacks keeps the default.
fn retry_of(v: &JsValue) -> RetryPolicy {
    let d = RetryPolicy::default();
    let number = |k| get(v, k).as_f64();
    let flag = |k| get(v, k).as_bool();
    let list = |k| {
        let a = get(v, k);
        Array::is_array(&a).then(|| Array::from(&a))
    };
    RetryPolicy {
        limit: number("limit").map_or(d.limit, |n| n as u32),
        methods: list("methods").map_or(d.methods, |a| a.iter().filter_map(|m| m.as_string()).collect()),
        status_codes: list("statusCodes").map_or(d.status_codes, |a| a.iter().filter_map(|c| c.as_f64()).map(|c| c as u16).collect()),
        backoff: Backoff {
            base_ms: number("backoffMs").unwrap_or(d.backoff.base_ms),
            factor: number("factor").unwrap_or(d.backoff.factor),
            max_ms: number("maxBackoffMs").unwrap_or(d.backoff.max_ms),
            jitter: flag("jitter").unwrap_or(d.backoff.jitter),
        },
        max_retry_after_ms: number("maxRetryAfterMs").unwrap_or(d.max_retry_after_ms),
        retry_on_timeout: flag("retryOnTimeout").unwrap_or(d.retry_on_timeout),
    }
}

/// A follower's request as this (leading) tab's client runs it: through its own machine, with
/// its own headers added, answering with a `Response` or a FetchlaneError-shaped rejection.
fn lead(driver: &Rc<Driver>, url: &str, init: &JsValue) -> Promise {
    let (template, options) = match follower_request(driver, url, init) {
        Ok(made) => made,
        Err(e) => return Promise::reject(&rejection(e)),
    };
    let slot = Slot::new();
    driver.submit_here(template, options, BodyAs::Response, Sink::One(slot.clone()), 0);
    driver.drain();
    let url = String::from(url);
    future_to_promise(async move {
        let answer = Receiver(slot).await.unwrap_or_else(|| Err(Error::new(ErrorKind::Closed, &url)));
        answer.map_err(rejection)
    })
}

/// Header pairs as they cross between tabs (`[[name, value], …]`); none for anything else.
fn pairs_of(v: &JsValue) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if Array::is_array(v) {
        for pair in Array::from(v).iter() {
            let pair = Array::from(&pair);
            out.push((pair.get(0).as_string().unwrap_or_default(), pair.get(1).as_string().unwrap_or_default()));
        }
    }
    out
}

/// The request and options a follower's `init` describes. A lane or strategy this version does
/// not know is an error naming it (the tabs run different versions).
fn follower_request(driver: &Driver, url: &str, init: &JsValue) -> Result<(Request, RequestOptions), Error> {
    let unknown = |message: &str| Error::new(ErrorKind::Network, url).with_cause(js_sys::TypeError::new(message).into());
    let text = |k| get(init, k).as_string();
    let number = |k| get(init, k).as_f64();
    let lane = match text("lane") {
        None => Lane::Normal,
        Some(l) => Lane::parse(&l).ok_or_else(|| unknown("fetchlane: a shared request's init.lane is not a lane this tab knows"))?,
    };
    let strategy = match text("strategy") {
        None => None,
        Some(s) => Some(Strategy::parse(&s).ok_or_else(|| unknown("fetchlane: a shared request's init.strategy is not a strategy this tab knows"))?),
    };
    let request_init = RequestInit::new();
    if let Some(method) = text("method") {
        request_init.set_method(&method);
    }
    let headers = Headers::new().map_err(|cause| Error::new(ErrorKind::Network, url).with_cause(cause))?;
    for (name, value) in pairs_of(&get(init, "headers")) {
        // Only a forbidden name fails; the browser would drop it anyway.
        let _ = headers.append(&name, &value);
    }
    request_init.set_headers(&headers);
    let body = get(init, "body");
    if body.is_object() {
        request_init.set_body(&body);
    }
    let request = Request::new_with_str_and_init(url, &request_init).map_err(|cause| Error::new(ErrorKind::Network, url).with_cause(cause))?;
    let retry = get(init, "retry");
    let options = RequestOptions {
        lane,
        strategy,
        ttl_ms: number("ttlMs"),
        timeout_ms: number("timeoutMs"),
        total_timeout_ms: number("totalTimeoutMs"),
        retry: retry.is_object().then(|| retry_of(&retry)),
        dedupe: get(init, "dedupe").as_bool(),
        key: text("key"),
        signal: get(init, "signal").dyn_into::<AbortSignal>().ok(),
    };
    Ok((driver.prepare(&request)?, options))
}

/// A call's outcome from the leader's reply: the response rebuilt from its bytes and decoded
/// as the caller asked, or the error of the kind the leader reported.
fn result_of(url: &str, body_as: BodyAs, reply: &JsValue) -> Result<JsValue, Error> {
    let number = |k| get(reply, k).as_f64();
    if get(reply, "t").as_string().as_deref() == Some("err") {
        let kind = get(reply, "kind").as_string().and_then(|k| ErrorKind::parse(&k)).unwrap_or(ErrorKind::Network);
        let mut e = Error::new(kind, url).with_attempts(number("attempts").unwrap_or(0.0) as u32);
        if let Some(status) = number("status") {
            e = e.with_status(status as u16);
        }
        if let Some(message) = get(reply, "message").as_string() {
            e = e.with_cause(js_sys::Error::new(&message).into());
        }
        return Err(e);
    }
    let buffered = Buffered {
        status: number("status").unwrap_or(200.0) as u16,
        status_text: get(reply, "statusText").as_string().unwrap_or_default(),
        headers: pairs_of(&get(reply, "headers")),
        body: get(reply, "body").dyn_into::<ArrayBuffer>().unwrap_or_else(|_| ArrayBuffer::new(0)),
        clock: None,
    };
    buffered.decode(body_as, url)
}
