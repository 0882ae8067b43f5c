//! A one-shot "it happened" flag that a future waits on: what [`super::timer::sleep`] and
//! [`super::abort::aborted`] share. A JS callback (a timer, an abort event) sets it; the future
//! polls it.

use alloc::rc::Rc;
use core::cell::RefCell;
use core::task::{Context, Poll, Waker};

/// A shared handle to one flag; clones see the same flag.
#[derive(Clone)]
pub(crate) struct Flag(Rc<RefCell<FlagState>>);

struct FlagState {
    set: bool,
    waker: Option<Waker>,
}

impl Flag {
    /// A flag, already set when `set` is true.
    pub(crate) fn new(set: bool) -> Flag {
        Flag(Rc::new(RefCell::new(FlagState { set, waker: None })))
    }

    /// Sets the flag and wakes the future waiting on it, if any.
    pub(crate) fn set(&self) {
        let waker = {
            let mut s = self.0.borrow_mut();
            s.set = true;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Ready once set; until then it keeps `cx`'s waker for [`Flag::set`].
    pub(crate) fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.0.borrow_mut();
        if s.set {
            Poll::Ready(())
        } else {
            s.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}
