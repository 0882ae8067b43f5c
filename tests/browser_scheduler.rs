//! The Rust API's scheduler, in a real browser against the local API server, asserting on
//! what the server saw. Run by scripts/test.mjs in headless Chromium and Firefox.
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::*;
use fetchlane::{Config, ErrorKind, GroupOptions, Lane, RequestOptions, RetryPolicy, ScheduleOptions};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn requests(client: &fetchlane::Client, urls: &[String]) -> Vec<(web_sys::Request, RequestOptions)> {
    urls.iter().map(|u| (get(client, u), RequestOptions::default())).collect()
}

#[wasm_bindgen_test]
async fn the_servers_peak_never_exceeds_concurrency() {
    let run = run_id("peak");
    let c = client(Config { concurrency: 3, ..Config::default() });
    let urls: Vec<String> = (0..15).map(|i| url(&path("/status/200", &run, if i % 2 == 0 { "latency=40" } else { "latency=70" }))).collect();
    let out = c.all(requests(&c, &urls), GroupOptions::default()).await.expect("all succeed");
    assert_eq!(out.len(), 15);
    let seen = seen(&run).await;
    assert_eq!(seen.num("total"), 15.0);
    assert_eq!(seen.num("peak"), 3.0, "the limit is reached and never passed");
}

#[wasm_bindgen_test]
async fn per_host_limits_hold_for_two_hosts() {
    let run = run_id("hosts");
    let c = client(Config { concurrency: 10, per_host: 2, ..Config::default() });
    let mut urls = Vec::new();
    for _ in 0..6 {
        urls.push(url(&path("/status/200", &run, "latency=80")));
        urls.push(url_localhost(&path("/status/200", &run, "latency=80")));
    }
    c.all(requests(&c, &urls), GroupOptions::default()).await.expect("all succeed");
    let seen = seen(&run).await;
    let mut a = String::from("127.0.0.1:");
    a.push_str(PORT);
    let mut b = String::from("localhost:");
    b.push_str(PORT);
    assert_eq!(seen.peak_for_host(&a), 2.0);
    assert_eq!(seen.peak_for_host(&b), 2.0);
    assert_eq!(seen.num("peak"), 4.0, "a full host never holds up the other");
}

#[wasm_bindgen_test]
async fn a_request_aborted_while_queued_never_reaches_the_server() {
    let run = run_id("abortq");
    let c = client(Config { concurrency: 1, ..Config::default() });
    let first = c.json(&get(&c, &url(&path("/status/200", &run, "latency=300"))), RequestOptions::default());
    let controller = web_sys::AbortController::new().unwrap();
    let second = c.fetch(
        &get(&c, &url(&path("/echo", &run, ""))),
        RequestOptions { signal: Some(controller.signal()), ..RequestOptions::default() },
    );
    let abort_later = async {
        sleep(50).await;
        assert_eq!(c.pending_count(), 1);
        controller.abort_with_reason(&JsValue::from_str("why"));
    };
    let (r1, r2, ()) = futures_join(first, second, abort_later).await;
    assert!(r1.is_ok());
    let err = r2.expect_err("aborted");
    assert_eq!(err.kind, ErrorKind::Abort);
    assert_eq!(err.attempts, 0);
    assert_eq!(err.cause.and_then(|c| c.as_string()).as_deref(), Some("why"), "a non-Error reason is kept, not a panic");
    assert_eq!(seen(&run).await.hits("/echo"), 0.0);
}

#[wasm_bindgen_test]
async fn all_fails_fast_and_aborts_its_siblings() {
    let run = run_id("allabort");
    let c = client(Config { concurrency: 2, retry: RetryPolicy::none(), ..Config::default() });
    let mut urls = vec![url(&path("/status/500", &run, "latency=50")), url(&path("/status/200", &run, "latency=3000"))];
    for _ in 0..5 {
        urls.push(url(&path("/echo", &run, "")));
    }
    let t0 = now();
    let err = c.all(requests(&c, &urls), GroupOptions::default()).await.expect_err("fails");
    assert!(now() - t0 < 2000.0, "rejects before the slow sibling would finish");
    assert_eq!(err.kind, ErrorKind::Http);
    assert_eq!(err.status, Some(500));
    sleep(100).await;
    assert_eq!(c.active_count() + c.pending_count(), 0, "siblings aborted, nothing left");
    assert_eq!(seen(&run).await.hits("/echo"), 0.0, "queued siblings never reached the server");
}

