//! Abort signals: waiting for one, and forwarding one into a controller of ours.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use wasm_bindgen::prelude::*;
use web_sys::{AbortController, AbortSignal};

/// A listener on an `AbortSignal` that is removed when this value is dropped, so listeners
/// never pile up on a long-lived signal of the caller's.
struct Listener {
    signal: AbortSignal,
    callback: Closure<dyn FnMut()>,
}

impl Listener {
    fn new(signal: &AbortSignal, callback: impl FnMut() + 'static) -> Listener {
        let callback = Closure::<dyn FnMut()>::new(callback);
        // addEventListener only throws for a non-callable; a Closure always is.
        let _ = signal.add_event_listener_with_callback("abort", callback.as_ref().unchecked_ref());
        Listener { signal: signal.clone(), callback }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .signal
            .remove_event_listener_with_callback("abort", self.callback.as_ref().unchecked_ref());
    }
}

/// Forwards an abort of `from` into `to` (with `from`'s reason) for as long as it lives.
pub struct AbortLink {
    _listener: Option<Listener>,
}

/// Aborts `to` when `from` aborts; at once if `from` already has.
pub fn link(from: &AbortSignal, to: &AbortController) -> AbortLink {
    if from.aborted() {
        to.abort_with_reason(&from.reason());
        return AbortLink { _listener: None };
    }
    let source = from.clone();
    let target = to.clone();
    AbortLink {
        _listener: Some(Listener::new(from, move || target.abort_with_reason(&source.reason()))),
    }
}

#[derive(Default)]
struct WaitState {
    fired: bool,
    waker: Option<Waker>,
}

/// A future that completes when a signal aborts; it removes its listener when dropped.
#[must_use = "futures do nothing unless awaited"]
pub struct Aborted {
    state: Rc<RefCell<WaitState>>,
    _listener: Option<Listener>,
}

/// Waits until `signal` aborts (completes at once if it already has).
pub fn aborted(signal: &AbortSignal) -> Aborted {
    let state = Rc::new(RefCell::new(WaitState { fired: signal.aborted(), waker: None }));
    if state.borrow().fired {
        return Aborted { state, _listener: None };
    }
    let shared = state.clone();
    let listener = Listener::new(signal, move || {
        let waker = {
            let mut s = shared.borrow_mut();
            s.fired = true;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    });
    Aborted { state, _listener: Some(listener) }
}

impl Future for Aborted {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.state.borrow_mut();
        if s.fired {
            Poll::Ready(())
        } else {
            s.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// A new `AbortController`. Its constructor cannot fail in any scope that has `fetch`.
pub fn controller() -> AbortController {
    AbortController::new().unwrap_throw()
}
