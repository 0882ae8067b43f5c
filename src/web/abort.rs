//! Abort signals: listening to one, and forwarding one into a controller of ours.

use wasm_bindgen::prelude::*;
use web_sys::{AbortController, AbortSignal};

/// A listener on an `AbortSignal` that is removed when this value is dropped, so listeners
/// never pile up on a long-lived signal of the caller's.
pub struct Listener {
    signal: AbortSignal,
    callback: Closure<dyn FnMut()>,
}

impl Listener {
    /// Calls `callback` when `signal` aborts, until the listener is dropped.
    pub fn new(signal: &AbortSignal, callback: impl FnMut() + 'static) -> Listener {
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

/// A new `AbortController`. Its constructor cannot fail in any scope that has `fetch`.
pub fn controller() -> AbortController {
    AbortController::new().unwrap_throw()
}
