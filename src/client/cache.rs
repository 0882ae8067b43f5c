//! The cache stage: strategies over the memory and Cache API stores, with HTTP semantics
//! (freshness, `Vary`, revalidation with a 304, `no-store`, `private`, `stale-if-error`).
//!
//! It decides whether a stored entry answers, and otherwise asks the network stage, stores
//! what may be stored and answers with a fresh copy. It never fails because a store did:
//! a Cache API error becomes a `cache-error` event and the network answers.

use crate::prelude::*;

use alloc::rc::Rc;

use wasm_bindgen::JsValue;
use web_sys::RequestCredentials;

use super::body::{header_pairs, Buffered};
use super::config::Strategy;
use super::error::{Error, ErrorKind};
use super::events::EventType;
use super::network::{self, Answer, Prepared};
use super::options::RequestOptions;
use super::stats::bump;
use super::store::{persist, persisted, Entry};
use super::Inner;
use crate::core::cache::{conditional_header, freshness, merge_304, storable, Freshness, ResponseMeta, StoreRules};
use crate::web::clock::wall_ms;

/// Whether this request goes through the cache stage at all.
pub(crate) fn applies(inner: &Inner, req: &Prepared, opts: &RequestOptions) -> bool {
    let Some(cache) = &inner.config.cache else {
        return false;
    };
    let strategy = opts.strategy.unwrap_or(cache.strategy);
    &*req.method == "GET" && !matches!(strategy, Strategy::NetworkOnly | Strategy::Bypass)
}

/// Everything one cached call carries around.
struct Call {
    inner: Rc<Inner>,
    req: Prepared,
    opts: RequestOptions,
    id: u64,
    url_key: String,
    request_headers: Vec<(String, String)>,
    ttl_ms: Option<f64>,
}

pub(crate) async fn run(
    inner: Rc<Inner>,
    req: Prepared,
    opts: RequestOptions,
    id: u64,
) -> Result<Answer, Error> {
    let Some(cache) = inner.config.cache.clone() else {
        return network::run(inner, req, opts, id).await;
    };
    let strategy = opts.strategy.unwrap_or(cache.strategy);
    // `init.key` replaces the URL as the entry's identity (requests that differ only in, say,
    // a cache-busting parameter can share one entry).
    let mut url_key = cache.namespace.clone();
    match &opts.key {
        Some(k) => {
            url_key.push_str(" key:");
            url_key.push_str(k);
        }
        None => {
            url_key.push(' ');
            url_key.push_str(&req.url);
        }
    }
    let call = Call {
        request_headers: header_pairs(&req.template.headers()),
        ttl_ms: opts.ttl_ms.or(cache.ttl_ms),
        inner,
        req,
        opts,
        id,
        url_key,
    };
    let found = call.lookup().await;
    let state = found.as_ref().map(|(e, _)| freshness(&e.response.headers, e.response_time_ms, call.ttl_ms, wall_ms()));
    let counters = &call.inner.counters;
    match strategy {
        Strategy::CacheOnly => match found {
            Some((entry, source)) => Ok(call.serve(&entry, source)),
            None => {
                bump(&counters.cache_misses, 1);
                Err(Error::new(ErrorKind::Cache, &call.req.url))
            }
        },
        Strategy::StaleWhileRevalidate => match found {
            Some((entry, source)) => {
                let answer = call.serve(&entry, source);
                if state != Some(Freshness::Fresh) {
                    call.refresh_in_background(entry);
                }
                Ok(answer)
            }
            None => {
                bump(&counters.cache_misses, 1);
                call.fetch(None).await
            }
        },
        Strategy::NetworkFirst => match call.fetch(found.as_ref().map(|(e, _)| e.clone())).await {
            Err(e) if falls_back(&e) => match &found {
                Some((entry, source)) => Ok(call.serve(entry, source)),
                None => Err(e),
            },
            other => other,
        },
        // Cache-first (and the client default).
        _ => {
            if let (Some((entry, source)), Some(Freshness::Fresh)) = (&found, state) {
                return Ok(call.serve(entry, source));
            }
            bump(&counters.cache_misses, 1);
            let stored = found.as_ref().map(|(e, _)| e.clone());
            match call.fetch(stored).await {
                Err(e) if falls_back(&e) && matches!(state, Some(Freshness::Stale { within_sie: true, .. })) => {
                    match &found {
                        Some((entry, source)) => Ok(call.serve(entry, source)),
                        None => Err(e),
                    }
                }
                other => other,
            }
        }
    }
}

/// Failures a stored entry may stand in for: the network is down, slow, or the server broke.
fn falls_back(e: &Error) -> bool {
    match e.kind {
        ErrorKind::Network | ErrorKind::Timeout => true,
        ErrorKind::Http => e.status.is_some_and(|s| s >= 500),
        _ => false,
    }
}

