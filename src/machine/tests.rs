//! The machine under a fake driver and a fake clock: examples of each flow, and property
//! tests that feed it random event sequences and check its invariants on every command.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::vec::Vec;

use proptest::prelude::{
    any, prop_assert, prop_assert_eq, prop_oneof, proptest, Just, ProptestConfig, Strategy as Gen,
};

use super::*;
use crate::core::retry_policy::RetryPolicy;

/// What the fake driver saw of one caller.
#[derive(Clone, Debug, PartialEq)]
enum Settled {
    Body(u32, Source),
    Live(u32),
    Err(ErrorKind),
    /// A task's function settled (the driver settles its promise).
    Task,
}

/// A driver that executes commands by bookkeeping only, and checks every invariant the
/// machine promises as the commands come.
struct Sim {
    m: Machine,
    now: f64,
    cfg: MachineConfig,
    settled: HashMap<u32, Settled>,
    calls: HashSet<u32>,
    tasks_running: HashMap<u32, Option<String>>,
    ops: HashMap<u32, String>,
    /// Attempts in flight: op -> (attempt, host, started at).
    running: HashMap<u32, (u32, String)>,
    reads: HashMap<u32, (u32, u32)>,
    store_reads: HashMap<u32, u32>,
    bodies: HashSet<u32>,
    /// Every attempt's (start, end) for the rate-limit check.
    windows: Vec<(f64, Option<f64>, u32)>,
    events: Vec<Event>,
    call_host: HashMap<u32, String>,
    peak: usize,
    /// Calls submitted with `decodes`.
    decodes: HashSet<u32>,
    /// Answered calls the driver is decoding.
    decoding: HashSet<u32>,
}

impl Sim {
    fn new(cfg: MachineConfig) -> Sim {
        let mut m = Machine::new(cfg.clone(), 7, 1_700_000_000_000.0);
        m.set_listening(true);
        Sim {
            m,
            now: 0.0,
            cfg,
            settled: HashMap::new(),
            calls: HashSet::new(),
            tasks_running: HashMap::new(),
            ops: HashMap::new(),
            running: HashMap::new(),
            reads: HashMap::new(),
            store_reads: HashMap::new(),
            bodies: HashSet::new(),
            windows: Vec::new(),
            events: Vec::new(),
            call_host: HashMap::new(),
            peak: 0,
            decodes: HashSet::new(),
            decoding: HashSet::new(),
        }
    }

    fn settle(&mut self, call: u32, how: Settled) {
        assert!(self.calls.contains(&call), "settled a call never made: {call}");
        assert!(
            self.settled.insert(call, how.clone()).is_none(),
            "call {call} settled twice ({how:?})"
        );
        if self.decodes.contains(&call) && matches!(how, Settled::Body(..) | Settled::Live(_)) {
            self.decoding.insert(call);
        }
    }

