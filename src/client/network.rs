//! The network stage: one request through the queue and its attempts.
//!
//! ```text
//! abort links + total timeout ─▶ queue (lane, host, rate limits, host pause) ─▶ attempt
//!   ─▶ classify ─▶ retry (backoff or the server's wait; 429/503 pause the host)
//! ```

use alloc::rc::Rc;
use core::cell::Cell;
use core::future::Future;
use core::pin::pin;

use futures_util::future::{select, Either};
use wasm_bindgen::JsValue;
use web_sys::{AbortController, Response};

use super::attempt::{send_once, Attempt};
use super::error::{Error, ErrorKind};
use super::events::{Event, EventType};
use super::gate::{Acquire, Permit};
use super::options::RequestOptions;
use super::stats::bump;
use super::Inner;
use crate::core::lane::Lane;
use crate::core::retry_after::{parse_rate_limit_reset, parse_retry_after};
use crate::core::retry_policy::{pauses_host, AttemptOutcome, RetryDecision};
use crate::core::scheduler::HostId;
use crate::web::abort::{self, aborted};
use crate::web::clock::{now_ms, random, wall_ms};
use crate::web::timer::{sleep, Timer};

/// A request ready for the pipeline: an unconsumed template plus what the stages key on.
#[derive(Clone)]
pub(crate) struct Prepared {
    pub template: web_sys::Request,
    pub url: Rc<str>,
    pub method: Rc<str>,
    pub host: HostId,
    pub has_idempotency_key: bool,
}

/// A response, how many attempts it took, and where it came from (`network`, `memory`,
/// `persistent`).
pub(crate) struct Answer {
    pub response: Response,
    pub attempts: u32,
    pub source: &'static str,
}

/// Everything one run needs to report and to abort.
struct Run {
    client: Rc<Inner>,
    req: Prepared,
    opts: RequestOptions,
    id: u64,
    lane: Lane,
    controller: AbortController,
    timed_out: Rc<Cell<bool>>,
    attempts: u32,
    status: Option<u16>,
}

impl Run {
    fn event(&self, kind: EventType) -> Event {
        Event {
            kind,
            id: self.id,
            url: self.req.url.clone(),
            method: self.req.method.clone(),
            lane: self.lane,
            time_ms: now_ms(),
            attempt: self.attempts,
            delay_ms: None,
            reason: None,
            status: self.status,
            error: None,
            source: None,
            duration_ms: None,
            cause: None,
        }
    }

    fn emit(&self, kind: EventType, fill: impl FnOnce(&mut Event)) {
        if self.client.emitter.is_empty() {
            return;
        }
        let mut event = self.event(kind);
        fill(&mut event);
        self.client.emitter.emit(&event);
    }

    fn error(&self, kind: ErrorKind) -> Error {
        let mut e = Error::new(kind, &self.req.url).with_attempts(self.attempts);
        if let Some(s) = self.status {
            e = e.with_status(s);
        }
        e
    }

    /// Why the request's controller fired: our total timeout, the client closing, or the
    /// caller (or its group) aborting.
    fn abort_error(&self) -> Error {
        let signal = self.controller.signal();
        if self.timed_out.get() {
            self.error(ErrorKind::Timeout).with_cause(signal.reason())
        } else if self.client.closed.get() {
            self.error(ErrorKind::Closed)
        } else {
            self.error(ErrorKind::Abort).with_cause(signal.reason())
        }
    }

    fn acquire(&self) -> Acquire {
        self.client.gate.acquire(self.lane, Some(self.req.host), true)
    }

    /// Waits for a permit, or fails when the request is aborted first.
    async fn permit(&self, acquire: Acquire) -> Result<Permit, Error> {
        let signal = self.controller.signal();
        match select(pin!(acquire), pin!(aborted(&signal))).await {
            // A permit granted in the same turn as an abort (a failing `all` sibling) must
            // not be used: `select` polls the permit first.
            Either::Left((Ok(_), _)) if signal.aborted() => Err(self.abort_error()),
            Either::Left((Ok(permit), _)) => Ok(permit),
            Either::Left((Err(kind), _)) => Err(self.error(kind)),
            Either::Right(_) => Err(self.abort_error()),
        }
    }

