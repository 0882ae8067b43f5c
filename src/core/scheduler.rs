//! The scheduler as a pure state machine: permits, lanes, per-host limits and time gates.
//!
//! It decides *which* queued work may start and *when*; it never waits itself. The async
//! layer (`crate::gate`) calls [`Scheduler::dispatch`] after every change and arms one timer
//! for the returned wake-up time. Time is a plain `f64` of milliseconds, so tests drive it
//! with a fake clock.

use crate::prelude::*;

use super::lane::Lane;
use super::rate_window::RateWindow;

/// Identifies one unit of queued or running work. Ids are chosen by the caller and unique.
pub type TaskId = u64;

/// A host interned by [`Scheduler::host`]; cheap to copy and compare.
pub type HostId = u32;

/// "No limit": the value of [`Scheduler::concurrency`] when it was set to `Infinity`.
pub const UNLIMITED: usize = usize::MAX;

/// What the scheduler needs to know about one unit of work.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Work {
    /// Caller-chosen unique id.
    pub id: TaskId,
    /// The lane it waits in.
    pub lane: Lane,
    /// The host it talks to; `None` for tasks that count only against the global limit.
    pub host: Option<HostId>,
    /// Whether it is a network request that rate limits and host pauses apply to (`false` for
    /// `schedule` tasks).
    pub metered: bool,
}

/// The outcome of [`Scheduler::dispatch`].
#[derive(Debug, Default, PartialEq)]
pub struct Dispatch {
    /// Work that starts now, in start order; each holds a permit until [`Scheduler::finish`].
    pub started: Vec<TaskId>,
    /// The earliest time at which queued work blocked only by time (a rate limit or a host
    /// pause) could start; arm a timer for it. `None` when nothing waits on time.
    pub wake_at: Option<f64>,
}

#[derive(Default)]
struct HostState {
    active: usize,
    queued: usize,
    paused_until: f64,
    windows: Vec<RateWindow>,
    /// Its own limit (adaptive concurrency), below the shared per-host one; 0: none.
    limit: usize,
}

/// One lane's FIFO of waiting work: a `Vec` and the index of its front. A `VecDeque` would do,
/// but its ring-buffer copies cost 0.8 KiB of wasm. Work leaves at the front (almost always) or
/// from the middle (an abort, a host passed over: the work in front of it moves up one
/// place); the taken front is reclaimed once it is half of the `Vec`.
#[derive(Default)]
struct Queue {
    items: Vec<Work>,
    head: usize,
}

impl Queue {
    fn get(&self, i: usize) -> Option<Work> {
        self.items.get(self.head + i).copied()
    }

    fn position(&self, id: TaskId) -> Option<usize> {
        self.items.iter().skip(self.head).position(|w| w.id == id)
    }

    fn remove(&mut self, i: usize) -> Option<Work> {
        let work = self.get(i)?;
        // The ones in front of it move up a place, and the front past the freed one.
        let mut k = self.head + i;
        while k > self.head {
            self.items[k] = self.items[k - 1];
            k -= 1;
        }
        self.head += 1;
        if self.head * 2 >= self.items.len() {
            // A shift by hand: `split_off` links its own panic (and its message) for this call.
            let head = core::mem::take(&mut self.head);
            let kept = self.items.len() - head;
            for k in 0..kept {
                self.items[k] = self.items[k + head];
            }
            self.items.truncate(kept);
        }
        Some(work)
    }
}

/// Global and per-host concurrency permits over three strict lanes, with rate-limit windows
/// and server-ordered host pauses as time gates.
pub struct Scheduler {
    concurrency: usize,
    per_host: usize,
    active: usize,
    queued: usize,
    lanes: [Queue; 3],
    hosts: Vec<HostState>,
    /// Host names by id. A page talks to a handful of hosts, so a linear search beats
    /// hashing the name, and keeps a hash table's code out of the download.
    host_names: Vec<String>,
    global_windows: Vec<RateWindow>,
    /// Hosts that have queued work; lets `dispatch` stop scanning once all of them are blocked.
    hosts_with_queue: usize,
    queued_without_host: usize,
}