    fn drain(&mut self) {
        let mut commands = Vec::new();
        self.m.drain_commands(|c| commands.push(c));
        for c in commands {
            match c {
                Command::OpenOp { op, call } => {
                    let host = self.call_host.get(&call).cloned().expect("op for a known call");
                    assert!(self.ops.insert(op, host).is_none(), "op {op} opened twice");
                }
                Command::StartFetch { op, attempt, validator } => {
                    let host = self.ops.get(&op).cloned().expect("start of an open op");
                    if let Some((_, body)) = validator {
                        assert!(self.bodies.contains(&body), "validator from a dropped body {body}");
                    }
                    assert!(
                        self.running.insert(op, (attempt, host.clone())).is_none(),
                        "op {op} started twice"
                    );
                    self.windows.push((self.now, None, op));
                    self.check_limits(&host);
                }
                Command::AbortFetch { op, .. } => {
                    if self.running.remove(&op).is_some() {
                        self.end_window(op);
                    }
                    self.reads.remove(&op);
                }
                Command::ReadBody { op, body, attempt } => {
                    assert!(self.ops.contains_key(&op));
                    assert!(self.bodies.insert(body), "body {body} reused");
                    self.reads.insert(op, (body, attempt));
                }
                Command::Discard { op } => assert!(self.ops.contains_key(&op), "discard of a closed op"),
                Command::ResolveBody { call, body, source, .. } => {
                    assert!(self.bodies.contains(&body), "answer from a dropped body {body}");
                    self.settle(call, Settled::Body(body, source));
                }
                Command::ResolveResponse { call, op, .. } => {
                    assert!(self.ops.contains_key(&op), "live answer from a closed op");
                    self.settle(call, Settled::Live(op));
                }
                Command::Reject { call, kind, .. } => self.settle(call, Settled::Err(kind)),
                Command::RunTask { call } => {
                    assert!(!self.settled.contains_key(&call), "task {call} runs after it settled");
                    let host = self.call_host.get(&call).cloned();
                    assert!(self.tasks_running.insert(call, host.clone()).is_none());
                    self.check_limits(host.as_deref().unwrap_or(""));
                }
                Command::DropBody { body } => {
                    // A body reserved for a lookup that found nothing was never filled.
                    self.bodies.remove(&body);
                }
                Command::StoreRead { op, body } => {
                    self.bodies.insert(body);
                    self.store_reads.insert(op, body);
                }
                Command::StoreWrite { body, .. } => assert!(self.bodies.contains(&body)),
                Command::StoreDelete { .. } => {}
                Command::Emit(e) => self.events.push(e),
                Command::SetHeaders { body } => {
                    assert!(self.bodies.contains(&body));
                    assert!(
                        self.m.body_headers(body).is_some(),
                        "SetHeaders for body {body} the cache does not hold"
                    );
                }
                Command::CloseOp { op } => {
                    assert!(self.ops.remove(&op).is_some(), "op {op} closed twice");
                    assert!(
                        !self.running.contains_key(&op),
                        "op {op} closed with an attempt in flight"
                    );
                    self.reads.remove(&op);
                    self.store_reads.remove(&op);
                }
                Command::Limit { limit, .. } => {
                    let bounds = self.cfg.adaptive.expect("limit changes only when adaptive");
                    assert!((bounds.min..=bounds.max).contains(&limit), "limit {limit} outside {bounds:?}");
                }
            }
        }
    }

    fn end_window(&mut self, op: u32) {
        let now = self.now;
        if let Some(w) = self.windows.iter_mut().rev().find(|w| w.2 == op && w.1.is_none()) {
            w.1 = Some(now);
        }
    }

    fn check_limits(&mut self, host: &str) {
        let total = self.running.len() + self.tasks_running.len();
        self.peak = self.peak.max(total);
        assert!(
            total <= self.m.concurrency(),
            "{total} running over the global limit {} (machine: {} active; running {:?} tasks {:?})",
            self.m.concurrency(),
            self.m.active(),
            self.running,
            self.tasks_running
        );
        if !host.is_empty() {
            let on_host = self.running.values().filter(|(_, h)| h == host).count()
                + self
                    .tasks_running
                    .values()
                    .filter(|h| h.as_deref() == Some(host))
                    .count();
            assert!(
                on_host <= self.cfg.per_host,
                "{on_host} running on {host} over the per-host limit"
            );
            // An adaptive limit holds at each start (after a drop, what runs may finish above it).
            if let Some((_, limit)) = self.m.host_limits().find(|(h, _)| *h == host) {
                assert!(on_host <= limit, "{on_host} running on {host} over its adaptive limit {limit}");
            }
        }
        for rule in &self.cfg.rate_limits {
            // The server may see a request any time from its start until its answer: count
            // each from its start until `interval` after its answer.
            let now = self.now;
            let live = self
                .windows
                .iter()
                .filter(|(start, end, _)| *start <= now && end.map_or(true, |e| e + rule.interval_ms > now))
                .count();
            assert!(
                live <= rule.limit as usize,
                "{live} requests in one rate window over {}",
                rule.limit
            );
        }
    }

