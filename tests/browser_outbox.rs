//! The Rust API's outbox (the npm package's js/outbox.js, loaded as a snippet) against the
//! real IndexedDB and the local API server, which records every idempotency key it collects.
//! Run by scripts/test.mjs in headless Chromium and Firefox.
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::*;
use fetchlane::{Config, Event, EventType, OutboxBatch, OutboxConfig};
use js_sys::Reflect;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A POST of `body` to `path` (JSON).
fn post(path: &str, body: &str) -> web_sys::Request {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    let r = web_sys::Request::new_with_str_and_init(&url(path), &init).unwrap();
    r.headers().set("content-type", "application/json").unwrap();
    r
}

/// The keys the server collected in `bin` for `run`, once `n` came (or 5 s passed).
async fn collected(run: &str, bin: &str, n: usize) -> Vec<String> {
    for _ in 0..100 {
        let s = seen(run).await.stats;
        let keys = Reflect::get(&s, &"collected".into())
            .and_then(|c| Reflect::get(&c, &bin.into()))
            .and_then(|b| Reflect::get(&b, &"keys".into()))
            .ok()
            .filter(|k| k.is_object())
            .map(|k| js_sys::Array::from(&k).iter().filter_map(|v| v.as_string()).collect::<Vec<_>>())
            .unwrap_or_default();
        if keys.len() >= n {
            return keys;
        }
        sleep(50).await;
    }
    Vec::new()
}

#[wasm_bindgen_test]
async fn the_outbox_stores_and_delivers_oldest_first_each_key_once() {
    let run = run_id("rs-outbox");
    let c = client(Config::default());
    let events = Rc::new(RefCell::new(Vec::new()));
    let sink = events.clone();
    c.on(None, Rc::new(move |e: &Event| sink.borrow_mut().push((e.kind, e.idempotency_key.as_deref().map(String::from), e.status))));
    let name = format!("rs-{run}");
    let outbox = c.outbox(&name, OutboxConfig::default()).expect("an outbox");
    assert!(Rc::ptr_eq(&outbox, &c.outbox(&name, OutboxConfig::default()).unwrap()), "one per name");
    let path = path("/collect/r", &run, "");
    let mut keys = Vec::new();
    for i in 0..3 {
        keys.push(outbox.send(&post(&path, &format!("{{\"i\":{i}}}"))).await.expect("stored").idempotency_key);
    }
    assert_eq!(collected(&run, "r", 3).await, keys, "in send order, each once");
    let report = outbox.flush().await.unwrap();
    assert_eq!(report.remaining, 0);
    assert_eq!(outbox.size().await.unwrap(), 0);
    let sent: Vec<_> = events.borrow().iter().filter(|e| e.0 == EventType::OutboxSent).map(|e| (e.1.clone().unwrap(), e.2)).collect();
    assert_eq!(sent, keys.iter().map(|k| (k.clone(), Some(200))).collect::<Vec<_>>());
    c.close();
}

#[wasm_bindgen_test]
async fn a_batch_goes_as_one_json_array_with_one_key_per_item() {
    let run = run_id("rs-outbox-batch");
    let c = client(Config::default());
    let batch = OutboxBatch { max_items: 2, max_bytes: None, max_wait_ms: 2000.0 };
    let outbox = c.outbox(&format!("rs-{run}"), OutboxConfig { batch: Some(batch), ..OutboxConfig::default() }).unwrap();
    let path = path("/collect/b", &run, "");
    let a = outbox.send(&post(&path, "{\"a\":1}")).await.unwrap().idempotency_key;
    let b = outbox.send(&post(&path, "{\"b\":2}")).await.unwrap().idempotency_key;
    assert_eq!(collected(&run, "b", 2).await, vec![a, b], "both keys, from one request");
    let s = seen(&run).await.stats;
    let requests = Reflect::get(&Reflect::get(&Reflect::get(&s, &"collected".into()).unwrap(), &"b".into()).unwrap(), &"requests".into()).unwrap();
    assert_eq!(js_sys::Array::from(&requests).length(), 1, "one request for the two");
    c.close();
}

#[wasm_bindgen_test]
async fn a_final_4xx_drops_the_item_and_bad_options_are_refused() {
    let run = run_id("rs-outbox-4xx");
    let c = client(Config::default());
    let drops = Rc::new(RefCell::new(Vec::new()));
    let sink = drops.clone();
    c.on(Some(EventType::OutboxDrop), Rc::new(move |e: &Event| sink.borrow_mut().push((e.reason, e.status))));
    let mut rule = String::from("/__faults?run=");
    rule.push_str(&run);
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str("{\"path\":\"/collect/q\",\"mode\":400,\"count\":1}"));
    let req = web_sys::Request::new_with_str_and_init(&url(&rule), &init).unwrap();
    wasm_bindgen_futures::JsFuture::from(web_sys::window().unwrap().fetch_with_request(&req)).await.unwrap();
    let outbox = c.outbox(&format!("rs-{run}"), OutboxConfig::default()).unwrap();
    let path = path("/collect/q", &run, "");
    outbox.send(&post(&path, "{}")).await.unwrap();
    let second = outbox.send(&post(&path, "{}")).await.unwrap();
    assert_eq!(collected(&run, "q", 1).await, vec![second.idempotency_key]);
    assert_eq!(*drops.borrow(), vec![(Some("status"), Some(400))]);
    assert_eq!(c.outbox("", OutboxConfig::default()).unwrap_err().option, "name");
    let bad = OutboxConfig { max_age_ms: -1.0, ..OutboxConfig::default() };
    let e = c.outbox("x", bad).unwrap_err();
    assert_eq!((e.option.as_str(), e.range), ("opts.maxAgeMs", true));
    let bad = OutboxConfig { batch: Some(OutboxBatch { max_items: 0, max_bytes: None, max_wait_ms: 0.0 }), ..OutboxConfig::default() };
    assert_eq!(c.outbox("y", bad).unwrap_err().option, "opts.batch.maxItems");
    c.close();
}
