//! The command executor of the Rust API: it feeds [`Machine`] its events and carries out the
//! [`Command`]s it emits, as `js/driver.js` does for the npm package (`docs/protocol.md`).
//!
//! It keeps what the machine cannot hold: per call the caller's one-shot slot (or group), its
//! template `Request` and its signal's listener; per op the attempt's `AbortController`, the
//! last `Response` and transport error; per body the buffered bytes, status and headers. Each
//! `fetch`, body read and Cache API call is a future of its own (`spawn_local`) that reports
//! back as an event; one `setTimeout` follows [`Machine::deadline`]. It decides nothing.
//!
//! Borrows of the state are never held across a call into user code (a listener, a
//! progress callback, a custom transport), so that code may call the client again: such a
//! call only feeds the machine, and the drain running below it executes the new commands.

use crate::prelude::*;

use alloc::rc::{Rc, Weak};
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{AbortController, AbortSignal, Request, RequestCredentials, RequestInit, Response};

use super::body::{decode, header_pairs, Buffered};
use super::config::Config;
use super::error::{Error, ErrorKind};
use super::events::{Emitter, Event, EventType};
use super::group::GroupState;
use super::oneshot::Slot;
use super::options::{BodyAs, RequestOptions};
use super::request::host_of;
use super::share::{Share, ShareStats, FORWARDED};
use super::stats::{HostStats, Stats};
use super::store::PersistentStore;
use crate::core::hash::HashMap;
use crate::core::lane::Lane;
use crate::core::sketch::Sketch;
use crate::core::text::{parse_u64, trim};
use crate::core::timing::{Stopwatch, Timing};
use crate::machine::{AbortReason, Command, EventKind, Machine, Source, Submit, Validator};
use crate::web::abort::{self, Listener};
use crate::web::clock::{now_ms, random, wall_ms};
use crate::web::timer::Timer;
use crate::web::transport::Transport;

/// What events say about a call.
pub(crate) struct CallInfo {
    /// Unique within the client (the machine reuses its ids).
    seq: u64,
    url: Rc<str>,
    method: Rc<str>,
    lane: Lane,
    /// When it was made (`now_ms`): its queue wait starts.
    called_ms: f64,
    /// Where its time went, once it was answered through an op (none: a cache hit).
    timing: Cell<Option<Timing>>,
}

/// Where a call's outcome goes.
pub(crate) enum Sink {
    /// A caller of its own.
    One(Rc<Slot<Result<JsValue, Error>>>),
    /// Member `index` of a group.
    Group(Rc<GroupState>, usize),
}

/// A `schedule` task's side of the driver: told when it may run, or why it may not.
pub(crate) enum TaskPhase {
    Queued,
    /// It holds a slot: run with this signal (and the links that feed it).
    Run(AbortSignal, Vec<abort::AbortLink>),
    /// It never ran.
    Failed(Error),
    /// The future took what it needed.
    Taken,
}

/// A task's phase and its future's waker.
pub(crate) struct TaskSlot {
    pub phase: RefCell<TaskPhase>,
    waker: RefCell<Option<Waker>>,
}

impl TaskSlot {
    fn set(&self, phase: TaskPhase) {
        *self.phase.borrow_mut() = phase;
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }
}

enum Waiting {
    Request { body_as: BodyAs, sink: Sink },
    Task { slot: Rc<TaskSlot>, running: bool },
}

struct CallRec {
    info: Rc<CallInfo>,
    template: Option<Request>,
    signal: Option<AbortSignal>,
    /// Tells the machine when the caller's signal fires; dropped once settled.
    listener: Option<Listener>,
    waiting: Waiting,
}

struct OpRec {
    /// Tells this op from a later one under the same id.
    token: u64,
    opener: u32,
    info: Option<Rc<CallInfo>>,
    template: Option<Request>,
    url: Rc<str>,
    controller: Option<AbortController>,
    attempt: u32,
    response: Option<Response>,
    /// The last response went to a caller (body and all).
    claimed: bool,
    /// The last response's headers.
    headers: Vec<(String, String)>,
    /// The last transport error (or timeout reason).
    error: Option<JsValue>,
    /// The drain in which a timeout last aborted its attempt (0: never).
    timed_out_in: u64,
    /// Where its time goes.
    clock: Stopwatch,
    /// The stored body its conditional attempt revalidates (a 304 answers with it, and
    /// takes this op's clock).
    revalidates: Option<u32>,
}

struct State {
    machine: Machine,
    calls: HashMap<u32, CallRec>,
    /// Calls settled during this drain (events may still name them).
    recent: HashMap<u32, Rc<CallInfo>>,
    ops: HashMap<u32, OpRec>,
    bodies: HashMap<u32, Buffered>,
    draining: bool,
    drains: u64,
    /// The deadline the timer is armed for (NaN: none).
    deadline: f64,
    timer: Option<Timer>,
    idle: Vec<Waker>,
    /// Live answers being decoded (`json`, `text`): their calls still count as running.
    decoding: usize,
    seq: u64,
    tokens: u64,
    /// The reason `AbortFetch` (caller) uses while an abort is processed.
    abort_reason: Option<JsValue>,
    /// What the last failing Cache API lookup threw (the `cache-error` event's cause).
    last_store_error: Option<JsValue>,
    close_reason: Option<JsValue>,
    closed: bool,
    finished: bool,
    /// Latency and queue wait of the requests answered through the network: of all, and by
    /// host.
    latency: (Sketch, Sketch),
    latency_by_host: HashMap<Rc<str>, (Sketch, Sketch)>,
}

/// One client's machine and everything its commands need.
pub(crate) struct Driver {
    state: RefCell<State>,
    this: Weak<Driver>,
    transport: Transport,
    /// The client's default headers, added to every request that does not set them.
    headers: Vec<(String, String)>,
    persist: Option<PersistentStore>,
    pub emitter: Emitter,
    /// Aborted on close: what tasks without a signal of their own get.
    close: AbortController,
    closed: Cell<bool>,
    /// The global limit as it was when the client closed (a closed machine keeps none), or
    /// as set since.
    final_concurrency: Cell<usize>,
    /// The clients of the same `share` name in other tabs (`Config::share`).
    share: Option<Share>,
}