    fn request(&mut self, url: &str, host: &str, f: impl FnOnce(&mut Submit<'_>)) -> u32 {
        let mut s = Submit {
            method: "GET",
            url,
            host,
            headers: "accept:*/*\n",
            ..Submit::default()
        };
        f(&mut s);
        // The driver learns the id from the return value before it executes the commands.
        let decodes = s.decodes;
        let id = self.m.submit(self.now, &s);
        assert!(self.calls.insert(id), "id {id} handed out twice");
        if decodes {
            self.decodes.insert(id);
        }
        self.call_host.insert(id, host.into());
        self.drain();
        id
    }

    fn task(&mut self, host: Option<&str>) -> u32 {
        let id = self.m.task(self.now, Lane::Normal, host, 0);
        assert!(self.calls.insert(id), "id {id} handed out twice");
        if let Some(h) = host {
            self.call_host.insert(id, h.into());
        }
        self.drain();
        id
    }

    fn head(&mut self, op: u32, status: u16, headers: &str) {
        let (attempt, _) = self.running.remove(&op).expect("head of a running op");
        self.end_window(op);
        self.m.head(self.now, op, attempt, status, headers);
        self.drain();
    }

    fn fail(&mut self, op: u32) {
        let (attempt, _) = self.running.remove(&op).expect("failure of a running op");
        self.end_window(op);
        self.m.transport_failed(self.now, op, attempt);
        self.drain();
    }

    fn body(&mut self, op: u32, ok: bool) {
        let (_, attempt) = self.reads.remove(&op).expect("a read in progress");
        if ok {
            self.m.body(self.now, op, attempt, 10);
        } else {
            self.m.body_failed(self.now, op, attempt);
        }
        self.drain();
    }

    fn task_done(&mut self, call: u32) {
        assert!(self.tasks_running.remove(&call).is_some());
        self.settle(call, Settled::Task);
        self.m.task_done(self.now, call);
        self.drain();
    }

    fn advance(&mut self, ms: f64) {
        self.now += ms;
        self.m.tick(self.now);
        self.drain();
    }

    fn run_until_idle(&mut self) {
        for _ in 0..10_000 {
            match self.m.deadline() {
                Some(t) => {
                    let dt = (t - self.now).max(0.0);
                    self.advance(dt);
                }
                None => return,
            }
        }
    }

    fn only_running(&self) -> u32 {
        assert_eq!(self.running.len(), 1, "expected one attempt in flight");
        *self.running.keys().next().unwrap()
    }
}

fn cached() -> MachineConfig {
    MachineConfig {
        cache: Some(CacheSettings::default()),
        ..MachineConfig::default()
    }
}

#[test]
fn a_request_starts_and_its_single_caller_gets_the_live_response() {
    let mut s = Sim::new(MachineConfig::default());
    let a = s.request("http://h/a", "h", |_| {});
    let op = s.only_running();
    s.head(op, 200, "content-length:5\n");
    assert_eq!(s.settled[&a], Settled::Live(op));
    assert_eq!(s.m.counters().bytes, 5);
    assert_eq!(s.m.held(), (0, 0, 0));
}

#[test]
fn identical_gets_share_one_request_and_each_gets_the_body() {
    let mut s = Sim::new(MachineConfig::default());
    let a = s.request("http://h/a", "h", |_| {});
    let b = s.request("http://h/a", "h", |_| {});
    let op = s.only_running();
    s.head(op, 200, "");
    s.body(op, true);
    assert!(matches!(s.settled[&a], Settled::Body(_, Source::Network)));
    assert!(matches!(s.settled[&b], Settled::Body(_, Source::Dedupe)));
    assert_eq!(s.m.counters().deduped, 1);
    assert_eq!(s.m.held(), (0, 0, 0));
    assert!(s.bodies.is_empty(), "the shared body was dropped after the answers");
}

#[test]
fn a_caller_that_retries_after_aborting_never_joins_the_dying_request() {
    let mut s = Sim::new(MachineConfig::default());
    let a = s.request("http://h/a", "h", |_| {});
    let first = s.only_running();
    s.m.abort(s.now, a);
    s.drain();
    assert_eq!(s.settled[&a], Settled::Err(ErrorKind::Abort));
    // The retry, as soon as the rejection is seen: a new request of its own.
    let b = s.request("http://h/a", "h", |_| {});
    let second = s.only_running();
    assert_ne!(first, second);
    s.head(second, 200, "");
    assert_eq!(s.settled[&b], Settled::Live(second));
}

#[test]
fn limits_and_lanes_hold() {
    let cfg = MachineConfig {
        concurrency: 2,
        per_host: 1,
        ..MachineConfig::default()
    };
    let mut s = Sim::new(cfg);
    let _a = s.request("http://x/1", "x", |r| r.dedupe = Some(false));
    let _b = s.request("http://x/2", "x", |r| r.dedupe = Some(false));
    let _c = s.request("http://y/1", "y", |_| {});
    assert_eq!(s.running.len(), 2, "one per host");
    assert_eq!(s.m.pending(), 1);
    let critical = s.request("http://z/1", "z", |r| r.lane = Lane::Critical);
    let op_x = *s.running.iter().find(|(_, (_, h))| h == "x").unwrap().0;
    s.head(op_x, 200, "");
    // The freed slot goes to critical work first, not to the queued x request.
    assert!(s.running.values().any(|(_, h)| h == "z"));
    let _ = critical;
}

#[test]
fn retries_back_off_and_a_429_pauses_the_host() {
    let mut s = Sim::new(MachineConfig::default());
    let a = s.request("http://h/a", "h", |_| {});
    let op = s.only_running();
    s.head(op, 503, "");
    assert!(s.running.is_empty(), "waits before the retry");
    s.run_until_idle();
    let op2 = s.only_running();
    assert_eq!(op, op2);
    s.head(op, 429, "retry-after:2\n");
    let b = s.request("http://h/b", "h", |_| {});
    assert!(s.running.is_empty(), "the whole host pauses, new requests too");
    s.advance(1999.0);
    assert!(s.running.is_empty());
    s.advance(1.0);
    assert_eq!(s.running.len(), 2);
    assert_eq!(s.m.counters().rate_limited, 1);
    assert_eq!(s.m.counters().retried, 2);
    let ops: Vec<u32> = s.running.keys().copied().collect();
    for op in ops {
        s.head(op, 200, "");
    }
    assert!(matches!(s.settled[&a], Settled::Live(_)));
    assert!(matches!(s.settled[&b], Settled::Live(_)));
}

#[test]
fn retries_run_out_into_an_http_error_and_retry_after_past_the_cap_rejects_at_once() {
    let mut s = Sim::new(MachineConfig::default());
    let a = s.request("http://h/a", "h", |_| {});
    for _ in 0..3 {
        let op = s.only_running();
        s.head(op, 500, "");
        s.run_until_idle();
    }
    assert_eq!(s.settled[&a], Settled::Err(ErrorKind::Http));
    let b = s.request("http://h/b", "h", |_| {});
    let op = s.only_running();
    s.head(op, 429, "retry-after:120\n");
    assert_eq!(s.settled[&b], Settled::Err(ErrorKind::RateLimit));
}

#[test]
fn attempt_and_total_timeouts() {
    let cfg = MachineConfig {
        timeout_ms: Some(100.0),
        retry: Rc::new(RetryPolicy::none()),
        ..MachineConfig::default()
    };
    let mut s = Sim::new(cfg);
    let a = s.request("http://h/a", "h", |_| {});
    s.advance(100.0);
    assert_eq!(s.settled[&a], Settled::Err(ErrorKind::Timeout));
    let b = s.request("http://h/b", "h", |r| {
        r.total_timeout_ms = Some(50.0);
        r.timeout_ms = Some(1000.0);
    });
    s.advance(50.0);
    assert_eq!(s.settled[&b], Settled::Err(ErrorKind::Timeout));
    assert_eq!(s.m.held(), (0, 0, 0));
}

#[test]
fn memory_cache_hit_answers_without_an_op_and_revalidates_with_a_304() {
    let mut s = Sim::new(cached());
    let a = s.request("http://h/a", "h", |_| {});
    let op = s.only_running();
    s.head(op, 200, "cache-control:max-age=10\netag:\"v1\"\n");
    s.body(op, true);
    let Settled::Body(body, Source::Network) = s.settled[&a] else {
        panic!("{:?}", s.settled[&a])
    };
    let b = s.request("http://h/a", "h", |_| {});
    assert_eq!(s.settled[&b], Settled::Body(body, Source::Memory));
    assert!(s.running.is_empty());
    s.advance(11_000.0);
    let c = s.request("http://h/a", "h", |_| {});
    let op = s.only_running();
    s.head(op, 304, "cache-control:max-age=20\ncontent-type:text/plain\n");
    assert_eq!(s.settled[&c], Settled::Body(body, Source::Network));
    // The driver gives the stored body the machine's merge of the 304 (body_headers): new
    // fields replace the stored ones, body-describing ones stay as stored.
    let merged = s.m.body_headers(body).expect("the entry is cached");
    let get = |name: &str| merged.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    assert_eq!(get("cache-control"), Some("max-age=20"));
    assert_eq!(get("etag"), Some("\"v1\""));
    assert_eq!(
        get("content-type"),
        None,
        "a 304's content-type never replaces the stored one (none here)"
    );
    assert_eq!(s.m.counters().memory_hits, 1);
    assert_eq!(s.m.held(), (0, 0, 0));
}

#[test]
fn cache_only_miss_and_network_first_fallback() {
    let mut s = Sim::new(cached());
    let a = s.request("http://h/a", "h", |r| r.strategy = Some(Strategy::CacheOnly));
    assert_eq!(s.settled[&a], Settled::Err(ErrorKind::Cache));
    let b = s.request("http://h/b", "h", |_| {});
    let op = s.only_running();
    s.head(op, 200, "cache-control:max-age=0\n");
    s.body(op, true);
    let c = s.request("http://h/b", "h", |r| {
        r.strategy = Some(Strategy::NetworkFirst);
        r.retry = Some(Rc::new(RetryPolicy::none()));
    });
    let op = s.only_running();
    s.fail(op);
    assert!(matches!(s.settled[&c], Settled::Body(_, Source::Memory)));
    let _ = b;
}

#[test]
fn stale_while_revalidate_answers_and_refreshes_in_the_background() {
    let cfg = MachineConfig {
        cache: Some(CacheSettings {
            strategy: Strategy::StaleWhileRevalidate,
            ..CacheSettings::default()
        }),
        ..MachineConfig::default()
    };
    let mut s = Sim::new(cfg);
    let _ = s.request("http://h/a", "h", |_| {});
    let op = s.only_running();
    s.head(op, 200, "cache-control:max-age=1\n");
    s.body(op, true);
    s.advance(2000.0);
    let b = s.request("http://h/a", "h", |_| {});
    assert!(matches!(s.settled[&b], Settled::Body(_, Source::Memory)));
    let refresh = s.only_running();
    s.head(refresh, 200, "cache-control:max-age=1\n");
    s.body(refresh, true);
    assert!(s.events.iter().any(|e| e.kind == EventKind::CacheUpdate));
    assert_eq!(s.m.held(), (0, 0, 0));
}

#[test]
fn a_failing_all_group_aborts_its_queued_and_running_siblings() {
    let cfg = MachineConfig {
        concurrency: 2,
        retry: Rc::new(RetryPolicy::none()),
        ..MachineConfig::default()
    };
    let mut s = Sim::new(cfg);
    let g = s.m.open_group(true);
    let a = s.request("http://h/1", "h", |r| r.group = g);
    let b = s.request("http://h/2", "h", |r| r.group = g);
    let c = s.request("http://h/3", "h", |r| r.group = g);
    let op_a = s.m.call(a).unwrap().op;
    s.head(op_a, 500, "");
    assert_eq!(s.settled[&a], Settled::Err(ErrorKind::Http));
    assert_eq!(s.settled[&b], Settled::Err(ErrorKind::Abort));
    assert_eq!(s.settled[&c], Settled::Err(ErrorKind::Abort));
    assert!(s.running.is_empty(), "no sibling started or stayed in flight");
    assert_eq!(s.m.held(), (0, 0, 0));
}

#[test]
fn a_body_that_does_not_decode_counts_as_failed_and_fails_its_group() {
    let cfg = MachineConfig {
        concurrency: 1,
        ..MachineConfig::default()
    };
    let mut s = Sim::new(cfg);
    let g = s.m.open_group(true);
    let a = s.request("http://h/1", "h", |r| {
        r.group = g;
        r.decodes = true;
    });
    let b = s.request("http://h/2", "h", |r| r.group = g);
    let op = s.only_running();
    s.head(op, 200, "");
    assert!(
        matches!(s.settled[&a], Settled::Live(_)),
        "the answer goes out to be decoded"
    );
    assert_eq!(s.m.counters().succeeded, 0, "not counted until decoded");
    assert_eq!(s.m.held().0, 2, "the decoding call and its queued sibling");
    s.m.decoded(s.now, a, false);
    s.drain();
    assert_eq!(s.m.counters().failed, 2, "the bad body and the aborted sibling");
    assert_eq!(s.settled[&b], Settled::Err(ErrorKind::Abort));
    let settled: Vec<_> = s
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Settled && e.call == a)
        .collect();
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0].error, Some(ErrorKind::Decode));
    assert_eq!(s.m.held(), (0, 0, 0));
}