    /// Sleeps before a retry, or fails when the request is aborted first.
    async fn pause(&self, ms: f64) -> Result<(), Error> {
        if ms <= 0.0 {
            return Ok(());
        }
        let signal = self.controller.signal();
        match select(pin!(sleep(ms)), pin!(aborted(&signal))).await {
            Either::Left(_) => Ok(()),
            Either::Right(_) => Err(self.abort_error()),
        }
    }
}

/// The wait a response asks for: `Retry-After`, else `RateLimit-Reset`, else
/// `X-RateLimit-Reset`. Unparseable values are ignored (the backoff applies).
fn server_wait_ms(response: &Response) -> Option<f64> {
    let headers = response.headers();
    let now = wall_ms();
    let read = |name: &str| headers.get(name).ok().flatten();
    read("retry-after")
        .and_then(|v| parse_retry_after(&v, now))
        .or_else(|| read("ratelimit-reset").and_then(|v| parse_rate_limit_reset(&v, now)))
        .or_else(|| read("x-ratelimit-reset").and_then(|v| parse_rate_limit_reset(&v, now)))
}

fn content_length(response: &Response) -> u64 {
    response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0)
}

/// Runs one request through the queue and its attempts; resolves to the response (any
/// status when `throwHttpErrors` is off, else 2xx or 304). The request joins the queue before
/// this returns (so call order is queue order, and `clearQueue` right after a call sees it).
/// `id` ties its events to the caller's.
pub(crate) fn run(
    client: Rc<Inner>,
    req: Prepared,
    opts: RequestOptions,
    id: u64,
) -> impl Future<Output = Result<Answer, Error>> {
    let total_timeout_ms = opts.total_timeout_ms.or(client.config.total_timeout_ms);
    let mut run = Run {
        lane: opts.lane,
        client,
        req,
        opts,
        id,
        controller: abort::controller(),
        timed_out: Rc::new(Cell::new(false)),
        attempts: 0,
        status: None,
    };
    let closed = run.client.closed.get();
    let mut setup = None;
    if !closed {
        run.emit(EventType::Queued, |_| {});
        let links = (
            run.opts.signal.as_ref().map(|s| abort::link(s, &run.controller)),
            run.client.closing.register(&run.controller),
        );
        let total_timer = total_timeout_ms.map(|ms| {
            let controller = run.controller.clone();
            let flag = run.timed_out.clone();
            Timer::once(ms, move || {
                flag.set(true);
                controller.abort_with_reason(&js_sys::Error::new("fetchlane: totalTimeoutMs ran out").into());
            })
        });
        setup = Some((links, total_timer, run.acquire()));
    }
    // `run` is used in place: rebinding it inside would store it twice in the future, which
    // lives as long as the request is queued.
    async move {
        let Some((links, total_timer, first)) = setup else {
            return Err(run.error(ErrorKind::Closed));
        };
        let result = attempts(&mut run, first).await;
        drop((links, total_timer));
        result
    }
}

