//! The Rust API's timings and latency percentiles, in a real browser against the local API
//! server. Run by scripts/test.mjs in headless Chromium and Firefox.
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::*;
use fetchlane::core::backoff::Backoff;
use fetchlane::{CacheConfig, Config, Event, EventType, RequestOptions, RetryPolicy, Timing};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The `settled` events of `c`, as (url, source, timing).
fn settled(c: &fetchlane::Client) -> Rc<RefCell<Vec<(String, Option<&'static str>, Timing)>>> {
    let out = Rc::new(RefCell::new(Vec::new()));
    let sink = out.clone();
    c.on(
        Some(EventType::Settled),
        Rc::new(move |e: &Event| sink.borrow_mut().push((e.url.to_string(), e.source, e.timing.expect("settled events carry timing")))),
    );
    out
}

#[wasm_bindgen_test]
async fn settled_timings_split_queue_and_network_and_a_memory_hit_has_none() {
    let run = run_id("rs-timing");
    let c = client(Config { concurrency: 1, cache: Some(CacheConfig::default()), ..Config::default() });
    let events = settled(&c);
    let slow = url(&path("/status/200", &run, "latency=150"));
    let held = url(&path("/cache/t", &run, "maxAge=600"));
    let (a, b) = futures_join2(json(&c, &slow, RequestOptions::default()), json(&c, &held, RequestOptions::default())).await;
    a.expect("slow");
    b.expect("held");
    json(&c, &held, RequestOptions::default()).await.expect("memory hit");
    let events = events.borrow().clone();
    let of = |part: &str, source: &str| events.iter().find(|(u, s, _)| u.contains(part) && *s == Some(source)).map(|e| e.2).expect(part);
    let waited = of("/cache/t", "network");
    assert!(waited.queued_ms.unwrap() >= 140.0, "held behind the slow one: {waited:?}");
    assert!(waited.network_ms.unwrap() > 0.0 && waited.retry_wait_ms == Some(0.0), "{waited:?}");
    assert!(waited.bytes.unwrap() > 0.0, "{waited:?}");
    assert_eq!(of("/cache/t", "memory"), Timing::default(), "a memory hit has no network fields");
    let first = of("/status/200", "network");
    assert!(first.network_ms.unwrap() >= 150.0 && first.queued_ms.unwrap() < 20.0, "{first:?}");

    let s = c.stats();
    assert_eq!(s.latency.count, 2, "two network answers, the memory hit aside");
    assert_eq!(s.queue_wait.count, 2);
    assert!(s.queue_wait.p99.unwrap() >= 140.0, "{:?}", s.queue_wait);
    assert!(s.latency.p50.unwrap() >= 140.0 && s.latency.p50 <= s.latency.p99, "{:?}", s.latency);
    assert_eq!(s.succeeded, 3, "the counters are still there");
    let host = s.hosts.iter().find(|h| h.host.ends_with(PORT)).expect("the server's host");
    assert_eq!((host.latency, host.queue_wait), (s.latency, s.queue_wait));
}

#[wasm_bindgen_test]
async fn a_304_answer_reports_the_timing_of_the_request_that_revalidated() {
    let run = run_id("rs-timing-304");
    let c = client(Config { concurrency: 1, cache: Some(CacheConfig::default()), ..Config::default() });
    let events = settled(&c);
    let stale = url(&path("/cache/v", &run, "maxAge=0&etag=1"));
    json(&c, &stale, RequestOptions::default()).await.expect("stored");
    // The revalidation waits behind a slow request: its timing is its own, not the first one's.
    let slow = url(&path("/status/200", &run, "latency=150"));
    let (a, b) = futures_join2(json(&c, &slow, RequestOptions::default()), json(&c, &stale, RequestOptions::default())).await;
    a.expect("slow");
    b.expect("revalidated");
    assert_eq!(seen(&run).await.statuses(), vec![200, 200, 304]);
    let events = events.borrow().clone();
    let answers: Vec<Timing> = events.iter().filter(|(u, _, _)| u.contains("/cache/v")).map(|e| e.2).collect();
    assert_eq!(answers.len(), 2);
    let t = answers[1];
    assert!(t.queued_ms.unwrap() >= 140.0, "queued behind the slow one: {t:?}");
    assert!(t.network_ms.unwrap() > 0.0 && t.network_ms.unwrap() < 140.0, "{t:?}");
}

#[wasm_bindgen_test]
async fn a_retried_request_reports_its_retry_wait() {
    let run = run_id("rs-retry-wait");
    let retry = RetryPolicy { limit: 2, backoff: Backoff { base_ms: 80.0, jitter: false, ..Backoff::default() }, ..RetryPolicy::default() };
    let c = client(Config { retry, ..Config::default() });
    let events = settled(&c);
    json(&c, &url(&path("/flaky/rw", &run, "fails=1")), RequestOptions::default()).await.expect("second attempt");
    let (u, _, t) = events.borrow()[0].clone();
    assert!(u.contains("/flaky/rw"), "a decoded answer's event names its call: {u}");
    assert!(t.retry_wait_ms.unwrap() >= 75.0, "{t:?}");
    assert!(t.network_ms.unwrap() > 0.0 && t.queued_ms.unwrap() < 20.0, "{t:?}");
}
