//! The Rust API: [`Client`] runs requests and tasks under one set of limits.
//!
//! The JS bindings are a thin layer over this module; Rust front ends (Leptos, Yew, Dioxus)
//! use it directly.

use crate::prelude::*;

mod attempt;
mod body;
mod cache;
pub mod config;
mod dedupe;
pub mod error;
pub mod events;
mod gate;
mod group;
pub mod loader;
mod network;
pub mod options;
pub mod paginate;
mod pipeline;
mod request;
pub mod stats;
mod store;

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::pin;

use futures_util::future::{select, Either};
use futures_util::TryFutureExt;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AbortController, AbortSignal, Response};

pub use config::{CacheConfig, Config, ConfigError, PersistConfig, RateLimit, Strategy};
pub use error::{Error, ErrorKind};
pub use events::{Event, EventType, Listener};
pub use group::{GroupOptions, Progress};
pub use loader::{BatchUrl, ItemKey, Loader, LoaderConfig};
pub use paginate::{NextPage, PaginateOptions, Pages};
pub use options::{BodyAs, RequestOptions};
pub use stats::Stats;
pub(crate) use request::resolve as resolve_url;

use crate::core::hash::{HashMap, HashSet};
use crate::core::lane::Lane;
use crate::core::rate_window::RateWindow;
use crate::core::scheduler::Scheduler;
use crate::web::abort;
use gate::Gate;
use stats::Counters;

/// Options for [`Client::schedule`].
#[derive(Clone, Default)]
pub struct ScheduleOptions {
    /// The lane the task queues in. Default [`Lane::Normal`].
    pub lane: Lane,
    /// Aborts the task while it is queued; a running task sees it through its own signal.
    /// Default none.
    pub signal: Option<AbortSignal>,
    /// Counts the task against this host's limit too. Default none (global limit only).
    pub host: Option<String>,
}

pub(crate) struct Inner {
    pub config: Config,
    pub gate: Rc<Gate>,
    pub counters: Counters,
    pub emitter: events::Emitter,
    pub next_request_id: Cell<u64>,
    /// The memory store, when the cache is on.
    pub memory: Option<RefCell<store::MemoryStore>>,
    /// The Cache API store, when `persist` is set.
    pub persistent: Option<RefCell<store::PersistentStore>>,
    /// Shared requests in flight, by dedupe key.
    pub inflight: RefCell<HashMap<String, Rc<dedupe::Shared>>>,
    pub closed: Cell<bool>,
    /// Aborted by `close`; its signal is what tasks without a signal of their own get.
    pub close: AbortController,
    /// Fired by `close`: every request and task in flight registers its controller here.
    pub closing: Rc<abort::AbortHub>,
}

/// Runs requests and tasks under a global and per-host concurrency limit, in lanes, with
/// rate limits, timeouts and retries. Cloning is cheap and shares everything.
#[derive(Clone)]
pub struct Client {
    inner: Rc<Inner>,
}

impl Client {
    /// Builds a client; the configuration is checked here, never on the hot path.
    pub fn new(config: Config) -> Result<Client, ConfigError> {
        config.validate()?;
        let gate = Gate::new(Scheduler::new(config.concurrency, config.per_host));
        for rule in &config.rate_limits {
            gate.add_window(rule.host.as_deref(), RateWindow::new(rule.limit, rule.interval_ms));
        }
        let memory = config.cache.as_ref().map(|c| RefCell::new(store::MemoryStore::new(c)));
        let persistent = config
            .cache
            .as_ref()
            .and_then(|c| c.persist.as_ref().map(|p| RefCell::new(store::PersistentStore::new(p, &c.namespace))));
        Ok(Client {
            inner: Rc::new(Inner {
                config,
                gate,
                counters: Counters::default(),
                emitter: events::Emitter::default(),
                next_request_id: Cell::new(0),
                inflight: RefCell::new(HashMap::default()),
                memory,
                persistent,
                closed: Cell::new(false),
                close: abort::controller(),
                closing: abort::AbortHub::new(),
            }),
        })
    }

    /// The configuration the client was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Builds a GET request for `url`, resolved against `baseUrl` when it is relative.
    pub fn request(&self, url: &str) -> Result<web_sys::Request, Error> {
        request::new_get(self.inner.config.base_url.as_deref(), url)
    }

