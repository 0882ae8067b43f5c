//! The scheduler made awaitable: `acquire` waits for a permit, dropping the wait leaves the
//! queue, dropping the permit hands the slot on.

use crate::prelude::*;

use alloc::rc::{Rc, Weak};
use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use crate::core::error::ErrorKind;
use crate::core::hash::HashMap;
use crate::core::lane::Lane;
use crate::core::rate_window::RateWindow;
use crate::core::scheduler::{HostId, Scheduler, TaskId, Work};
use crate::web::clock::now_ms;
use crate::web::timer::Timer;

enum Slot {
    Waiting(Option<Waker>),
    Started,
    Rejected(ErrorKind),
}

struct GateState {
    scheduler: Scheduler,
    next_id: TaskId,
    slots: HashMap<TaskId, Slot>,
    /// The one timer armed for the earliest time-gated start, and that time.
    timer: Option<(f64, Timer)>,
    idle: Vec<Waker>,
    closed: bool,
    /// A dispatch is queued for the next executor turn (see `release`).
    dispatch_pending: bool,
}

/// Shared, single-threaded scheduler state plus the wakers of everyone waiting on it.
pub(crate) struct Gate {
    state: RefCell<GateState>,
    this: Weak<Gate>,
}

impl Gate {
    pub fn new(scheduler: Scheduler) -> Rc<Gate> {
        Rc::new_cyclic(|this| Gate {
            state: RefCell::new(GateState {
                scheduler,
                next_id: 0,
                slots: HashMap::default(),
                timer: None,
                idle: Vec::new(),
                closed: false,
                dispatch_pending: false,
            }),
            this: this.clone(),
        })
    }

    pub fn host(&self, name: &str) -> HostId {
        self.state.borrow_mut().scheduler.host(name)
    }

    pub fn add_window(&self, host: Option<&str>, window: RateWindow) {
        let mut s = self.state.borrow_mut();
        let host = host.map(|h| s.scheduler.host(h));
        s.scheduler.add_window(host, window);
    }

    /// Queues at once (so start order follows call order) and returns the wait.
    pub fn acquire(self: &Rc<Self>, lane: Lane, host: Option<HostId>, metered: bool) -> Acquire {
        let id = {
            let mut s = self.state.borrow_mut();
            s.next_id += 1;
            let id = s.next_id;
            if s.closed {
                s.slots.insert(id, Slot::Rejected(ErrorKind::Closed));
            } else {
                s.slots.insert(id, Slot::Waiting(None));
                s.scheduler.enqueue(Work { id, lane, host, metered });
            }
            id
        };
        self.dispatch();
        Acquire { gate: self.clone(), id, host, done: false }
    }

    pub fn pause_host(&self, host: HostId, until_ms: f64) {
        self.state.borrow_mut().scheduler.pause_host(host, until_ms);
        self.dispatch();
    }

    pub fn concurrency(&self) -> usize {
        self.state.borrow().scheduler.concurrency()
    }

    pub fn set_concurrency(&self, limit: usize) {
        self.state.borrow_mut().scheduler.set_concurrency(limit);
        self.dispatch();
    }

    pub fn active(&self) -> usize {
        self.state.borrow().scheduler.active()
    }

    pub fn pending(&self) -> usize {
        self.state.borrow().scheduler.pending()
    }

