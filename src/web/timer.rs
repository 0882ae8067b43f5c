//! `setTimeout` as a callback handle and as a future; both clear the timer when dropped.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &js_sys::Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
}

/// A pending `setTimeout` callback. Dropping it clears the timer, so a timer never outlives
/// the thing that armed it.
#[must_use = "dropping a Timer cancels it"]
pub struct Timer {
    handle: JsValue,
    _callback: Closure<dyn FnMut()>,
}

impl Timer {
    /// Calls `callback` once after `ms` milliseconds (clamped to at least 0).
    pub fn once(ms: f64, callback: impl FnOnce() + 'static) -> Timer {
        let mut callback = Some(callback);
        let closure = Closure::<dyn FnMut()>::new(move || {
            if let Some(f) = callback.take() {
                f();
            }
        });
        let handle = set_timeout(closure.as_ref().unchecked_ref(), ms.max(0.0));
        Timer { handle, _callback: closure }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.handle);
    }
}

#[derive(Default)]
struct SleepState {
    fired: bool,
    waker: Option<Waker>,
}

/// A future that completes after a delay; dropping it clears the timer.
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    state: Rc<RefCell<SleepState>>,
    _timer: Timer,
}

/// Waits `ms` milliseconds.
pub fn sleep(ms: f64) -> Sleep {
    let state = Rc::new(RefCell::new(SleepState::default()));
    let fired = state.clone();
    let timer = Timer::once(ms, move || {
        let waker = {
            let mut s = fired.borrow_mut();
            s.fired = true;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    });
    Sleep { state, _timer: timer }
}

impl Future for Sleep {
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
