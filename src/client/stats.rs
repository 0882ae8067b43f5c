//! What `client.stats()` reports: the machine's counters, and the latency percentiles the
//! driver keeps (`stats().latency`, `.queueWait` and `.hosts` in JS).

use crate::prelude::*;

use core::ops::Deref;

pub use crate::core::sketch::Percentiles;
use super::share::ShareStats;
use crate::machine::Counters;

/// A snapshot of the counters (started, succeeded, failed, retried, deduped, batched, memory
/// and persistent hits, misses, rate limited, bytes; all from 0), reachable as fields of
/// `Stats` itself through `Deref`, and of the latency of the requests that went to the
/// network (dedupe joins included, cache hits not).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// The machine's counters.
    pub counters: Counters,
    /// From the call to its answer or error.
    pub latency: Percentiles,
    /// From the call to its first attempt's dispatch.
    pub queue_wait: Percentiles,
    /// Every host talked to, with its limit and percentiles.
    pub hosts: Vec<HostStats>,
    /// This tab's role among the clients of its `share` name, and their tabs. Default alone,
    /// one tab.
    pub share: ShareStats,
}

/// One host of [`Stats::hosts`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HostStats {
    /// `host:port`.
    pub host: String,
    /// Its current limit: the adaptive one, or `per_host` while `adaptive` is off.
    pub limit: usize,
    /// [`Stats::latency`] of the requests to this host.
    pub latency: Percentiles,
    /// [`Stats::queue_wait`] of the requests to this host.
    pub queue_wait: Percentiles,
}

impl Deref for Stats {
    type Target = Counters;

    fn deref(&self) -> &Counters {
        &self.counters
    }
}
