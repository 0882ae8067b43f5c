//! One attempt: send the request with its own abort controller, under the per-attempt
//! timeout, and classify what came back.

use core::pin::pin;

use futures_util::future::{select, Either};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Request, RequestInit, Response};

use crate::core::retry_policy::AttemptOutcome;
use crate::web::abort;
use crate::web::timer::sleep;
use crate::web::transport::Transport;

/// How one attempt ended.
pub(crate) enum Attempt {
    /// The server answered (any status).
    Answered(Response),
    /// The transport failed or the attempt timed out; the JS value is the cause.
    Failed(AttemptOutcome, JsValue),
    /// The request as a whole was aborted (caller, group, close or total timeout).
    Aborted,
}

/// Sends `template` once. `request_signal` is the request's own signal: when it aborts, so
/// does this attempt.
pub(crate) async fn send_once(
    transport: &Transport,
    template: &Request,
    request_signal: &AbortSignal,
    timeout_ms: Option<f64>,
) -> Attempt {
    let controller = abort::controller();
    let _link = abort::link(request_signal, &controller);
    let init = RequestInit::new();
    init.set_signal(Some(&controller.signal()));
    // A clone per attempt: the template's body is never consumed, so a retry sends the same
    // bytes again.
    let request = match template.clone().and_then(|c| Request::new_with_request_and_init(&c, &init)) {
        Ok(r) => r,
        Err(e) => return Attempt::Failed(AttemptOutcome::Network, e),
    };
    let response = JsFuture::from(transport.send(&request));
    let result = match timeout_ms {
        None => response.await,
        Some(ms) => match select(pin!(response), pin!(sleep(ms))).await {
            Either::Left((r, _)) => r,
            Either::Right(_) => {
                let reason = js_sys::Error::new("fetchlane: the attempt timed out (timeoutMs)");
                controller.abort_with_reason(&reason);
                return Attempt::Failed(AttemptOutcome::Timeout, reason.into());
            }
        },
    };
    match result {
        Ok(value) => match value.dyn_into::<Response>() {
            Ok(r) => Attempt::Answered(r),
            Err(other) => {
                let error = js_sys::Error::new(
                    "fetchlane: the fetch option resolved to something that is not a Response",
                );
                error.set_cause(&other);
                Attempt::Failed(AttemptOutcome::Network, error.into())
            }
        },
        Err(_) if request_signal.aborted() => Attempt::Aborted,
        Err(cause) => Attempt::Failed(AttemptOutcome::Network, cause),
    }
}
