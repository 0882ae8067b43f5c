//! The npm package's wasm surface: `fl_*` functions of numbers, with strings passed through
//! a scratch buffer, over [`Machine`]s kept in a handle table. No wasm-bindgen: the JS
//! driver (`js/driver.js`) is hand-written, so the download carries no generated glue. The
//! wire format is `docs/protocol.md`.
//!
//! The page is single-threaded and wasm calls never re-enter Rust while Rust runs, so the
//! global state below is only ever touched by one call at a time.

use crate::prelude::*;

use alloc::rc::Rc;
use core::cell::UnsafeCell;

use crate::core::error::ErrorKind;
use crate::core::lane::Lane;
use crate::core::retry_policy::RetryPolicy;
use crate::machine::{CacheSettings, Command, Machine, MachineConfig, RateRule, Strategy, Submit};

/// One machine and what its driver reads back.
struct Slot {
    /// Built by the setup calls, then moved into `machine` by the first event.
    config: MachineConfig,
    seed: u64,
    wall_offset: f64,
    machine: Option<Machine>,
    /// Commands encoded as 8 `f64` each.
    commands: Vec<f64>,
    /// The retry override for the next submit that asks for it.
    staged_retry: Option<Rc<RetryPolicy>>,
    /// `cached_urls` as of the last `fl_entry_count`.
    urls: Vec<Rc<str>>,
}

struct State {
    slots: Vec<Option<Slot>>,
    scratch: Vec<u8>,
}

struct Global(UnsafeCell<State>);
// Safety: wasm32 without threads; see the module docs.
unsafe impl Sync for Global {}

static STATE: Global = Global(UnsafeCell::new(State {
    slots: Vec::new(),
    scratch: Vec::new(),
}));

fn state() -> &'static mut State {
    // Safety: one call at a time (module docs), and no reference outlives the call.
    unsafe { &mut *STATE.0.get() }
}

fn slot(h: u32) -> Option<&'static mut Slot> {
    state().slots.get_mut(h as usize).and_then(Option::as_mut)
}

/// The machine of handle `h`, built from its configuration on first use.
fn machine(h: u32) -> Option<&'static mut Machine> {
    let s = slot(h)?;
    if s.machine.is_none() {
        s.machine = Some(Machine::new(core::mem::take(&mut s.config), s.seed, s.wall_offset));
    }
    s.machine.as_mut()
}

/// Splits the scratch buffer into strings of the given byte lengths.
fn strings<const N: usize>(lens: [u32; N]) -> [&'static str; N] {
    let mut out = [""; N];
    split_scratch(&lens, &mut out);
    out
}

