//! The request pipeline as one synchronous, deterministic state machine.
//!
//! It does no I/O and holds no JS values and no futures (the shape of quinn-proto): a driver
//! feeds it events (a call was made, a response head arrived, a body was read, a timer
//! fired, a caller aborted) with the time, and executes the [`Command`]s it emits (start or
//! abort a fetch, read a body, answer or fail a caller, read or write the Cache API, tell
//! listeners). Every decision is made here: de-duplication, the cache strategies and
//! revalidation, lanes and permits, rate windows and host pauses, retries and timeouts,
//! `all` groups. Drivers stay thin: the npm package's is JS (`js/driver.js`), and the wire
//! format is in `docs/protocol.md`.
//!
//! `cargo test` drives it with a fake clock; property tests feed it random event sequences
//! and check that every caller settles exactly once, that no limit is ever exceeded, and
//! that nothing is left behind.

use crate::prelude::*;

use alloc::rc::Rc;

mod adaptive;
pub mod command;
pub mod config;
mod flow;
pub mod headers;
pub mod memory;
mod slab;
mod state;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod sim;
mod timers;

pub use command::{AbortReason, Command, Event, EventKind, RetryReason, Source, Validator};
pub use config::{AdaptiveSettings, CacheSettings, MachineConfig, RateRule, Strategy};
pub use crate::core::adaptive::LimitReason;

use crate::core::error::ErrorKind;
use crate::core::str_map::StrMap;
use crate::core::lane::Lane;
use crate::core::rate_window::RateWindow;
use crate::core::retry_policy::RetryPolicy;
use crate::core::scheduler::{Scheduler, TaskId, Work};
use memory::MemoryStore;
use slab::Slab;
use state::{Call, CallKind, Group};
use timers::Timers;

/// One request as a driver submits it. Strings are borrowed for the call only.
#[derive(Clone, Debug, Default)]
pub struct Submit<'a> {
    /// Upper-case method.
    pub method: &'a str,
    /// Absolute URL.
    pub url: &'a str,
    /// `host:port` of the URL.
    pub host: &'a str,
    /// The caller's cache and dedupe key (`init.key`). Default none: the URL.
    pub key: Option<&'a str>,
    /// Request headers as `name:value\n` lines, lower-case names, in `Headers` order.
    pub headers: &'a str,
    /// Queue lane. Default normal.
    pub lane: Lane,
    /// Cache strategy for this request. Default none: the client's.
    pub strategy: Option<Strategy>,
    /// Freshness override. Default none: the client's.
    pub ttl_ms: Option<f64>,
    /// Per-attempt timeout. Default none: the client's.
    pub timeout_ms: Option<f64>,
    /// Total timeout. Default none: the client's.
    pub total_timeout_ms: Option<f64>,
    /// De-duplicate. Default none: the client's rule (GET and HEAD).
    pub dedupe: Option<bool>,
    /// The request carries an `Idempotency-Key` header. Default false.
    pub idempotency_key: bool,
    /// `credentials: 'include'`. Default false.
    pub credentials: bool,
    /// Retry contract for this request. Default none: the client's.
    pub retry: Option<Rc<RetryPolicy>>,
    /// The group it belongs to, 0 for none.
    pub group: u32,
    /// The driver decodes the body before answering (`json`, `text`) and reports the outcome
    /// with [`Machine::decoded`]. Default false.
    pub decodes: bool,
}

/// Counters since the machine was made, as `stats()` reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counters {
    /// Requests whose first attempt started.
    pub started: u64,
    /// Callers answered (a `json`/`text` call once its body decoded).
    pub succeeded: u64,
    /// Callers failed (a body that did not decode included).
    pub failed: u64,
    /// Attempts after the first.
    pub retried: u64,
    /// Callers that joined an identical request in flight.
    pub deduped: u64,
    /// Loader keys sent in batches.
    pub batched: u64,
    /// Answers from the memory cache.
    pub memory_hits: u64,
    /// Answers from the Cache API.
    pub persistent_hits: u64,
    /// Cached requests the store could not answer.
    pub cache_misses: u64,
    /// 429/503 answers with a wait.
    pub rate_limited: u64,
    /// Response body bytes received: the `Content-Length` of successful answers, or the bytes
    /// read where there was none (a live answer the caller reads itself is not counted then).
    pub bytes: u64,
}