#[test]
fn tasks_share_the_slots_and_a_queued_task_can_be_aborted() {
    let cfg = MachineConfig {
        concurrency: 1,
        ..MachineConfig::default()
    };
    let mut s = Sim::new(cfg);
    let t1 = s.task(None);
    let t2 = s.task(None);
    assert!(s.tasks_running.contains_key(&t1));
    assert!(s.m.task_queued(t2));
    s.m.abort(s.now, t2);
    s.drain();
    assert_eq!(s.settled[&t2], Settled::Err(ErrorKind::Abort));
    let r = s.request("http://h/a", "h", |_| {});
    assert!(s.running.is_empty());
    s.task_done(t1);
    assert_eq!(s.running.len(), 1);
    let _ = r;
}

#[test]
fn close_rejects_everything_and_leaves_nothing() {
    let mut s = Sim::new(cached());
    let a = s.request("http://h/a", "h", |_| {});
    let op = s.only_running();
    s.head(op, 200, "cache-control:max-age=60\n");
    s.body(op, true);
    let b = s.request("http://h/b", "h", |_| {});
    let t = s.task(None);
    s.m.close(s.now);
    s.drain();
    assert_eq!(s.settled[&b], Settled::Err(ErrorKind::Closed));
    assert!(
        s.tasks_running.contains_key(&t),
        "a running task settles through its signal"
    );
    assert!(s.bodies.is_empty(), "stored bodies dropped");
    assert_eq!(s.m.held(), (0, 0, 0));
    assert_eq!(s.m.deadline(), None);
    let c = s.request("http://h/c", "h", |_| {});
    assert_eq!(s.settled[&c], Settled::Err(ErrorKind::Closed));
    let _ = a;
}

