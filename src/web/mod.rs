//! Browser adapters: the only code that touches `fetch`, timers, clocks and abort signals.
//!
//! Everything here works in window and worker scopes alike: it reaches the globals through
//! `globalThis`, never through `window`.

pub mod abort;
pub mod cache_storage;
pub mod clock;
mod flag;
pub mod timer;
pub mod transport;
