//! HTTP caching rules (RFC 9111, RFC 5861) for a private, page-side cache.
//!
//! "Within reason": the cache serves one user's page, so shared-cache rules (`s-maxage`,
//! `proxy-revalidate`) are ignored, as are `Pragma` (deprecated by RFC 9111) and the request
//! directives `max-stale`, `min-fresh` and `only-if-cached`. Headers are `(name, value)` pairs
//! with lower-case names; names are still compared case-insensitively.
//!
//! Cross-origin `fetch` responses expose only the CORS-safelisted headers (`Cache-Control`,
//! `Expires`, `Last-Modified`, `Content-Type`, ...) unless the server lists more in
//! `Access-Control-Expose-Headers`, so every rule here copes with `Date`, `Age` and `ETag`
//! being absent.

mod control;
mod freshness;
mod headers;
mod plan;
mod revalidation;
mod storable;
mod vary;

pub use control::{parse_cache_control, CacheControl};
pub use freshness::{current_age_ms, freshness, freshness_lifetime_ms, Freshness};
pub use plan::{plan, Plan, StrategyKind};
pub use revalidation::{conditional_header, merge_304, validator};
pub use storable::{storable, NotStored, ResponseMeta, StoreRules};
pub use vary::{vary_key, vary_names, VaryNames};