/// [`strings`] for any count: one function instead of one per `N`.
fn split_scratch(lens: &[u32], out: &mut [&'static str]) {
    let scratch = &state().scratch;
    let mut at = 0usize;
    for (s, len) in out.iter_mut().zip(lens) {
        let end = at.saturating_add(*len as usize).min(scratch.len());
        let bytes = scratch.get(at..end).unwrap_or(&[]);
        debug_assert!(core::str::from_utf8(bytes).is_ok());
        // SAFETY: the driver writes every string with `TextEncoder.encodeInto` into room for
        // all of it (3 bytes per UTF-16 unit; lone surrogates become U+FFFD) and passes the
        // byte counts it wrote, so each range is whole UTF-8 (docs/protocol.md, "Strings
        // in"). Validating again cost 0.3 KiB of the download.
        *s = unsafe { core::str::from_utf8_unchecked(bytes) };
        at = end;
    }
}

fn opt(ms: f64) -> Option<f64> {
    if ms.is_nan() {
        None
    } else {
        Some(ms)
    }
}

fn lane(code: u32) -> Lane {
    match code {
        0 => Lane::Critical,
        2 => Lane::Background,
        _ => Lane::Normal,
    }
}

/// The wire code of an error kind: its discriminant, 1 (http) to 9 (closed).
fn kind_code(kind: ErrorKind) -> u32 {
    kind as u32
}

// Not inlined into `flush` (-23 B gz).
#[inline(never)]
fn encode(c: Command, out: &mut Vec<f64>) {
    // Every command but EMIT is small integers: one row shape keeps the code small (each
    // `f64` constant of a literal row costs nine bytes of wasm).
    let (code, a, b, c, d, e): (u8, u32, u32, u32, u32, u32) = match c {
        Command::OpenOp { op, call } => (1, op, call, 0, 0, 0),
        Command::StartFetch { op, attempt, validator } => {
            let (v, body) = validator.map_or((0, 0), |(v, b)| (v as u32, b));
            (2, op, attempt, v, body, 0)
        }
        Command::AbortFetch { op, reason } => (3, op, reason as u32, 0, 0, 0),
        Command::ReadBody { op, body, attempt } => (4, op, body, attempt, 0, 0),
        Command::Discard { op } => (5, op, 0, 0, 0, 0),
        Command::ResolveBody { call, body, source, attempts } => (6, call, body, source as u32, attempts, 0),
        Command::ResolveResponse { call, op, source, attempts } => (7, call, op, source as u32, attempts, 0),
        Command::Reject { call, kind, status, attempts, op } => (8, call, kind_code(kind), u32::from(status), attempts, op),
        Command::RunTask { call } => (9, call, 0, 0, 0, 0),
        Command::DropBody { body } => (10, body, 0, 0, 0, 0),
        Command::StoreRead { op, body } => (11, op, body, 0, 0, 0),
        Command::StoreWrite { body, op } => (12, body, op, 0, 0, 0),
        Command::StoreDelete { op } => (13, op, 0, 0, 0, 0),
        Command::Emit(e) => {
            let source = e.source.map_or(0, |s| s as u32);
            let code = match e.kind {
                crate::machine::EventKind::Retry => e.reason.map_or(0, |r| r as u32),
                crate::machine::EventKind::Settled => e.error.map_or(0, kind_code) * 16 + source,
                _ => source,
            };
            out.extend_from_slice(&[
                14.0,
                f64::from(e.kind as u8),
                f64::from(e.call),
                f64::from(e.attempt),
                e.delay_ms.unwrap_or(f64::NAN),
                e.status.map_or(0.0, f64::from),
                f64::from(code),
                e.duration_ms.unwrap_or(f64::NAN),
            ]);
            return;
        }
        Command::SetHeaders { body } => (15, body, 0, 0, 0, 0),
        Command::CloseOp { op } => (16, op, 0, 0, 0, 0),
        Command::Limit { host, limit, reason } => (17, host, limit, reason as u32, 0, 0),
    };
    for n in [u32::from(code), a, b, c, d, e, 0, 0] {
        out.push(f64::from(n));
    }
}

/// Moves the machine's pending commands into the encoded buffer.
fn flush(h: u32) -> Option<&'static mut Slot> {
    let s = slot(h)?;
    if let Some(m) = s.machine.as_mut() {
        let commands = &mut s.commands;
        m.drain_commands(|c| encode(c, commands));
    }
    Some(s)
}

/// A pointer to at least `len` bytes for the next call's strings.
#[no_mangle]
pub extern "C" fn fl_scratch(len: u32) -> *mut u8 {
    let scratch = &mut state().scratch;
    scratch.resize(len as usize, 0);
    scratch.as_mut_ptr()
}

/// A new machine; returns its handle.
#[no_mangle]
pub extern "C" fn fl_new(seed: f64, wall_offset: f64) -> u32 {
    let slots = &mut state().slots;
    let slot = Slot {
        config: MachineConfig::default(),
        seed: seed.to_bits(),
        wall_offset,
        machine: None,
        commands: Vec::new(),
        staged_retry: None,
        urls: Vec::new(),
    };
    match slots.iter().position(Option::is_none) {
        Some(i) => {
            slots[i] = Some(slot);
            i as u32
        }
        None => {
            slots.push(Some(slot));
            (slots.len() - 1) as u32
        }
    }
}

/// Frees handle `h` and everything its machine held.
#[no_mangle]
pub extern "C" fn fl_free(h: u32) {
    if let Some(s) = state().slots.get_mut(h as usize) {
        *s = None;
    }
}

