//! `setTimeout` as a callback handle and as a future; both clear the timer when dropped.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use wasm_bindgen::prelude::*;

use super::flag::Flag;

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

/// A future that completes after a delay; dropping it clears the timer.
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    flag: Flag,
    _timer: Timer,
}

/// Waits `ms` milliseconds.
pub fn sleep(ms: f64) -> Sleep {
    let flag = Flag::new(false);
    let setter = flag.clone();
    let timer = Timer::once(ms, move || setter.set());
    Sleep { flag, _timer: timer }
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.flag.poll(cx)
    }
}
