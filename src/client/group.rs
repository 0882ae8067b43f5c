//! Groups: `all` (fail fast; the machine aborts the siblings) and `allSettled` (every
//! outcome, with progress). The machine knows each group by id and makes the decisions; this
//! collects the members' outcomes in input order for the caller's future.

use crate::prelude::*;

use alloc::rc::Rc;
use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use wasm_bindgen::JsValue;

use super::driver::Driver;
use super::error::Error;
use super::options::BodyAs;

/// Options for `all` and `allSettled`.
#[derive(Clone, Copy, Debug)]
pub struct GroupOptions {
    /// How each body is decoded. Default [`BodyAs::Json`].
    pub body_as: BodyAs,
    /// `all` only: abort the siblings still queued or in flight when one fails. Default true.
    pub abort_on_failure: bool,
}

impl Default for GroupOptions {
    fn default() -> Self {
        GroupOptions { body_as: BodyAs::Json, abort_on_failure: true }
    }
}

/// Where an `allSettled` group stands, after each member settles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Members settled so far.
    pub done: usize,
    /// Members in the group.
    pub total: usize,
    /// Members that failed so far.
    pub failed: usize,
}

struct Inner {
    /// The machine's group id (0: none).
    id: u32,
    settled_mode: bool,
    abort_on_failure: bool,
    total: usize,
    done: usize,
    failed: usize,
    results: Vec<Option<Result<JsValue, Error>>>,
    /// `all`: the first failure, once it happened.
    error: Option<Error>,
    /// The caller's future has its answer (or was dropped).
    finished: bool,
    waker: Option<Waker>,
    /// Why the siblings were aborted (their `abort` errors' cause).
    reason: Option<JsValue>,
}

/// What the driver must tell the machine after a member settled.
pub(crate) struct Settled {
    /// The group's id.
    pub id: u32,
    /// Abort the members still waiting (the first failure of a fail-fast group).
    pub abort: bool,
    /// Every member has settled: the machine can forget the group.
    pub ended: bool,
}

/// One group's members' outcomes.
pub(crate) struct GroupState {
    inner: RefCell<Inner>,
    on_progress: Option<Box<dyn Fn(Progress)>>,
}

impl GroupState {
    pub fn new(
        total: usize,
        settled_mode: bool,
        abort_on_failure: bool,
        on_progress: Option<Box<dyn Fn(Progress)>>,
    ) -> Rc<GroupState> {
        Rc::new(GroupState {
            inner: RefCell::new(Inner {
                id: 0,
                settled_mode,
                abort_on_failure: abort_on_failure && !settled_mode,
                total,
                done: 0,
                failed: 0,
                results: (0..total).map(|_| None).collect(),
                error: None,
                finished: false,
                waker: None,
                reason: None,
            }),
            on_progress,
        })
    }

    pub fn set_id(&self, id: u32) {
        self.inner.borrow_mut().id = id;
    }

    pub fn id(&self) -> u32 {
        self.inner.borrow().id
    }

    /// Why the siblings were aborted, once they were.
    pub fn reason(&self) -> Option<JsValue> {
        self.inner.borrow().reason.clone()
    }

    /// Member `index` settled with `result`. Calls `on_progress` (with no borrow held).
    pub fn settle(&self, index: usize, result: Result<JsValue, Error>) -> Settled {
        let (progress, waker, out) = {
            let mut g = self.inner.borrow_mut();
            g.done += 1;
            let mut abort = false;
            let mut progress = None;
            if g.settled_mode {
                if result.is_err() {
                    g.failed += 1;
                }
                progress = Some(Progress { done: g.done, total: g.total, failed: g.failed });
                g.results[index] = Some(result);
            } else {
                match result {
                    Ok(v) => g.results[index] = Some(Ok(v)),
                    Err(e) => {
                        if g.error.is_none() {
                            g.error = Some(e);
                            if g.abort_on_failure {
                                g.reason = Some(js_sys::Error::new("fetchlane: a sibling in `all` failed").into());
                                abort = true;
                            }
                        }
                    }
                }
            }
            let ended = g.done == g.total;
            let waker = if ended || g.error.is_some() { g.waker.take() } else { None };
            (progress, waker, Settled { id: g.id, abort, ended })
        };
        if let (Some(p), Some(report)) = (progress, &self.on_progress) {
            report(p);
        }
        if let Some(w) = waker {
            w.wake();
        }
        out
    }
}

/// The caller's wait for a group. Dropping it before it has its answer aborts the members
/// still waiting.
#[must_use = "futures do nothing unless awaited"]
pub(crate) struct GroupWait {
    pub group: Rc<GroupState>,
    pub driver: Rc<Driver>,
}

/// What a group ends in: every result in order, or `all`'s first failure.
pub(crate) type GroupOutcome = Result<Vec<Result<JsValue, Error>>, Error>;

impl Future for GroupWait {
    type Output = GroupOutcome;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<GroupOutcome> {
        let mut g = self.group.inner.borrow_mut();
        if g.finished {
            return Poll::Pending;
        }
        if let Some(e) = g.error.clone() {
            g.finished = true;
            return Poll::Ready(Err(e));
        }
        if g.done == g.total {
            g.finished = true;
            let results = core::mem::take(&mut g.results);
            return Poll::Ready(Ok(results.into_iter().map(|r| r.unwrap_or(Ok(JsValue::UNDEFINED))).collect()));
        }
        g.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for GroupWait {
    fn drop(&mut self) {
        let (id, abort) = {
            let mut g = self.group.inner.borrow_mut();
            let abort = !g.finished && g.done < g.total;
            g.finished = true;
            if abort && g.reason.is_none() {
                g.reason = Some(js_sys::Error::new("fetchlane: the caller stopped waiting for the group").into());
            }
            (g.id, abort)
        };
        if abort {
            self.driver.abort_group(id, self.group.reason());
        }
    }
}