    /// Runs one request through the pipeline, decoding the body as asked. The answer is a
    /// `Response`, the parsed JSON value, or a string, following `body_as`. The request is
    /// queued before this returns; the returned future drives it.
    pub fn send(
        &self,
        request: &web_sys::Request,
        options: RequestOptions,
        body_as: BodyAs,
    ) -> impl Future<Output = Result<JsValue, Error>> {
        pipeline::start_or_fail(&self.inner, request::prepare(&self.inner, request), options, body_as, None)
    }

    /// Runs one request; the caller gets a readable `Response`. A non-2xx answer (after
    /// retries) rejects with kind `http` unless `throw_http_errors` is off. Like every
    /// method here, it queues before returning, and the future borrows nothing.
    pub fn fetch(&self, request: &web_sys::Request, options: RequestOptions) -> impl Future<Output = Result<Response, Error>> {
        self.send(request, options, BodyAs::Response).map_ok(JsCast::unchecked_into)
    }

    /// Runs one request and parses its body as JSON (kind `decode` when it does not parse).
    pub fn json(&self, request: &web_sys::Request, options: RequestOptions) -> impl Future<Output = Result<JsValue, Error>> {
        self.send(request, options, BodyAs::Json)
    }

    /// Runs one request and reads its body as text.
    pub fn text(&self, request: &web_sys::Request, options: RequestOptions) -> impl Future<Output = Result<String, Error>> {
        self.send(request, options, BodyAs::Text).map_ok(|v| v.as_string().unwrap_or_default())
    }

    /// Runs every request; results in input order. The first failure rejects, and (unless
    /// `abort_on_failure` is off) aborts the siblings still queued or in flight.
    pub fn all(
        &self,
        requests: Vec<(web_sys::Request, RequestOptions)>,
        options: GroupOptions,
    ) -> impl Future<Output = Result<Vec<JsValue>, Error>> {
        group::all(&self.inner, requests, options)
    }

    /// Runs every request and reports every outcome, in input order; never fails.
    /// `on_progress` is called after each one settles.
    pub fn all_settled(
        &self,
        requests: Vec<(web_sys::Request, RequestOptions)>,
        options: GroupOptions,
        on_progress: Option<Box<dyn Fn(Progress)>>,
    ) -> impl Future<Output = Vec<Result<JsValue, Error>>> {
        group::all_settled(&self.inner, requests, options, on_progress)
    }

    /// Runs `task` under the same limits as requests (p-limit style). The task gets a signal
    /// that aborts when `options.signal` does or the client closes. Fails with kind `abort`
    /// or `closed` only while queued; what the task returns is passed through untouched.
    /// The task is queued before this returns.
    pub fn schedule<T, F, Fut>(&self, options: ScheduleOptions, task: F) -> impl Future<Output = Result<T, Error>>
    where
        F: FnOnce(AbortSignal) -> Fut,
        Fut: Future<Output = T>,
    {
        let inner = self.inner.clone();
        // Without a signal of its own, a task gets the client's close signal: no controller
        // and no listener per task, so 10 000 queued tasks cost 10 000 queue entries and no
        // more. With one, a controller of ours folds it together with the client closing.
        let setup = (!inner.closed.get()).then(|| {
            let own = options.signal.as_ref().map(|s| {
                let controller = abort::controller();
                let links = (abort::link(s, &controller), inner.closing.register(&controller));
                (controller, links)
            });
            let host = options.host.as_deref().map(|h| inner.gate.host(h));
            (own, inner.gate.acquire(options.lane, host, false))
        });
        async move {
            let Some((own, acquire)) = setup else {
                return Err(Error::new(ErrorKind::Closed, ""));
            };
            let (permit, signal) = match &own {
                None => match acquire.await {
                    Ok(permit) => (permit, inner.close.signal()),
                    Err(kind) => return Err(Error::new(kind, "")),
                },
                Some((controller, _)) => {
                    let signal = controller.signal();
                    match select(pin!(acquire), pin!(abort::aborted(&signal))).await {
                        Either::Left((Ok(permit), _)) if !signal.aborted() => (permit, signal),
                        Either::Left((Err(kind), _)) => return Err(Error::new(kind, "")),
                        Either::Left((Ok(_), _)) | Either::Right(_) => {
                            let kind = if inner.closed.get() { ErrorKind::Closed } else { ErrorKind::Abort };
                            return Err(Error::new(kind, "").with_cause(signal.reason()));
                        }
                    }
                }
            };
            let output = task(signal).await;
            drop((permit, own));
            Ok(output)
        }
    }

