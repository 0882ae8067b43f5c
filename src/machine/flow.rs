//! The path of one request through the machine:
//!
//! ```text
//! submit ─▶ dedupe (join an op in flight) ─▶ cache plan (memory, then the Cache API)
//!   ─▶ queue (lanes, permits, rate windows, host pauses) ─▶ attempt (timeout)
//!   ─▶ head: retry (backoff or the server's wait) | answer (pass through, or read the body
//!      to store it or share it) | fall back on the stored entry | fail
//! ```

use crate::prelude::*;

use alloc::rc::Rc;

use super::command::{AbortReason, Command, Event, EventKind, RetryReason, Source, Validator};
use super::config::Strategy;
use super::headers;
use super::memory::Entry;
use super::state::{CacheCtx, Op, Phase};
#[cfg(all(test, not(target_arch = "wasm32")))]
use super::state::{Call, CallKind};
use super::timers::TimerKind;
use super::{op_task, Machine, Submit};
use crate::core::cache::{
    freshness, merge_304, validator, plan, storable, Plan, ResponseMeta, StoreRules, StrategyKind,
};
use crate::core::error::ErrorKind;
use crate::core::retry_after::{parse_rate_limit_reset, parse_retry_after};
use crate::core::retry_policy::{pauses_host, AttemptOutcome, RetryDecision};
use crate::core::scheduler::Work;

/// The wait a response asks for: `Retry-After`, else `RateLimit-Reset`, else
/// `X-RateLimit-Reset`. Unparseable values are ignored (the backoff applies).
// Not inlined into `head`: smaller in the wasm.
#[inline(never)]
fn server_wait_ms(block: &str, wall: f64) -> Option<f64> {
    headers::find(block, "retry-after")
        .and_then(|v| parse_retry_after(v, wall))
        .or_else(|| headers::find(block, "ratelimit-reset").and_then(|v| parse_rate_limit_reset(v, wall)))
        .or_else(|| headers::find(block, "x-ratelimit-reset").and_then(|v| parse_rate_limit_reset(v, wall)))
}

/// Failures a stored entry may stand in for: the network is down, slow, or the server broke.
fn falls_back(outcome: AttemptOutcome) -> bool {
    match outcome {
        AttemptOutcome::Network | AttemptOutcome::Timeout => true,
        AttemptOutcome::Status(s) => s >= 500,
    }
}

fn strategy_kind(s: Strategy) -> Option<StrategyKind> {
    match s {
        Strategy::CacheFirst => Some(StrategyKind::CacheFirst),
        Strategy::NetworkFirst => Some(StrategyKind::NetworkFirst),
        Strategy::StaleWhileRevalidate => Some(StrategyKind::StaleWhileRevalidate),
        Strategy::CacheOnly => Some(StrategyKind::CacheOnly),
        Strategy::NetworkOnly | Strategy::Bypass => None,
    }
}

/// What identical requests are found under while one is in flight: method, URL and the
/// request headers (which `Vary` may name).
fn request_key(method: &str, url: &str, headers: &str) -> String {
    let mut key = String::with_capacity(method.len() + url.len() + headers.len() + 2);
    key.push_str(method);
    key.push_str(" ");
    key.push_str(url);
    key.push_str("\n");
    key.push_str(headers);
    key
}

impl Machine {
    /// Whether a GET of `url` (with the request `headers`) would be answered now without a
    /// request of its own: an identical one is in flight (dedupe on), or the memory cache holds
    /// an entry that the client's strategy serves as it is. Field selection asks this of the
    /// URLs whose fields cover a caller's.
    pub fn answers_now(&mut self, now: f64, url: &str, headers: &str) -> bool {
        if self.cfg.dedupe && self.inflight.contains_key(&request_key("GET", url, headers)) {
            return true;
        }
        let Some(c) = self.cfg.cache.as_ref() else { return false };
        let (Some(kind), ttl, wall) = (strategy_kind(c.strategy), c.ttl_ms, self.wall(now)) else {
            return false;
        };
        let found = self.memory.as_mut().and_then(|m| m.get(url, headers));
        found.is_some_and(|e| {
            plan(kind, Some(freshness(&e.headers, e.response_time_ms, ttl, wall))) == (Plan::Serve { refresh: false })
        })
    }