async fn attempts(run: &mut Run, first: Acquire) -> Result<Answer, Error> {
    let client = run.client.clone();
    let policy = run.opts.retry.clone().unwrap_or_else(|| client.config.retry.clone());
    let timeout_ms = run.opts.timeout_ms.or(client.config.timeout_ms);
    let signal = run.controller.signal();
    let mut next = Some(first);
    loop {
        let acquire = next.take().unwrap_or_else(|| run.acquire());
        let permit = run.permit(acquire).await?;
        run.attempts += 1;
        if run.attempts == 1 {
            bump(&client.counters.started, 1);
            run.emit(EventType::Start, |_| {});
        } else {
            bump(&client.counters.retried, 1);
        }
        let (outcome, wait, failure) =
            match send_once(&client.config.transport, &run.req.template, &signal, timeout_ms).await {
                Attempt::Aborted => return Err(run.abort_error()),
                Attempt::Answered(response) => {
                    let status = response.status();
                    run.status = Some(status);
                    if (200..300).contains(&status) || status == 304 {
                        bump(&client.counters.bytes, content_length(&response));
                        return Ok(Answer { response, attempts: run.attempts, source: "network" });
                    }
                    let wait = server_wait_ms(&response);
                    if let Some(w) = wait.filter(|w| *w > policy.max_retry_after_ms) {
                        if status == 429 || status == 503 {
                            bump(&client.counters.rate_limited, 1);
                            run.emit(EventType::RateLimited, |e| e.delay_ms = Some(w));
                        }
                    } else if let Some(w) = wait.filter(|_| pauses_host(status, wait)) {
                        // The whole host waits in the queue; the others do not each
                        // discover the limit on their own.
                        client.gate.pause_host(run.req.host, now_ms() + w);
                        bump(&client.counters.rate_limited, 1);
                        run.emit(EventType::RateLimited, |e| e.delay_ms = Some(w));
                    }
                    (AttemptOutcome::Status(status), wait, Failure::Response(response))
                }
                Attempt::Failed(outcome, cause) => (outcome, None, Failure::Cause(cause)),
            };
        let decision = policy.decide(
            &run.req.method,
            run.req.has_idempotency_key,
            outcome,
            run.attempts,
            wait,
            random(),
        );
        match decision {
            RetryDecision::GiveUp => {
                let result = give_up(run, outcome, failure);
                settle_permit(permit, result.is_err());
                return result;
            }
            RetryDecision::TooLong(_) => {
                let mut e = run.error(ErrorKind::RateLimit);
                if let Failure::Response(r) = failure {
                    e.response = Some(r);
                }
                settle_permit(permit, true);
                return Err(e);
            }
            RetryDecision::RetryAfter(delay) => {
                drop(permit);
                run.emit(EventType::Retry, |e| {
                    e.delay_ms = Some(delay);
                    e.reason = Some(match outcome {
                        AttemptOutcome::Status(_) => "status",
                        AttemptOutcome::Network => "network",
                        AttemptOutcome::Timeout => "timeout",
                    });
                });
                // A paused host already holds the request back in the queue.
                let paused = matches!(outcome, AttemptOutcome::Status(s) if pauses_host(s, wait));
                if !paused {
                    run.pause(delay).await?;
                }
            }
        }
    }
}

/// Returns the permit of a request that is done. After a failure the next start waits one
/// executor turn: whoever waits on this request (an `all` group that must abort its
/// siblings) hears of the failure first, so a queued sibling cannot slip out to the server.
/// Otherwise the next queued work starts at once.
fn settle_permit(permit: Permit, failed: bool) {
    if failed {
        permit.release_later();
    } else {
        drop(permit);
    }
}

/// What a failed attempt left behind.
enum Failure {
    Response(Response),
    Cause(JsValue),
}

fn give_up(run: &mut Run, outcome: AttemptOutcome, failure: Failure) -> Result<Answer, Error> {
    match failure {
        Failure::Response(response) => {
            if !run.client.config.throw_http_errors {
                bump(&run.client.counters.bytes, content_length(&response));
                return Ok(Answer { response, attempts: run.attempts, source: "network" });
            }
            let mut e = run.error(ErrorKind::Http);
            e.response = Some(response);
            Err(e)
        }
        Failure::Cause(cause) => {
            let kind = match outcome {
                AttemptOutcome::Timeout => ErrorKind::Timeout,
                _ => ErrorKind::Network,
            };
            Err(run.error(kind).with_cause(cause))
        }
    }
}
