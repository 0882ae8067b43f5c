//! What the machine asks its driver to do, and the small enums the commands carry.
//!
//! Commands are plain data (ids and numbers), so a driver in any language, or in another
//! tab, can execute them. The numeric codes are the wire format of the npm driver
//! (`docs/protocol.md`).

use crate::core::adaptive::LimitReason;
use crate::core::error::ErrorKind;

/// Where an answer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A request of its own on the network.
    Network = 1,
    /// The memory cache.
    Memory = 2,
    /// The Cache API store.
    Persistent = 3,
    /// An identical request in flight that this caller joined.
    Dedupe = 4,
    /// A stored entry the server confirmed with a 304.
    Revalidated = 5,
}

impl Source {
    /// The JS name: `network`, `memory`, `persistent`, `dedupe`, `revalidated`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Network => "network",
            Source::Memory => "memory",
            Source::Persistent => "persistent",
            Source::Dedupe => "dedupe",
            Source::Revalidated => "revalidated",
        }
    }
}

/// Why the machine aborts an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbortReason {
    /// Every caller left (their signals fired, or their group failed).
    Caller = 0,
    /// The per-attempt timeout ran out.
    Timeout = 1,
    /// The total timeout ran out.
    TotalTimeout = 2,
    /// The client closed.
    Closed = 3,
}

/// Which conditional header a revalidating attempt carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validator {
    /// `If-None-Match` with the stored body's `ETag`.
    ETag = 1,
    /// `If-Modified-Since` with the stored body's `Last-Modified`.
    LastModified = 2,
}

/// Why a retry was scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryReason {
    /// The server answered with a retryable status.
    Status = 1,
    /// The transport failed.
    Network = 2,
    /// The attempt timed out.
    Timeout = 3,
}

impl RetryReason {
    /// The JS name: `status`, `network`, `timeout`.
    pub fn as_str(self) -> &'static str {
        match self {
            RetryReason::Status => "status",
            RetryReason::Network => "network",
            RetryReason::Timeout => "timeout",
        }
    }
}

/// The types of event a listener can hear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A request entered the network queue.
    Queued = 1,
    /// A request's first attempt started.
    Start = 2,
    /// An attempt failed and another follows after `delay_ms`.
    Retry = 3,
    /// A request was answered from a cache.
    CacheHit = 4,
    /// A server said "too many" with a wait: the host pauses for `delay_ms`.
    RateLimited = 5,
    /// A caller got its answer or its error.
    Settled = 6,
    /// Stale-while-revalidate refreshed a stored entry in the background.
    CacheUpdate = 7,
    /// The Cache API failed; the request went on without it.
    CacheError = 8,
}

impl EventKind {
    /// The JS name: `queued`, `start`, `retry`, `cache-hit`, `rate-limited`, `settled`,
    /// `cache-update`, `cache-error`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Queued => "queued",
            EventKind::Start => "start",
            EventKind::Retry => "retry",
            EventKind::CacheHit => "cache-hit",
            EventKind::RateLimited => "rate-limited",
            EventKind::Settled => "settled",
            EventKind::CacheUpdate => "cache-update",
            EventKind::CacheError => "cache-error",
        }
    }
}

/// One event for listeners. The driver adds what it knows of the call (URL, method, lane).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The call it concerns (for a shared request: the call that opened it).
    pub call: u32,
    /// Attempts started so far.
    pub attempt: u32,
    /// `retry` and `rate-limited`: the wait in ms.
    pub delay_ms: Option<f64>,
    /// The last HTTP status seen.
    pub status: Option<u16>,
    /// `retry`: why.
    pub reason: Option<RetryReason>,
    /// `settled` with an error: its kind.
    pub error: Option<ErrorKind>,
    /// `cache-hit` and `settled`: where the answer came from.
    pub source: Option<Source>,
    /// `settled`: ms from the call to its answer.
    pub duration_ms: Option<f64>,
}

impl Event {
    /// The one constructor: an event of `kind` about `call` after `attempt` attempts, every
    /// other field absent until set.
    // Not inlined: each of its dozen callers built the whole event in place (-0.15 KiB gz).
    #[inline(never)]
    pub fn new(kind: EventKind, call: u32, attempt: u32) -> Event {
        Event {
            kind,
            call,
            attempt,
            delay_ms: None,
            status: None,
            reason: None,
            error: None,
            source: None,
            duration_ms: None,
        }
    }

    /// With the last status seen (0: none).
    pub fn status(mut self, status: u16) -> Event {
        self.status = if status == 0 { None } else { Some(status) };
        self
    }
}

/// An instruction for the driver. Ids: `call` (a caller), `op` (a network operation shared
/// by its callers), `body` (a buffered response the driver keeps).
// The fields are the ids and values the variant docs name.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Command {
    /// A new operation for `call`'s request: the driver copies that call's template.
    OpenOp { op: u32, call: u32 },
    /// Send attempt `attempt` of `op`, with a conditional header from stored `body` if
    /// `validator` says so.
    StartFetch {
        op: u32,
        attempt: u32,
        validator: Option<(Validator, u32)>,
    },
    /// Abort `op`'s attempt in flight; the machine expects no more events from it.
    AbortFetch { op: u32, reason: AbortReason },
    /// Read `op`'s response body into `body`, then report `body` (or `body_failed`).
    ReadBody { op: u32, body: u32, attempt: u32 },
    /// Cancel the body of `op`'s last response (it will not be read).
    Discard { op: u32 },
    /// Answer `call` with a fresh readable copy of `body`.
    ResolveBody {
        call: u32,
        body: u32,
        source: Source,
        attempts: u32,
    },
    /// Answer `call` with `op`'s live response (its only reader).
    ResolveResponse {
        call: u32,
        op: u32,
        source: Source,
        attempts: u32,
    },
    /// Fail `call`. `op` names the operation the call was on (0: none): the driver reads the
    /// call's timing off it, and takes from it what the error's kind calls for (its last
    /// response for `http` and `rate-limit`, its transport error for `network` and `timeout`);
    /// an abort takes nothing from it.
    Reject {
        call: u32,
        kind: ErrorKind,
        status: u16,
        attempts: u32,
        op: u32,
    },
    /// Run the `schedule` task of `call`; report `task_done` when it settles.
    RunTask { call: u32 },
    /// Forget `body`: nothing refers to it any more.
    DropBody { body: u32 },
    /// Look `op`'s request up in the Cache API; a hit goes into `body`. Report `store_read`.
    StoreRead { op: u32, body: u32 },
    /// Write `body` to the Cache API under `op`'s request.
    StoreWrite { body: u32, op: u32 },
    /// Delete `op`'s request from the Cache API (its entry expired).
    StoreDelete { op: u32 },
    /// Tell listeners.
    Emit(Event),
    /// The stored `body`'s headers changed (a 304's merged into them): the driver reads the
    /// new list with [`Machine::body_headers`](super::Machine::body_headers).
    SetHeaders { body: u32 },
    /// Forget `op`.
    CloseOp { op: u32 },
    /// `host`'s adaptive limit changed to `limit` (only while someone listens).
    Limit { host: u32, limit: u32, reason: LimitReason },
}
