//! The Rust API's de-duplication, caches (memory, revalidation, the Cache API) and decoding,
//! in a real browser against the local API server, asserting on what the server saw. Every
//! request is made with `cache: 'no-store'`, so the browser's own HTTP cache never answers.
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::*;
use fetchlane::{CacheConfig, Config, ErrorKind, EventType, PersistConfig, RequestOptions, Strategy};
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn no_store(url: &str) -> web_sys::Request {
    let init = web_sys::RequestInit::new();
    Reflect::set(&init, &"cache".into(), &"no-store".into()).unwrap();
    web_sys::Request::new_with_str_and_init(url, &init).unwrap()
}

fn served_at(v: &JsValue) -> f64 {
    Reflect::get(v, &"servedAt".into()).unwrap().as_f64().unwrap()
}

fn cached() -> Config {
    Config { cache: Some(CacheConfig::default()), ..Config::default() }
}

/// Calls `method` on `target` and awaits the promise it returns.
async fn call(target: &JsValue, method: &str, args: &[JsValue]) -> JsValue {
    let f: js_sys::Function = Reflect::get(target, &method.into()).unwrap().unchecked_into();
    let promise = f.apply(target, &args.iter().collect::<js_sys::Array>()).unwrap();
    JsFuture::from(js_sys::Promise::from(promise)).await.unwrap()
}

/// How many requests the Cache API caches whose name contains `part` hold.
async fn stored(part: &str) -> u32 {
    let caches = Reflect::get(&js_sys::global(), &"caches".into()).unwrap();
    let names = js_sys::Array::from(&call(&caches, "keys", &[]).await);
    let mut n = 0;
    for name in names.iter() {
        if name.as_string().is_some_and(|s| s.contains(part)) {
            let cache = call(&caches, "open", &[name]).await;
            n += js_sys::Array::from(&call(&cache, "keys", &[]).await).length();
        }
    }
    n
}

#[wasm_bindgen_test]
async fn identical_requests_in_flight_share_one_and_each_caller_reads_its_own_body() {
    let run = run_id("rs-dedupe");
    let c = client(Config::default());
    let req = no_store(&url(&path("/status/200", &run, "latency=150")));
    let (a, b, r) = futures_join(
        c.text(&req, RequestOptions::default()),
        c.text(&req, RequestOptions::default()),
        c.fetch(&req, RequestOptions::default()),
    )
    .await;
    let (a, b, r) = (a.expect("a"), b.expect("b"), r.expect("response"));
    let body = JsFuture::from(r.text().unwrap()).await.unwrap().as_string().unwrap();
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert_eq!(a, body, "the Response caller reads the same body");
    assert_eq!(seen(&run).await.hits("/status/200"), 1.0);
    assert_eq!(c.stats().deduped, 2);
}

#[wasm_bindgen_test]
async fn the_memory_cache_answers_tells_listeners_and_forgets_on_invalidate() {
    let run = run_id("rs-memory");
    let c = client(cached());
    let events = Rc::new(RefCell::new(Vec::new()));
    let sink = events.clone();
    c.on(None, Rc::new(move |e: &fetchlane::Event| sink.borrow_mut().push((e.kind, e.source))));
    let target = url(&path("/cache/m", &run, "maxAge=600"));
    let v1 = c.json(&no_store(&target), RequestOptions::default()).await.expect("first");
    let v2 = c.json(&no_store(&target), RequestOptions::default()).await.expect("second");
    assert_eq!(served_at(&v1), served_at(&v2));
    assert_eq!(seen(&run).await.hits("/cache/m"), 1.0);
    assert_eq!(c.stats().memory_hits, 1);
    let events = events.borrow().clone();
    assert!(events.contains(&(EventType::CacheHit, Some("memory"))), "{events:?}");
    assert!(events.contains(&(EventType::Settled, Some("memory"))), "{events:?}");

    let removed = c.invalidate(Rc::new(|u: &str| u.contains("/cache/m"))).await;
    assert_eq!(removed, 1);
    c.json(&no_store(&target), RequestOptions::default()).await.expect("third");
    assert_eq!(seen(&run).await.hits("/cache/m"), 2.0, "invalidated: the network again");
}

#[wasm_bindgen_test]
async fn a_stale_entry_is_revalidated_with_its_etag_and_a_304_answers_with_the_stored_body() {
    let run = run_id("rs-revalidate");
    let c = client(cached());
    let target = url(&path("/cache/r", &run, "maxAge=0&etag=1"));
    let v1 = c.json(&no_store(&target), RequestOptions::default()).await.expect("first");
    let r = c.fetch(&no_store(&target), RequestOptions::default()).await.expect("second");
    assert_eq!(r.status(), 200, "a 304 reaches the caller as a normal 200");
    let v2 = JsFuture::from(r.json().unwrap()).await.unwrap();
    assert_eq!(served_at(&v1), served_at(&v2), "the stored body");
    assert_eq!(seen(&run).await.statuses(), vec![200, 304]);
}

#[wasm_bindgen_test]
async fn persisted_entries_answer_a_new_client_without_the_network() {
    let run = run_id("rs-persist");
    let mut name = String::from("fl-rs-");
    name.push_str(&run);
    let config = || Config {
        cache: Some(CacheConfig {
            persist: Some(PersistConfig { name: name.clone(), max_entries: None, max_age_ms: None }),
            ..CacheConfig::default()
        }),
        ..Config::default()
    };
    let target = url(&path("/cache/p", &run, "maxAge=600"));
    let a = client(config());
    let v1 = a.json(&no_store(&target), RequestOptions::default()).await.expect("first");
    // The write is fire and forget: wait until it landed.
    for _ in 0..150 {
        if stored(&name).await > 0 {
            break;
        }
        sleep(20).await;
    }
    assert_eq!(stored(&name).await, 1);
    let b = client(config());
    let v2 = b.json(&no_store(&target), RequestOptions::default()).await.expect("second");
    assert_eq!(served_at(&v1), served_at(&v2));
    assert_eq!(seen(&run).await.hits("/cache/p"), 1.0, "no server hit for the second client");
    assert_eq!((b.stats().persistent_hits, b.stats().memory_hits), (1, 0));
    b.clear_cache().await;
    assert_eq!(stored(&name).await, 0);
}

#[wasm_bindgen_test]
async fn a_cache_only_miss_fails_with_kind_cache_and_a_body_that_is_not_json_with_kind_decode() {
    let run = run_id("rs-kinds");
    let c = client(cached());
    let only = RequestOptions { strategy: Some(Strategy::CacheOnly), ..RequestOptions::default() };
    let e = c.json(&no_store(&url(&path("/cache/none", &run, ""))), only).await.expect_err("miss");
    assert_eq!(e.kind, ErrorKind::Cache);
    assert_eq!(seen(&run).await.hits("/cache/none"), 0.0);

    let c = client(Config::default());
    let e = c.json(&no_store(&url("/Cargo.toml")), RequestOptions::default()).await.expect_err("not JSON");
    assert_eq!((e.kind, e.attempts), (ErrorKind::Decode, 1));
    assert!(e.message.contains("is not valid JSON"), "{}", e.message);
    let text = c.text(&no_store(&url("/Cargo.toml")), RequestOptions::default()).await.expect("text");
    assert!(text.contains("[package]"));
    let s = c.stats();
    assert_eq!((s.succeeded, s.failed), (1, 1));
}