fn line(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push(':');
    out.push_str(value);
    out.push('\n');
}

fn lines(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (n, v) in pairs {
        line(&mut out, n, v);
    }
    out
}

/// Cancels the body of a response nobody will read, so its connection is freed.
fn cancel(response: &Response) {
    if response.body_used() {
        return;
    }
    let Ok(body) = js_sys::Reflect::get(response, &JsValue::from_str("body")) else { return };
    if body.is_null() || body.is_undefined() {
        return;
    }
    let cancel = js_sys::Reflect::get(&body, &JsValue::from_str("cancel")).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    if let Some(promise) = cancel.and_then(|f| f.call0(&body).ok()).and_then(|p| p.dyn_into::<js_sys::Promise>().ok()) {
        spawn_local(async move {
            let _ = JsFuture::from(promise).await;
        });
    }
}

fn js_error(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

fn error_of(kind: ErrorKind, url: &str, status: u16, attempts: u32) -> Error {
    let e = Error::new(kind, url).with_attempts(attempts);
    if status != 0 {
        e.with_status(status)
    } else {
        e
    }
}

impl Driver {
    pub fn new(config: &Config) -> Rc<Driver> {
        let seed = ((random() * 4_294_967_296.0) as u64) << 32 | (random() * 4_294_967_296.0) as u64;
        let machine = Machine::new(config.machine_config(), seed, wall_ms() - now_ms());
        let persist = config
            .cache
            .as_ref()
            .and_then(|c| c.persist.as_ref().map(|p| PersistentStore::new(p, &c.namespace)));
        Rc::new_cyclic(|this| Driver {
            state: RefCell::new(State {
                machine,
                calls: HashMap::default(),
                recent: HashMap::default(),
                ops: HashMap::default(),
                bodies: HashMap::default(),
                draining: false,
                drains: 0,
                deadline: f64::NAN,
                timer: None,
                idle: Vec::new(),
                decoding: 0,
                seq: 0,
                tokens: 0,
                abort_reason: None,
                last_store_error: None,
                close_reason: None,
                closed: false,
                finished: false,
                latency: Default::default(),
                latency_by_host: HashMap::default(),
            }),
            this: this.clone(),
            transport: config.transport.clone(),
            headers: config.headers.clone(),
            persist,
            emitter: Emitter::default(),
            close: abort::controller(),
            closed: Cell::new(false),
            final_concurrency: Cell::new(config.concurrency),
            share: config.share.as_ref().map(|c| Share::new(config, &c.name, this.clone())),
        })
    }

    fn rc(&self) -> Rc<Driver> {
        // `self` is always reached through the `Rc` that `new` made.
        self.this.upgrade().expect("driver alive")
    }

    fn info(&self, url: &str, method: &str, lane: Lane) -> Rc<CallInfo> {
        let mut s = self.state.borrow_mut();
        s.seq += 1;
        Rc::new(CallInfo {
            seq: s.seq,
            url: Rc::from(url),
            method: Rc::from(method),
            lane,
            called_ms: now_ms(),
            timing: Cell::new(None),
        })
    }

    // ---- events in -------------------------------------------------------------------

    /// Copies the caller's request (theirs stays untouched) with the client's headers.
    pub fn prepare(&self, request: &Request) -> Result<Request, Error> {
        let template = request.clone().map_err(|cause| Error::new(ErrorKind::Network, &request.url()).with_cause(cause))?;
        let headers = template.headers();
        for (name, value) in &self.headers {
            if !headers.has(name).unwrap_or(true) {
                // Only forbidden header names fail here; the browser drops them anyway.
                let _ = headers.set(name, value);
            }
        }
        Ok(template)
    }

    /// Hands a request to the machine, or to the leading tab while this one follows
    /// (`Config::share`); its outcome goes to `sink`. The caller drains. Returns the call id
    /// (0 when it settled at once).
    pub fn submit(&self, template: Request, options: RequestOptions, body_as: BodyAs, sink: Sink, group: u32) -> u32 {
        if let Some(share) = self.share.as_ref() {
            let aborted = options.signal.as_ref().is_some_and(AbortSignal::aborted);
            if !aborted && !self.closed.get() && share.follows() {
                return share.forward(&self.rc(), template, options, body_as, sink, group);
            }
        }
        self.submit_here(template, options, body_as, sink, group)
    }

    /// The share of a client made with `Config::share` (its hooks are only made for one).
    pub(crate) fn share(&self) -> &Share {
        self.share.as_ref().expect("a shared client")
    }

    /// Whether `call` is with the machine now.
    pub(crate) fn has_call(&self, call: u32) -> bool {
        self.state.borrow().calls.contains_key(&call)
    }

    /// Hands a request to this tab's machine; see [`Driver::submit`].
    pub fn submit_here(&self, template: Request, options: RequestOptions, body_as: BodyAs, sink: Sink, group: u32) -> u32 {
        let url = template.url();
        let method = template.method();
        let info = self.info(&url, &method, options.lane);
        if let Some(signal) = options.signal.as_ref().filter(|s| s.aborted()) {
            let kind = if self.closed.get() { ErrorKind::Closed } else { ErrorKind::Abort };
            self.settle(sink, Err(Error::new(kind, &url).with_cause(signal.reason())));
            return 0;
        }
        if self.closed.get() {
            self.settle(sink, Err(Error::new(ErrorKind::Closed, &url)));
            return 0;
        }
        let pairs = header_pairs(&template.headers());
        let headers = lines(&pairs);
        let idempotency_key = pairs.iter().any(|(n, _)| n == "idempotency-key");
        let credentials = template.credentials() == RequestCredentials::Include;
        let strategy = options.strategy.map(|s| s.to_machine());
        let retry = options.retry.map(Rc::new);
        let id = {
            let mut s = self.state.borrow_mut();
            s.machine.submit(
                now_ms(),
                &Submit {
                    method: &method,
                    url: &url,
                    host: host_of(&url),
                    key: options.key.as_deref(),
                    headers: &headers,
                    lane: options.lane,
                    strategy,
                    ttl_ms: options.ttl_ms,
                    timeout_ms: options.timeout_ms,
                    total_timeout_ms: options.total_timeout_ms,
                    dedupe: options.dedupe,
                    idempotency_key,
                    credentials,
                    retry,
                    group,
                    decodes: body_as != BodyAs::Response,
                },
            )
        };
        let listener = options.signal.as_ref().map(|signal| self.listen(signal, id));
        let rec = CallRec {
            info,
            template: Some(template),
            signal: options.signal,
            listener,
            waiting: Waiting::Request { body_as, sink },
        };
        self.state.borrow_mut().calls.insert(id, rec);
        id
    }

    /// Queues a `schedule` task. The caller drains.
    pub fn task(&self, lane: Lane, host: Option<&str>, signal: Option<AbortSignal>, slot: Rc<TaskSlot>) -> u32 {
        let info = self.info("", "", lane);
        if let Some(signal) = signal.as_ref().filter(|s| s.aborted()) {
            let kind = if self.closed.get() { ErrorKind::Closed } else { ErrorKind::Abort };
            slot.set(TaskPhase::Failed(Error::new(kind, "").with_cause(signal.reason())));
            return 0;
        }
        if self.closed.get() {
            slot.set(TaskPhase::Failed(Error::new(ErrorKind::Closed, "")));
            return 0;
        }
        let id = self.state.borrow_mut().machine.task(now_ms(), lane, host, 0);
        let listener = signal.as_ref().map(|s| self.listen(s, id));
        let rec = CallRec { info, template: None, signal, listener, waiting: Waiting::Task { slot, running: false } };
        self.state.borrow_mut().calls.insert(id, rec);
        id
    }

    /// A new task slot, waiting for its turn.
    pub fn task_slot() -> Rc<TaskSlot> {
        Rc::new(TaskSlot { phase: RefCell::new(TaskPhase::Queued), waker: RefCell::new(None) })
    }

    /// Polls a task's slot: ready once it may run (or never will).
    pub fn poll_task(slot: &TaskSlot, cx: &mut Context<'_>) -> Poll<Result<(AbortSignal, Vec<abort::AbortLink>), Error>> {
        let mut phase = slot.phase.borrow_mut();
        match core::mem::replace(&mut *phase, TaskPhase::Taken) {
            TaskPhase::Run(signal, links) => Poll::Ready(Ok((signal, links))),
            TaskPhase::Failed(e) => Poll::Ready(Err(e)),
            TaskPhase::Taken => Poll::Ready(Err(Error::new(ErrorKind::Closed, ""))),
            TaskPhase::Queued => {
                *phase = TaskPhase::Queued;
                *slot.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    /// A running task's function settled: its slot is free.
    pub fn task_done(&self, call: u32) {
        {
            let mut s = self.state.borrow_mut();
            s.calls.remove(&call);
            s.machine.task_done(now_ms(), call);
        }
        self.drain();
    }

    fn listen(&self, signal: &AbortSignal, call: u32) -> Listener {
        let weak = self.this.clone();
        Listener::new(signal, move || {
            if let Some(d) = weak.upgrade() {
                d.caller_aborted(call);
            }
        })
    }

    /// A caller's signal fired while its call was with the machine.
    fn caller_aborted(&self, call: u32) {
        {
            let mut s = self.state.borrow_mut();
            let reason = match s.calls.get(&call) {
                Some(CallRec { waiting: Waiting::Task { running: true, .. }, .. }) | None => return,
                Some(rec) => rec.signal.as_ref().map(|s| s.reason()),
            };
            if s.closed {
                return;
            }
            s.abort_reason = reason;
            s.machine.abort(now_ms(), call);
        }
        self.drain();
    }

    /// A caller stopped waiting (dropped its future): the call is aborted.
    pub fn abandon(&self, mut call: u32) {
        if call & FORWARDED != 0 {
            match self.share.as_ref().and_then(|s| s.abandon(call & !FORWARDED)) {
                Some(here) => call = here,
                None => return,
            }
        }
        if call == 0 {
            return;
        }
        {
            let mut s = self.state.borrow_mut();
            if s.closed || !s.calls.contains_key(&call) {
                return;
            }
            s.abort_reason = Some(js_error("fetchlane: the caller stopped waiting"));
            s.machine.abort(now_ms(), call);
        }
        self.drain();
    }

    /// A new group in the machine (0 once closed).
    pub fn open_group(&self, abort_on_failure: bool) -> u32 {
        let mut s = self.state.borrow_mut();
        if s.closed {
            return 0;
        }
        s.machine.open_group(abort_on_failure)
    }

    /// Aborts the members of `group` still waiting.
    pub fn abort_group(&self, group: u32, reason: Option<JsValue>) {
        if group == 0 {
            return;
        }
        if let Some(share) = self.share.as_ref() {
            share.abort_group(&self.rc(), group, reason.clone());
        }
        {
            let mut s = self.state.borrow_mut();
            if s.closed {
                return;
            }
            s.abort_reason = reason;
            s.machine.abort_group(now_ms(), group);
        }
        self.drain();
    }

    pub fn clear_queue(&self) {
        self.state.borrow_mut().machine.clear_queue(now_ms());
        self.drain();
    }

    pub fn set_concurrency(&self, limit: usize) {
        if self.closed.get() {
            self.final_concurrency.set(limit);
            return;
        }
        self.state.borrow_mut().machine.set_concurrency(now_ms(), limit);
        self.drain();
    }

    pub fn count_batched(&self, n: u64) {
        self.state.borrow_mut().machine.count_batched(n);
    }

    fn tick(&self) {
        {
            let mut s = self.state.borrow_mut();
            s.timer = None;
            s.deadline = f64::NAN;
            s.machine.tick(now_ms());
        }
        self.drain();
    }

    /// Tells the machine whether anyone listens (no `Emit` otherwise).
    pub fn update_listening(&self) {
        let on = !self.emitter.is_empty() && !self.closed.get();
        self.state.borrow_mut().machine.set_listening(on);
    }

    // ---- reading -----------------------------------------------------------------------

    pub fn active(&self) -> usize {
        self.state.borrow().machine.active()
    }

    /// Queued in the machine, or waiting on the leading tab.
    pub fn pending(&self) -> usize {
        self.state.borrow().machine.pending() + self.forwarded()
    }

    /// Calls handed to the leading tab and not answered yet.
    fn forwarded(&self) -> usize {
        self.share.as_ref().map_or(0, Share::waiting)
    }

    pub fn concurrency(&self) -> usize {
        if self.closed.get() {
            return self.final_concurrency.get();
        }
        self.state.borrow().machine.concurrency()
    }

    pub fn is_closed(&self) -> bool {
        self.closed.get()
    }

    pub fn stats(&self) -> Stats {
        let s = self.state.borrow();
        let empty = (Sketch::default(), Sketch::default());
        let hosts = s
            .machine
            .host_limits()
            .map(|(host, limit)| {
                let (latency, queue_wait) = s.latency_by_host.get(host).unwrap_or(&empty);
                HostStats {
                    host: host.to_owned(),
                    limit,
                    latency: latency.summary(),
                    queue_wait: queue_wait.summary(),
                }
            })
            .collect();
        Stats {
            share: self.share.as_ref().map_or_else(ShareStats::default, Share::stats),
            counters: s.machine.counters(),
            latency: s.latency.0.summary(),
            queue_wait: s.latency.1.summary(),
            hosts,
        }
    }

    /// A request was answered (or failed) through an op with `clock` (none: a cache hit, or
    /// no op): its timing is kept for its `settled` event, and a request that reached the
    /// network adds its latency and queue wait to the sketches.
    fn answered(&self, info: &CallInfo, clock: Option<Stopwatch>) {
        let Some(clock) = clock else { return };
        let now = now_ms();
        info.timing.set(Some(clock.timing(info.called_ms, now)));
        let Some(first) = clock.first_ms() else { return };
        let (total, queued) = (now - info.called_ms, (first - info.called_ms).max(0.0));
        let mut s = self.state.borrow_mut();
        let s = &mut *s;
        let host = host_of(&info.url);
        // A host's name is allocated once, at its first sample.
        if !s.latency_by_host.contains_key(host) {
            s.latency_by_host.insert(Rc::from(host), Default::default());
        }
        let Some(by_host) = s.latency_by_host.get_mut(host) else { return };
        for (latency, queue_wait) in [&mut s.latency, by_host] {
            latency.add(total);
            queue_wait.add(queued);
        }
    }

    /// Resolves when nothing is queued or running.
    pub fn idle(&self) -> Idle {
        Idle { driver: self.rc() }
    }

    /// Drops the memory entries whose URL matches; returns those URLs.
    pub fn forget_memory(&self, matches: &dyn Fn(&str) -> bool) -> Vec<String> {
        let urls = self.state.borrow().machine.cached_urls();
        let mut removed = Vec::new();
        for url in urls {
            if matches(&url) && self.state.borrow_mut().machine.forget(&url) > 0 {
                removed.push(String::from(&*url));
            }
        }
        self.drain();
        removed
    }

    pub fn clear_memory(&self) {
        self.state.borrow_mut().machine.clear_cache();
        self.drain();
    }

    pub fn persist(&self) -> Option<&PersistentStore> {
        self.persist.as_ref()
    }

    // ---- the drain ---------------------------------------------------------------------

    /// Executes the machine's commands until there are none, then re-arms the timer and
    /// wakes `on_idle` waiters. A call made while a drain runs only feeds the machine.
    pub fn drain(&self) {
        {
            let mut s = self.state.borrow_mut();
            if s.draining || s.finished {
                return;
            }
            s.draining = true;
            s.drains += 1;
        }
        let mut batch = Vec::new();
        loop {
            self.state.borrow_mut().machine.drain_commands(|c| batch.push(c));
            if batch.is_empty() {
                break;
            }
            for c in batch.drain(..) {
                self.exec(c);
            }
        }
        self.state.borrow_mut().draining = false;
        self.after();
    }

    fn after(&self) {
        let wake = {
            let mut s = self.state.borrow_mut();
            s.recent.clear();
            s.abort_reason = None;
            if s.closed {
                drop(s);
                self.finish_close();
                return;
            }
            let d = s.machine.deadline().unwrap_or(f64::INFINITY);
            if d != s.deadline {
                s.timer = None;
                s.deadline = d;
                if d.is_finite() {
                    let weak = self.this.clone();
                    let ms = (d - now_ms()).ceil().max(0.0);
                    s.timer = Some(Timer::once(ms, move || {
                        // Off the timer's own callback, which the tick drops.
                        spawn_local(async move {
                            if let Some(d) = weak.upgrade() {
                                d.tick();
                            }
                        });
                    }));
                }
            }
            if !s.idle.is_empty() && s.machine.active() + s.machine.pending() + s.decoding + self.forwarded() == 0 {
                core::mem::take(&mut s.idle)
            } else {
                Vec::new()
            }
        };
        for w in wake {
            w.wake();
        }
    }

    fn exec(&self, c: Command) {
        match c {
            Command::OpenOp { op, call } => {
                let mut s = self.state.borrow_mut();
                s.tokens += 1;
                let token = s.tokens;
                let (info, template) = match s.calls.get(&call) {
                    Some(rec) => (Some(rec.info.clone()), rec.template.clone()),
                    None => (s.recent.get(&call).cloned(), None),
                };
                let url = info.as_ref().map_or_else(|| Rc::from(""), |i| i.url.clone());
                s.ops.insert(
                    op,
                    OpRec {
                        token,
                        opener: call,
                        info,
                        template,
                        url,
                        controller: None,
                        attempt: 0,
                        response: None,
                        claimed: false,
                        headers: Vec::new(),
                        error: None,
                        timed_out_in: 0,
                        clock: Stopwatch::default(),
                        revalidates: None,
                    },
                );
            }
            Command::StartFetch { op, attempt, validator } => self.start_fetch(op, attempt, validator),
            Command::AbortFetch { op, reason } => self.abort_fetch(op, reason),
            Command::ReadBody { op, body, attempt } => self.read_body(op, body, attempt),
            Command::Discard { op } => {
                let mut s = self.state.borrow_mut();
                if let Some(o) = s.ops.get_mut(&op) {
                    if let Some(r) = o.response.take() {
                        if !o.claimed {
                            cancel(&r);
                        }
                    }
                }
            }
            Command::ResolveBody { call, body, source, attempts } => self.resolve_body(call, body, source, attempts),
            Command::ResolveResponse { call, op, attempts, .. } => self.resolve_response(call, op, attempts),
            Command::Reject { call, kind, status, attempts, op } => self.reject(call, kind, status, attempts, op),
            Command::RunTask { call } => self.run_task(call),
            Command::DropBody { body } => {
                self.state.borrow_mut().bodies.remove(&body);
            }
            Command::StoreRead { op, body } => self.store_read(op, body),
            Command::StoreWrite { body, op } => self.store_write(body, op),
            Command::StoreDelete { op } => self.store_delete(op),
            Command::Emit(e) => self.emit(e),
            Command::Limit { host, limit, reason } => self.emit_limit(host, limit, reason),
            Command::SetHeaders { body } => {
                let mut s = self.state.borrow_mut();
                if let Some(list) = s.machine.body_headers(body) {
                    if let Some(b) = s.bodies.get_mut(&body) {
                        b.headers = (*list).clone();
                    }
                }
            }
            Command::CloseOp { op } => {
                let removed = self.state.borrow_mut().ops.remove(&op);
                if let Some(o) = removed {
                    if let (Some(r), false) = (&o.response, o.claimed) {
                        cancel(r);
                    }
                }
            }
        }
    }

    // ---- network -----------------------------------------------------------------------

    fn start_fetch(&self, op: u32, attempt: u32, validator: Option<(Validator, u32)>) {
        let controller = abort::controller();
        let (request, token) = {
            let mut s = self.state.borrow_mut();
            let conditional = validator.and_then(|(v, body)| {
                let (name, header) = match v {
                    Validator::ETag => ("etag", "if-none-match"),
                    Validator::LastModified => ("last-modified", "if-modified-since"),
                };
                let value = s.bodies.get(&body)?.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))?.1.clone();
                Some((header, value))
            });
            let Some(o) = s.ops.get_mut(&op) else { return };
            o.controller = Some(controller.clone());
            o.attempt = attempt;
            o.headers.clear();
            o.clock.start(now_ms());
            if let Some((_, body)) = validator {
                o.revalidates = Some(body);
            }
            let init = RequestInit::new();
            init.set_signal(Some(&controller.signal()));
            let request = match &o.template {
                Some(t) => t.clone().and_then(|c| Request::new_with_request_and_init(&c, &init)),
                None => Request::new_with_str_and_init(&o.url, &init),
            };
            if let (Ok(r), Some((name, value))) = (&request, conditional) {
                // A no-cors request cannot carry it: the attempt goes unconditional.
                let _ = r.headers().set(name, value.trim());
            }
            (request, o.token)
        };
        // The transport may be user code: no borrow is held.
        let sent = match request {
            Ok(r) => self.transport.send(&r),
            Err(e) => js_sys::Promise::reject(&e),
        };
        let d = self.rc();
        spawn_local(async move {
            match JsFuture::from(sent).await {
                Ok(value) => d.arrived(op, token, attempt, &controller, value),
                Err(error) => d.transport_failed(op, token, attempt, &controller, error),
            }
        });
    }

    /// Whether a report about `op`'s attempt is out of date: the op was closed (or its id
    /// reused), a newer attempt started, or we aborted this one.
    fn stale(&self, op: u32, token: u64, attempt: u32, controller: Option<&AbortController>) -> bool {
        let s = self.state.borrow();
        s.finished
            || !s.ops.get(&op).is_some_and(|o| o.token == token && o.attempt == attempt)
            || controller.is_some_and(|c| c.signal().aborted())
    }

    fn arrived(&self, op: u32, token: u64, attempt: u32, controller: &AbortController, value: JsValue) {
        if self.stale(op, token, attempt, Some(controller)) {
            if let Some(r) = value.dyn_ref::<Response>() {
                cancel(r);
            }
            return;
        }
        let response: Response = match value.dyn_into() {
            Ok(r) => r,
            Err(other) => {
                let error = js_sys::Error::new("fetchlane: the fetch option resolved to something that is not a Response");
                error.set_cause(&other);
                return self.transport_failed(op, token, attempt, controller, error.into());
            }
        };
        let pairs = header_pairs(&response.headers());
        let block = lines(&pairs);
        let status = response.status();
        {
            let mut s = self.state.borrow_mut();
            let s = &mut *s;
            if let Some(o) = s.ops.get_mut(&op) {
                o.clock.stop(now_ms());
                // Parsed as the machine parses numbers: no sign, no exponent.
                o.clock.bytes = pairs
                    .iter()
                    .find(|(n, _)| n == "content-length")
                    .and_then(|(_, v)| parse_u64(trim(v)))
                    .map_or(f64::NAN, |n| n as f64);
                // A 304 answers with the stored body: its callers' timing is this op's.
                if let (304, Some(b)) = (status, o.revalidates.and_then(|b| s.bodies.get_mut(&b))) {
                    b.clock = Some(o.clock);
                }
                o.response = Some(response);
                o.claimed = false;
                o.headers = pairs;
            }
            s.machine.head(now_ms(), op, attempt, status.min(999), &block);
        }
        self.drain();
    }

    fn transport_failed(&self, op: u32, token: u64, attempt: u32, controller: &AbortController, error: JsValue) {
        if self.stale(op, token, attempt, Some(controller)) {
            return;
        }
        {
            let mut s = self.state.borrow_mut();
            if let Some(o) = s.ops.get_mut(&op) {
                o.error = Some(error);
                o.clock.stop(now_ms());
            }
            s.machine.transport_failed(now_ms(), op, attempt);
        }
        self.drain();
    }

    fn abort_fetch(&self, op: u32, reason: AbortReason) {
        let mut s = self.state.borrow_mut();
        let drains = s.drains;
        let why = match reason {
            AbortReason::Timeout => js_error("fetchlane: the attempt timed out (timeoutMs)"),
            AbortReason::TotalTimeout => js_error("fetchlane: totalTimeoutMs ran out"),
            AbortReason::Closed => s.close_reason.clone().unwrap_or_else(|| js_error("fetchlane: the client was closed")),
            AbortReason::Caller => s
                .abort_reason
                .clone()
                .unwrap_or_else(|| js_error("fetchlane: every caller of a shared request aborted")),
        };
        let Some(o) = s.ops.get_mut(&op) else { return };
        o.clock.stop(now_ms());
        if matches!(reason, AbortReason::Timeout | AbortReason::TotalTimeout) {
            o.error = Some(why.clone());
            o.timed_out_in = drains;
        }
        let controller = o.controller.clone();
        drop(s);
        if let Some(c) = controller {
            c.abort_with_reason(&why);
        }
    }

    fn read_body(&self, op: u32, body: u32, attempt: u32) {
        let (response, token, controller, url) = {
            let mut s = self.state.borrow_mut();
            let Some(o) = s.ops.get_mut(&op) else { return };
            // Reading the body is network time too.
            o.clock.resume(now_ms());
            let response = o.response.take().filter(|_| !o.claimed);
            (response, o.token, o.controller.clone(), o.url.clone())
        };
        let d = self.rc();
        spawn_local(async move {
            let read = match &response {
                Some(r) => Buffered::read(r, &url).await,
                None => Err(Error::new(ErrorKind::Network, &url).with_cause(js_error("fetchlane: no response to read"))),
            };
            if d.stale(op, token, attempt, controller.as_ref()) {
                return;
            }
            {
                let mut s = d.state.borrow_mut();
                match read {
                    Ok(mut b) => {
                        let len = b.len() as u64;
                        if let Some(o) = s.ops.get_mut(&op) {
                            o.clock.stop(now_ms());
                            o.clock.bytes = len as f64;
                            b.clock = Some(o.clock);
                            if !o.headers.is_empty() {
                                b.headers = o.headers.clone();
                            }
                        }
                        s.bodies.insert(body, b);
                        s.machine.body(now_ms(), op, attempt, len);
                    }
                    Err(e) => {
                        if let Some(o) = s.ops.get_mut(&op) {
                            o.error = e.cause;
                            o.clock.stop(now_ms());
                        }
                        s.machine.body_failed(now_ms(), op, attempt);
                    }
                }
            }
            d.drain();
        });
    }

    // ---- answers -----------------------------------------------------------------------

    /// Takes `call`'s record out (events of this drain may still name it).
    fn take(&self, call: u32) -> Option<CallRec> {
        let mut s = self.state.borrow_mut();
        let rec = s.calls.remove(&call)?;
        s.recent.insert(call, rec.info.clone());
        Some(rec)
    }

    /// Hands an outcome to its caller (or group).
    pub fn settle(&self, sink: Sink, result: Result<JsValue, Error>) {
        match sink {
            Sink::One(slot) => {
                slot.send(result);
            }
            Sink::Group(group, index) => {
                let after = group.settle(index, result);
                if after.abort {
                    self.abort_group(after.id, group.reason());
                }
                if after.ended && after.id != 0 {
                    self.state.borrow_mut().machine.close_group(after.id);
                }
            }
        }
    }

    /// Why a caller is aborted: its own signal's reason, else its group's.
    fn abort_cause(rec: &CallRec) -> Option<JsValue> {
        if let Some(s) = rec.signal.as_ref().filter(|s| s.aborted()) {
            return Some(s.reason());
        }
        match &rec.waiting {
            Waiting::Request { sink: Sink::Group(g, _), .. } => g.reason(),
            _ => None,
        }
    }

    /// The error of a body that did not decode: the caller's abort when that is why.
    fn decode_failure(&self, rec: &CallRec, error: Error, attempts: u32) -> Error {
        match Self::abort_cause(rec) {
            Some(cause) => {
                let kind = if self.closed.get() { ErrorKind::Closed } else { ErrorKind::Abort };
                Error::new(kind, &rec.info.url).with_attempts(attempts).with_cause(cause)
            }
            None => error.with_attempts(attempts),
        }
    }

    fn resolve_body(&self, call: u32, body: u32, source: Source, attempts: u32) {
        let Some(rec) = self.take(call) else { return };
        let Waiting::Request { body_as, .. } = &rec.waiting else { return };
        let body_as = *body_as;
        let buffered = self.state.borrow().bodies.get(&body).cloned();
        // Network and dedupe answers carry the clock of the op that last answered with the
        // body: the one that read it, or the one whose 304 revalidated it; a cache hit none.
        let clock = match source {
            Source::Network | Source::Dedupe | Source::Revalidated => buffered.as_ref().and_then(|b| b.clock),
            Source::Memory | Source::Persistent => None,
        };
        self.answered(&rec.info, clock);
        let result = match buffered {
            Some(b) => b.decode(body_as, &rec.info.url).map_err(|e| self.decode_failure(&rec, e, attempts)),
            None => Err(Error::new(ErrorKind::Network, &rec.info.url)
                .with_attempts(attempts)
                .with_cause(js_error("fetchlane: the buffered body is gone"))),
        };
        let ok = result.is_ok();
        if let Waiting::Request { sink, .. } = rec.waiting {
            self.settle(sink, result);
        }
        if body_as != BodyAs::Response {
            self.state.borrow_mut().machine.decoded(now_ms(), call, ok);
        }
    }

    fn resolve_response(&self, call: u32, op: u32, attempts: u32) {
        let (response, mut clock) = {
            let mut s = self.state.borrow_mut();
            match s.ops.get_mut(&op) {
                Some(o) => {
                    o.claimed = true;
                    (o.response.clone(), Some(o.clock))
                }
                None => (None, None),
            }
        };
        let Some(rec) = self.take(call) else {
            if let Some(r) = response {
                cancel(&r);
            }
            return;
        };
        let Waiting::Request { body_as, .. } = &rec.waiting else { return };
        let body_as = *body_as;
        let Some(response) = response else {
            let e = Error::new(ErrorKind::Network, &rec.info.url)
                .with_attempts(attempts)
                .with_cause(js_error("fetchlane: the response is gone"));
            if let Waiting::Request { sink, .. } = rec.waiting {
                self.settle(sink, Err(e));
            }
            if body_as != BodyAs::Response {
                self.state.borrow_mut().machine.decoded(now_ms(), call, false);
            }
            return;
        };
        if body_as == BodyAs::Response {
            // The caller reads the body: the network time ends at the head.
            self.answered(&rec.info, clock);
            if let Waiting::Request { sink, .. } = rec.waiting {
                self.settle(sink, Ok(response.into()));
            }
            return;
        }
        let d = self.rc();
        self.state.borrow_mut().decoding += 1;
        if let Some(c) = clock.as_mut() {
            // The op closes before the read ends: its clock runs on here.
            c.resume(now_ms());
        }
        spawn_local(async move {
            let url = rec.info.url.clone();
            let info = rec.info.clone();
            let result = decode(response, body_as, &url).await.map_err(|e| d.decode_failure(&rec, e, attempts));
            if let Some(c) = clock.as_mut() {
                c.stop(now_ms());
            }
            d.answered(&rec.info, clock);
            let ok = result.is_ok();
            if let Waiting::Request { sink, .. } = rec.waiting {
                d.settle(sink, result);
            }
            {
                let mut s = d.state.borrow_mut();
                s.decoding -= 1;
                // Its `settled` event names it (the call left `calls` when it was answered).
                s.recent.insert(call, info);
                s.machine.decoded(now_ms(), call, ok);
            }
            d.drain();
        });
    }

    fn reject(&self, call: u32, kind: ErrorKind, status: u16, attempts: u32, op: u32) {
        let Some(rec) = self.take(call) else { return };
        let mut e = error_of(kind, &rec.info.url, status, attempts);
        let clock = self.state.borrow().ops.get(&op).map(|o| o.clock);
        self.answered(&rec.info, clock);
        {
            let mut s = self.state.borrow_mut();
            let drains = s.drains;
            let o = if op == 0 { None } else { s.ops.get_mut(&op) };
            match kind {
                ErrorKind::Abort => e.cause = Self::abort_cause(&rec),
                ErrorKind::Network => e.cause = o.and_then(|o| o.error.clone()),
                ErrorKind::Timeout => {
                    // A timeout that aborted an attempt in this batch carries its reason;
                    // otherwise the total timeout ran out while the request waited.
                    e.cause = Some(match o {
                        Some(o) if o.timed_out_in == drains && o.error.is_some() => o.error.clone().unwrap_or(JsValue::UNDEFINED),
                        _ => js_error("fetchlane: totalTimeoutMs ran out"),
                    });
                }
                ErrorKind::Http | ErrorKind::RateLimit => {
                    // Every caller of a shared request gets the same Response.
                    if let Some(o) = o {
                        e.response = o.response.clone();
                        o.claimed = true;
                    }
                }
                _ => {}
            }
        }
        match rec.waiting {
            Waiting::Request { sink, .. } => self.settle(sink, Err(e)),
            Waiting::Task { slot, .. } => slot.set(TaskPhase::Failed(e)),
        }
    }

    // ---- tasks -------------------------------------------------------------------------

    /// `RunTask`: the task holds a slot. Its signal aborts with the caller's and on close.
    fn run_task(&self, call: u32) {
        let mut s = self.state.borrow_mut();
        let Some(rec) = s.calls.get_mut(&call) else { return };
        let Waiting::Task { slot, running } = &mut rec.waiting else { return };
        if *running {
            return;
        }
        *running = true;
        let slot = slot.clone();
        // From now on the signal is the task's own business.
        let listener = rec.listener.take();
        let own = rec.signal.clone();
        drop(s);
        drop(listener);
        let (signal, links) = match own {
            None => (self.close.signal(), Vec::new()),
            Some(own) => {
                let controller = abort::controller();
                let links = vec![abort::link(&own, &controller), abort::link(&self.close.signal(), &controller)];
                (controller.signal(), links)
            }
        };
        slot.set(TaskPhase::Run(signal, links));
    }

    // ---- events out --------------------------------------------------------------------

    fn emit(&self, e: crate::machine::Event) {
        if self.emitter.is_empty() {
            return;
        }
        let (info, cause) = {
            let s = self.state.borrow();
            let info = s
                .calls
                .get(&e.call)
                .map(|r| r.info.clone())
                .or_else(|| s.recent.get(&e.call).cloned())
                .or_else(|| s.ops.values().find(|o| o.opener == e.call).and_then(|o| o.info.clone()));
            (info, if e.kind == EventKind::CacheError { s.last_store_error.clone() } else { None })
        };
        let kind = match e.kind {
            EventKind::Queued => EventType::Queued,
            EventKind::Start => EventType::Start,
            EventKind::Retry => EventType::Retry,
            EventKind::CacheHit => EventType::CacheHit,
            EventKind::RateLimited => EventType::RateLimited,
            EventKind::Settled => EventType::Settled,
            EventKind::CacheUpdate => EventType::CacheUpdate,
            EventKind::CacheError => EventType::CacheError,
        };
        let source = match e.kind {
            EventKind::CacheUpdate => Some("network"),
            _ => e.source.map(|s| s.as_str()),
        };
        self.tell(Event {
            kind,
            id: info.as_ref().map_or(u64::from(e.call), |i| i.seq),
            url: info.as_ref().map_or_else(|| Rc::from(""), |i| i.url.clone()),
            method: info.as_ref().map_or_else(|| Rc::from(""), |i| i.method.clone()),
            lane: info.as_ref().map_or(Lane::Normal, |i| i.lane),
            time_ms: now_ms(),
            attempt: e.attempt,
            delay_ms: e.delay_ms,
            reason: e.reason.map(|r| r.as_str()),
            status: e.status,
            error: e.error,
            source,
            duration_ms: e.duration_ms,
            timing: (kind == EventType::Settled).then(|| info.as_ref().and_then(|i| i.timing.get()).unwrap_or_default()),
            cause,
            ..Event::of(kind, 0.0)
        });
    }

    fn emit_limit(&self, host: u32, limit: u32, reason: crate::machine::LimitReason) {
        if self.emitter.is_empty() {
            return;
        }
        let name: Option<Rc<str>> = self.state.borrow().machine.host_name(host).map(Rc::from);
        self.tell(Event {
            reason: Some(reason.as_str()),
            host: name,
            limit: Some(limit),
            ..Event::of(EventType::Limit, now_ms())
        });
    }

    /// Every host seen, with its limit (adaptive, or the per-host limit).
    pub fn host_limits(&self) -> Vec<(String, usize)> {
        self.state.borrow().machine.host_limits().map(|(h, l)| (h.to_owned(), l)).collect()
    }

    fn tell(&self, event: Event) {
        self.emitter.emit(&event);
    }

    // ---- the Cache API -----------------------------------------------------------------

    /// What an op is stored under: its template (its headers count for `Vary`).
    fn store_key(&self, op: u32) -> Option<(Request, Rc<str>, u64)> {
        let s = self.state.borrow();
        let o = s.ops.get(&op)?;
        let key = match &o.template {
            Some(t) => Clone::clone(t),
            None => Request::new_with_str(&o.url).ok()?,
        };
        Some((key, o.url.clone(), o.token))
    }

    fn no_store() -> JsValue {
        js_error("fetchlane: this client has no persistent cache")
    }

    fn store_read(&self, op: u32, body: u32) {
        let Some((key, url, token)) = self.store_key(op) else { return };
        let d = self.rc();
        spawn_local(async move {
            let found = match d.persist() {
                Some(p) => p.read(&key, &url).await,
                None => Err(Self::no_store()),
            };
            {
                let mut s = d.state.borrow_mut();
                if s.finished || !s.ops.get(&op).is_some_and(|o| o.token == token) {
                    return;
                }
                match found {
                    Ok(Some((b, stored_at))) => {
                        let block = lines(&b.headers);
                        s.bodies.insert(body, b);
                        s.machine.store_read(now_ms(), op, Some((stored_at, &block)));
                    }
                    Ok(None) => s.machine.store_read(now_ms(), op, None),
                    Err(e) => {
                        s.last_store_error = Some(e);
                        s.machine.store_failed(now_ms(), op);
                    }
                }
            }
            d.drain();
        });
    }

    fn store_write(&self, body: u32, op: u32) {
        let Some((key, _, _)) = self.store_key(op) else { return };
        let Some(buffered) = self.state.borrow().bodies.get(&body).cloned() else { return };
        let info = self.state.borrow().ops.get(&op).and_then(|o| o.info.clone());
        let d = self.rc();
        spawn_local(async move {
            let written = match d.persist() {
                Some(p) => p.write(&key, &buffered).await,
                None => Err(Self::no_store()),
            };
            if let Err(e) = written {
                d.store_write_failed(info, e);
            }
        });
    }

    fn store_delete(&self, op: u32) {
        let Some((key, _, _)) = self.store_key(op) else { return };
        let info = self.state.borrow().ops.get(&op).and_then(|o| o.info.clone());
        let d = self.rc();
        spawn_local(async move {
            let removed = match d.persist() {
                Some(p) => p.remove(&key).await,
                None => Err(Self::no_store()),
            };
            if let Err(e) = removed {
                d.store_write_failed(info, e);
            }
        });
    }

    /// A Cache API write or delete failed: the machine asks nothing more about it, so the
    /// driver tells listeners itself.
    fn store_write_failed(&self, info: Option<Rc<CallInfo>>, cause: JsValue) {
        if self.emitter.is_empty() || self.closed.get() {
            return;
        }
        self.tell(Event {
            id: info.as_ref().map_or(0, |i| i.seq),
            url: info.as_ref().map_or_else(|| Rc::from(""), |i| i.url.clone()),
            method: info.as_ref().map_or_else(|| Rc::from(""), |i| i.method.clone()),
            lane: info.as_ref().map_or(Lane::Normal, |i| i.lane),
            cause: Some(cause),
            ..Event::of(EventType::CacheError, now_ms())
        });
    }

    // ---- closing -----------------------------------------------------------------------

    /// Aborts all work; later calls fail with kind `closed`. Listeners hear nothing more.
    pub fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        self.emitter.clear();
        // First: the answers to other tabs' calls that the close below fails must not reach
        // them; their calls go to the next leader.
        if let Some(share) = self.share.as_ref() {
            share.close(&self.rc());
        }
        {
            let mut s = self.state.borrow_mut();
            s.machine.set_listening(false);
            s.closed = true;
            s.close_reason = Some(js_error("fetchlane: the client was closed"));
            self.final_concurrency.set(s.machine.concurrency());
            s.machine.close(now_ms());
        }
        self.drain();
    }

    /// The end of `close`, once no drain runs: end what the machine left, stop the timer.
    fn finish_close(&self) {
        let (ops, calls, idle, reason) = {
            let mut s = self.state.borrow_mut();
            if s.finished {
                return;
            }
            s.finished = true;
            s.timer = None;
            s.bodies.clear();
            let ops: Vec<OpRec> = s.ops.drain().map(|(_, o)| o).collect();
            let calls: Vec<CallRec> = s.calls.drain().map(|(_, c)| c).collect();
            (ops, calls, core::mem::take(&mut s.idle), s.close_reason.clone())
        };
        let reason = reason.unwrap_or(JsValue::UNDEFINED);
        for o in ops {
            if o.claimed {
                continue;
            }
            if let Some(c) = &o.controller {
                if !c.signal().aborted() {
                    c.abort_with_reason(&reason);
                }
            }
            if let Some(r) = &o.response {
                cancel(r);
            }
        }
        for rec in calls {
            let e = Error::new(ErrorKind::Closed, &rec.info.url);
            match rec.waiting {
                // A running task settles on its own.
                Waiting::Task { running: true, .. } => {}
                Waiting::Task { slot, .. } => slot.set(TaskPhase::Failed(e)),
                Waiting::Request { sink, .. } => self.settle(sink, Err(e)),
            }
        }
        self.close.abort_with_reason(&reason);
        for w in idle {
            w.wake();
        }
    }
}

/// Resolves when the client has nothing queued or running.
#[must_use = "futures do nothing unless awaited"]
pub(crate) struct Idle {
    driver: Rc<Driver>,
}

impl Future for Idle {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.driver.state.borrow_mut();
        if s.finished || s.machine.active() + s.machine.pending() + s.decoding + self.driver.forwarded() == 0 {
            return Poll::Ready(());
        }
        if !s.idle.iter().any(|w| w.will_wake(cx.waker())) {
            s.idle.push(cx.waker().clone());
        }
        Poll::Pending
    }
}