    /// Drops the cached entries (memory and Cache API) whose absolute URL `matches`;
    /// resolves to how many (an entry in both stores counts once). A failing Cache API is
    /// skipped, not an error.
    pub fn invalidate(&self, matches: Rc<dyn Fn(&str) -> bool>) -> impl Future<Output = usize> {
        let inner = self.inner.clone();
        async move {
            // An entry may sit in both stores: each URL counts once.
            let mut removed: HashSet<String> = match &inner.memory {
                Some(m) => m.borrow_mut().remove_matching(&*matches).iter().map(|u| String::from(&**u)).collect(),
                None => HashSet::default(),
            };
            if let Some(p) = &inner.persistent {
                if let Ok(urls) = store::unpersist(p, &*matches).await {
                    removed.extend(urls);
                }
            }
            removed.len()
        }
    }

    /// Drops every cached entry of this client's namespace, in memory and in the Cache API.
    pub fn clear_cache(&self) -> impl Future<Output = ()> {
        let inner = self.inner.clone();
        async move {
            if let Some(m) = &inner.memory {
                m.borrow_mut().clear();
            }
            if let Some(p) = &inner.persistent {
                let _ = store::clear_persisted(p).await;
            }
        }
    }

    /// Rejects every queued (not yet started) request and task with kind `abort`.
    pub fn clear_queue(&self) {
        self.inner.gate.reject_queued(ErrorKind::Abort);
    }

    /// Resolves when nothing is queued or running.
    pub async fn on_idle(&self) {
        self.inner.gate.idle().await
    }

    /// How many requests and tasks hold a permit now.
    pub fn active_count(&self) -> usize {
        self.inner.gate.active()
    }

    /// How many wait in the queue.
    pub fn pending_count(&self) -> usize {
        self.inner.gate.pending()
    }

    /// The global limit ([`crate::core::scheduler::UNLIMITED`] for `Infinity`).
    pub fn concurrency(&self) -> usize {
        self.inner.gate.concurrency()
    }

    /// Changes the global limit at run time: raising it starts queued work at once, lowering
    /// it lets running work finish. Zero is refused.
    pub fn set_concurrency(&self, limit: usize) -> Result<(), ConfigError> {
        config::check_limit("concurrency", limit)?;
        self.inner.gate.set_concurrency(limit);
        Ok(())
    }

    /// Counters since creation.
    pub fn stats(&self) -> Stats {
        self.inner.counters.snapshot()
    }

    /// Listens to one event type (`None` for all); returns an id for [`Client::off`].
    pub fn on(&self, kind: Option<EventType>, listener: Listener) -> u32 {
        self.inner.emitter.add(kind, listener)
    }

    /// Removes a listener added with [`Client::on`].
    pub fn off(&self, id: u32) {
        self.inner.emitter.remove(id)
    }

    /// Whether [`Client::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.get()
    }

    /// Aborts all queued and running work, drops the listeners, and makes every later call
    /// fail with kind `closed`. Closing twice is harmless.
    pub fn close(&self) {
        let inner = &self.inner;
        if inner.closed.replace(true) {
            return;
        }
        inner.gate.reject_queued(ErrorKind::Closed);
        let reason: JsValue = js_sys::Error::new("fetchlane: the client was closed").into();
        inner.closing.fire(reason.clone());
        inner.close.abort_with_reason(&reason);
        inner.emitter.clear();
    }
}

impl Client {
    /// A DataLoader-style loader over this client: `load(key)` calls in one tick (or
    /// window) become one batch request per chunk of keys, each through the same pipeline
    /// as [`Client::fetch`]. Fails when `config` has a bad value (named as the JS option).
    pub fn loader(&self, config: LoaderConfig) -> Result<Loader, ConfigError> {
        Loader::new(self, config)
    }
}