    /// Dedupe, then the cache, then the queue.
    pub(super) fn route(&mut self, now: f64, id: u32, req: &Submit<'_>) {
        let read = req.method == "GET" || req.method == "HEAD";
        let dedupe_key: Option<String> = if req.dedupe.unwrap_or(self.cfg.dedupe && read) {
            let key = match req.key {
                Some(k) => {
                    let mut key = String::from("key:");
                    key.push_str(k);
                    key
                }
                None => request_key(req.method, req.url, req.headers),
            };
            if let Some(op) = self.inflight.get(key.as_str()).map(|&op| op as u32) {
                if let Some(o) = self.ops.get_mut(op) {
                    o.callers.push(id);
                    if let Some(c) = self.calls.get_mut(id) {
                        c.op = op;
                        c.joined = true;
                    }
                    self.counters.deduped += 1;
                    return;
                }
            }
            Some(key)
        } else {
            None
        };

        let strategy = req.strategy.or(self.cfg.cache.as_ref().map(|c| c.strategy));
        let kind = match (&self.cfg.cache, strategy) {
            (Some(_), Some(s)) if req.method == "GET" => strategy_kind(s),
            _ => None,
        };
        let Some(kind) = kind else {
            let op = self.open_op(now, id, req, dedupe_key, None);
            self.enqueue(now, op, true);
            return;
        };
        let url_key = match req.key {
            Some(k) => {
                let mut s = String::from("key:");
                s.push_str(k);
                s
            }
            None => String::from(req.url),
        };
        let ttl_ms = req.ttl_ms.or(self.cfg.cache.as_ref().and_then(|c| c.ttl_ms));
        let found = self.memory.as_mut().and_then(|m| m.get(&url_key, req.headers).cloned());
        let ctx = CacheCtx {
            url_key,
            strategy: kind,
            ttl_ms,
            stored: None,
            fallback: false,
            revalidating: false,
            stored_headers: None,
        };
        match found {
            // The hot path: a fresh entry answers at once, with no op to open and close.
            Some(entry)
                if plan(
                    kind,
                    Some(freshness(
                        &entry.headers,
                        entry.response_time_ms,
                        ttl_ms,
                        self.wall(now),
                    )),
                ) == (Plan::Serve { refresh: false }) =>
            {
                self.cache_hit(id, Source::Memory);
                let c = self.calls.remove(id);
                self.settle_body(id, c.as_ref(), now, entry.body, Source::Memory, 0, 0);
            }
            Some(entry) => {
                let op = self.open_op(now, id, req, dedupe_key, Some(ctx));
                self.apply_plan(now, op, Some((entry, false)));
            }
            None if self.cfg.cache.as_ref().is_some_and(|c| c.persist) => {
                let op = self.open_op(now, id, req, dedupe_key, Some(ctx));
                let body = self.new_body();
                if let Some(o) = self.ops.get_mut(op) {
                    o.phase = Phase::StoreLookup;
                    o.body = body;
                }
                self.push(Command::StoreRead { op, body });
            }
            None => {
                let op = self.open_op(now, id, req, dedupe_key, Some(ctx));
                self.apply_plan(now, op, None);
            }
        }
    }

    fn open_op(
        &mut self,
        now: f64,
        call: u32,
        req: &Submit<'_>,
        dedupe_key: Option<String>,
        cache: Option<CacheCtx>,
    ) -> u32 {
        let host = self.sched.host(req.host);
        self.adapt_host(host);
        let total = req.total_timeout_ms.or(self.cfg.total_timeout_ms);
        let op = self.ops.insert(Op {
            callers: vec![call],
            origin: call,
            dedupe_key: dedupe_key.clone(),
            url: Rc::from(req.url),
            method: Rc::from(req.method),
            request_headers: Rc::from(req.headers),
            credentials: req.credentials,
            idempotent_key: req.idempotency_key,
            host,
            lane: req.lane,
            retry: req.retry.clone().unwrap_or_else(|| self.cfg.retry.clone()),
            timeout_ms: req.timeout_ms.or(self.cfg.timeout_ms),
            attempts: 0,
            status: 0,
            phase: Phase::Queued,
            stamp: 0,
            body: 0,
            cache,
            background: false,
            unmeasured: false,
            dispatched_ms: 0.0,
            epoch: 0,
        });
        if let Some(key) = dedupe_key {
            self.inflight.insert(key, op as usize);
        }
        if let Some(c) = self.calls.get_mut(call) {
            c.op = op;
        }
        self.push(Command::OpenOp { op, call });
        if let Some(ms) = total {
            self.timers.arm(now + ms, TimerKind::Total, op, 0);
        }
        op
    }