/// One random step of a driver's life.
#[derive(Clone, Debug)]
enum Step {
    Submit {
        url: u8,
        host: u8,
        post: bool,
        lane: u8,
        group: bool,
        strategy: u8,
        decodes: bool,
    },
    Decoded {
        pick: u8,
        ok: bool,
    },
    Task {
        host: Option<u8>,
    },
    Abort(u8),
    Head {
        pick: u8,
        status: u8,
        wait: bool,
    },
    Fail(u8),
    Body {
        pick: u8,
        ok: bool,
    },
    Store {
        pick: u8,
        found: bool,
    },
    TaskDone(u8),
    Advance(u16),
    Resize(u8),
    ClearQueue,
    AbortGroup,
}

fn step() -> impl Gen<Value = Step> {
    prop_oneof![
        4 => (0u8..6, 0u8..3, any::<bool>(), 0u8..3, any::<bool>(), 0u8..7, any::<bool>()).prop_map(
            |(url, host, post, lane, group, strategy, decodes)| Step::Submit { url, host, post, lane, group, strategy, decodes }
        ),
        1 => (any::<u8>(), any::<bool>()).prop_map(|(pick, ok)| Step::Decoded { pick, ok }),
        1 => proptest::option::of(0u8..3).prop_map(|host| Step::Task { host }),
        1 => any::<u8>().prop_map(Step::Abort),
        4 => (any::<u8>(), 0u8..8, any::<bool>()).prop_map(|(pick, status, wait)| Step::Head { pick, status, wait }),
        1 => any::<u8>().prop_map(Step::Fail),
        2 => (any::<u8>(), any::<bool>()).prop_map(|(pick, ok)| Step::Body { pick, ok }),
        1 => (any::<u8>(), any::<bool>()).prop_map(|(pick, found)| Step::Store { pick, found }),
        1 => any::<u8>().prop_map(Step::TaskDone),
        2 => (0u16..3000).prop_map(Step::Advance),
        1 => (1u8..5).prop_map(Step::Resize),
        1 => Just(Step::ClearQueue),
        1 => Just(Step::AbortGroup),
    ]
}

