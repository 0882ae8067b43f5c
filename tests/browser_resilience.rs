//! Retries, Retry-After, rate limits, host pauses and deadlines, in a real browser against
//! the local API server, asserting on what the server saw.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use fetchlane::{Config, ErrorKind, GroupOptions, RateLimit, RequestOptions, RetryPolicy};
use fetchlane::core::backoff::Backoff;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn fast_retry(limit: u32) -> RetryPolicy {
    RetryPolicy { limit, backoff: Backoff { base_ms: 10.0, ..Backoff::default() }, ..RetryPolicy::default() }
}

fn max_in_window(times: &[f64], window: f64) -> usize {
    let mut sorted = times.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mut best = 0;
    for (i, t) in sorted.iter().enumerate() {
        let n = sorted[i..].iter().take_while(|u| **u < t + window).count();
        best = best.max(n);
    }
    best
}

#[wasm_bindgen_test]
async fn a_rate_limit_holds_in_every_window_the_server_sees() {
    let run = run_id("rate");
    // perHost stays at its default 6, the browsers' own HTTP/1.1 connection limit: above it
    // the browser queues requests itself, and their arrival times drift out of our hands.
    let c = client(Config {
        rate_limits: vec![RateLimit { limit: 10, interval_ms: 1000.0, host: None }],
        ..Config::default()
    });
    let reqs = (0..50).map(|_| (get(&c, &url(&path("/status/200", &run, ""))), RequestOptions::default())).collect();
    let t0 = now();
    c.all(reqs, GroupOptions::default()).await.expect("all succeed");
    let elapsed = now() - t0;
    let times = seen(&run).await.arrival_times("/status/200");
    assert_eq!(times.len(), 50);
    assert!(max_in_window(&times, 1000.0) <= 10, "more than 10 arrivals in one second: {times:?}");
    assert!(elapsed >= 4000.0 && elapsed < 5500.0, "50 at 10/s takes just over 4 s, took {elapsed}");
}

#[wasm_bindgen_test]
async fn a_429_storm_pauses_the_host_and_every_request_succeeds() {
    let run = run_id("storm");
    let c = client(Config::default());
    let reqs = (0..40)
        .map(|_| (get(&c, &url(&path("/storm/k", &run, "count=20&retryAfter=1"))), RequestOptions::default()))
        .collect();
    let out = c.all(reqs, GroupOptions::default()).await.expect("every request succeeds in the end");
    assert_eq!(out.len(), 40);
    let seen = seen(&run).await;
    assert_eq!(seen.statuses().iter().filter(|s| **s == 429).count(), 20);
    assert_eq!(seen.statuses().iter().filter(|s| **s == 200).count(), 40);
    let times = seen.arrival_times("/storm/k");
    let pauses = times.windows(2).filter(|w| w[1] - w[0] >= 950.0).count();
    // 20 refusals in waves of 6: the host pauses after each wave instead of every queued
    // request discovering the limit on its own.
    assert!(pauses >= 3, "the server saw the pauses: {pauses}");
    assert!(c.stats().rate_limited >= 3);
}

#[wasm_bindgen_test]
async fn a_flaky_503_recovers() {
    let run = run_id("flaky");
    let c = client(Config { retry: fast_retry(2), ..Config::default() });
    let v = json(&c, &url(&path("/flaky/a", &run, "fails=2&status=503")), RequestOptions::default()).await;
    assert!(v.is_ok());
    assert_eq!(seen(&run).await.hits("/flaky/a"), 3.0);
    assert_eq!(c.stats().retried, 2);
}

#[wasm_bindgen_test]
async fn a_400_and_a_post_are_tried_exactly_once() {
    let run = run_id("once");
    let c = client(Config { retry: fast_retry(3), ..Config::default() });
    let e = json(&c, &url(&path("/status/400", &run, "")), RequestOptions::default()).await.expect_err("400");
    assert_eq!((e.kind, e.status, e.attempts), (ErrorKind::Http, Some(400), 1));
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    let post = web_sys::Request::new_with_str_and_init(&url(&path("/flaky/p", &run, "fails=1")), &init).unwrap();
    let e = c.json(&post, RequestOptions::default()).await.expect_err("503 not retried");
    assert_eq!((e.kind, e.status, e.attempts), (ErrorKind::Http, Some(503), 1));
    let seen = seen(&run).await;
    assert_eq!(seen.hits("/status/400"), 1.0);
    assert_eq!(seen.hits("/flaky/p"), 1.0);
}

#[wasm_bindgen_test]
async fn a_post_with_an_idempotency_key_is_retried() {
    let run = run_id("idem");
    let c = client(Config { retry: fast_retry(2), ..Config::default() });
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    let headers = web_sys::Headers::new().unwrap();
    headers.set("Idempotency-Key", "abc").unwrap();
    init.set_headers(&headers);
    let post = web_sys::Request::new_with_str_and_init(&url(&path("/flaky/p", &run, "fails=1")), &init).unwrap();
    assert!(c.json(&post, RequestOptions::default()).await.is_ok());
    assert_eq!(seen(&run).await.hits("/flaky/p"), 2.0);
}

#[wasm_bindgen_test]
async fn per_attempt_timeout_retries_and_total_timeout_ends_it() {
    let run = run_id("timeouts");
    // Per attempt: 3 attempts of 150 ms each, then kind `timeout`.
    let c = client(Config { timeout_ms: Some(150.0), retry: fast_retry(2), ..Config::default() });
    let t0 = now();
    let e = json(&c, &url(&path("/hang", &run, "")), RequestOptions::default()).await.expect_err("times out");
    assert_eq!((e.kind, e.attempts), (ErrorKind::Timeout, 3));
    assert!(now() - t0 >= 450.0);
    // Total: cuts across attempts and backoff.
    let c = client(Config {
        timeout_ms: Some(150.0),
        total_timeout_ms: Some(400.0),
        retry: RetryPolicy { limit: 10, ..fast_retry(10) },
        ..Config::default()
    });
    let t0 = now();
    let e = json(&c, &url(&path("/hang", &run, "")), RequestOptions::default()).await.expect_err("total");
    let took = now() - t0;
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert!(took >= 390.0 && took < 900.0, "total timeout honoured: {took}");
    assert!(e.attempts >= 2 && e.attempts <= 4);
}

#[wasm_bindgen_test]
async fn a_wait_past_max_retry_after_rejects_at_once() {
    let run = run_id("toolong");
    let c = client(Config::default());
    let t0 = now();
    let e = json(&c, &url(&path("/status/429", &run, "retryAfter=120")), RequestOptions::default()).await.expect_err("rate-limit");
    assert_eq!((e.kind, e.status, e.attempts), (ErrorKind::RateLimit, Some(429), 1));
    assert!(now() - t0 < 1000.0);
    assert_eq!(c.stats().rate_limited, 1);
}

#[wasm_bindgen_test]
async fn an_unparseable_retry_after_falls_back_to_the_backoff() {
    let run = run_id("garbage");
    let c = client(Config { retry: fast_retry(1), ..Config::default() });
    let t0 = now();
    let e = json(&c, &url(&path("/status/503", &run, "retryAfter=soon")), RequestOptions::default()).await.expect_err("503");
    assert_eq!(e.attempts, 2);
    assert!(now() - t0 < 1000.0, "no wait from garbage");
    assert_eq!(seen(&run).await.hits("/status/503"), 2.0);
}