    /// Puts `op` in the scheduler's queue. `first` tells listeners it was queued.
    fn enqueue(&mut self, _now: f64, op: u32, first: bool) {
        let Some(o) = self.ops.get_mut(op) else { return };
        o.phase = Phase::Queued;
        o.stamp = o.stamp.wrapping_add(1);
        let (lane, host, origin) = (o.lane, o.host, o.origin);
        self.sched.enqueue(Work {
            id: op_task(op),
            lane,
            host: Some(host),
            metered: true,
        });
        if first {
            self.emit(Event::new(EventKind::Queued, origin, 0));
        }
    }

    /// What the cache plan says for `op`, given the entry found (and whether it came from
    /// the Cache API).
    fn apply_plan(&mut self, now: f64, op: u32, found: Option<(Entry, bool)>) {
        let Some(o) = self.ops.get(op) else { return };
        let Some(ctx) = &o.cache else { return };
        let state = found
            .as_ref()
            .map(|(e, _)| freshness(&e.headers, e.response_time_ms, ctx.ttl_ms, self.wall(now)));
        let strategy = ctx.strategy;
        let decided = plan(strategy, state);
        if decided.counts_as_miss(strategy) {
            self.counters.cache_misses += 1;
        }
        match (decided, found) {
            (Plan::Serve { refresh }, Some((entry, persistent))) => {
                let source = if persistent { Source::Persistent } else { Source::Memory };
                // Before any attempt: no attempts, no status.
                self.answer_callers(now, op, entry.body, 0, source, true);
                if refresh {
                    // The op lives on as a background refresh with nobody waiting.
                    self.retain_body(entry.body);
                    if let Some(o) = self.ops.get_mut(op) {
                        o.background = true;
                        if let Some(ctx) = o.cache.as_mut() {
                            ctx.stored = Some((entry, persistent));
                        }
                    }
                    self.enqueue(now, op, true);
                } else {
                    self.close_op(op);
                }
            }
            (Plan::Miss, _) | (Plan::Serve { .. }, None) => {
                self.fail_op(now, op, ErrorKind::Cache, None);
            }
            (Plan::Network { fallback }, found) => {
                if let Some((entry, _)) = &found {
                    self.retain_body(entry.body);
                }
                if let Some(ctx) = self.ops.get_mut(op).and_then(|o| o.cache.as_mut()) {
                    ctx.fallback = fallback;
                    ctx.stored = found;
                }
                self.enqueue(now, op, true);
            }
        }
    }

    /// `call` is answered from the memory cache or the Cache API (`source`): counted and told.
    fn cache_hit(&mut self, call: u32, source: Source) {
        if source == Source::Persistent {
            self.counters.persistent_hits += 1;
        } else {
            self.counters.memory_hits += 1;
        }
        let mut e = Event::new(EventKind::CacheHit, call, 0);
        e.source = Some(source);
        self.emit(e);
    }

    /// A background refresh (opened by `origin`) updated the stored entry; `status` 304 when
    /// it was revalidated, 0 when it was replaced.
    fn cache_updated(&mut self, origin: u32, attempts: u32, status: u16) {
        let mut e = Event::new(EventKind::CacheUpdate, origin, attempts).status(status);
        e.source = Some(Source::Network);
        self.emit(e);
    }

