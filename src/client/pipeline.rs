//! The path of one call, composed in one place:
//!
//! ```text
//! dedupe (join an identical request in flight)
//!   ─▶ cache (strategy over memory and the Cache API; fresh / stale / revalidate)
//!   ─▶ network (queue: lanes, limits, rate limits, host pauses ─▶ attempts with timeout
//!      and retry)
//!   ─▶ fan out one readable Response per caller ─▶ decode as the caller asked
//! ```
//!
//! Each stage lives in its own module and knows nothing of the others; this file wires
//! them, and keeps the per-call counters and the `settled` event.

use crate::prelude::*;

use alloc::rc::Rc;
use core::future::Future;
use core::pin::{pin, Pin};

use futures_util::future::{select, Either};
use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use super::body::decode;
use super::cache;
use super::dedupe::Shared;
use super::error::{Error, ErrorKind};
use super::events::{Event, EventType};
use super::network::{self, Answer, Prepared};
use super::options::{BodyAs, RequestOptions};
use super::stats::bump;
use super::Inner;
use crate::web::abort::{self, aborted, AbortHub};
use crate::web::clock::now_ms;

/// The key identical requests share: method, URL and every request header (sorted), unless
/// the caller gave one. Headers count because a response may vary on any of them, and
/// which ones is only known once it arrives.
fn dedupe_key(req: &Prepared, opts: &RequestOptions) -> String {
    if let Some(k) = &opts.key {
        let mut key = String::from("key:");
        key.push_str(k);
        return key;
    }
    let mut headers = super::body::header_pairs(&req.template.headers());
    // A request has few headers: an insertion sort keeps a whole sort routine out of the wasm.
    for i in 1..headers.len() {
        let mut j = i;
        while j > 0 && headers[j - 1] > headers[j] {
            headers.swap(j - 1, j);
            j -= 1;
        }
    }
    let mut key = String::with_capacity(req.url.len() + 16);
    key.push_str(&req.method);
    key.push(' ');
    key.push_str(&req.url);
    for (name, value) in headers {
        key.push('\n');
        key.push_str(&name);
        key.push(':');
        key.push_str(&value);
    }
    key
}

fn dedupes(inner: &Inner, req: &Prepared, opts: &RequestOptions) -> bool {
    let idempotent_read = &*req.method == "GET" || &*req.method == "HEAD";
    opts.dedupe.unwrap_or(inner.config.dedupe && idempotent_read)
}

/// Where a call's response comes from.
enum Source {
    Network(Staged),
    Joined(super::dedupe::Waiter),
}

type Staged = Pin<Box<dyn Future<Output = Result<Answer, Error>>>>;

/// The stages after de-duplication: the cache when it applies, else straight to the network
/// (which then queues at once).
fn stage(inner: &Rc<Inner>, req: Prepared, opts: RequestOptions, id: u64) -> Staged {
    if cache::applies(inner, &req, &opts) {
        Box::pin(cache::run(inner.clone(), req, opts, id))
    } else {
        Box::pin(network::run(inner.clone(), req, opts, id))
    }
}

/// Starts a prepared call, or answers at once with the error that kept it from being
/// prepared. A combinator rather than an `async` wrapper: a wrapper would hold the call's
/// future twice (as its capture and as the awaited value), and this one stays in memory for
/// as long as the call is queued.
pub(crate) fn start_or_fail(
    inner: &Rc<Inner>,
    prepared: Result<Prepared, Error>,
    opts: RequestOptions,
    body_as: BodyAs,
    group: Option<Rc<AbortHub>>,
) -> impl Future<Output = Result<JsValue, Error>> {
    match prepared {
        Ok(req) => Either::Left(start(inner, req, opts, body_as, group)),
        Err(e) => Either::Right(core::future::ready(Err(e))),
    }
}

