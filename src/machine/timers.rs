//! Every deadline the machine keeps, in one min-heap. The driver arms a single timer for
//! [`Timers::next`]; a deadline that no longer matters is left in the heap and skipped when
//! it comes up (its stamp no longer matches), which keeps cancelling O(1).

use alloc::collections::BinaryHeap;
use core::cmp::Reverse;

/// What a deadline is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimerKind {
    /// The scheduler may start work held back by a rate limit or a host pause.
    Wake,
    /// An attempt's `timeoutMs`.
    Attempt,
    /// A request's `totalTimeoutMs`.
    Total,
    /// The end of a backoff before the next attempt.
    Backoff,
}

/// A deadline: at `at_bits` (an `f64` time's bits; times are never negative, so the bits
/// order like the times), for `owner` (an op id, 0 for the scheduler) with `stamp`.
pub type Deadline = (u64, TimerKind, u32, u32);

/// The heap of deadlines.
#[derive(Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<Deadline>>,
}

impl Timers {
    /// Adds a deadline at `at_ms`.
    pub fn arm(&mut self, at_ms: f64, kind: TimerKind, owner: u32, stamp: u32) {
        self.heap.push(Reverse((at_ms.max(0.0).to_bits(), kind, owner, stamp)));
    }

    /// The earliest deadline in the heap (possibly one that no longer matters: firing it is
    /// harmless), or `None`.
    pub fn next(&self) -> Option<f64> {
        self.heap.peek().map(|Reverse((bits, ..))| f64::from_bits(*bits))
    }

    /// Takes the earliest deadline if it is due at `now_ms`.
    pub fn pop_due(&mut self, now_ms: f64) -> Option<(TimerKind, u32, u32)> {
        let Reverse((bits, ..)) = self.heap.peek()?;
        if f64::from_bits(*bits) > now_ms {
            return None;
        }
        self.heap
            .pop()
            .map(|Reverse((_, kind, owner, stamp))| (kind, owner, stamp))
    }

    /// Drops every deadline.
    pub fn clear(&mut self) {
        self.heap.clear();
    }

    /// How many deadlines are held (live or not).
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Drops the deadlines `live` says no longer matter, once the heap holds many of them
    /// (requests that settled long before their timeouts).
    pub fn compact(&mut self, live: impl Fn(TimerKind, u32, u32) -> bool) {
        let mut kept = core::mem::take(&mut self.heap).into_vec();
        kept.retain(|Reverse((_, k, o, s))| live(*k, *o, *s));
        self.heap = BinaryHeap::from(kept);
    }
}