    /// Takes the callers off `op` and stops others from joining it.
    fn detach_callers(&mut self, op: u32) -> Vec<u32> {
        let Some(o) = self.ops.get_mut(op) else {
            return Vec::new();
        };
        if let Some(key) = o.dedupe_key.take() {
            self.inflight.remove(&key);
        }
        core::mem::take(&mut o.callers)
    }

    // Not inlined into `pump`: smaller in the wasm.
    #[inline(never)]
    pub(super) fn start_attempt(&mut self, now: f64, op: u32) {
        let Some(o) = self.ops.get_mut(op) else { return };
        o.attempts += 1;
        o.phase = Phase::Running;
        o.stamp = o.stamp.wrapping_add(1);
        let (attempt, origin, stamp, timeout) = (o.attempts, o.origin, o.stamp, o.timeout_ms);
        let validator = o.cache.as_mut().and_then(|ctx| {
            let (entry, _) = ctx.stored.as_ref()?;
            let (name, _) = validator(&entry.headers)?;
            ctx.revalidating = true;
            let v = if name == "if-none-match" {
                Validator::ETag
            } else {
                Validator::LastModified
            };
            Some((v, entry.body))
        });
        if attempt == 1 {
            self.counters.started += 1;
            self.emit(Event::new(EventKind::Start, origin, 1));
        } else {
            self.counters.retried += 1;
        }
        self.push(Command::StartFetch { op, attempt, validator });
        self.adapt_dispatched(now, op);
        if let Some(ms) = timeout {
            self.timers.arm(now + ms, TimerKind::Attempt, op, stamp);
        }
    }

    /// Ends the attempt in flight: its permit is free (the server has answered or never
    /// will), and its timers no longer matter. `None` if the event is stale.
    fn end_attempt(&mut self, now: f64, op: u32, attempt: u32) -> Option<()> {
        let o = self.ops.get_mut(op)?;
        if o.phase != Phase::Running || o.attempts != attempt {
            return None;
        }
        o.stamp = o.stamp.wrapping_add(1);
        o.phase = Phase::Decided;
        let host = o.host;
        self.sched.finish(op_task(op), Some(host), now);
        Some(())
    }

    /// An attempt's response head arrived.
    pub fn head(&mut self, now: f64, op: u32, attempt: u32, status: u16, block: &str) {
        if self.end_attempt(now, op, attempt).is_none() {
            return;
        }
        if let Some(o) = self.ops.get_mut(op) {
            o.status = status;
        }
        self.adapt_ended(now, op, status == 429 || status == 503);
        if (200..300).contains(&status) || status == 304 {
            match headers::find(block, "content-length").and_then(crate::core::text::parse_u64) {
                Some(n) => self.counters.bytes += n,
                // Chunked: the bytes count once they are read (`body`, or the driver's own read).
                None => {
                    if let Some(o) = self.ops.get_mut(op) {
                        o.unmeasured = true;
                    }
                }
            }
            self.answered(now, op, status, block);
        } else {
            let wall = self.wall(now);
            let wait = server_wait_ms(block, wall);
            let Some(o) = self.ops.get(op) else { return };
            let (origin, host, max_wait) = (o.origin, o.host, o.retry.max_retry_after_ms);
            let throttled = status == 429 || status == 503;
            // A wait too long to honour, or one that pauses the host, is told as rate-limited.
            let mut told = wait.filter(|w| *w > max_wait && throttled);
            if told.is_none() {
                if let Some(w) = wait.filter(|_| pauses_host(status, wait)) {
                    // The whole host waits in the queue; the others do not each discover the
                    // limit on their own.
                    self.sched.pause_host(host, now + w);
                    told = Some(w);
                }
            }
            if let Some(w) = told {
                self.counters.rate_limited += 1;
                let mut e = Event::new(EventKind::RateLimited, origin, attempt).status(status);
                e.delay_ms = Some(w);
                self.emit(e);
            }
            self.after_failure(now, op, AttemptOutcome::Status(status), wait, true);
        }
        self.pump(now);
    }

    /// An attempt's `fetch` rejected.
    pub fn transport_failed(&mut self, now: f64, op: u32, attempt: u32) {
        if self.end_attempt(now, op, attempt).is_none() {
            return;
        }
        self.after_failure(now, op, AttemptOutcome::Network, None, false);
        self.pump(now);
    }

