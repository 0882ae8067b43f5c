//! The Rust API for Rust front ends (Leptos, Yew, Dioxus): [`Client`] runs requests and tasks
//! under one set of limits, with futures per request.
//!
//! It is the second driver of the [`Machine`](crate::machine::Machine) (the npm package's,
//! `js/driver.js`, is the first): `driver.rs` feeds the machine its events and executes its
//! commands (a `spawn_local` future per fetch attempt, body read and Cache API call, a
//! one-shot slot per caller, one `setTimeout` for the machine's deadline); it decides
//! nothing. [`Loader`] batching and [`Pages`] pagination are Rust code on top of the
//! client's own requests, as in the JS package.

use crate::prelude::*;

mod body;
pub mod config;
mod driver;
pub mod error;
pub mod events;
mod group;
pub mod loader;
mod oneshot;
pub mod options;
pub mod outbox;
pub mod paginate;
mod js_object;
mod request;
mod share;
pub mod stats;
mod store;

use alloc::rc::Rc;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AbortSignal, Response};

pub use config::{AdaptiveConfig, CacheConfig, Config, ConfigError, PersistConfig, RateLimit, ShareConfig, Strategy};
pub use error::{Error, ErrorKind};
pub use events::{Event, EventType, Listener};
pub use group::{GroupOptions, Progress};
pub use loader::{BatchUrl, ItemKey, Loader, LoaderConfig};
pub use options::{BodyAs, RequestOptions};
pub use outbox::{FlushReport, Outbox, OutboxBatch, OutboxConfig, OutboxTicket};
pub use paginate::{NextPage, PaginateOptions, Pages};
pub use share::{ShareRole, ShareStats};
pub use stats::{HostStats, Percentiles, Stats};

use crate::core::hash::HashSet;
use crate::core::lane::Lane;
use driver::{Driver, Sink, TaskPhase, TaskSlot};
use group::{GroupState, GroupWait};
use oneshot::{Receiver, Slot};

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
    pub driver: Rc<Driver>,
    /// The outboxes made so far, by name (their callbacks live as long as the client).
    pub outboxes: core::cell::RefCell<Vec<(String, outbox::OutboxHandle)>>,
}

/// Runs requests and tasks under a global and per-host concurrency limit, in lanes, with
/// rate limits, timeouts, retries, de-duplication and the cache. Every decision is made by
/// the [`Machine`](crate::machine::Machine); the client executes its commands. Cloning is
/// cheap and shares everything.
#[derive(Clone)]
pub struct Client {
    inner: Rc<Inner>,
}

/// A caller's wait for one request. Dropping it before the answer aborts the request (it
/// leaves the queue, or leaves a shared request to its other callers).
#[must_use = "futures do nothing unless awaited"]
struct CallFuture {
    driver: Rc<Driver>,
    call: u32,
    slot: Rc<Slot<Result<JsValue, Error>>>,
}

impl Future for CallFuture {
    type Output = Result<JsValue, Error>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut Receiver(self.slot.clone()))
            .poll(cx)
            .map(|r| r.unwrap_or_else(|| Err(Error::new(ErrorKind::Closed, ""))))
    }
}

impl Drop for CallFuture {
    fn drop(&mut self) {
        if !self.slot.is_sent() {
            self.driver.abandon(self.call);
        }
    }
}

/// A `schedule` task's hold on its call: dropping it returns the slot (a running task) or
/// leaves the queue (a queued one).
struct TaskGuard {
    driver: Rc<Driver>,
    slot: Rc<TaskSlot>,
    call: u32,
    running: bool,
    done: bool,
}