/// The limits, timeouts and switches (see `docs/protocol.md`).
#[no_mangle]
pub extern "C" fn fl_config(
    h: u32,
    concurrency: f64,
    per_host: f64,
    timeout: f64,
    total: f64,
    dedupe: u32,
    throw_http: u32,
) {
    if let Some(s) = slot(h) {
        let c = &mut s.config;
        c.concurrency = crate::machine::config::limit_from_f64(concurrency);
        c.per_host = crate::machine::config::limit_from_f64(per_host);
        c.timeout_ms = opt(timeout);
        c.total_timeout_ms = opt(total);
        c.dedupe = dedupe != 0;
        c.throw_http_errors = throw_http != 0;
    }
}

/// Adaptive per-host limits between `min` and `max`, starting at `initial` (checked by the
/// driver). Not called: off.
#[no_mangle]
pub extern "C" fn fl_adaptive(h: u32, min: u32, max: u32, initial: u32) {
    if let Some(s) = slot(h) {
        s.config.adaptive = Some(crate::machine::AdaptiveSettings { min, max, initial });
    }
}

/// A retry contract: the client's (`slot_id` 0) or the next submit's override (1).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fl_retry(
    h: u32,
    slot_id: u32,
    limit: f64,
    backoff_ms: f64,
    factor: f64,
    max_backoff_ms: f64,
    jitter: u32,
    max_retry_after_ms: f64,
    retry_on_timeout: u32,
    methods_len: u32,
    statuses_len: u32,
) {
    let [methods, statuses] = strings([methods_len, statuses_len]);
    // Loops, not iterator chains collected: each chain was a function of its own.
    let mut method_list = Vec::new();
    for m in crate::core::text::split(methods, b',') {
        if !m.is_empty() {
            method_list.push(String::from(m));
        }
    }
    let mut status_codes = Vec::new();
    for s in crate::core::text::split(statuses, b',') {
        if let Some(code) = crate::core::text::parse_u64(s).and_then(|n| u16::try_from(n).ok()) {
            status_codes.push(code);
        }
    }
    // Every field comes from the driver (js/options.js fills the defaults).
    let p = RetryPolicy {
        limit: if limit >= 0.0 { limit as u32 } else { 0 },
        methods: method_list,
        status_codes,
        backoff: crate::core::backoff::Backoff {
            base_ms: backoff_ms,
            factor,
            max_ms: max_backoff_ms,
            jitter: jitter != 0,
        },
        max_retry_after_ms,
        retry_on_timeout: retry_on_timeout != 0,
    };
    if let Some(s) = slot(h) {
        if slot_id == 0 {
            s.config.retry = Rc::new(p);
        } else {
            s.staged_retry = Some(Rc::new(p));
        }
    }
}

/// A rate-limit rule (host in scratch; empty for every host).
#[no_mangle]
pub extern "C" fn fl_rate_limit(h: u32, limit: f64, interval_ms: f64, host_len: u32) {
    let [host] = strings([host_len]);
    if let Some(s) = slot(h) {
        s.config.rate_limits.push(RateRule {
            limit: if limit >= 1.0 { limit as u32 } else { 1 },
            interval_ms,
            host: if host.is_empty() {
                None
            } else {
                Some(String::from(host))
            },
        });
    }
}

/// Turns the cache on.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fl_cache(
    h: u32,
    strategy: u32,
    ttl_ms: f64,
    max_entries: f64,
    max_bytes: f64,
    allow_private: u32,
    persist: u32,
    _persist_max_entries: f64,
    persist_max_age_ms: f64,
) {
    if let Some(s) = slot(h) {
        s.config.cache = Some(CacheSettings {
            strategy: Strategy::from_code(strategy).unwrap_or_default(),
            ttl_ms: opt(ttl_ms),
            max_entries: if max_entries >= 0.0 { max_entries as usize } else { 0 },
            max_bytes: if max_bytes >= 0.0 {
                max_bytes.min(usize::MAX as f64) as usize
            } else {
                0
            },
            allow_private: allow_private != 0,
            persist: persist != 0,
            persist_max_age_ms: opt(persist_max_age_ms),
        });
    }
}