/// Starts one call. Like `network::run`, it queues (or joins) before returning.
pub(crate) fn start(
    inner: &Rc<Inner>,
    req: Prepared,
    opts: RequestOptions,
    body_as: BodyAs,
    group: Option<Rc<AbortHub>>,
) -> impl Future<Output = Result<JsValue, Error>> {
    let id = inner.next_request_id.get() + 1;
    inner.next_request_id.set(id);
    let started_at = now_ms();
    let url = req.url.clone();
    let method = req.method.clone();
    let lane = opts.lane;
    // The caller's own abort: its signal and its group folded into one controller of ours,
    // the group through a hub (no listener per member on a shared signal).
    let mut opts = opts;
    let mut call_links = None;
    if opts.signal.is_some() || group.is_some() {
        let call = abort::controller();
        call_links = Some((
            opts.signal.as_ref().map(|s| abort::link(s, &call)),
            group.as_ref().map(|g| g.register(&call)),
        ));
        opts.signal = Some(call.signal());
    }
    let signals: Vec<AbortSignal> = opts.signal.iter().cloned().collect();

    // A signal that has already fired stops the call before anything is queued or shared.
    let pre_aborted = abort_error(&signals, inner, &url);
    let source = if inner.closed.get() || pre_aborted.is_some() {
        None
    } else if dedupes(inner, &req, &opts) {
        let key = dedupe_key(&req, &opts);
        let existing = inner.inflight.borrow().get(&key).cloned();
        match existing {
            Some(shared) => {
                bump(&inner.counters.deduped, 1);
                Some((Source::Joined(shared.join()), "dedupe"))
            }
            None => {
                let shared = Shared::new();
                let waiter = shared.join();
                inner.inflight.borrow_mut().insert(key.clone(), shared.clone());
                // The shared request answers to nobody's signal but its own: callers leave
                // it by dropping their waiter, and the last one out aborts it.
                let shared_opts = RequestOptions { signal: Some(shared.controller.signal()), ..opts };
                let run = stage(inner, req, shared_opts, id);
                let owner = inner.clone();
                let shared_url = url.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let result = run.await;
                    owner.inflight.borrow_mut().remove(&key);
                    shared.complete(result, &shared_url).await;
                });
                Some((Source::Joined(waiter), ""))
            }
        }
    } else {
        Some((Source::Network(stage(inner, req, opts, id)), ""))
    };

    let joined = matches!(source, Some((Source::Joined(_), "dedupe")));
    let inner = inner.clone();
    async move {
        let _call_links = call_links;
        let result = match source {
            None => Err(pre_aborted.unwrap_or_else(|| Error::new(ErrorKind::Closed, &url))),
            Some((source, from)) => {
                let response = match source {
                    Source::Network(run) => run.await,
                    Source::Joined(waiter) => wait_or_abort(waiter, &signals, &inner, &url).await,
                };
                let aborted_error = || abort_error(&signals, &inner, &url);
                match response {
                    Ok(Answer { response, attempts, source }) => decode(response, body_as, &url, aborted_error)
                        .await
                        .map(|v| (v, if from.is_empty() { source } else { from }))
                        .map_err(|e| e.with_attempts(attempts)),
                    Err(e) => Err(e),
                }
            }
        };
        let counters = &inner.counters;
        bump(if result.is_ok() { &counters.succeeded } else { &counters.failed }, 1);
        if !inner.emitter.is_empty() {
            let now = now_ms();
            inner.emitter.emit(&Event {
                kind: EventType::Settled,
                id,
                url: url.clone(),
                method,
                lane,
                time_ms: now,
                attempt: result.as_ref().err().map_or(0, |e| e.attempts),
                delay_ms: None,
                reason: None,
                status: result.as_ref().err().and_then(|e| e.status),
                error: result.as_ref().err().map(|e| e.kind),
                source: Some(result.as_ref().map_or(if joined { "dedupe" } else { "network" }, |(_, from)| *from)),
                duration_ms: Some(now - started_at),
                cause: None,
            });
        }
        result.map(|(v, _)| v)
    }
}

/// The error for a caller whose own signal (or group's) aborted, if one did.
fn abort_error(signals: &[AbortSignal], inner: &Inner, url: &str) -> Option<Error> {
    let signal = signals.iter().find(|s| s.aborted())?;
    let kind = if inner.closed.get() { ErrorKind::Closed } else { ErrorKind::Abort };
    Some(Error::new(kind, url).with_cause(signal.reason()))
}

/// Waits for a shared request, or leaves it when this caller's own signal aborts or the
/// client closes.
async fn wait_or_abort(
    waiter: super::dedupe::Waiter,
    signals: &[AbortSignal],
    inner: &Inner,
    url: &str,
) -> Result<Answer, Error> {
    // One controller of this waiter's own, fired by its signal or by the client closing.
    let stop = abort::controller();
    let _links = (
        signals.iter().map(|s| abort::link(s, &stop)).collect::<Vec<_>>(),
        inner.closing.register(&stop),
    );
    match select(pin!(waiter), pin!(aborted(&stop.signal()))).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => {
            if inner.closed.get() {
                return Err(Error::new(ErrorKind::Closed, url));
            }
            Err(abort_error(signals, inner, url).unwrap_or_else(|| Error::new(ErrorKind::Abort, url)))
        }
    }
}