impl TaskGuard {
    /// The task never ran and its call is gone: nothing to give back.
    fn disarm(&mut self) {
        self.done = true;
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if self.running {
            self.driver.task_done(self.call);
            return;
        }
        let phase = core::mem::replace(&mut *self.slot.phase.borrow_mut(), TaskPhase::Taken);
        match phase {
            TaskPhase::Queued => self.driver.abandon(self.call),
            // Given the slot, but nobody will run it: the slot goes back.
            TaskPhase::Run(..) => self.driver.task_done(self.call),
            // Its call is gone already.
            TaskPhase::Failed(_) | TaskPhase::Taken => {}
        }
    }
}

impl Client {
    /// Builds a client; the configuration is checked here, never on the hot path.
    pub fn new(config: Config) -> Result<Client, ConfigError> {
        config.validate()?;
        let driver = Driver::new(&config);
        Ok(Client { inner: Rc::new(Inner { config, driver, outboxes: Default::default() }) })
    }

    /// The configuration the client was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Builds a GET request for `url`, resolved against `baseUrl` when it is relative.
    pub fn request(&self, url: &str) -> Result<web_sys::Request, Error> {
        request::new_get(self.inner.config.base_url.as_deref(), url)
    }

    /// Runs one request, decoding the body as asked. The answer is a `Response`, the parsed
    /// JSON value, or a string, following `body_as`. The request is queued before this
    /// returns; dropping the future before it is done aborts the request.
    pub fn send(
        &self,
        request: &web_sys::Request,
        options: RequestOptions,
        body_as: BodyAs,
    ) -> impl Future<Output = Result<JsValue, Error>> {
        let driver = self.inner.driver.clone();
        let slot = Slot::new();
        let call = match driver.prepare(request) {
            Ok(template) => {
                let call = driver.submit(template, options, body_as, Sink::One(slot.clone()), 0);
                driver.drain();
                call
            }
            Err(e) => {
                slot.send(Err(e));
                0
            }
        };
        CallFuture { driver, call, slot }
    }

    /// Runs one request; the caller gets a readable `Response` (its own, also when the
    /// request was shared or answered from a cache). A non-2xx answer (after retries)
    /// rejects with kind `http` unless `throw_http_errors` is off. Like every method here, it
    /// queues before returning, and the future borrows nothing.
    pub fn fetch(&self, request: &web_sys::Request, options: RequestOptions) -> impl Future<Output = Result<Response, Error>> {
        let answer = self.send(request, options, BodyAs::Response);
        async move { answer.await.map(JsCast::unchecked_into) }
    }

    /// Runs one request and parses its body as JSON (kind `decode` when it does not parse).
    pub fn json(&self, request: &web_sys::Request, options: RequestOptions) -> impl Future<Output = Result<JsValue, Error>> {
        self.send(request, options, BodyAs::Json)
    }

    /// Runs one request and reads its body as text.
    pub fn text(&self, request: &web_sys::Request, options: RequestOptions) -> impl Future<Output = Result<String, Error>> {
        let answer = self.send(request, options, BodyAs::Text);
        async move { answer.await.map(|v| v.as_string().unwrap_or_default()) }
    }

    /// Queues every member of a group (in input order, drained once); `None` when there is
    /// nothing to wait for.
    fn group(
        &self,
        requests: Vec<(web_sys::Request, RequestOptions)>,
        options: GroupOptions,
        settled_mode: bool,
        on_progress: Option<Box<dyn Fn(Progress)>>,
    ) -> Result<Option<GroupWait>, Error> {
        let driver = self.inner.driver.clone();
        let mut members = Vec::with_capacity(requests.len());
        for (request, opts) in requests {
            match driver.prepare(&request) {
                Ok(template) => members.push(Ok((template, opts))),
                // `all`: every input is checked before any is queued.
                Err(e) if !settled_mode => return Err(e),
                Err(e) => members.push(Err(e)),
            }
        }
        if members.is_empty() {
            return Ok(None);
        }
        let abort_on_failure = !settled_mode && options.abort_on_failure;
        let group = GroupState::new(members.len(), settled_mode, abort_on_failure, on_progress);
        group.set_id(driver.open_group(abort_on_failure));
        let id = group.id();
        for (i, member) in members.into_iter().enumerate() {
            let sink = Sink::Group(group.clone(), i);
            match member {
                Ok((template, opts)) => {
                    driver.submit(template, opts, options.body_as, sink, id);
                }
                Err(e) => driver.settle(sink, Err(e)),
            }
        }
        driver.drain();
        Ok(Some(GroupWait { group, driver }))
    }

