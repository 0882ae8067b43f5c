//! # fetchlane
//!
//! One well-behaved way for a web page to run many API calls at once: a global and a
//! per-host concurrency limit, strict lanes (critical, normal, background), cancellation,
//! `all` / `allSettled` groups, retries with backoff and `Retry-After`, rate limits that
//! throttle a whole host, and timeouts, over the browser's `fetch`.
//!
//! The crate has these layers:
//! - [`core`]: pure Rust rules (scheduler, rate windows, backoff, retry decisions, cache
//!   policy); runs and is tested on the host with a fake clock.
//! - [`machine`]: the whole request pipeline as one synchronous state machine that does no
//!   I/O: events in, commands out. Every decision is made there.
//! - [`web`]: the browser adapters (`fetch`, timers, clocks, abort signals, the Cache API).
//! - [`client`] (feature `web`): the Rust API, [`Client`], a thin driver that executes the
//!   machine's commands over [`web`], with futures per request; [`Loader`] batching and
//!   [`Pages`] pagination on top of it.
//! - `npm` (feature `npm`): the npm package's wasm surface, numbers in and out, for the JS
//!   driver.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fetchlane::Error> {
//! use fetchlane::{Client, Config, RequestOptions};
//!
//! let client = Client::new(Config { concurrency: 4, ..Config::default() }).expect("valid config");
//! let request = client.request("https://api.example.com/user")?;
//! let user = client.json(&request, RequestOptions::default()).await?;
//! # let _ = user;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
// No std: the crate needs only `alloc`, and the shipped wasm then links no std panic machinery
// (see `wasm-panic-handler` below). Builds that do link std get it through `extern crate std`.
#![no_std]

extern crate alloc;
#[cfg(not(all(target_arch = "wasm32", feature = "wasm-panic-handler")))]
extern crate std;

/// What std's prelude would bring, for a crate without it.
mod prelude {
    pub(crate) use alloc::borrow::ToOwned;
    #[cfg(feature = "web")]
    pub(crate) use alloc::boxed::Box;
    pub(crate) use alloc::string::String;
    // Shipping code turns numbers into text with `core::error::push_decimal`, not `to_string`.
    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub(crate) use alloc::string::ToString;
    pub(crate) use alloc::vec::Vec;
    pub(crate) use alloc::vec;
}

#[cfg(feature = "web")]
pub mod client;
pub mod core;
pub mod machine;
#[cfg(feature = "npm")]
pub mod npm;
#[cfg(feature = "web")]
pub mod web;

#[cfg(feature = "web")]
pub use client::{
    BatchUrl, BodyAs, CacheConfig, Client, Config, ConfigError, Error, ErrorKind, Event, EventType, GroupOptions,
    FlushReport, HostStats, ItemKey, Loader, LoaderConfig, NextPage, Outbox, OutboxBatch, OutboxConfig, OutboxTicket, Pages,
    PaginateOptions, Percentiles, PersistConfig, Progress, RateLimit, RequestOptions, ScheduleOptions, ShareConfig, ShareRole,
    ShareStats, Stats, Strategy,
};
pub use core::lane::Lane;
pub use core::retry_policy::RetryPolicy;
pub use core::timing::Timing;

// talc in place of Rust's default dlmalloc: 2.7 KiB less gzipped wasm and less memory per
// queued request (5138 -> 3690 B), with `schedule` overhead unchanged, measured against a
// dlmalloc build with `node scripts/bench.mjs --only overhead,memory` when it was adopted.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

// The shipped wasm traps on a panic, as a std build with `panic = "abort"` does, but without
// formatting the message first: std's panic hook, `core::fmt` and the messages and source
// paths of every panic site stay out of the download (measured in README "Size").
#[cfg(all(target_arch = "wasm32", feature = "wasm-panic-handler"))]
#[panic_handler]
fn panic(_: &::core::panic::PanicInfo) -> ! {
    ::core::arch::wasm32::unreachable()
}