fn pick<T: Copy + Ord>(set: impl Iterator<Item = T>, i: u8) -> Option<T> {
    let mut v: Vec<T> = set.collect();
    v.sort();
    if v.is_empty() {
        None
    } else {
        Some(v[i as usize % v.len()])
    }
}

fn run_steps(cfg: MachineConfig, steps: &[Step]) -> Sim {
    let mut s = Sim::new(cfg);
    let group = s.m.open_group(true);
    const URLS: [&str; 6] = ["/a", "/b", "/c", "/d", "/e", "/f"];
    const HOSTS: [&str; 3] = ["h1", "h2", "h3"];
    const STATUS: [u16; 8] = [200, 200, 304, 404, 429, 500, 503, 204];
    for st in steps {
        match *st {
            Step::Submit {
                url,
                host,
                post,
                lane,
                group: in_group,
                strategy,
                decodes,
            } => {
                let host = HOSTS[host as usize];
                let url = std::format!("http://{host}{}", URLS[url as usize]);
                s.request(&url, host, |r| {
                    if post {
                        r.method = "POST";
                    }
                    r.lane = [Lane::Critical, Lane::Normal, Lane::Background][lane as usize];
                    r.group = if in_group { group } else { 0 };
                    r.strategy = Strategy::from_code(strategy as u32);
                    r.decodes = decodes;
                });
            }
            Step::Decoded { pick: i, ok } => {
                if let Some(call) = pick(s.decoding.iter().copied(), i) {
                    s.decoding.remove(&call);
                    s.m.decoded(s.now, call, ok);
                    s.drain();
                }
            }
            Step::Task { host } => {
                s.task(host.map(|h| HOSTS[h as usize]));
            }
            Step::Abort(i) => {
                if let Some(call) = pick(s.calls.iter().copied().filter(|c| !s.settled.contains_key(c)), i) {
                    s.m.abort(s.now, call);
                    s.drain();
                }
            }
            Step::Head { pick: i, status, wait } => {
                if let Some(op) = pick(s.running.keys().copied(), i) {
                    let headers = if wait {
                        "retry-after:1\ncache-control:max-age=1\netag:\"x\"\n"
                    } else {
                        "cache-control:max-age=5\n"
                    };
                    s.head(op, STATUS[status as usize], headers);
                }
            }
            Step::Fail(i) => {
                if let Some(op) = pick(s.running.keys().copied(), i) {
                    s.fail(op);
                }
            }
            Step::Body { pick: i, ok } => {
                if let Some(op) = pick(s.reads.keys().copied(), i) {
                    s.body(op, ok);
                }
            }
            Step::Store { pick: i, found } => {
                if let Some(op) = pick(s.store_reads.keys().copied(), i) {
                    s.store_reads.remove(&op);
                    let at = s.now + 1_700_000_000_000.0;
                    s.m.store_read(
                        s.now,
                        op,
                        if found {
                            Some((at, "cache-control:max-age=1\n"))
                        } else {
                            None
                        },
                    );
                    s.drain();
                }
            }
            Step::TaskDone(i) => {
                if let Some(call) = pick(s.tasks_running.keys().copied(), i) {
                    s.task_done(call);
                }
            }
            Step::Advance(ms) => s.advance(f64::from(ms)),
            Step::Resize(n) => {
                s.m.set_concurrency(s.now, n as usize);
                s.drain();
            }
            Step::ClearQueue => {
                s.m.clear_queue(s.now);
                s.drain();
            }
            Step::AbortGroup => {
                s.m.abort_group(s.now, group);
                s.drain();
            }
        }
    }
    s
}