/// The machine. See the module docs.
pub struct Machine {
    cfg: MachineConfig,
    sched: Scheduler,
    calls: Slab<Call>,
    ops: Slab<state::Op>,
    /// Ops that identical requests may join, by dedupe key. `usize` values, like the LRU's
    /// index, so that both share one hash-table instantiation in the wasm.
    inflight: StrMap,
    groups: Slab<Group>,
    memory: Option<MemoryStore>,
    /// Adaptive limits by host id (empty while it is off); only hosts that opened ops have
    /// theirs in the scheduler.
    adaptive: Vec<crate::core::adaptive::AdaptiveLimit>,
    /// References to each live body id (memory entries, ops reading, revalidating or
    /// falling back on it).
    body_refs: Slab<u32>,
    timers: Timers,
    /// The last wake-up time handed to the timers for the scheduler.
    wake_armed: f64,
    out: Vec<Command>,
    counters: Counters,
    rng: u64,
    wall_offset_ms: f64,
    closed: bool,
    listening: bool,
}

/// Scheduler ids: ops and tasks share one id space.
fn op_task(op: u32) -> TaskId {
    (u64::from(op) << 1) | 1
}
fn call_task(call: u32) -> TaskId {
    u64::from(call) << 1
}

impl Machine {
    /// A machine with `cfg`. `seed` seeds the backoff jitter; `wall_offset_ms` turns the
    /// driver's clock into ms since the epoch (for HTTP dates).
    pub fn new(cfg: MachineConfig, seed: u64, wall_offset_ms: f64) -> Machine {
        let mut sched = Scheduler::new(cfg.concurrency, cfg.per_host);
        for rule in &cfg.rate_limits {
            let host = rule.host.as_deref().map(|h| sched.host(h));
            sched.add_window(host, RateWindow::new(rule.limit, rule.interval_ms));
        }
        let memory = cfg.cache.as_ref().map(|c| MemoryStore::new(c.max_entries, c.max_bytes));
        Machine {
            cfg,
            sched,
            calls: Slab::default(),
            ops: Slab::default(),
            inflight: StrMap::default(),
            groups: Slab::default(),
            memory,
            adaptive: Vec::new(),
            body_refs: Slab::default(),
            timers: Timers::default(),
            wake_armed: f64::INFINITY,
            out: Vec::new(),
            counters: Counters::default(),
            // xorshift must not start at zero.
            rng: seed | 1,
            wall_offset_ms,
            closed: false,
            listening: false,
        }
    }

    /// Hands the commands decided so far to `f`, in the order they were decided.
    pub fn drain_commands(&mut self, mut f: impl FnMut(Command)) {
        // Commands are `Copy`: read in place, then cleared (`drain` links range checks).
        for &c in &self.out {
            f(c);
        }
        self.out.clear();
    }

    /// How many commands wait.
    pub fn pending_commands(&self) -> usize {
        self.out.len()
    }

    /// The headers the memory cache holds for `body` (what a [`Command::SetHeaders`]
    /// announced). A scan of the entries: it runs once per revalidation.
    pub fn body_headers(&self, body: u32) -> Option<Rc<headers::HeaderList>> {
        self.memory.as_ref()?.headers_of(body)
    }

    /// When the driver must call [`tick`](Self::tick) next (its clock), if ever.
    pub fn deadline(&self) -> Option<f64> {
        self.timers.next()
    }

