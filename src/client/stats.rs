//! Counters since the client was created (`client.stats()`).

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
