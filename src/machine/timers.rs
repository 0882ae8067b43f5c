//! Every deadline the machine keeps, in one min-heap. The driver arms a single timer for
//! [`Timers::next`]; a deadline that no longer matters is left in the heap and skipped when
//! it comes up (its stamp no longer matches), which keeps cancelling O(1).

use crate::prelude::*;

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

/// Whether `a` comes up strictly before `b`. One function: each tuple comparison inlined was
/// a chain of its own.
#[inline(never)]
fn before(a: &Deadline, b: &Deadline) -> bool {
    a < b
}

/// The deadlines as a binary min-heap in a `Vec` (the earliest at index 0). By hand rather
/// than a `BinaryHeap` of `Reverse`d tuples: std's sifting and rebuilding were 0.3 KiB of the
/// gzipped wasm. Equal deadlines are equal tuples, so the order they come out in is the same.
#[derive(Default)]
pub struct Timers {
    heap: Vec<Deadline>,
}

impl Timers {
    /// Adds a deadline at `at_ms`.
    pub fn arm(&mut self, at_ms: f64, kind: TimerKind, owner: u32, stamp: u32) {
        let d = (at_ms.max(0.0).to_bits(), kind, owner, stamp);
        let heap = &mut self.heap;
        let mut i = heap.len();
        heap.push(d);
        // Up past every later parent.
        while i > 0 {
            let parent = (i - 1) / 2;
            if !before(&d, &heap[parent]) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = d;
    }

    /// Moves the deadline at `i` down below every earlier child.
    fn sift_down(&mut self, mut i: usize) {
        let heap = &mut self.heap;
        let n = heap.len();
        let d = heap[i];
        loop {
            let mut child = 2 * i + 1;
            if child >= n {
                break;
            }
            if child + 1 < n && before(&heap[child + 1], &heap[child]) {
                child += 1;
            }
            if !before(&heap[child], &d) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = d;
    }

    /// The earliest deadline in the heap (possibly one that no longer matters: firing it is
    /// harmless), or `None`.
    pub fn next(&self) -> Option<f64> {
        self.heap.first().map(|(bits, ..)| f64::from_bits(*bits))
    }

    /// Takes the earliest deadline if it is due at `now_ms`.
    pub fn pop_due(&mut self, now_ms: f64) -> Option<(TimerKind, u32, u32)> {
        let (bits, kind, owner, stamp) = *self.heap.first()?;
        if f64::from_bits(bits) > now_ms {
            return None;
        }
        let last = self.heap.pop()?;
        if let Some(top) = self.heap.first_mut() {
            *top = last;
            self.sift_down(0);
        }
        Some((kind, owner, stamp))
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
    // Not inlined into `pump` (-19 B gz).
    #[inline(never)]
    pub fn compact(&mut self, live: impl Fn(TimerKind, u32, u32) -> bool) {
        self.heap.retain(|(_, k, o, s)| live(*k, *o, *s));
        let mut i = self.heap.len() / 2;
        while i > 0 {
            i -= 1;
            self.sift_down(i);
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use alloc::collections::BinaryHeap;
    use alloc::vec::Vec;
    use core::cmp::Reverse;

    /// The same deadlines come out in the same order as from std's heap, through pops at
    /// random times and compactions.
    #[test]
    fn pops_in_the_order_of_a_binary_heap() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let kinds = [TimerKind::Wake, TimerKind::Attempt, TimerKind::Total, TimerKind::Backoff];
        let mut t = Timers::default();
        let mut reference: BinaryHeap<Reverse<Deadline>> = BinaryHeap::new();
        let mut now = 0.0;
        for round in 0..4000 {
            match next() % 10 {
                0..=5 => {
                    // Few distinct times, kinds and owners: ties are common.
                    let at = now + (next() % 20) as f64;
                    let (kind, owner, stamp) = (kinds[(next() % 4) as usize], (next() % 5) as u32, (next() % 3) as u32);
                    t.arm(at, kind, owner, stamp);
                    reference.push(Reverse((at.to_bits(), kind, owner, stamp)));
                }
                6..=8 => {
                    now += (next() % 6) as f64;
                    loop {
                        let want = match reference.peek() {
                            Some(Reverse((bits, k, o, s))) if f64::from_bits(*bits) <= now => Some((*k, *o, *s)),
                            _ => None,
                        };
                        if want.is_some() {
                            reference.pop();
                        }
                        assert_eq!(t.pop_due(now), want, "round {round}");
                        if want.is_none() {
                            break;
                        }
                    }
                }
                _ => {
                    let owner = (next() % 5) as u32;
                    t.compact(|_, o, _| o != owner);
                    let mut kept: Vec<_> = reference.into_vec();
                    kept.retain(|Reverse((_, _, o, _))| *o != owner);
                    reference = BinaryHeap::from(kept);
                }
            }
            assert_eq!(t.len(), reference.len());
            assert_eq!(t.next(), reference.peek().map(|Reverse((bits, ..))| f64::from_bits(*bits)));
        }
    }
}