    /// Whether anyone listens to events; without listeners no [`Command::Emit`] is made.
    pub fn set_listening(&mut self, on: bool) {
        self.listening = on;
    }

    /// Counters since creation.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Loader keys that went out in a batch of `n`.
    pub fn count_batched(&mut self, n: u64) {
        self.counters.batched += n;
    }

    /// Body bytes the driver read itself (a live answer without `Content-Length` that it
    /// decoded for `json`/`text`).
    pub fn count_bytes(&mut self, n: u64) {
        self.counters.bytes += n;
    }

    /// Work holding a permit.
    pub fn active(&self) -> usize {
        self.sched.active()
    }

    /// Work waiting for a permit.
    pub fn pending(&self) -> usize {
        self.sched.pending()
    }

    /// The global limit (`usize::MAX` for none).
    pub fn concurrency(&self) -> usize {
        self.sched.concurrency()
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Callers, operations and bodies still held: all zero once everything settled (bodies
    /// held by the memory cache aside) and after [`close`](Self::close).
    pub fn held(&self) -> (usize, usize, usize) {
        let cached = self.memory.as_ref().map_or(0, MemoryStore::len);
        (
            self.calls.len(),
            self.ops.len(),
            self.body_refs.len().saturating_sub(cached),
        )
    }

    // Not inlined into its callers: smaller in the wasm.
    #[inline(never)]
    fn wall(&self, now: f64) -> f64 {
        now + self.wall_offset_ms
    }

    fn random(&mut self) -> f64 {
        // xorshift64*: plenty for jitter, and deterministic for tests.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn push(&mut self, c: Command) {
        self.out.push(c);
    }

    /// Tells listeners, if there are any.
    fn emit(&mut self, event: Event) {
        if self.listening {
            self.push(Command::Emit(event));
        }
    }

    // ---- events in -------------------------------------------------------------------

    /// A caller's request. Returns its call id; its answer comes as a command.
    pub fn submit(&mut self, now: f64, req: &Submit<'_>) -> u32 {
        let id = self.calls.insert(Call {
            kind: CallKind::Request,
            op: 0,
            group: req.group,
            submitted_ms: now,
            joined: false,
            host: None,
            decodes: req.decodes,
            answer: (Source::Network, 0, 0),
        });
        if self.closed {
            let c = self.calls.remove(id);
            self.settle_err(id, c.as_ref(), now, ErrorKind::Closed, 0, 0, 0);
            return id;
        }
        if req.group != 0 {
            if let Some(g) = self.groups.get_mut(req.group) {
                g.members.push(id);
            }
        }
        self.route(now, id, req);
        self.pump(now);
        id
    }

    /// A `schedule` task: it runs (a [`Command::RunTask`]) when a permit is free.
    pub fn task(&mut self, now: f64, lane: Lane, host: Option<&str>, group: u32) -> u32 {
        let host = if self.closed {
            None
        } else {
            host.map(|h| self.sched.host(h))
        };
        let id = self.calls.insert(Call {
            kind: CallKind::TaskQueued,
            op: 0,
            group,
            submitted_ms: now,
            joined: false,
            host,
            decodes: false,
            answer: (Source::Network, 0, 0),
        });
        if self.closed {
            let c = self.calls.remove(id);
            self.settle_err(id, c.as_ref(), now, ErrorKind::Closed, 0, 0, 0);
            return id;
        }
        if group != 0 {
            if let Some(g) = self.groups.get_mut(group) {
                g.members.push(id);
            }
        }
        self.sched.enqueue(Work {
            id: call_task(id),
            lane,
            host,
            metered: false,
        });
        self.pump(now);
        id
    }

    /// A running task's function settled: its permit is free.
    pub fn task_done(&mut self, now: f64, call: u32) {
        if let Some(c) = self.calls.get(call) {
            if c.kind == CallKind::TaskRunning {
                let host = c.host;
                self.calls.remove(call);
                self.leave_group(call);
                self.sched.finish(call_task(call), host, now);
                self.pump(now);
            }
        }
    }

    /// The caller's signal fired. A queued task or a request is rejected with kind `abort`;
    /// a running task settles through its own signal.
    pub fn abort(&mut self, now: f64, call: u32) {
        self.abort_call(now, call, ErrorKind::Abort);
        self.pump(now);
    }

    /// A new group; `abort_on_failure` makes its first failure abort the rest.
    pub fn open_group(&mut self, abort_on_failure: bool) -> u32 {
        self.groups.insert(Group {
            abort_on_failure,
            members: Vec::new(),
            failed: false,
        })
    }

    /// Aborts every member of `group` still waiting (a member failed in the driver, say a
    /// body that did not decode).
    pub fn abort_group(&mut self, now: f64, group: u32) {
        let members = match self.groups.get_mut(group) {
            Some(g) => {
                g.failed = true;
                core::mem::take(&mut g.members)
            }
            None => return,
        };
        for m in members {
            self.abort_call(now, m, ErrorKind::Abort);
        }
        self.pump(now);
    }

    /// The driver is done with `group`.
    pub fn close_group(&mut self, group: u32) {
        self.groups.remove(group);
    }

    /// Time passed: fires what is due.
    pub fn tick(&mut self, now: f64) {
        while let Some((kind, owner, stamp)) = self.timers.pop_due(now) {
            self.fire(now, kind, owner, stamp);
        }
        self.wake_armed = f64::INFINITY;
        self.pump(now);
    }

    /// Changes the global limit at run time.
    pub fn set_concurrency(&mut self, now: f64, limit: usize) {
        self.sched.set_concurrency(limit);
        self.pump(now);
    }

    /// Rejects everything queued (not yet started) with kind `abort`.
    pub fn clear_queue(&mut self, now: f64) {
        for id in self.sched.drain_queue() {
            let key = (id >> 1) as u32;
            if id & 1 == 1 {
                self.fail_op(now, key, ErrorKind::Abort, None);
            } else {
                self.calls.remove(key);
                self.settle_err(key, None, now, ErrorKind::Abort, 0, 0, 0);
            }
        }
        self.pump(now);
    }

    /// Ends everything: callers waiting fail with kind `closed`, attempts are aborted,
    /// stored bodies dropped. Running tasks settle through their own signals.
    pub fn close(&mut self, now: f64) {
        if self.closed {
            return;
        }
        self.closed = true;
        for op in self.ops.ids() {
            self.fail_op(now, op, ErrorKind::Closed, Some(AbortReason::Closed));
        }
        for call in self.calls.ids() {
            if let Some(c) = self.calls.remove(call) {
                if c.kind != CallKind::TaskRunning && c.kind != CallKind::Decoding {
                    self.settle_err(call, Some(&c), now, ErrorKind::Closed, 0, 0, 0);
                }
            }
        }
        if let Some(memory) = self.memory.as_mut() {
            let bodies = memory.clear();
            self.release_bodies(bodies);
        }
        self.groups.clear();
        self.inflight.clear();
        self.timers.clear();
        self.sched = Scheduler::new(1, 1);
    }

    /// Removes the memory entries for `url`; returns how many.
    pub fn forget(&mut self, url: &str) -> usize {
        let removed = match self.memory.as_mut() {
            Some(m) => m.remove_url(url),
            None => return 0,
        };
        let n = removed.len();
        self.release_bodies(removed);
        n
    }

    /// The URLs in the memory cache.
    pub fn cached_urls(&self) -> Vec<Rc<str>> {
        self.memory.as_ref().map_or_else(Vec::new, MemoryStore::urls)
    }

    /// Empties the memory cache.
    pub fn clear_cache(&mut self) {
        if let Some(memory) = self.memory.as_mut() {
            let bodies = memory.clear();
            self.release_bodies(bodies);
        }
    }

    // ---- bookkeeping shared by the flows -----------------------------------------------

    fn new_body(&mut self) -> u32 {
        self.body_refs.insert(1)
    }

    fn retain_body(&mut self, body: u32) {
        if let Some(n) = self.body_refs.get_mut(body) {
            *n += 1;
        }
    }

    fn release_bodies(&mut self, bodies: Vec<u32>) {
        for body in bodies {
            self.release_body(body);
        }
    }

    fn release_body(&mut self, body: u32) {
        if let Some(n) = self.body_refs.get_mut(body) {
            *n -= 1;
            if *n == 0 {
                self.body_refs.remove(body);
                self.push(Command::DropBody { body });
            }
        }
    }

    fn leave_group(&mut self, call: u32) {
        let group = match self.calls.get(call) {
            Some(c) => c.group,
            None => 0,
        };
        self.leave_group_of(call, group);
    }

    fn leave_group_of(&mut self, call: u32, group: u32) {
        if group != 0 {
            if let Some(g) = self.groups.get_mut(group) {
                g.members.retain(|m| *m != call);
            }
        }
    }

    /// Answers `call` (already removed from `calls`, or never in it) with `body`.
    /// Answers `call` with a copy of `body`; `status` is the last one seen on the network for
    /// it (0: none, as for a cache hit).
    #[allow(clippy::too_many_arguments)]
    fn settle_body(&mut self, call: u32, c: Option<&Call>, now: f64, body: u32, source: Source, attempts: u32, status: u16) {
        self.push(Command::ResolveBody {
            call,
            body,
            source,
            attempts,
        });
        self.answered_call(call, c, now, source, attempts, status);
    }

    /// A call was answered: it has settled, or it waits for the driver's decoding.
    fn answered_call(&mut self, call: u32, c: Option<&Call>, now: f64, source: Source, attempts: u32, status: u16) {
        if let Some(c) = c.filter(|c| c.decodes) {
            let waiting = Call {
                kind: CallKind::Decoding,
                answer: (source, attempts, status),
                ..c.clone()
            };
            if self.calls.put_back(call, waiting) {
                return;
            }
        }
        self.counters.succeeded += 1;
        self.settled_event(call, c, now, attempts, status, None, source);
        if let Some(c) = c {
            self.leave_group_of(call, c.group);
        }
    }

    /// The driver decoded the answer of `call` (`ok`), or could not (the caller gets kind
    /// `decode`, and a fail-fast group aborts the rest).
    pub fn decoded(&mut self, now: f64, call: u32, ok: bool) {
        if !self.calls.get(call).is_some_and(|c| c.kind == CallKind::Decoding) {
            return;
        }
        let Some(c) = self.calls.remove(call) else { return };
        let (source, attempts, status) = c.answer;
        if ok {
            self.counters.succeeded += 1;
            self.settled_event(call, Some(&c), now, attempts, status, None, source);
            self.leave_group_of(call, c.group);
        } else {
            self.counters.failed += 1;
            self.settled_event(call, Some(&c), now, attempts, status, Some(ErrorKind::Decode), source);
            self.fail_group(call, &c, now, ErrorKind::Decode);
        }
        self.pump(now);
    }

    /// Answers `call` with `op`'s live response.
    fn settle_response(&mut self, call: u32, c: &Call, now: f64, op: u32, attempts: u32, status: u16) {
        self.push(Command::ResolveResponse {
            call,
            op,
            source: Source::Network,
            attempts,
        });
        self.answered_call(call, Some(c), now, Source::Network, attempts, status);
    }

    /// Fails `call` (already removed from `calls`); a fail-fast group aborts its other
    /// members.
    #[allow(clippy::too_many_arguments)]
    fn settle_err(
        &mut self,
        call: u32,
        c: Option<&Call>,
        now: f64,
        kind: ErrorKind,
        status: u16,
        attempts: u32,
        op: u32,
    ) {
        self.counters.failed += 1;
        self.push(Command::Reject {
            call,
            kind,
            status,
            attempts,
            op,
        });
        let source = if c.is_some_and(|c| c.joined) {
            Source::Dedupe
        } else {
            Source::Network
        };
        self.settled_event(call, c, now, attempts, status, Some(kind), source);
        if let Some(c) = c {
            self.fail_group(call, c, now, kind);
        }
    }

    /// `call` of `c.group` failed with `kind`: it leaves the group, and a fail-fast group
    /// aborts its other members.
    fn fail_group(&mut self, call: u32, c: &Call, now: f64, kind: ErrorKind) {
        if c.group == 0 {
            return;
        }
        let siblings = match self.groups.get_mut(c.group) {
            Some(g) => {
                g.members.retain(|m| *m != call);
                if g.abort_on_failure && !g.failed && kind != ErrorKind::Abort {
                    g.failed = true;
                    core::mem::take(&mut g.members)
                } else {
                    Vec::new()
                }
            }
            None => Vec::new(),
        };
        for s in siblings {
            self.abort_call(now, s, ErrorKind::Abort);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn settled_event(
        &mut self,
        call: u32,
        c: Option<&Call>,
        now: f64,
        attempts: u32,
        status: u16,
        error: Option<ErrorKind>,
        source: Source,
    ) {
        let mut e = Event::new(EventKind::Settled, call, attempts).status(status);
        e.error = error;
        e.source = Some(source);
        e.duration_ms = Some(c.map_or(0.0, |c| now - c.submitted_ms));
        self.emit(e);
    }

    /// Takes `call` out (a signal, a failed sibling): rejects it with `kind` and lets go of
    /// what it waited on. A running task is left to its own signal.
    fn abort_call(&mut self, now: f64, call: u32, kind: ErrorKind) {
        let Some(c) = self.calls.get(call) else { return };
        match c.kind {
            // The answer is out; the driver settles the caller once it has decoded it.
            CallKind::TaskRunning | CallKind::Decoding => {}
            CallKind::TaskQueued => {
                let c = self.calls.remove(call);
                self.sched.cancel(call_task(call));
                self.settle_err(call, c.as_ref(), now, kind, 0, 0, 0);
            }
            CallKind::Request => {
                let c = self.calls.remove(call);
                let op = c.as_ref().map_or(0, |c| c.op);
                let attempts = self.ops.get(op).map_or(0, |o| o.attempts);
                let status = self.ops.get(op).map_or(0, |o| o.status);
                // The op goes with it: the driver reads the call's timing off it.
                self.settle_err(call, c.as_ref(), now, kind, status, attempts, op);
                self.leave_op(now, op, call);
            }
        }
    }

    fn pump(&mut self, now: f64) {
        if self.closed {
            return;
        }
        let dispatch = self.sched.dispatch(now);
        for id in dispatch.started {
            let key = (id >> 1) as u32;
            if id & 1 == 1 {
                self.start_attempt(now, key);
            } else if let Some(c) = self.calls.get_mut(key) {
                c.kind = CallKind::TaskRunning;
                self.push(Command::RunTask { call: key });
            }
        }
        if let Some(at) = dispatch.wake_at {
            if at < self.wake_armed {
                self.wake_armed = at;
                self.timers.arm(at, timers::TimerKind::Wake, 0, 0);
            }
        }
        // Requests that settled long before their timeouts leave dead deadlines behind.
        if self.timers.len() > 64 && self.timers.len() > 4 * (self.ops.len() + 1) {
            let ops = &self.ops;
            self.timers.compact(|kind, owner, stamp| match kind {
                timers::TimerKind::Wake => true,
                timers::TimerKind::Total => ops.contains(owner),
                _ => ops.get(owner).is_some_and(|o| o.stamp == stamp),
            });
        }
    }
}