    fn after_failure(&mut self, now: f64, op: u32, outcome: AttemptOutcome, wait: Option<f64>, has_response: bool) {
        let random = self.random();
        let Some(o) = self.ops.get(op) else { return };
        let decision = o
            .retry
            .decide(&o.method, o.idempotent_key, outcome, o.attempts, wait, random);
        let (origin, attempts, status) = (o.origin, o.attempts, o.status);
        match decision {
            RetryDecision::RetryAfter(delay) => {
                if has_response {
                    self.push(Command::Discard { op });
                }
                let reason = match outcome {
                    AttemptOutcome::Status(_) => RetryReason::Status,
                    AttemptOutcome::Network => RetryReason::Network,
                    AttemptOutcome::Timeout => RetryReason::Timeout,
                };
                {
                    let mut e = Event::new(EventKind::Retry, origin, attempts).status(status);
                    e.delay_ms = Some(delay);
                    e.reason = Some(reason);
                    self.emit(e);
                }
                // A paused host already holds the request back in the queue.
                let paused = matches!(outcome, AttemptOutcome::Status(s) if pauses_host(s, wait));
                if paused || delay <= 0.0 {
                    self.enqueue(now, op, false);
                } else if let Some(o) = self.ops.get_mut(op) {
                    o.phase = Phase::Backoff;
                    o.stamp = o.stamp.wrapping_add(1);
                    let stamp = o.stamp;
                    self.timers.arm(now + delay, TimerKind::Backoff, op, stamp);
                }
            }
            RetryDecision::TooLong(_) => {
                self.fail_op(now, op, ErrorKind::RateLimit, None);
            }
            RetryDecision::GiveUp => {
                let fallback = o.cache.as_ref().is_some_and(|c| c.fallback && c.stored.is_some());
                if fallback && falls_back(outcome) {
                    if has_response {
                        self.push(Command::Discard { op });
                    }
                    self.serve_stored(now, op);
                } else if has_response && !self.cfg.throw_http_errors {
                    self.deliver_live(now, op);
                } else {
                    let kind = match outcome {
                        AttemptOutcome::Status(_) => ErrorKind::Http,
                        AttemptOutcome::Network => ErrorKind::Network,
                        AttemptOutcome::Timeout => ErrorKind::Timeout,
                    };
                    self.fail_op(now, op, kind, None);
                }
            }
        }
    }

    /// The stored entry answers every caller (network-first or stale-if-error fallback).
    fn serve_stored(&mut self, now: f64, op: u32) {
        let Some(o) = self.ops.get(op) else { return };
        let attempts = o.attempts;
        let Some((entry, persistent)) = o.cache.as_ref().and_then(|c| c.stored.clone()) else {
            return;
        };
        let source = if persistent { Source::Persistent } else { Source::Memory };
        self.answer_callers(now, op, entry.body, attempts, source, false);
        self.close_op(op);
    }

    /// A 2xx or 304 head: revalidated, stored, shared, or handed through.
    // Not inlined into `head`: smaller in the wasm.
    #[inline(never)]
    fn answered(&mut self, now: f64, op: u32, status: u16, block: &str) {
        let Some(o) = self.ops.get(op) else { return };
        let revalidated = status == 304 && o.cache.as_ref().is_some_and(|c| c.revalidating && c.stored.is_some());
        if revalidated {
            self.revalidated(now, op, block);
            return;
        }
        let store = o.cache.is_some() && {
            let list = headers::parse(block);
            let request_headers = headers::parse(&o.request_headers);
            let allow_private = self.cfg.cache.as_ref().is_some_and(|c| c.allow_private);
            let meta = ResponseMeta {
                status,
                headers: &list,
                request_method: &o.method,
                request_headers: &request_headers,
                request_credentials_include: o.credentials,
            };
            storable(&meta, &StoreRules { allow_private }).is_ok()
        };
        if store || o.callers.len() > 1 {
            let attempt = o.attempts;
            let body = self.new_body();
            if let Some(o) = self.ops.get_mut(op) {
                o.phase = Phase::Reading;
                o.body = body;
                if let (true, Some(ctx)) = (store, o.cache.as_mut()) {
                    ctx.revalidating = false;
                    // Kept for the entry; the body follows.
                    ctx.stored_headers = Some(Rc::new(headers::parse(block)));
                }
            }
            self.push(Command::ReadBody { op, body, attempt });
        } else {
            self.deliver_live(now, op);
        }
    }