/// A request; returns its call id.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fl_submit(
    h: u32,
    now: f64,
    lane_code: u32,
    strategy: u32,
    ttl_ms: f64,
    timeout_ms: f64,
    total_timeout_ms: f64,
    dedupe: u32,
    flags: u32,
    group: u32,
    method_len: u32,
    url_len: u32,
    host_len: u32,
    key_len: u32,
    headers_len: u32,
) -> u32 {
    let [method, url, host, key, headers] = strings([method_len, url_len, host_len, key_len, headers_len]);
    let retry = if flags & 4 != 0 {
        slot(h).and_then(|s| s.staged_retry.take())
    } else {
        None
    };
    let Some(m) = machine(h) else { return 0 };
    let req = Submit {
        method,
        url,
        host,
        key: if flags & 8 != 0 { Some(key) } else { None },
        headers,
        lane: lane(lane_code),
        strategy: Strategy::from_code(strategy),
        ttl_ms: opt(ttl_ms),
        timeout_ms: opt(timeout_ms),
        total_timeout_ms: opt(total_timeout_ms),
        dedupe: match dedupe {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        },
        idempotency_key: flags & 1 != 0,
        credentials: flags & 2 != 0,
        retry,
        group,
        decodes: flags & 16 != 0,
    };
    m.submit(now, &req)
}

/// The driver decoded (`ok` 1) or failed to decode (0) the answer of a call submitted with
/// flag 16.
#[no_mangle]
pub extern "C" fn fl_decoded(h: u32, now: f64, call: u32, ok: u32) {
    if let Some(m) = machine(h) {
        m.decoded(now, call, ok != 0);
    }
}

/// A `schedule` task; returns its call id.
#[no_mangle]
pub extern "C" fn fl_task(h: u32, now: f64, lane_code: u32, host_len: u32, group: u32) -> u32 {
    let [host] = strings([host_len]);
    machine(h).map_or(0, |m| {
        m.task(
            now,
            lane(lane_code),
            if host.is_empty() { None } else { Some(host) },
            group,
        )
    })
}

/// A task's function settled.
#[no_mangle]
pub extern "C" fn fl_task_done(h: u32, now: f64, call: u32) {
    if let Some(m) = machine(h) {
        m.task_done(now, call);
    }
}

/// An attempt's response head (headers in scratch).
#[no_mangle]
pub extern "C" fn fl_head(h: u32, now: f64, op: u32, attempt: u32, status: u32, headers_len: u32) {
    let [headers] = strings([headers_len]);
    if let Some(m) = machine(h) {
        m.head(now, op, attempt, status.min(999) as u16, headers);
    }
}

/// An attempt's `fetch` rejected.
#[no_mangle]
pub extern "C" fn fl_failed(h: u32, now: f64, op: u32, attempt: u32) {
    if let Some(m) = machine(h) {
        m.transport_failed(now, op, attempt);
    }
}

/// A body was read.
#[no_mangle]
pub extern "C" fn fl_body(h: u32, now: f64, op: u32, attempt: u32, bytes: f64) {
    if let Some(m) = machine(h) {
        m.body(now, op, attempt, if bytes > 0.0 { bytes as u64 } else { 0 });
    }
}

/// A body read failed.
#[no_mangle]
pub extern "C" fn fl_body_failed(h: u32, now: f64, op: u32, attempt: u32) {
    if let Some(m) = machine(h) {
        m.body_failed(now, op, attempt);
    }
}

/// A Cache API lookup finished (stored headers in scratch when found).
#[no_mangle]
pub extern "C" fn fl_store_read(
    h: u32,
    now: f64,
    op: u32,
    found: u32,
    response_time_ms: f64,
    _status: u32,
    headers_len: u32,
) {
    let [headers] = strings([headers_len]);
    if let Some(m) = machine(h) {
        m.store_read(
            now,
            op,
            if found != 0 {
                Some((response_time_ms, headers))
            } else {
                None
            },
        );
    }
}

/// A Cache API lookup failed.
#[no_mangle]
pub extern "C" fn fl_store_failed(h: u32, now: f64, op: u32) {
    if let Some(m) = machine(h) {
        m.store_failed(now, op);
    }
}