impl Scheduler {
    /// A scheduler with `concurrency` global and `per_host` per-host permits (both at least 1;
    /// [`UNLIMITED`] for no limit). The client defaults are 6 and 6.
    // Not inlined (in the wasm it was built in place at each of its callers).
    #[inline(never)]
    pub fn new(concurrency: usize, per_host: usize) -> Self {
        Scheduler {
            concurrency: concurrency.max(1),
            per_host: per_host.max(1),
            active: 0,
            queued: 0,
            lanes: Default::default(),
            hosts: Vec::new(),
            host_names: Vec::new(),
            global_windows: Vec::new(),
            hosts_with_queue: 0,
            queued_without_host: 0,
        }
    }

    /// Interns a host name (such as `127.0.0.1:8080`), returning its id.
    pub fn host(&mut self, name: &str) -> HostId {
        if let Some(id) = self.host_names.iter().position(|h| h == name) {
            return id as HostId;
        }
        let id = self.hosts.len() as HostId;
        self.hosts.push(HostState::default());
        self.host_names.push(name.to_owned());
        id
    }

    /// The interned host names, in id order.
    pub fn host_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.host_names.iter().map(String::as_str)
    }

    /// Adds a rate-limit window: for one host, or for every metered request when `host` is
    /// `None`. All windows are enforced together.
    pub fn add_window(&mut self, host: Option<HostId>, window: RateWindow) {
        match host {
            Some(h) => self.hosts[h as usize].windows.push(window),
            None => self.global_windows.push(window),
        }
    }

    /// Holds back metered work for `host` until `until_ms` (the server said 429 or 503 with a
    /// wait). A later pause never shortens an earlier, longer one.
    pub fn pause_host(&mut self, host: HostId, until_ms: f64) {
        let state = &mut self.hosts[host as usize];
        if until_ms > state.paused_until {
            state.paused_until = until_ms;
        }
    }

    /// Gives `host` a limit of its own (adaptive concurrency); the per-host limit still caps
    /// it. Lowering it starts nothing new until the host's running count is below it.
    pub fn set_host_limit(&mut self, host: HostId, limit: usize) {
        self.hosts[host as usize].limit = limit.max(1);
    }

    /// `host`'s own limit (0: none, the per-host limit applies).
    pub fn host_limit(&self, host: HostId) -> usize {
        self.hosts[host as usize].limit
    }

    /// How many of `host`'s units hold a permit now.
    pub fn host_active(&self, host: HostId) -> usize {
        self.hosts[host as usize].active
    }

    /// The time until which `host` is paused (0 when it never was).
    pub fn paused_until(&self, host: HostId) -> f64 {
        self.hosts[host as usize].paused_until
    }

    /// The global limit ([`UNLIMITED`] for `Infinity`).
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Changes the global limit. Raising it lets the next [`dispatch`](Self::dispatch) start
    /// queued work; lowering it lets running work finish and starts nothing new until the
    /// running count is below the new limit.
    pub fn set_concurrency(&mut self, limit: usize) {
        self.concurrency = limit.max(1);
    }

    /// The per-host limit ([`UNLIMITED`] for `Infinity`).
    pub fn per_host(&self) -> usize {
        self.per_host
    }

    /// Changes the per-host limit, with the same rules as [`set_concurrency`](Self::set_concurrency).
    pub fn set_per_host(&mut self, limit: usize) {
        self.per_host = limit.max(1);
    }

    /// How many hold a permit now.
    pub fn active(&self) -> usize {
        self.active
    }

    /// How many wait in the lanes.
    pub fn pending(&self) -> usize {
        self.queued
    }

    /// Queues `work`. Call [`dispatch`](Self::dispatch) afterwards to start what may start.
    pub fn enqueue(&mut self, work: Work) {
        self.note_queued(work.host, true);
        self.lanes[work.lane.index()].items.push(work);
    }

    /// Removes queued work (it was aborted). Returns `false` when `id` is not queued (it
    /// already started, or never was).
    pub fn cancel(&mut self, id: TaskId) -> bool {
        for lane in 0..self.lanes.len() {
            if let Some(pos) = self.lanes[lane].position(id) {
                if let Some(work) = self.lanes[lane].remove(pos) {
                    self.note_queued(work.host, false);
                }
                return true;
            }
        }
        false
    }

    /// Empties every lane and returns the ids that were queued, in lane then queue order.
    pub fn drain_queue(&mut self) -> Vec<TaskId> {
        let mut ids = Vec::with_capacity(self.queued);
        for lane in 0..self.lanes.len() {
            while let Some(work) = self.lanes[lane].remove(0) {
                self.note_queued(work.host, false);
                ids.push(work.id);
            }
        }
        ids
    }

    /// Returns the permit of started work `id` on `host`, which ended at `now_ms` (for rate
    /// limits, the latest moment the server can have seen it).
    pub fn finish(&mut self, id: TaskId, host: Option<HostId>, now_ms: f64) {
        self.active = self.active.saturating_sub(1);
        if let Some(h) = host {
            let state = &mut self.hosts[h as usize];
            state.active = state.active.saturating_sub(1);
            for w in state.windows.iter_mut() {
                w.complete(id, now_ms);
            }
        }
        for w in self.global_windows.iter_mut() {
            w.complete(id, now_ms);
        }
    }

    /// Starts every queued unit that may start at `now_ms`, in lane order and FIFO inside a
    /// lane. A unit whose host is at its limit, paused or rate limited is passed over without
    /// holding up other hosts; later units for the same host wait behind it.
    pub fn dispatch(&mut self, now_ms: f64) -> Dispatch {
        let mut out = Dispatch::default();
        if self.queued == 0 || self.active >= self.concurrency {
            return out;
        }
        let mut global_gate = super::rate_window::earliest_start_all(&self.global_windows, now_ms);
        // Hosts found blocked during this pass; small, so a Vec beats a set.
        let mut blocked: Vec<HostId> = Vec::new();
        for lane in 0..self.lanes.len() {
            let mut i = 0;
            while let Some(work) = self.lanes[lane].get(i) {
                if self.active >= self.concurrency {
                    return out;
                }
                if self.queued_without_host == 0 && blocked.len() >= self.hosts_with_queue {
                    return out;
                }
                let gate = match work.host {
                    None => {
                        if work.metered && global_gate > now_ms {
                            Some(global_gate)
                        } else {
                            None
                        }
                    }
                    Some(h) => {
                        if blocked.contains(&h) {
                            i += 1;
                            continue;
                        }
                        let state = &self.hosts[h as usize];
                        if state.active >= self.per_host || (state.limit > 0 && state.active >= state.limit) {
                            blocked.push(h);
                            i += 1;
                            continue;
                        }
                        if work.metered {
                            let mut at = state.paused_until.max(global_gate);
                            at = at.max(super::rate_window::earliest_start_all(&state.windows, now_ms));
                            if at > now_ms {
                                Some(at)
                            } else {
                                None
                            }
                        } else {
                            None
                        }
                    }
                };
                if let Some(at) = gate {
                    // An infinite gate waits on requests in flight; their finish dispatches.
                    if at.is_finite() {
                        out.wake_at = Some(out.wake_at.map_or(at, |w: f64| w.min(at)));
                    }
                    if let Some(h) = work.host {
                        blocked.push(h);
                    }
                    i += 1;
                    continue;
                }
                self.lanes[lane].remove(i);
                self.note_queued(work.host, false);
                self.start(work, now_ms);
                out.started.push(work.id);
                if work.metered && !self.global_windows.is_empty() {
                    // This start may have filled a global window.
                    global_gate = super::rate_window::earliest_start_all(&self.global_windows, now_ms);
                }
            }
        }
        out
    }

    fn start(&mut self, work: Work, now_ms: f64) {
        self.active += 1;
        if let Some(h) = work.host {
            let state = &mut self.hosts[h as usize];
            state.active += 1;
            if work.metered {
                for w in state.windows.iter_mut() {
                    w.record_start(work.id, now_ms);
                }
            }
        }
        if work.metered {
            for w in self.global_windows.iter_mut() {
                w.record_start(work.id, now_ms);
            }
        }
    }

    fn note_queued(&mut self, host: Option<HostId>, added: bool) {
        if added {
            self.queued += 1;
        } else {
            self.queued -= 1;
        }
        match host {
            None => {
                if added {
                    self.queued_without_host += 1;
                } else {
                    self.queued_without_host -= 1;
                }
            }
            Some(h) => {
                let state = &mut self.hosts[h as usize];
                if added {
                    state.queued += 1;
                    if state.queued == 1 {
                        self.hosts_with_queue += 1;
                    }
                } else {
                    state.queued -= 1;
                    if state.queued == 0 {
                        self.hosts_with_queue -= 1;
                    }
                }
            }
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn work(id: TaskId, lane: Lane, host: Option<HostId>) -> Work {
        Work { id, lane, host, metered: true }
    }

    #[test]
    fn global_limit_holds_and_finishing_starts_the_next() {
        let mut s = Scheduler::new(2, UNLIMITED);
        for id in 1..=5 {
            s.enqueue(work(id, Lane::Normal, None));
        }
        assert_eq!(s.dispatch(0.0).started, vec![1, 2]);
        assert_eq!((s.active(), s.pending()), (2, 3));
        assert!(s.dispatch(0.0).started.is_empty());
        s.finish(0, None, 0.0);
        assert_eq!(s.dispatch(0.0).started, vec![3]);
    }

    #[test]
    fn lanes_are_strict_and_fifo_inside() {
        let mut s = Scheduler::new(1, UNLIMITED);
        s.enqueue(work(1, Lane::Normal, None));
        assert_eq!(s.dispatch(0.0).started, vec![1]);
        s.enqueue(work(2, Lane::Background, None));
        s.enqueue(work(3, Lane::Normal, None));
        s.enqueue(work(4, Lane::Critical, None));
        s.enqueue(work(5, Lane::Normal, None));
        s.enqueue(work(6, Lane::Critical, None));
        let mut order = Vec::new();
        for _ in 0..5 {
            s.finish(0, None, 0.0);
            order.extend(s.dispatch(0.0).started);
        }
        assert_eq!(order, vec![4, 6, 3, 5, 2]);
    }

    #[test]
    fn a_full_host_does_not_hold_up_other_hosts() {
        let mut s = Scheduler::new(10, 2);
        let a = s.host("a:1");
        let b = s.host("b:1");
        for id in 1..=4 {
            s.enqueue(work(id, Lane::Normal, Some(a)));
        }
        s.enqueue(work(5, Lane::Normal, Some(b)));
        s.enqueue(work(6, Lane::Background, None));
        assert_eq!(s.dispatch(0.0).started, vec![1, 2, 5, 6]);
        s.finish(0, Some(a), 0.0);
        assert_eq!(s.dispatch(0.0).started, vec![3]);
    }

    #[test]
    fn critical_work_for_a_full_host_waits_without_blocking_normal_work_elsewhere() {
        let mut s = Scheduler::new(3, 1);
        let a = s.host("a");
        let b = s.host("b");
        s.enqueue(work(1, Lane::Normal, Some(a)));
        assert_eq!(s.dispatch(0.0).started, vec![1]);
        s.enqueue(work(2, Lane::Critical, Some(a)));
        s.enqueue(work(3, Lane::Normal, Some(b)));
        assert_eq!(s.dispatch(0.0).started, vec![3]);
        s.finish(0, Some(a), 0.0);
        assert_eq!(s.dispatch(0.0).started, vec![2]);
    }

    #[test]
    fn resizing_up_starts_at_once_and_down_lets_running_work_finish() {
        let mut s = Scheduler::new(2, UNLIMITED);
        for id in 1..=6 {
            s.enqueue(work(id, Lane::Normal, None));
        }
        assert_eq!(s.dispatch(0.0).started.len(), 2);
        s.set_concurrency(4);
        assert_eq!(s.dispatch(0.0).started, vec![3, 4]);
        s.set_concurrency(1);
        assert_eq!(s.active(), 4, "lowering never stops running work");
        for _ in 0..3 {
            s.finish(0, None, 0.0);
            assert!(s.dispatch(0.0).started.is_empty());
        }
        s.finish(0, None, 0.0);
        assert_eq!(s.dispatch(0.0).started, vec![5]);
        s.set_concurrency(UNLIMITED);
        assert_eq!(s.dispatch(0.0).started, vec![6]);
    }

    #[test]
    fn cancelling_while_queued_and_while_running() {
        let mut s = Scheduler::new(1, UNLIMITED);
        for id in 1..=3 {
            s.enqueue(work(id, Lane::Normal, None));
        }
        assert_eq!(s.dispatch(0.0).started, vec![1]);
        assert!(s.cancel(2));
        assert!(!s.cancel(2), "twice is a no-op");
        assert!(!s.cancel(1), "running work is not in the queue");
        assert_eq!(s.pending(), 1);
        // Running work is cancelled by aborting it; its permit comes back through finish.
        s.finish(0, None, 0.0);
        assert_eq!(s.dispatch(0.0).started, vec![3]);
    }

    #[test]
    fn drain_returns_everything_queued() {
        let mut s = Scheduler::new(1, UNLIMITED);
        let h = s.host("h");
        s.enqueue(work(1, Lane::Normal, Some(h)));
        s.enqueue(work(2, Lane::Background, Some(h)));
        s.enqueue(work(3, Lane::Critical, None));
        assert_eq!(s.dispatch(0.0).started, vec![3]);
        assert_eq!(s.drain_queue(), vec![1, 2]);
        assert_eq!(s.pending(), 0);
        s.finish(0, None, 0.0);
        assert!(s.dispatch(0.0).started.is_empty());
    }

    #[test]
    fn rate_windows_gate_starts_and_report_when_to_wake() {
        let mut s = Scheduler::new(UNLIMITED, UNLIMITED);
        let h = s.host("h");
        s.add_window(Some(h), RateWindow::new(2, 1000.0));
        for id in 1..=3 {
            s.enqueue(work(id, Lane::Normal, Some(h)));
        }
        let d = s.dispatch(0.0);
        assert_eq!(d.started, vec![1, 2]);
        assert_eq!(d.wake_at, None, "waits on the two in flight");
        s.finish(1, Some(h), 20.0);
        assert_eq!(s.dispatch(20.0).wake_at, Some(1020.0), "one second after the first answer");
        assert!(s.dispatch(1019.0).started.is_empty());
        assert_eq!(s.dispatch(1020.0).started, vec![3]);
    }

    #[test]
    fn unmetered_tasks_ignore_rate_limits() {
        let mut s = Scheduler::new(UNLIMITED, UNLIMITED);
        s.add_window(None, RateWindow::new(1, 1000.0));
        s.enqueue(Work { id: 1, lane: Lane::Normal, host: None, metered: true });
        s.enqueue(Work { id: 2, lane: Lane::Normal, host: None, metered: true });
        s.enqueue(Work { id: 3, lane: Lane::Normal, host: None, metered: false });
        let d = s.dispatch(0.0);
        assert_eq!(d.started, vec![1, 3]);
        s.finish(1, None, 5.0);
        assert_eq!(s.dispatch(5.0).wake_at, Some(1005.0));
    }

    #[test]
    fn a_paused_host_waits_and_others_go_on() {
        let mut s = Scheduler::new(UNLIMITED, UNLIMITED);
        let a = s.host("a");
        let b = s.host("b");
        s.pause_host(a, 500.0);
        s.pause_host(a, 200.0); // never shortens a pause
        s.enqueue(work(1, Lane::Normal, Some(a)));
        s.enqueue(work(2, Lane::Normal, Some(b)));
        let d = s.dispatch(0.0);
        assert_eq!(d.started, vec![2]);
        assert_eq!(d.wake_at, Some(500.0));
        assert_eq!(s.dispatch(500.0).started, vec![1]);
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    struct Job {
        arrive: u32,
        duration: u32,
        lane: u8,
        host: u8,
        cancel_at: Option<u32>,
    }

    fn job() -> impl Strategy<Value = Job> {
        (0u32..200, 1u32..50, 0u8..3, 0u8..3, proptest::option::of(0u32..250)).prop_map(
            |(arrive, duration, lane, host, cancel_at)| Job { arrive, duration, lane, host, cancel_at },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, .. ProptestConfig::default() })]

        /// Random arrivals, durations and cancellations on a fake clock: never more than the
        /// limits in flight, and every job settles exactly once (finished or cancelled).
        #[test]
        fn limits_hold_and_every_job_settles_once(
            jobs in proptest::collection::vec(job(), 1..60),
            limit in 1usize..6,
            per_host in 1usize..4,
        ) {
            let mut s = Scheduler::new(limit, per_host);
            let hosts: Vec<HostId> = (0..3).map(|i| s.host(["a", "b", "c"][i])).collect();
            // settled[i]: 0 = not yet, 1 = finished, 2 = cancelled while queued.
            let mut settled = vec![0u8; jobs.len()];
            let mut started_at: Vec<Option<u32>> = vec![None; jobs.len()];
            let mut running: Vec<(usize, u32)> = Vec::new();
            let mut queued: Vec<usize> = Vec::new();
            for now in 0u32..2000 {
                // Finish what is due.
                running.retain(|&(i, end)| {
                    if end <= now {
                        s.finish(i as TaskId, Some(hosts[jobs[i].host as usize]), end as f64);
                        settled[i] += 1;
                        false
                    } else {
                        true
                    }
                });
                // Arrivals.
                for (i, j) in jobs.iter().enumerate() {
                    if j.arrive == now {
                        let lane = Lane::ALL[j.lane as usize];
                        s.enqueue(Work { id: i as TaskId, lane, host: Some(hosts[j.host as usize]), metered: true });
                        queued.push(i);
                    }
                }
                // Cancellations of queued jobs.
                for (i, j) in jobs.iter().enumerate() {
                    if j.cancel_at == Some(now) && queued.contains(&i) {
                        prop_assert!(s.cancel(i as TaskId));
                        queued.retain(|&q| q != i);
                        settled[i] += 2;
                    }
                }
                for id in s.dispatch(now as f64).started {
                    let i = id as usize;
                    prop_assert!(queued.contains(&i), "started something not queued");
                    prop_assert!(started_at[i].is_none(), "started twice");
                    queued.retain(|&q| q != i);
                    started_at[i] = Some(now);
                    running.push((i, now + jobs[i].duration));
                }
                prop_assert!(running.len() <= limit);
                prop_assert_eq!(s.active(), running.len());
                prop_assert_eq!(s.pending(), queued.len());
                for h in 0..3u8 {
                    let n = running.iter().filter(|&&(i, _)| jobs[i].host == h).count();
                    prop_assert!(n <= per_host, "host over its limit");
                }
                // Work conservation: something queued may only wait while its host or the
                // global limit is full.
                for &i in &queued {
                    let host_busy = running.iter().filter(|&&(r, _)| jobs[r].host == jobs[i].host).count() >= per_host;
                    prop_assert!(running.len() >= limit || host_busy, "idle capacity left unused");
                }
            }
            for (i, state) in settled.iter().enumerate() {
                prop_assert!(*state == 1 || *state == 2, "job {} settled {} times-ish", i, state);
            }
        }
    }
}