    /// Hands `op`'s response to its one caller, unread (or drops it for a refresh nobody
    /// waits on).
    fn deliver_live(&mut self, now: f64, op: u32) {
        let Some(o) = self.ops.get(op) else { return };
        let (attempts, status) = (o.attempts, o.status);
        let callers = self.detach_callers(op);
        match callers.first() {
            Some(&first) => {
                if let Some(c) = self.calls.remove(first) {
                    self.settle_response(first, &c, now, op, attempts, status);
                }
            }
            None => self.push(Command::Discard { op }),
        }
        // More than one caller reads the body first; this is only reached with one.
        let rest = callers.get(1..).unwrap_or_default();
        self.reject_callers(now, rest, ErrorKind::Network, status, attempts, 0);
        self.close_op(op);
    }

    /// A 304 confirmed the stored entry: it answers, with the 304's headers merged in.
    fn revalidated(&mut self, now: f64, op: u32, block: &str) {
        let wall = self.wall(now);
        let Some(o) = self.ops.get_mut(op) else { return };
        let attempts = o.attempts;
        let background = o.background;
        let origin = o.origin;
        let request_headers = o.request_headers.clone();
        let Some(ctx) = o.cache.as_mut() else { return };
        let Some((mut entry, _)) = ctx.stored.clone() else {
            return;
        };
        let mut merged = (*entry.headers).clone();
        merge_304(&mut merged, &headers::parse(block));
        entry.headers = Rc::new(merged);
        entry.response_time_ms = wall;
        let url_key = ctx.url_key.clone();
        self.push(Command::SetHeaders { body: entry.body });
        self.push(Command::Discard { op });
        self.store_entry(op, &url_key, &request_headers, entry.clone());
        self.answer_callers(now, op, entry.body, attempts, Source::Network, false);
        if background {
            self.cache_updated(origin, attempts, 304);
        }
        self.close_op(op);
    }

    /// Answers every caller of `op` with `body` from `source`; from the network, the one that
    /// opened it as `network` and the ones that joined as `dedupe`. `hit`: each is a cache hit.
    fn answer_callers(&mut self, now: f64, op: u32, body: u32, attempts: u32, source: Source, hit: bool) {
        let status = self.ops.get(op).map_or(0, |o| o.status);
        for call in self.detach_callers(op) {
            // A fail-fast group may have aborted it while its siblings were answered.
            let Some(c) = self.calls.remove(call) else { continue };
            if hit {
                self.cache_hit(call, source);
            }
            let source = if source == Source::Network && c.joined { Source::Dedupe } else { source };
            self.settle_body(call, Some(&c), now, body, source, attempts, status);
        }
    }

    /// Puts `entry` in memory (and the Cache API), holding a reference to its body.
    fn store_entry(&mut self, op: u32, url_key: &str, request_headers: &str, entry: Entry) {
        let body = entry.body;
        if self.memory.is_none() {
            return;
        }
        self.remember(url_key, request_headers, entry);
        if self.cfg.cache.as_ref().is_some_and(|c| c.persist) {
            self.push(Command::StoreWrite { body, op });
        }
    }

    /// Puts `entry` in memory, when there is a memory cache, holding a reference to its body.
    fn remember(&mut self, url_key: &str, request_headers: &str, entry: Entry) {
        let Some(memory) = self.memory.as_mut() else { return };
        if let Some(n) = self.body_refs.get_mut(entry.body) {
            *n += 1;
        }
        let out = memory.put(url_key, request_headers, entry);
        self.release_bodies(out);
    }

