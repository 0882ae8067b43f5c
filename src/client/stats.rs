//! Counters since the client was created (`client.stats()`): the machine's own counters, as
//! the machine keeps them.

/// A snapshot of the counters (started, succeeded, failed, retried, deduped, batched,
/// memory and persistent hits, misses, rate limited, bytes). All start at 0.
pub type Stats = crate::machine::Counters;
