//! Abort signals: waiting for one, and forwarding one into a controller of ours.

use crate::prelude::*;

use alloc::rc::Rc;
use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use wasm_bindgen::prelude::*;
use web_sys::{AbortController, AbortSignal};

use super::flag::Flag;

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

/// A future that completes when a signal aborts; it removes its listener when dropped.
#[must_use = "futures do nothing unless awaited"]
pub struct Aborted {
    flag: Flag,
    _listener: Option<Listener>,
}

/// Waits until `signal` aborts (completes at once if it already has).
pub fn aborted(signal: &AbortSignal) -> Aborted {
    let flag = Flag::new(signal.aborted());
    if flag.is_set() {
        return Aborted { flag, _listener: None };
    }
    let setter = flag.clone();
    let listener = Listener::new(signal, move || setter.set());
    Aborted { flag, _listener: Some(listener) }
}

impl Future for Aborted {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.flag.poll(cx)
    }
}

/// A new `AbortController`. Its constructor cannot fail in any scope that has `fetch`.
pub fn controller() -> AbortController {
    AbortController::new().unwrap_throw()
}

/// One abort fanned out to many controllers without a JS listener each: registering and
/// leaving are O(1), where thousands of listeners on one `AbortSignal` make every add and
/// remove O(n) (seen here: 120 µs per `schedule` call at 10 000 queued). Used for "the client
/// closed" and "a sibling in `all` failed".
#[derive(Default)]
pub struct AbortHub {
    children: RefCell<Vec<Option<AbortController>>>,
    free: RefCell<Vec<usize>>,
    reason: RefCell<Option<JsValue>>,
}

/// Membership in an [`AbortHub`]; leaving happens on drop.
pub struct HubLink {
    hub: Rc<AbortHub>,
    slot: Option<usize>,
}

impl AbortHub {
    /// A hub that has not fired.
    pub fn new() -> Rc<AbortHub> {
        Rc::new(AbortHub::default())
    }

    /// Aborts `controller` when the hub fires (at once if it already has).
    pub fn register(self: &Rc<Self>, controller: &AbortController) -> HubLink {
        if let Some(reason) = self.reason.borrow().as_ref() {
            controller.abort_with_reason(reason);
            return HubLink { hub: self.clone(), slot: None };
        }
        let mut children = self.children.borrow_mut();
        let slot = match self.free.borrow_mut().pop() {
            Some(i) => {
                children[i] = Some(controller.clone());
                i
            }
            None => {
                children.push(Some(controller.clone()));
                children.len() - 1
            }
        };
        HubLink { hub: self.clone(), slot: Some(slot) }
    }

    /// Whether the hub has fired.
    pub fn fired(&self) -> bool {
        self.reason.borrow().is_some()
    }

    /// Aborts every registered controller with `reason`, and every later one at once.
    pub fn fire(&self, reason: JsValue) {
        if self.reason.borrow().is_some() {
            return;
        }
        *self.reason.borrow_mut() = Some(reason.clone());
        // Taken out first: aborting runs listeners that may drop their links.
        let children = core::mem::take(&mut *self.children.borrow_mut());
        self.free.borrow_mut().clear();
        for c in children.into_iter().flatten() {
            c.abort_with_reason(&reason);
        }
    }
}

impl Drop for HubLink {
    fn drop(&mut self) {
        if let Some(slot) = self.slot {
            let mut children = self.hub.children.borrow_mut();
            if let Some(entry) = children.get_mut(slot) {
                if entry.take().is_some() {
                    self.hub.free.borrow_mut().push(slot);
                }
            }
        }
    }
}