/// A caller's signal fired.
#[no_mangle]
pub extern "C" fn fl_abort(h: u32, now: f64, call: u32) {
    if let Some(m) = machine(h) {
        m.abort(now, call);
    }
}

/// A new group; returns its id.
#[no_mangle]
pub extern "C" fn fl_group(h: u32, abort_on_failure: u32) -> u32 {
    machine(h).map_or(0, |m| m.open_group(abort_on_failure != 0))
}

/// Aborts a group's waiting members.
#[no_mangle]
pub extern "C" fn fl_abort_group(h: u32, now: f64, group: u32) {
    if let Some(m) = machine(h) {
        m.abort_group(now, group);
    }
}

/// The driver is done with a group.
#[no_mangle]
pub extern "C" fn fl_group_end(h: u32, group: u32) {
    if let Some(m) = machine(h) {
        m.close_group(group);
    }
}

/// Time passed.
#[no_mangle]
pub extern "C" fn fl_tick(h: u32, now: f64) {
    if let Some(m) = machine(h) {
        m.tick(now);
    }
}

/// Changes the global limit.
#[no_mangle]
pub extern "C" fn fl_set_concurrency(h: u32, now: f64, n: f64) {
    if let Some(m) = machine(h) {
        m.set_concurrency(now, crate::machine::config::limit_from_f64(n));
    }
}

/// Rejects everything queued.
#[no_mangle]
pub extern "C" fn fl_clear_queue(h: u32, now: f64) {
    if let Some(m) = machine(h) {
        m.clear_queue(now);
    }
}

/// Ends everything.
#[no_mangle]
pub extern "C" fn fl_close(h: u32, now: f64) {
    if let Some(m) = machine(h) {
        m.close(now);
    }
}

/// Whether anyone listens to events.
#[no_mangle]
pub extern "C" fn fl_listening(h: u32, on: u32) {
    if let Some(m) = machine(h) {
        m.set_listening(on != 0);
    }
}

/// The next deadline on the driver's clock; `Infinity` for none.
#[no_mangle]
pub extern "C" fn fl_deadline(h: u32) -> f64 {
    machine(h).and_then(|m| m.deadline()).unwrap_or(f64::INFINITY)
}

/// Work holding a permit.
#[no_mangle]
pub extern "C" fn fl_active(h: u32) -> u32 {
    machine(h).map_or(0, |m| m.active() as u32)
}

/// Work waiting for a permit.
#[no_mangle]
pub extern "C" fn fl_pending(h: u32) -> u32 {
    machine(h).map_or(0, |m| m.pending() as u32)
}

/// The global limit; `Infinity` for none.
#[no_mangle]
pub extern "C" fn fl_concurrency(h: u32) -> f64 {
    machine(h).map_or(0.0, |m| {
        let n = m.concurrency();
        if n == usize::MAX {
            f64::INFINITY
        } else {
            n as f64
        }
    })
}

/// Counter `i` (order in `docs/protocol.md`).
#[no_mangle]
pub extern "C" fn fl_stat(h: u32, i: u32) -> f64 {
    let Some(m) = machine(h) else { return 0.0 };
    let c = m.counters();
    let v = match i {
        0 => c.started,
        1 => c.succeeded,
        2 => c.failed,
        3 => c.retried,
        4 => c.deduped,
        5 => c.batched,
        6 => c.memory_hits,
        7 => c.persistent_hits,
        8 => c.cache_misses,
        9 => c.rate_limited,
        10 => c.bytes,
        _ => 0,
    };
    v as f64
}

/// Writes the name of host `i` (its id, as `LIMIT` carries it) into scratch; returns its
/// byte length plus one (a host name may be empty), 0 past the last host.
#[no_mangle]
pub extern "C" fn fl_host(h: u32, i: u32) -> u32 {
    let Some(m) = machine(h) else { return 0 };
    m.host_name(i).map_or(0, |name| to_scratch(name.as_bytes()) + 1)
}