    /// A `ReadBody` finished: `bytes` long.
    pub fn body(&mut self, now: f64, op: u32, attempt: u32, bytes: u64) {
        let wall = self.wall(now);
        let Some(o) = self.ops.get_mut(op) else { return };
        if o.phase != Phase::Reading || o.attempts != attempt {
            return;
        }
        let (body, attempts, background, origin) = (o.body, o.attempts, o.background, o.origin);
        o.body = 0;
        if o.unmeasured {
            self.counters.bytes += bytes;
        }
        let request_headers = o.request_headers.clone();
        let url = o.url.clone();
        let stored = o
            .cache
            .as_mut()
            .and_then(|ctx| Some((ctx.url_key.clone(), ctx.stored_headers.take()?)));
        if let Some((url_key, list)) = stored {
            let entry = Entry {
                url,
                body,
                headers: list,
                response_time_ms: wall,
                bytes: bytes as usize,
            };
            self.store_entry(op, &url_key, &request_headers, entry);
            if background {
                self.cache_updated(origin, attempts, 0);
            }
        }
        self.answer_callers(now, op, body, attempts, Source::Network, false);
        self.release_body(body);
        self.close_op(op);
        self.pump(now);
    }

    /// A `ReadBody` failed (the connection broke mid-body).
    pub fn body_failed(&mut self, now: f64, op: u32, attempt: u32) {
        let Some(o) = self.ops.get(op) else { return };
        if o.phase != Phase::Reading || o.attempts != attempt {
            return;
        }
        self.fail_op(now, op, ErrorKind::Network, None);
        self.pump(now);
    }

    /// A `StoreRead` finished.
    pub fn store_read(&mut self, now: f64, op: u32, found: Option<(f64, &str)>) {
        let wall = self.wall(now);
        let Some(o) = self.ops.get_mut(op) else { return };
        if o.phase != Phase::StoreLookup {
            return;
        }
        let body = core::mem::take(&mut o.body);
        let url = o.url.clone();
        let request_headers = o.request_headers.clone();
        let max_age = self.cfg.cache.as_ref().and_then(|c| c.persist_max_age_ms);
        let found = match found {
            Some((at, _)) if max_age.is_some_and(|m| wall - at > m) => {
                self.push(Command::StoreDelete { op });
                None
            }
            other => other,
        };
        match found {
            Some((response_time_ms, block)) => {
                let entry = Entry {
                    url,
                    body,
                    headers: Rc::new(headers::parse(block)),
                    response_time_ms,
                    bytes: 0,
                };
                let url_key = self
                    .ops
                    .get(op)
                    .and_then(|o| o.cache.as_ref())
                    .map(|c| c.url_key.clone())
                    .unwrap_or_default();
                // A Cache API hit is copied into memory, without writing it back.
                self.remember(&url_key, &request_headers, entry.clone());
                self.apply_plan(now, op, Some((entry, true)));
                self.release_body(body);
            }
            None => {
                self.release_body(body);
                self.apply_plan(now, op, None);
            }
        }
        self.pump(now);
    }

    /// The Cache API failed to answer a `StoreRead`: a `cache-error`, and on without it.
    pub fn store_failed(&mut self, now: f64, op: u32) {
        let origin = match self.ops.get(op) {
            Some(o) if o.phase == Phase::StoreLookup => o.origin,
            _ => return,
        };
        if self.listening {
            self.emit(Event::new(EventKind::CacheError, origin, 0));
        }
        self.store_read(now, op, None);
    }

    /// A deadline came up.
    pub(super) fn fire(&mut self, now: f64, kind: TimerKind, owner: u32, stamp: u32) {
        match kind {
            TimerKind::Wake => {}
            TimerKind::Total => {
                if self.ops.contains(owner) {
                    self.fail_op(now, owner, ErrorKind::Timeout, Some(AbortReason::TotalTimeout));
                }
            }
            TimerKind::Attempt => {
                let attempt = match self.ops.get(owner) {
                    Some(o) if o.stamp == stamp && o.phase == Phase::Running => o.attempts,
                    _ => return,
                };
                self.push(Command::AbortFetch {
                    op: owner,
                    reason: AbortReason::Timeout,
                });
                if self.end_attempt(now, owner, attempt).is_some() {
                    self.adapt_ended(now, owner, true);
                    self.after_failure(now, owner, AttemptOutcome::Timeout, None, false);
                }
            }
            TimerKind::Backoff => {
                if self
                    .ops
                    .get(owner)
                    .is_some_and(|o| o.stamp == stamp && o.phase == Phase::Backoff)
                {
                    self.enqueue(now, owner, false);
                }
            }
        }
    }

