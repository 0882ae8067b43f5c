//! The records the machine keeps: callers, shared operations, groups.

use crate::prelude::*;

use alloc::rc::Rc;

use super::command::Source;
use super::memory::Entry;
use crate::core::cache::StrategyKind;
use crate::core::lane::Lane;
use crate::core::retry_policy::RetryPolicy;
use crate::core::scheduler::HostId;

/// What a caller waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// A request answered through an op.
    Request,
    /// A `schedule` task waiting for a slot.
    TaskQueued,
    /// A `schedule` task running in the driver.
    TaskRunning,
    /// A request answered; the driver is decoding the body (`json`, `text`) and reports
    /// with [`Machine::decoded`](super::Machine::decoded) whether that worked.
    Decoding,
}

/// One caller.
#[derive(Clone, Debug)]
pub struct Call {
    /// Request or task.
    pub kind: CallKind,
    /// The op it waits on (requests).
    pub op: u32,
    /// Its group, 0 for none.
    pub group: u32,
    /// When it was submitted (the driver's clock), for `durationMs`.
    pub submitted_ms: f64,
    /// It joined an op another call opened.
    pub joined: bool,
    /// Tasks: the host it counts against.
    pub host: Option<HostId>,
    /// The driver decodes the answer before the caller has it (`json`, `text`): the call
    /// counts as settled once [`Machine::decoded`](super::Machine::decoded) says how that went.
    pub decodes: bool,
    /// While decoding: where the answer came from, after how many attempts, with which last
    /// status (0: none).
    pub answer: (Source, u32, u16),
}

/// Where an op is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the Cache API lookup.
    StoreLookup,
    /// In the scheduler's queue.
    Queued,
    /// An attempt is in flight (holding a permit).
    Running,
    /// An attempt ended (its permit is back); what follows is being decided.
    Decided,
    /// Between attempts.
    Backoff,
    /// The answer arrived; its body is being read.
    Reading,
}

/// The cache side of an op.
#[derive(Debug)]
pub struct CacheCtx {
    /// Namespace plus URL (or `key`).
    pub url_key: String,
    /// The strategy as the plan sees it.
    pub strategy: StrategyKind,
    /// The caller's `ttlMs` or the client's.
    pub ttl_ms: Option<f64>,
    /// The stored entry the op may revalidate or fall back on, with its source.
    pub stored: Option<(Entry, bool)>,
    /// The stored entry answers if the network fails.
    pub fallback: bool,
    /// A validator was sent with the last attempt.
    pub revalidating: bool,
    /// The headers of a storable answer whose body is being read.
    pub stored_headers: Option<Rc<super::headers::HeaderList>>,
}

/// One network operation, shared by every caller de-duplicated onto it.
#[derive(Debug)]
pub struct Op {
    /// Its callers, in arrival order; empty for a background refresh.
    pub callers: Vec<u32>,
    /// The call that opened it (events carry its id).
    pub origin: u32,
    /// The key it is found under by identical requests, while it may still be joined.
    pub dedupe_key: Option<String>,
    /// The absolute URL.
    pub url: Rc<str>,
    /// Upper-case method.
    pub method: Rc<str>,
    /// The request headers block (for `Vary` and the private-response rules).
    pub request_headers: Rc<str>,
    /// `credentials: 'include'`.
    pub credentials: bool,
    /// It carries an `Idempotency-Key`.
    pub idempotent_key: bool,
    /// Interned host.
    pub host: HostId,
    /// Queue lane.
    pub lane: Lane,
    /// Retry contract.
    pub retry: Rc<RetryPolicy>,
    /// Per-attempt timeout.
    pub timeout_ms: Option<f64>,
    /// Attempts started.
    pub attempts: u32,
    /// The last status seen (0: none).
    pub status: u16,
    /// Where it is.
    pub phase: Phase,
    /// Bumped whenever its deadlines change meaning; older timers are ignored.
    pub stamp: u32,
    /// The body id it is reading into.
    pub body: u32,
    /// The cache side, when the cache applies.
    pub cache: Option<CacheCtx>,
    /// A stale-while-revalidate refresh with nobody waiting.
    pub background: bool,
    /// Its answer came without `Content-Length`: its bytes count when they are read.
    pub unmeasured: bool,
    /// When the attempt in flight was dispatched (adaptive concurrency's latency).
    pub dispatched_ms: f64,
    /// The host's adaptive epoch at that dispatch.
    pub epoch: u32,
}

/// An `all` / `allSettled` group.
#[derive(Debug, Default)]
pub struct Group {
    /// Fail fast: the first failure aborts the rest.
    pub abort_on_failure: bool,
    /// Its members still waiting.
    pub members: Vec<u32>,
    /// A member failed (fail-fast groups abort everyone after it).
    pub failed: bool,
}
