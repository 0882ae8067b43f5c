//! In-flight de-duplication: identical requests share one network request, and every
//! caller still gets its own readable `Response`.
//!
//! One waiter aborting leaves the others untouched; when the last waiter leaves, the shared
//! request is aborted.

use crate::prelude::*;

use alloc::rc::Rc;
use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use web_sys::AbortController;

use super::body::Buffered;
use super::error::Error;
use super::network::Answer;
use crate::web::abort;

enum Outcome {
    /// Only one caller was left: it gets the response itself, body unread and streaming.
    Single(Option<Answer>),
    /// Several callers: each gets a copy of the buffered body.
    Shared(Buffered, u32, &'static str),
    Failed(Error),
}

struct State {
    waiters: usize,
    outcome: Option<Outcome>,
    wakers: Vec<Waker>,
}

/// One network request that several callers wait on.
pub(crate) struct Shared {
    state: RefCell<State>,
    /// Aborts the network request once nobody waits for it any more.
    pub controller: AbortController,
}

impl Shared {
    pub fn new() -> Rc<Shared> {
        Rc::new(Shared {
            state: RefCell::new(State { waiters: 0, outcome: None, wakers: Vec::new() }),
            controller: abort::controller(),
        })
    }

    /// A new caller waits on this request.
    pub fn join(self: &Rc<Self>) -> Waiter {
        self.state.borrow_mut().waiters += 1;
        Waiter { shared: self.clone(), done: false }
    }

    /// How many callers wait now.
    pub fn waiters(&self) -> usize {
        self.state.borrow().waiters
    }

    /// Hands the network result to every waiter. With more than one waiter left, the body is
    /// read once so that each can have its own copy.
    pub async fn complete(&self, result: Result<Answer, Error>, url: &str) {
        let outcome = match result {
            Err(e) => Outcome::Failed(e),
            Ok(answer) if self.waiters() <= 1 => Outcome::Single(Some(answer)),
            Ok(answer) => match Buffered::read(&answer.response, url).await {
                Ok(b) => Outcome::Shared(b, answer.attempts, answer.source),
                Err(e) => Outcome::Failed(e.with_attempts(answer.attempts)),
            },
        };
        let wakers = {
            let mut s = self.state.borrow_mut();
            s.outcome = Some(outcome);
            core::mem::take(&mut s.wakers)
        };
        for w in wakers {
            w.wake();
        }
    }
}

/// One caller's wait. Dropping it before it completes leaves the request; the last one to
/// leave aborts it.
pub(crate) struct Waiter {
    shared: Rc<Shared>,
    done: bool,
}

impl Future for Waiter {
    type Output = Result<Answer, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let result = {
            let mut s = self.shared.state.borrow_mut();
            match s.outcome.as_mut() {
                None => {
                    s.wakers.push(cx.waker().clone());
                    return Poll::Pending;
                }
                Some(Outcome::Failed(e)) => Err(e.clone()),
                Some(Outcome::Shared(b, attempts, source)) => {
                    Ok(Answer { response: b.to_response(None), attempts: *attempts, source })
                }
                Some(Outcome::Single(r)) => match r.take() {
                    Some(r) => Ok(r),
                    // Cannot happen: the request leaves the in-flight map before it
                    // completes, so nobody joins after the waiters were counted.
                    None => Err(Error::new(super::ErrorKind::Network, "")),
                },
            }
        };
        self.done = true;
        self.leave(false);
        Poll::Ready(result)
    }
}

impl Waiter {
    fn leave(&self, abandon: bool) {
        let last = {
            let mut s = self.shared.state.borrow_mut();
            s.waiters -= 1;
            s.waiters == 0 && s.outcome.is_none()
        };
        if abandon && last {
            self.shared
                .controller
                .abort_with_reason(&js_sys::Error::new("fetchlane: every caller of a shared request aborted").into());
        }
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        if !self.done {
            self.leave(true);
        }
    }
}