    /// Fails every caller of `op` with `kind` and ends it; `abort` says why an attempt in
    /// flight is aborted (none: nothing is in flight that needs it).
    pub(super) fn fail_op(&mut self, now: f64, op: u32, kind: ErrorKind, abort: Option<AbortReason>) {
        let Some(o) = self.ops.get(op) else { return };
        let (attempts, status) = (o.attempts, o.status);
        let carries = matches!(
            kind,
            ErrorKind::Http | ErrorKind::RateLimit | ErrorKind::Network | ErrorKind::Timeout
        );
        let callers = self.detach_callers(op);
        self.stop_op(now, op, abort.unwrap_or(AbortReason::Caller));
        self.reject_callers(now, &callers, kind, status, attempts, if carries { op } else { 0 });
        self.close_op(op);
    }

    /// Fails each of `callers` still waiting with `kind` (`op`: the one whose timing it carries).
    fn reject_callers(&mut self, now: f64, callers: &[u32], kind: ErrorKind, status: u16, attempts: u32, op: u32) {
        for &call in callers {
            // A fail-fast group may have aborted it while its siblings were answered.
            let Some(c) = self.calls.remove(call) else { continue };
            self.settle_err(call, Some(&c), now, kind, status, attempts, op);
        }
    }

    /// `call` no longer waits on `op`; the last one out stops it.
    pub(super) fn leave_op(&mut self, now: f64, op: u32, call: u32) {
        let Some(o) = self.ops.get_mut(op) else { return };
        o.callers.retain(|c| *c != call);
        if o.callers.is_empty() && !o.background {
            // Nobody may join an op that is being torn down.
            if let Some(key) = o.dedupe_key.take() {
                self.inflight.remove(&key);
            }
            self.stop_op(now, op, AbortReason::Caller);
            self.close_op(op);
        }
    }

    /// Stops whatever `op` is doing: out of the queue, its attempt aborted, its body read
    /// cancelled.
    fn stop_op(&mut self, now: f64, op: u32, reason: AbortReason) {
        let Some(o) = self.ops.get_mut(op) else { return };
        let phase = o.phase;
        let host = o.host;
        o.stamp = o.stamp.wrapping_add(1);
        match phase {
            Phase::Queued => {
                self.sched.cancel(op_task(op));
            }
            Phase::Running => {
                self.push(Command::AbortFetch { op, reason });
                self.sched.finish(op_task(op), Some(host), now);
            }
            Phase::Reading => self.push(Command::AbortFetch { op, reason }),
            Phase::Decided | Phase::Backoff | Phase::StoreLookup => {}
        }
        if let Some(o) = self.ops.get_mut(op) {
            // Done: any late event for it is stale.
            o.phase = Phase::Decided;
        }
    }

    /// Forgets `op` and what it held.
    pub(super) fn close_op(&mut self, op: u32) {
        let Some(o) = self.ops.remove(op) else { return };
        if let Some(key) = &o.dedupe_key {
            if self.inflight.get(key.as_str()) == Some(&(op as usize)) {
                self.inflight.remove(key);
            }
        }
        if o.body != 0 {
            self.release_body(o.body);
        }
        if let Some((entry, _)) = o.cache.and_then(|c| c.stored) {
            self.release_body(entry.body);
        }
        self.push(Command::CloseOp { op });
    }

    /// The call record of a waiting request, for tests.
    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub(super) fn call(&self, id: u32) -> Option<&Call> {
        self.calls.get(id)
    }

    /// Whether `call` is a task waiting for a permit, for tests.
    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub(super) fn task_queued(&self, id: u32) -> bool {
        self.calls.get(id).is_some_and(|c| c.kind == CallKind::TaskQueued)
    }
}
