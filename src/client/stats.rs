//! Counters since the client was created (`client.stats()`).

use core::cell::Cell;

/// A snapshot of the counters. All start at 0.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    /// Requests whose first attempt started.
    pub started: u64,
    /// Requests that ended with a response delivered to the caller.
    pub succeeded: u64,
    /// Requests that ended in an error.
    pub failed: u64,
    /// Attempts after the first.
    pub retried: u64,
    /// Callers that joined an identical request already in flight.
    pub deduped: u64,
    /// Loader keys that were served by a batch request.
    pub batched: u64,
    /// Answers from the memory cache.
    pub memory_hits: u64,
    /// Answers from the Cache API store.
    pub persistent_hits: u64,
    /// Cache look-ups that found nothing usable.
    pub cache_misses: u64,
    /// Responses that paused their host (429/503 with a wait) or hit `maxRetryAfterMs`.
    pub rate_limited: u64,
    /// Response body bytes received, as far as known (`Content-Length` or a buffered body).
    pub bytes: u64,
}

/// The live counters; cheap to bump from anywhere in the pipeline.
#[derive(Default)]
pub(crate) struct Counters {
    pub started: Cell<u64>,
    pub succeeded: Cell<u64>,
    pub failed: Cell<u64>,
    pub retried: Cell<u64>,
    pub deduped: Cell<u64>,
    pub batched: Cell<u64>,
    pub memory_hits: Cell<u64>,
    pub persistent_hits: Cell<u64>,
    pub cache_misses: Cell<u64>,
    pub rate_limited: Cell<u64>,
    pub bytes: Cell<u64>,
}

/// Adds `n` to a counter.
pub(crate) fn bump(counter: &Cell<u64>, n: u64) {
    counter.set(counter.get() + n);
}

impl Counters {
    pub fn snapshot(&self) -> Stats {
        Stats {
            started: self.started.get(),
            succeeded: self.succeeded.get(),
            failed: self.failed.get(),
            retried: self.retried.get(),
            deduped: self.deduped.get(),
            batched: self.batched.get(),
            memory_hits: self.memory_hits.get(),
            persistent_hits: self.persistent_hits.get(),
            cache_misses: self.cache_misses.get(),
            rate_limited: self.rate_limited.get(),
            bytes: self.bytes.get(),
        }
    }
}