    /// Runs every request; results in input order. The first failure rejects, and (unless
    /// `abort_on_failure` is off) aborts the siblings still queued or in flight. A request
    /// that cannot be copied fails the group before anything is queued.
    pub fn all(
        &self,
        requests: Vec<(web_sys::Request, RequestOptions)>,
        options: GroupOptions,
    ) -> impl Future<Output = Result<Vec<JsValue>, Error>> {
        let wait = self.group(requests, options, false, None);
        async move {
            match wait? {
                None => Ok(Vec::new()),
                Some(wait) => wait.await.map(|results| results.into_iter().map(|r| r.unwrap_or(JsValue::UNDEFINED)).collect()),
            }
        }
    }

    /// Runs every request and reports every outcome, in input order; never fails.
    /// `on_progress` is called after each one settles.
    pub fn all_settled(
        &self,
        requests: Vec<(web_sys::Request, RequestOptions)>,
        options: GroupOptions,
        on_progress: Option<Box<dyn Fn(Progress)>>,
    ) -> impl Future<Output = Vec<Result<JsValue, Error>>> {
        let wait = self.group(requests, options, true, on_progress);
        async move {
            match wait {
                Ok(Some(wait)) => wait.await.unwrap_or_else(|e| vec![Err(e)]),
                Ok(None) => Vec::new(),
                Err(e) => vec![Err(e)],
            }
        }
    }

    /// Runs `task` under the same limits as requests (p-limit style), when the returned
    /// future is polled and a slot is free. The task gets a signal that aborts when
    /// `options.signal` does or the client closes. Fails with kind `abort` or `closed` only
    /// while queued; what the task returns is passed through untouched. The task is queued
    /// before this returns; dropping the future leaves the queue, or frees the slot.
    pub fn schedule<T, F, Fut>(&self, options: ScheduleOptions, task: F) -> impl Future<Output = Result<T, Error>>
    where
        F: FnOnce(AbortSignal) -> Fut,
        Fut: Future<Output = T>,
    {
        let driver = self.inner.driver.clone();
        let slot = Driver::task_slot();
        let call = driver.task(options.lane, options.host.as_deref(), options.signal, slot.clone());
        driver.drain();
        let mut guard = TaskGuard { driver, slot, call, running: false, done: call == 0 };
        async move {
            let ran = core::future::poll_fn(|cx| Driver::poll_task(&guard.slot, cx)).await;
            let (signal, links) = match ran {
                Ok(run) => run,
                Err(e) => {
                    guard.disarm();
                    return Err(e);
                }
            };
            guard.running = true;
            // Aborted (or closed) between getting its slot and being polled: it does not run.
            if signal.aborted() {
                let kind = if guard.driver.is_closed() { ErrorKind::Closed } else { ErrorKind::Abort };
                return Err(Error::new(kind, "").with_cause(signal.reason()));
            }
            let output = task(signal).await;
            drop(links);
            drop(guard);
            Ok(output)
        }
    }

    /// Drops the cached entries (memory and Cache API) whose absolute URL `matches`;
    /// resolves to how many (an entry in both stores counts once). The memory entries go at
    /// once; a failing Cache API is skipped, not an error.
    pub fn invalidate(&self, matches: Rc<dyn Fn(&str) -> bool>) -> impl Future<Output = usize> {
        let driver = self.inner.driver.clone();
        let mut removed: HashSet<String> = driver.forget_memory(&*matches).into_iter().collect();
        async move {
            if let Some(p) = driver.persist() {
                if let Ok(urls) = p.invalidate(&*matches).await {
                    removed.extend(urls);
                }
            }
            removed.len()
        }
    }

