//! A one-shot slot: the driver puts a caller's outcome in, the caller's future takes it out.
//! Single-threaded (`Rc`), so no locking; the sender side may run before the first poll.

use alloc::rc::Rc;
use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

struct State<T> {
    value: Option<T>,
    waker: Option<Waker>,
    /// Set once a value was put in (it stays set after the value is taken).
    sent: bool,
}

/// The shared slot. [`Slot::send`] fills it once; [`Receiver`] waits for it.
pub(crate) struct Slot<T>(RefCell<State<T>>);

impl<T> Slot<T> {
    /// An empty slot.
    pub fn new() -> Rc<Slot<T>> {
        Rc::new(Slot(RefCell::new(State { value: None, waker: None, sent: false })))
    }

    /// Puts `value` in and wakes the receiver; a second send is ignored. Returns whether
    /// this send was the first.
    pub fn send(&self, value: T) -> bool {
        let waker = {
            let mut s = self.0.borrow_mut();
            if s.sent {
                return false;
            }
            s.sent = true;
            s.value = Some(value);
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        true
    }

    /// Whether a value was sent.
    pub fn is_sent(&self) -> bool {
        self.0.borrow().sent
    }
}

/// Waits for the slot's value.
#[must_use = "futures do nothing unless awaited"]
pub(crate) struct Receiver<T>(pub Rc<Slot<T>>);

impl<T> Future for Receiver<T> {
    type Output = Option<T>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut s = self.0 .0.borrow_mut();
        if s.sent {
            return Poll::Ready(s.value.take());
        }
        s.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