/// Answers everything still in flight, runs out every timer and finishes every task, so
/// that every caller must have settled.
fn finish(s: &mut Sim) {
    for _ in 0..1000 {
        if let Some(op) = pick(s.running.keys().copied(), 0) {
            s.head(op, 200, "");
        } else if let Some(op) = pick(s.reads.keys().copied(), 0) {
            s.body(op, true);
        } else if let Some(op) = pick(s.store_reads.keys().copied(), 0) {
            s.store_reads.remove(&op);
            s.m.store_read(s.now, op, None);
            s.drain();
        } else if let Some(call) = pick(s.tasks_running.keys().copied(), 0) {
            s.task_done(call);
        } else if let Some(call) = pick(s.decoding.iter().copied(), 0) {
            s.decoding.remove(&call);
            s.m.decoded(s.now, call, true);
            s.drain();
        } else if s.m.deadline().is_some() {
            s.run_until_idle();
        } else {
            return;
        }
    }
    panic!("did not settle within 1000 rounds");
}

fn configs() -> impl Gen<Value = MachineConfig> {
    (
        1usize..4,
        1usize..3,
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(50.0f64..500.0),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(concurrency, per_host, cache, persist, timeout, rate, adaptive)| MachineConfig {
            concurrency,
            per_host,
            adaptive: adaptive.then_some(AdaptiveSettings {
                min: 1,
                max: per_host as u32,
                initial: 1,
            }),
            timeout_ms: timeout,
            total_timeout_ms: timeout.map(|t| t * 3.0),
            cache: cache.then(|| CacheSettings {
                persist,
                max_entries: 3,
                ..CacheSettings::default()
            }),
            rate_limits: if rate {
                vec![RateRule {
                    limit: 2,
                    interval_ms: 1000.0,
                    host: None,
                }]
            } else {
                Vec::new()
            },
            ..MachineConfig::default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Random submits, aborts, answers, failures, timers, resizes and queue clears: no limit
    /// is exceeded at any command (checked in `Sim::drain`), every caller settles exactly
    /// once, and nothing is held once everything settled.
    #[test]
    fn every_caller_settles_once_and_no_limit_is_exceeded(cfg in configs(), steps in proptest::collection::vec(step(), 1..80)) {
        let mut s = run_steps(cfg, &steps);
        finish(&mut s);
        for call in &s.calls {
            prop_assert!(s.settled.contains_key(call), "call {} never settled", call);
        }
        let (calls, ops, bodies) = s.m.held();
        prop_assert_eq!((calls, ops), (0, 0));
        prop_assert_eq!(bodies, 0);
        prop_assert!(s.ops.is_empty());
    }

    /// Close at any point: everyone waiting fails with `closed` (running tasks excepted,
    /// their own signals end them), and nothing is left, not even a timer.
    #[test]
    fn close_at_any_point_leaves_nothing(cfg in configs(), steps in proptest::collection::vec(step(), 0..60)) {
        let mut s = run_steps(cfg, &steps);
        s.m.close(s.now);
        s.drain();
        for call in &s.calls {
            prop_assert!(s.settled.contains_key(call) || s.tasks_running.contains_key(call), "call {} left hanging", call);
        }
        prop_assert_eq!(s.m.held(), (0, 0, 0));
        prop_assert!(s.ops.is_empty());
        prop_assert!(s.bodies.is_empty());
        prop_assert_eq!(s.m.deadline(), None);
    }
}
