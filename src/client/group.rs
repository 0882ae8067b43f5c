//! Groups: `all` (fail fast, abort the siblings) and `allSettled` (every outcome, with
//! progress).

use crate::prelude::*;

use alloc::rc::Rc;
use core::future::Future;
use core::pin::Pin;

use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use wasm_bindgen::JsValue;

use super::error::Error;
use super::options::{BodyAs, RequestOptions};
use super::pipeline;
use super::request::prepare;
use super::Inner;
use crate::web::abort::AbortHub;

/// Options for `all` and `allSettled`.
#[derive(Clone, Copy, Debug)]
pub struct GroupOptions {
    /// How each body is decoded. Default [`BodyAs::Json`].
    pub body_as: BodyAs,
    /// `all` only: abort the siblings still queued or in flight when one fails. Default true.
    pub abort_on_failure: bool,
}

impl Default for GroupOptions {
    fn default() -> Self {
        GroupOptions { body_as: BodyAs::Json, abort_on_failure: true }
    }
}

/// Where an `allSettled` group stands, after each member settles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Members settled so far.
    pub done: usize,
    /// Members in the group.
    pub total: usize,
    /// Members that failed so far.
    pub failed: usize,
}

type Member = Pin<Box<dyn Future<Output = (usize, Result<JsValue, Error>)>>>;

/// One owned future per request, so that the rest of a group can outlive the call that
/// started it (`abortOnFailure: false`).
fn members(
    inner: &Rc<Inner>,
    requests: Vec<(web_sys::Request, RequestOptions)>,
    body_as: BodyAs,
    group: &Rc<AbortHub>,
) -> FuturesUnordered<Member> {
    requests
        .into_iter()
        .enumerate()
        .map(|(i, (request, options))| -> Member {
            // Prepared before the first poll, so that queue order is input order.
            let prepared = prepare(inner, &request);
            Box::pin(pipeline::start_or_fail(inner, prepared, options, body_as, Some(group.clone())).map(move |r| (i, r)))
        })
        .collect()
}

pub(crate) fn all(
    inner: &Rc<Inner>,
    requests: Vec<(web_sys::Request, RequestOptions)>,
    options: GroupOptions,
) -> impl Future<Output = Result<Vec<JsValue>, Error>> {
    let group = AbortHub::new();
    let mut results: Vec<Option<JsValue>> = vec![None; requests.len()];
    let mut pending = members(inner, requests, options.body_as, &group);
    async move {
    while let Some((i, result)) = pending.next().await {
        match result {
            Ok(value) => results[i] = Some(value),
            Err(e) => {
                if options.abort_on_failure {
                    // Aborting first lets every sibling see the abort before it is dropped.
                    group.fire(js_sys::Error::new("fetchlane: a sibling in `all` failed").into());
                } else {
                    // The siblings keep going in the background; nobody reads their results.
                    wasm_bindgen_futures::spawn_local(async move {
                        while pending.next().await.is_some() {}
                    });
                }
                return Err(e);
            }
        }
    }
    Ok(results.into_iter().map(|v| v.unwrap_or(JsValue::UNDEFINED)).collect())
    }
}

pub(crate) fn all_settled(
    inner: &Rc<Inner>,
    requests: Vec<(web_sys::Request, RequestOptions)>,
    options: GroupOptions,
    on_progress: Option<Box<dyn Fn(Progress)>>,
) -> impl Future<Output = Vec<Result<JsValue, Error>>> {
    // Never fired; members join it only so that both groups share one code path.
    let group = AbortHub::new();
    let total = requests.len();
    let mut pending = members(inner, requests, options.body_as, &group);
    async move {
    let mut results: Vec<Option<Result<JsValue, Error>>> = (0..total).map(|_| None).collect();
    let (mut done, mut failed) = (0, 0);
    while let Some((i, result)) = pending.next().await {
        done += 1;
        if result.is_err() {
            failed += 1;
        }
        results[i] = Some(result);
        if let Some(report) = &on_progress {
            report(Progress { done, total, failed });
        }
    }
    drop(group);
    results.into_iter().flatten().collect()
    }
}
