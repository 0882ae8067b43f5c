//! The cache plan: what a cached request does, given its strategy and what the store holds.
//! A pure function, so every strategy is tested on the host without a store or a network.

use super::Freshness;

/// What the strategy can see: the kind of request, and the stored entry if there is one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrategyKind {
    /// A fresh entry answers; stale or missing goes to the network.
    CacheFirst,
    /// The network answers; the stored entry stands in when it fails.
    NetworkFirst,
    /// A stored entry answers at once; a stale one is refreshed in the background.
    StaleWhileRevalidate,
    /// Only the store answers.
    CacheOnly,
}

/// What to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Answer from the stored entry; `refresh` starts a background request that updates it.
    Serve {
        /// Refresh the entry in the background.
        refresh: bool,
    },
    /// Go to the network (revalidating the stored entry when it has a validator). When the
    /// network fails, the stored entry answers if `fallback` is set.
    Network {
        /// The stored entry may answer when the network fails (network error, timeout, 5xx).
        fallback: bool,
    },
    /// Fail with kind `cache` (a `cache-only` miss).
    Miss,
}

impl Plan {
    /// Whether this plan counts as a cache miss in `stats()`: the store could not answer a
    /// strategy that prefers it.
    pub fn counts_as_miss(self, strategy: StrategyKind) -> bool {
        match self {
            Plan::Miss => true,
            Plan::Network { .. } => strategy != StrategyKind::NetworkFirst,
            Plan::Serve { .. } => false,
        }
    }
}

/// The plan for `strategy` with the stored entry's freshness (`None`: nothing stored).
///
/// - cache-first: a fresh entry answers; a stale one within the response's
///   `stale-while-revalidate` answers and is refreshed; otherwise the network, and a stale
///   entry within `stale-if-error` stands in if it fails.
/// - network-first: the network, with any stored entry standing in on failure.
/// - stale-while-revalidate: any stored entry answers; a stale one is refreshed.
/// - cache-only: any stored entry answers; none is a miss.
pub fn plan(strategy: StrategyKind, stored: Option<Freshness>) -> Plan {
    match (strategy, stored) {
        (StrategyKind::CacheOnly, Some(_)) => Plan::Serve { refresh: false },
        (StrategyKind::CacheOnly, None) => Plan::Miss,
        (StrategyKind::StaleWhileRevalidate, Some(f)) => Plan::Serve { refresh: f != Freshness::Fresh },
        (StrategyKind::StaleWhileRevalidate, None) => Plan::Network { fallback: false },
        (StrategyKind::NetworkFirst, stored) => Plan::Network { fallback: stored.is_some() },
        (StrategyKind::CacheFirst, Some(Freshness::Fresh)) => Plan::Serve { refresh: false },
        // RFC 5861: the server allowed serving it stale while a refresh runs.
        (StrategyKind::CacheFirst, Some(Freshness::Stale { within_swr: true, .. })) => Plan::Serve { refresh: true },
        (StrategyKind::CacheFirst, Some(Freshness::Stale { within_sie, .. })) => Plan::Network { fallback: within_sie },
        (StrategyKind::CacheFirst, _) => Plan::Network { fallback: false },
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    const STALE: Freshness = Freshness::Stale { within_swr: false, within_sie: false };
    const STALE_SIE: Freshness = Freshness::Stale { within_swr: false, within_sie: true };

    #[test]
    fn cache_first() {
        assert_eq!(plan(StrategyKind::CacheFirst, Some(Freshness::Fresh)), Plan::Serve { refresh: false });
        assert_eq!(plan(StrategyKind::CacheFirst, Some(STALE)), Plan::Network { fallback: false });
        assert_eq!(plan(StrategyKind::CacheFirst, Some(STALE_SIE)), Plan::Network { fallback: true });
        let swr = Freshness::Stale { within_swr: true, within_sie: false };
        assert_eq!(plan(StrategyKind::CacheFirst, Some(swr)), Plan::Serve { refresh: true });
        assert_eq!(plan(StrategyKind::CacheFirst, Some(Freshness::MustRevalidate)), Plan::Network { fallback: false });
        assert_eq!(plan(StrategyKind::CacheFirst, None), Plan::Network { fallback: false });
        assert!(plan(StrategyKind::CacheFirst, None).counts_as_miss(StrategyKind::CacheFirst));
    }

    #[test]
    fn network_first_falls_back_to_anything_stored() {
        assert_eq!(plan(StrategyKind::NetworkFirst, Some(Freshness::Fresh)), Plan::Network { fallback: true });
        assert_eq!(plan(StrategyKind::NetworkFirst, Some(Freshness::MustRevalidate)), Plan::Network { fallback: true });
        assert_eq!(plan(StrategyKind::NetworkFirst, None), Plan::Network { fallback: false });
        assert!(!plan(StrategyKind::NetworkFirst, None).counts_as_miss(StrategyKind::NetworkFirst));
    }

    #[test]
    fn stale_while_revalidate_serves_and_refreshes_only_when_not_fresh() {
        assert_eq!(plan(StrategyKind::StaleWhileRevalidate, Some(Freshness::Fresh)), Plan::Serve { refresh: false });
        assert_eq!(plan(StrategyKind::StaleWhileRevalidate, Some(STALE)), Plan::Serve { refresh: true });
        assert_eq!(plan(StrategyKind::StaleWhileRevalidate, Some(Freshness::MustRevalidate)), Plan::Serve { refresh: true });
        assert_eq!(plan(StrategyKind::StaleWhileRevalidate, None), Plan::Network { fallback: false });
    }

    #[test]
    fn cache_only_never_goes_out() {
        assert_eq!(plan(StrategyKind::CacheOnly, Some(STALE)), Plan::Serve { refresh: false });
        assert_eq!(plan(StrategyKind::CacheOnly, None), Plan::Miss);
        assert!(Plan::Miss.counts_as_miss(StrategyKind::CacheOnly));
    }
}