impl Call {
    /// A store failed: the request goes on without it, and listeners hear of it.
    fn cache_error(&self, cause: JsValue) {
        if !self.inner.emitter.is_empty() {
            let mut event = self.event(EventType::CacheError, None);
            event.cause = Some(cause);
            self.inner.emitter.emit(&event);
        }
    }

    fn event(&self, kind: EventType, source: Option<&'static str>) -> super::events::Event {
        super::events::Event {
            kind,
            id: self.id,
            url: self.req.url.clone(),
            method: self.req.method.clone(),
            lane: self.opts.lane,
            time_ms: crate::web::clock::now_ms(),
            attempt: 0,
            delay_ms: None,
            reason: None,
            status: None,
            error: None,
            source,
            duration_ms: None,
            cause: None,
        }
    }

    /// Memory first, then the Cache API (whose hit is copied into memory).
    async fn lookup(&self) -> Option<(Entry, &'static str)> {
        if let Some(memory) = &self.inner.memory {
            if let Some(e) = memory.borrow_mut().get(&self.url_key, &self.request_headers) {
                return Some((e, "memory"));
            }
        }
        let persistent = self.inner.persistent.as_ref()?;
        match persisted(persistent, &self.req.template, &self.req.url).await {
            Ok(Some(entry)) => {
                if let Some(memory) = &self.inner.memory {
                    memory.borrow_mut().put(&self.url_key, &self.request_headers, entry.clone());
                }
                Some((entry, "persistent"))
            }
            Ok(None) => None,
            Err(cause) => {
                self.cache_error(cause);
                None
            }
        }
    }

    fn serve(&self, entry: &Entry, source: &'static str) -> Answer {
        let counters = &self.inner.counters;
        bump(if source == "memory" { &counters.memory_hits } else { &counters.persistent_hits }, 1);
        if !self.inner.emitter.is_empty() {
            self.inner.emitter.emit(&self.event(EventType::CacheHit, Some(source)));
        }
        Answer { response: entry.response.to_response(None), attempts: 0, source }
    }

    async fn store(&self, entry: &Entry) {
        if let Some(memory) = &self.inner.memory {
            memory.borrow_mut().put(&self.url_key, &self.request_headers, entry.clone());
        }
        if let Some(persistent) = &self.inner.persistent {
            if let Err(cause) = persist(persistent, &self.req.template, entry).await {
                self.cache_error(cause);
            }
        }
    }

    /// Goes to the network, revalidating `stored` when it has a validator, and stores what
    /// may be stored.
    async fn fetch(&self, stored: Option<Entry>) -> Result<Answer, Error> {
        let validator = stored.as_ref().and_then(|e| conditional_header(&e.response.headers));
        let req = match &validator {
            Some((name, value)) => self.with_header(name, value)?,
            None => self.req.clone(),
        };
        let answer = network::run(self.inner.clone(), req, self.opts.clone(), self.id).await?;
        let response = &answer.response;
        let status = response.status();
        if let (304, Some(mut entry), Some(_)) = (status, stored, validator) {
            merge_304(&mut entry.response.headers, &header_pairs(&response.headers()));
            entry.response_time_ms = wall_ms();
            self.store(&entry).await;
            return Ok(Answer { response: entry.response.to_response(None), ..answer });
        }
        let headers = header_pairs(&response.headers());
        let meta = ResponseMeta {
            status,
            headers: &headers,
            request_method: &self.req.method,
            request_headers: &self.request_headers,
            request_credentials_include: self.req.template.credentials() == RequestCredentials::Include,
        };
        let allow_private = self.inner.config.cache.as_ref().is_some_and(|c| c.allow_private);
        if storable(&meta, &StoreRules { allow_private }).is_err() {
            return Ok(answer);
        }
        let buffered = Buffered::read(response, &self.req.url).await.map_err(|e| e.with_attempts(answer.attempts))?;
        let entry = Entry { url: self.req.url.clone(), response: buffered, response_time_ms: wall_ms() };
        self.store(&entry).await;
        Ok(Answer { response: entry.response.to_response(None), ..answer })
    }

    /// A copy of the request with one more header (the conditional one).
    fn with_header(&self, name: &str, value: &str) -> Result<Prepared, Error> {
        let template = self
            .req
            .template
            .clone()
            .map_err(|cause| Error::new(ErrorKind::Network, &self.req.url).with_cause(cause))?;
        let _ = template.headers().set(name, value);
        Ok(Prepared { template, ..self.req.clone() })
    }

    /// Stale-while-revalidate's refresh: runs on its own, tells `cache-update` listeners when
    /// the entry changed, and keeps its failures to itself (the caller already has an answer).
    fn refresh_in_background(self, entry: Entry) {
        wasm_bindgen_futures::spawn_local(async move {
            let refresh = Call { opts: RequestOptions { signal: None, ..self.opts.clone() }, ..self };
            if refresh.fetch(Some(entry)).await.is_ok() && !refresh.inner.emitter.is_empty() {
                refresh.inner.emitter.emit(&refresh.event(EventType::CacheUpdate, Some("network")));
            }
        });
    }
}