/// Host `i`'s limit: its adaptive limit, or the per-host limit (`Infinity` for none).
#[no_mangle]
pub extern "C" fn fl_host_limit(h: u32, i: u32) -> f64 {
    let Some(m) = machine(h) else { return 0.0 };
    match m.host_limit(i) {
        usize::MAX => f64::INFINITY,
        n => n as f64,
    }
}

/// Whether a GET of the URL in scratch (then its request headers) would be answered now
/// without a request of its own (1) or not (0): see `Machine::answers_now`.
#[no_mangle]
pub extern "C" fn fl_answers(h: u32, now: f64, url_len: u32, headers_len: u32) -> u32 {
    let [url, headers] = strings([url_len, headers_len]);
    machine(h).is_some_and(|m| m.answers_now(now, url, headers)) as u32
}

/// Loader keys that went out in one batch.
#[no_mangle]
pub extern "C" fn fl_count_batched(h: u32, n: f64) {
    if let Some(m) = machine(h) {
        m.count_batched(if n > 0.0 { n as u64 } else { 0 });
    }
}

/// Body bytes the driver read itself (see `Machine::count_bytes`).
#[no_mangle]
pub extern "C" fn fl_count_bytes(h: u32, n: f64) {
    if let Some(m) = machine(h) {
        m.count_bytes(if n > 0.0 { n as u64 } else { 0 });
    }
}

/// How many distinct URLs the memory cache holds (a snapshot for `fl_entry_url`).
#[no_mangle]
pub extern "C" fn fl_entry_count(h: u32) -> u32 {
    let urls = machine(h).map_or_else(Vec::new, |m| m.cached_urls());
    let Some(s) = slot(h) else { return 0 };
    s.urls = urls;
    s.urls.len() as u32
}

/// Writes URL `i` of the snapshot into scratch; returns its byte length.
#[no_mangle]
pub extern "C" fn fl_entry_url(h: u32, i: u32) -> u32 {
    let url = slot(h).and_then(|s| s.urls.get(i as usize).cloned());
    url.map_or(0, |url| to_scratch(url.as_bytes()))
}

/// Puts `bytes` in the scratch buffer for the driver to read; returns their length.
fn to_scratch(bytes: &[u8]) -> u32 {
    let scratch = &mut state().scratch;
    scratch.clear();
    scratch.extend_from_slice(bytes);
    bytes.len() as u32
}

/// Writes the headers the memory cache holds for `body` (after `SET_HEADERS`) into scratch as
/// `name:value\n` lines; returns their byte length (0: none).
#[no_mangle]
pub extern "C" fn fl_body_headers(h: u32, body: u32) -> u32 {
    let Some(list) = machine(h).and_then(|m| m.body_headers(body)) else {
        return 0;
    };
    let scratch = &mut state().scratch;
    scratch.clear();
    for (name, value) in list.iter() {
        scratch.extend_from_slice(name.as_bytes());
        scratch.push(b':');
        scratch.extend_from_slice(value.as_bytes());
        scratch.push(b'\n');
    }
    scratch.len() as u32
}

/// Drops the memory entries for the URL in scratch; returns how many.
#[no_mangle]
pub extern "C" fn fl_forget(h: u32, url_len: u32) -> u32 {
    let [url] = strings([url_len]);
    machine(h).map_or(0, |m| m.forget(url) as u32)
}

/// Empties the memory cache.
#[no_mangle]
pub extern "C" fn fl_clear_cache(h: u32) {
    if let Some(m) = machine(h) {
        m.clear_cache();
    }
}

/// The encoded commands (8 `f64` each), after moving in any new ones.
#[no_mangle]
pub extern "C" fn fl_commands(h: u32) -> *const f64 {
    flush(h).map_or(core::ptr::null(), |s| s.commands.as_ptr())
}

/// How many encoded commands there are, after moving in any new ones.
#[no_mangle]
pub extern "C" fn fl_command_count(h: u32) -> u32 {
    flush(h).map_or(0, |s| (s.commands.len() / 8) as u32)
}

/// Empties the encoded commands.
#[no_mangle]
pub extern "C" fn fl_commands_clear(h: u32) {
    if let Some(s) = slot(h) {
        s.commands.clear();
    }
}