    /// Drops every cached entry of this client's namespace: memory at once, then the Cache
    /// API.
    pub fn clear_cache(&self) -> impl Future<Output = ()> {
        let driver = self.inner.driver.clone();
        driver.clear_memory();
        async move {
            if let Some(p) = driver.persist() {
                let _ = p.clear().await;
            }
        }
    }

    /// Rejects every queued (not yet started) request and task with kind `abort`.
    pub fn clear_queue(&self) {
        self.inner.driver.clear_queue();
    }

    /// Resolves when nothing is queued or running.
    pub async fn on_idle(&self) {
        self.inner.driver.idle().await
    }

    /// How many requests and tasks hold a permit now.
    pub fn active_count(&self) -> usize {
        self.inner.driver.active()
    }

    /// How many wait in the queue.
    pub fn pending_count(&self) -> usize {
        self.inner.driver.pending()
    }

    /// The global limit ([`crate::core::scheduler::UNLIMITED`] for `Infinity`).
    pub fn concurrency(&self) -> usize {
        self.inner.driver.concurrency()
    }

    /// Changes the global limit at run time: raising it starts queued work at once, lowering
    /// it lets running work finish. Zero is refused.
    pub fn set_concurrency(&self, limit: usize) -> Result<(), ConfigError> {
        config::check_limit("concurrency", limit)?;
        self.inner.driver.set_concurrency(limit);
        Ok(())
    }

    /// Counters since creation.
    pub fn stats(&self) -> Stats {
        self.inner.driver.stats()
    }

    /// Every host this client has talked to (`host:port`), with its current limit
    /// (`stats().hosts[host].limit` in JS): the adaptive limit, or `per_host` while
    /// `adaptive` is off ([`crate::core::scheduler::UNLIMITED`] for `Infinity`).
    pub fn host_limits(&self) -> Vec<(String, usize)> {
        self.inner.driver.host_limits()
    }

    /// Listens to one event type (`None` for all); returns an id for [`Client::off`].
    pub fn on(&self, kind: Option<EventType>, listener: Listener) -> u32 {
        let id = self.inner.driver.emitter.add(kind, listener);
        self.inner.driver.update_listening();
        id
    }

    /// Removes a listener added with [`Client::on`].
    pub fn off(&self, id: u32) {
        self.inner.driver.emitter.remove(id);
        self.inner.driver.update_listening();
    }

    /// Whether [`Client::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.driver.is_closed()
    }

    /// Aborts all queued and running work, drops the listeners, and makes every later call
    /// fail with kind `closed`. Closing twice is harmless.
    pub fn close(&self) {
        for (_, handle) in self.inner.outboxes.borrow().iter() {
            handle.close();
        }
        self.inner.driver.close();
    }

    /// The outbox `name`: requests stored in IndexedDB and delivered later, each once by
    /// its idempotency key (one per name and client; `config` counts the first time). The
    /// same implementation, storage and events as the JS API's `client.outbox`, so that
    /// Rust and JS pages of one origin share an outbox. Fails for an empty name, a bad
    /// `config` value (named as the JS option), or a runtime without IndexedDB.
    pub fn outbox(&self, name: &str, config: OutboxConfig) -> Result<Rc<Outbox>, ConfigError> {
        if let Some((_, h)) = self.inner.outboxes.borrow().iter().find(|(n, _)| n == name) {
            return Ok(h.outbox());
        }
        let handle = outbox::open(self, &self.inner.driver, name, &config)?;
        let made = handle.outbox();
        self.inner.outboxes.borrow_mut().push((String::from(name), handle));
        Ok(made)
    }

    /// Counts loader keys a batch response served (`stats().batched`).
    pub(crate) fn count_batched(&self, n: u64) {
        self.inner.driver.count_batched(n);
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