#[wasm_bindgen_test]
async fn all_settled_reports_every_outcome_in_order_with_progress() {
    let run = run_id("settled");
    let c = client(Config { retry: RetryPolicy::none(), ..Config::default() });
    let urls = vec![
        url(&path("/status/200", &run, "latency=120")),
        url(&path("/status/404", &run, "")),
        url(&path("/status/201", &run, "latency=10")),
    ];
    let progress = Rc::new(RefCell::new(Vec::new()));
    let sink = progress.clone();
    let out = c
        .all_settled(requests(&c, &urls), GroupOptions::default(), Some(Box::new(move |p| sink.borrow_mut().push(p))))
        .await;
    assert_eq!(out.len(), 3);
    assert!(out[0].is_ok() && out[2].is_ok());
    assert_eq!(out[1].as_ref().unwrap_err().status, Some(404));
    let p = progress.borrow();
    assert_eq!(p.iter().map(|p| p.done).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(p.last().unwrap().failed, 1);
}

#[wasm_bindgen_test]
async fn lanes_start_critical_first() {
    let run = run_id("lanes");
    let c = client(Config { concurrency: 1, ..Config::default() });
    let opts = |lane| RequestOptions { lane, ..RequestOptions::default() };
    let a = c.json(&get(&c, &url(&path("/status/200", &run, "latency=150"))), opts(Lane::Normal));
    let bg = c.json(&get(&c, &url(&path("/items?ids=bg", &run, ""))), opts(Lane::Background));
    let normal = c.json(&get(&c, &url(&path("/items?ids=normal", &run, ""))), opts(Lane::Normal));
    let crit = c.json(&get(&c, &url(&path("/items?ids=crit", &run, ""))), opts(Lane::Critical));
    // All four are polled together: a started request must be driven to release its slot.
    let ((ra, rb), (rn, rc)) = futures_join2(futures_join2(a, bg), futures_join2(normal, crit)).await;
    assert!(ra.is_ok() && rb.is_ok() && rn.is_ok() && rc.is_ok());
    let seen = seen(&run).await;
    let order: Vec<String> = seen
        .arrivals()
        .iter()
        .filter_map(|a| js_sys::Reflect::get(a, &"query".into()).ok()?.as_string())
        .filter(|q| q.contains("ids="))
        .collect();
    assert!(order[0].contains("crit") && order[1].contains("normal") && order[2].contains("bg"), "{order:?}");
}

#[wasm_bindgen_test]
async fn raising_concurrency_starts_queued_work_at_once() {
    let run = run_id("resize");
    let c = client(Config { concurrency: 1, ..Config::default() });
    let urls: Vec<String> = (0..6).map(|_| url(&path("/status/200", &run, "latency=200"))).collect();
    let all = c.all(requests(&c, &urls), GroupOptions::default());
    let resize = async {
        sleep(50).await;
        c.set_concurrency(3).unwrap();
        assert_eq!(c.active_count(), 3);
        assert!(c.set_concurrency(0).is_err());
    };
    let (r, ()) = futures_join2(all, resize).await;
    assert!(r.is_ok());
    assert_eq!(seen(&run).await.num("peak"), 3.0);
}

#[wasm_bindgen_test]
async fn schedule_shares_slots_and_passes_results_through() {
    let run = run_id("sched");
    let c = client(Config { concurrency: 1, ..Config::default() });
    let task = c.schedule(ScheduleOptions::default(), |_signal| async {
        sleep(200).await;
        Err::<u32, &str>("the task's own error")
    });
    let request = c.json(&get(&c, &url(&path("/status/200", &run, ""))), RequestOptions::default());
    let t0 = now();
    let (t, r) = futures_join2(task, request).await;
    assert_eq!(t.expect("scheduled"), Err("the task's own error"), "passed through untouched");
    assert!(r.is_ok());
    assert!(now() - t0 >= 190.0, "the request waited for the task's slot");
}

#[wasm_bindgen_test]
async fn clear_queue_and_close_reject_with_their_kinds() {
    let run = run_id("close");
    let c = client(Config { concurrency: 1, ..Config::default() });
    let running = c.json(&get(&c, &url(&path("/status/200", &run, "latency=1000"))), RequestOptions::default());
    let queued = c.json(&get(&c, &url(&path("/echo", &run, ""))), RequestOptions::default());
    assert_eq!(c.pending_count(), 1);
    c.clear_queue();
    assert_eq!(c.pending_count(), 0);
    let after_clear = queued.await.expect_err("cleared");
    assert_eq!(after_clear.kind, ErrorKind::Abort);
    let closer = async {
        sleep(50).await;
        c.close();
    };
    let (r, ()) = futures_join2(running, closer).await;
    assert_eq!(r.expect_err("closed").kind, ErrorKind::Closed);
    let later = c.json(&get(&c, &url("/echo")), RequestOptions::default()).await.expect_err("closed");
    assert_eq!(later.kind, ErrorKind::Closed);
    assert_eq!(seen(&run).await.hits("/echo"), 0.0);
    c.on_idle().await;
}

#[wasm_bindgen_test]
async fn on_idle_waits_for_answers_being_decoded() {
    let run = run_id("idle-decode");
    let c = client(Config::default());
    let settled = Rc::new(RefCell::new(0));
    for i in 0..2 {
        let answer = c.json(&get(&c, &url(&path("/echo", &run, &format!("i={i}")))), RequestOptions::default());
        let count = settled.clone();
        wasm_bindgen_futures::spawn_local(async move {
            answer.await.expect("json");
            *count.borrow_mut() += 1;
        });
    }
    // The slots are free once the bodies are read; decoding them comes after.
    c.on_idle().await;
    sleep(0).await;
    assert_eq!(*settled.borrow(), 2, "both calls had settled when on_idle resolved");
    assert_eq!(c.stats().succeeded, 2);
}
