//! Shared server state: clock, request stats, per-key endpoint state, demo fault config, the
//! per-run fault schedule (`crate::faults`) and PRNG.

use crate::faults::Faults;
use crate::stats::Stats;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// Fault-injection settings for `/api/*` routes (see `/__config`).
#[derive(Clone, Debug, PartialEq)]
pub struct FaultConfig {
    pub latency_ms: f64,
    pub jitter_ms: f64,
    pub error_rate: f64,
    pub rate_limit_rate: f64,
    pub retry_after_sec: u64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            latency_ms: 0.0,
            jitter_ms: 0.0,
            error_rate: 0.0,
            rate_limit_rate: 0.0,
            retry_after_sec: 1,
        }
    }
}

/// Small deterministic xorshift64* generator.
#[derive(Clone, Debug)]
pub struct Prng(u64);

impl Prng {
    pub const DEFAULT_SEED: u64 = 0x9E37_79B9_7F4A_7C15;

    pub fn new(seed: u64) -> Self {
        Prng(if seed == 0 { Self::DEFAULT_SEED } else { seed })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Per-(run, key) state of the stateful endpoints.
#[derive(Default)]
pub struct KeyState {
    /// flaky: hits so far.
    pub flaky: HashMap<(String, String), u64>,
    /// storm: hits so far.
    pub storm: HashMap<(String, String), u64>,
    /// limited: arrival times (ms) of accepted requests still inside the window.
    pub limited: HashMap<(String, String), VecDeque<f64>>,
    /// cache: current version (absent means 1).
    pub cache: HashMap<(String, String), u64>,
}

impl KeyState {
    pub fn clear_run(&mut self, run: &str) {
        self.flaky.retain(|(r, _), _| r != run);
        self.storm.retain(|(r, _), _| r != run);
        self.limited.retain(|(r, _), _| r != run);
        self.cache.retain(|(r, _), _| r != run);
    }
}

pub struct Inner {
    pub start: Instant,
    pub stats: Mutex<Stats>,
    pub keys: Mutex<KeyState>,
    pub config: Mutex<FaultConfig>,
    /// Per-run fault rules (`/__faults`). Taken inside the stats lock by the accounting
    /// middleware, never the other way round.
    pub faults: Mutex<Faults>,
    /// Open connections, for closing them when a drop rule is added (`crate::conn`).
    pub conns: crate::conn::Registry,
    pub prng: Mutex<Prng>,
    pub statics: Vec<(String, std::path::PathBuf)>,
}

/// Cheaply clonable handle passed to every handler.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Lock a mutex, ignoring poisoning (a panicking handler must not wedge the server).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl AppState {
    pub fn new(statics: Vec<(String, std::path::PathBuf)>) -> Self {
        AppState(Arc::new(Inner {
            start: Instant::now(),
            stats: Mutex::new(Stats::default()),
            keys: Mutex::new(KeyState::default()),
            config: Mutex::new(FaultConfig::default()),
            faults: Mutex::new(Faults::default()),
            conns: crate::conn::Registry::default(),
            prng: Mutex::new(Prng::new(Prng::DEFAULT_SEED)),
            statics,
        }))
    }

    /// Milliseconds since server start (monotonic).
    pub fn now_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }

    pub fn random(&self) -> f64 {
        lock(&self.prng).next_f64()
    }

    /// Clear one run's stats, endpoint state and fault rules.
    pub fn reset_run(&self, run: &str) {
        lock(&self.stats).clear_run(run);
        lock(&self.keys).clear_run(run);
        let now = self.now_ms();
        lock(&self.faults).clear_run(run, now);
    }

    /// Clear everything, including the fault config, every run's fault rules and the PRNG seed.
    pub fn reset_all(&self) {
        lock(&self.stats).clear_all();
        *lock(&self.keys) = KeyState::default();
        *lock(&self.config) = FaultConfig::default();
        let now = self.now_ms();
        lock(&self.faults).clear_all(now);
        *lock(&self.prng) = Prng::new(Prng::DEFAULT_SEED);
    }
}