    /// Rejects everything queued with `kind` (`abort` for `clearQueue`, `closed` on close).
    pub fn reject_queued(&self, kind: ErrorKind) {
        let wakers = {
            let mut s = self.state.borrow_mut();
            if kind == ErrorKind::Closed {
                s.closed = true;
            }
            let ids = s.scheduler.drain_queue();
            let mut wakers = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(Slot::Waiting(w)) = s.slots.insert(id, Slot::Rejected(kind)) {
                    wakers.extend(w);
                }
            }
            wakers
        };
        for w in wakers {
            w.wake();
        }
        self.dispatch();
    }

    /// Resolves when nothing is queued or running.
    pub fn idle(self: &Rc<Self>) -> Idle {
        Idle { gate: self.clone() }
    }

    fn is_idle(s: &GateState) -> bool {
        s.scheduler.active() == 0 && s.scheduler.pending() == 0
    }

    /// Starts what may start, re-arms the timer and wakes whoever that concerns. Wakers run
    /// after the borrow ends, so a woken task may call back in.
    fn dispatch(&self) {
        let mut wake = Vec::new();
        {
            let mut s = self.state.borrow_mut();
            let now = now_ms();
            let out = s.scheduler.dispatch(now);
            for id in out.started {
                if let Some(Slot::Waiting(w)) = s.slots.insert(id, Slot::Started) {
                    wake.extend(w);
                }
            }
            match out.wake_at {
                Some(at) if s.timer.as_ref().map_or(true, |(t, _)| at < *t) => {
                    let this = self.this.clone();
                    let timer = Timer::once(at - now, move || {
                        if let Some(gate) = this.upgrade() {
                            gate.state.borrow_mut().timer = None;
                            gate.dispatch();
                        }
                    });
                    s.timer = Some((at, timer));
                }
                Some(_) => {}
                None => s.timer = None,
            }
            if Gate::is_idle(&s) {
                wake.append(&mut s.idle);
            }
        }
        for w in wake {
            w.wake();
        }
    }

    /// Returns a permit and starts what may start now.
    fn release(&self, id: TaskId, host: Option<HostId>) {
        self.state.borrow_mut().scheduler.finish(id, host, now_ms());
        self.dispatch();
    }

    /// Returns a permit; the next start happens one executor turn later (see
    /// [`Permit::release_later`]). Releases in the same turn share one dispatch.
    fn release_later(&self, id: TaskId, host: Option<HostId>) {
        let schedule = {
            let mut s = self.state.borrow_mut();
            s.scheduler.finish(id, host, now_ms());
            !core::mem::replace(&mut s.dispatch_pending, true)
        };
        if schedule {
            let this = self.this.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Some(gate) = this.upgrade() {
                    gate.state.borrow_mut().dispatch_pending = false;
                    gate.dispatch();
                }
            });
        }
    }
}

/// Waiting for a permit. Dropping it before it completes leaves the queue (that is how an
/// abort while queued works: the request never reaches the server).
#[must_use = "futures do nothing unless awaited"]
pub(crate) struct Acquire {
    gate: Rc<Gate>,
    id: TaskId,
    host: Option<HostId>,
    done: bool,
}

impl Future for Acquire {
    type Output = Result<Permit, ErrorKind>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.id;
        let mut s = self.gate.state.borrow_mut();
        let result = match s.slots.get_mut(&id) {
            Some(Slot::Waiting(w)) => {
                *w = Some(cx.waker().clone());
                return Poll::Pending;
            }
            Some(Slot::Started) => Ok(()),
            Some(Slot::Rejected(kind)) => Err(*kind),
            None => Err(ErrorKind::Abort),
        };
        s.slots.remove(&id);
        drop(s);
        self.done = true;
        Poll::Ready(result.map(|()| Permit { gate: self.gate.clone(), id, host: self.host, later: false }))
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let slot = self.gate.state.borrow_mut().slots.remove(&self.id);
        match slot {
            Some(Slot::Waiting(_)) => {
                self.gate.state.borrow_mut().scheduler.cancel(self.id);
                self.gate.dispatch();
            }
            // Started but never taken: hand the permit straight back.
            Some(Slot::Started) => self.gate.release(self.id, self.host),
            _ => {}
        }
    }
}

/// One slot of the global limit (and of its host's). Dropping it lets the next queued work
/// start.
pub(crate) struct Permit {
    gate: Rc<Gate>,
    id: TaskId,
    host: Option<HostId>,
    later: bool,
}

impl Permit {
    /// Gives the slot back, but lets the next queued work start only one executor turn
    /// later, so that those waiting on this work react to its outcome first.
    pub fn release_later(mut self) {
        self.later = true;
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if self.later {
            self.gate.release_later(self.id, self.host);
        } else {
            self.gate.release(self.id, self.host);
        }
    }
}

/// Resolves when the gate has nothing queued or running.
pub(crate) struct Idle {
    gate: Rc<Gate>,
}

impl Future for Idle {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.gate.state.borrow_mut();
        if Gate::is_idle(&s) {
            return Poll::Ready(());
        }
        if !s.idle.iter().any(|w| w.will_wake(cx.waker())) {
            s.idle.push(cx.waker().clone());
        }
        Poll::Pending
    }
}
