//! The Rust API's loader and paginate in a real browser against the local API server,
//! asserting on what the server saw.
#![cfg(target_arch = "wasm32")]

mod common;

use std::rc::Rc;

use common::*;
use fetchlane::client::{BatchUrl, LoaderConfig, PaginateOptions};
use fetchlane::{Config, ErrorKind};
use js_sys::Reflect;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn field(v: &JsValue, name: &str) -> JsValue {
    Reflect::get(v, &name.into()).unwrap()
}

fn template(p: &str, run: &str, rest: &str) -> String {
    let mut s = url(p);
    s.push_str("?ids={keys}&run=");
    s.push_str(run);
    if !rest.is_empty() {
        s.push('&');
        s.push_str(rest);
    }
    s
}

#[wasm_bindgen_test]
async fn loads_in_one_tick_are_one_request_and_a_missing_key_fails_alone() {
    let run = run_id("rs-loader");
    let c = client(Config::default());
    let loader = c
        .loader(LoaderConfig::new(BatchUrl::Template(template("/users", &run, "missing=3&order=reverse"))))
        .expect("valid loader");
    let futures: Vec<_> = ["1", "2", "3", "2"].iter().map(|k| loader.load(JsValue::from_str(k))).collect();
    let out = futures_util::future::join_all(futures).await;
    assert_eq!(field(out[0].as_ref().unwrap(), "id").as_string().as_deref(), Some("1"));
    assert_eq!(field(out[1].as_ref().unwrap(), "id").as_string().as_deref(), Some("2"));
    assert_eq!(out[2].as_ref().unwrap_err().kind, ErrorKind::Missing);
    assert!(out[3].is_ok());
    // A number key matches the string id; memoised keys need no request.
    let again = loader.load(JsValue::from(1)).await.unwrap();
    assert_eq!(field(&again, "id").as_string().as_deref(), Some("1"));
    let seen = seen(&run).await;
    assert_eq!(seen.hits("/users"), 1.0);
    assert_eq!(c.stats().batched, 2);
}

#[wasm_bindgen_test]
async fn max_batch_size_25_splits_100_keys_into_4_requests() {
    let run = run_id("rs-loader-size");
    let c = client(Config::default());
    let mut config = LoaderConfig::new(BatchUrl::Template(template("/items", &run, "")));
    config.max_batch_size = 25;
    let loader = c.loader(config).unwrap();
    let keys: Vec<JsValue> = (1..=100).map(|i| JsValue::from(i as f64)).collect();
    let out = loader.load_many(keys).await;
    assert!(out.iter().all(|r| r.is_ok()));
    assert_eq!(seen(&run).await.hits("/items"), 4.0);
}

#[wasm_bindgen_test]
async fn bad_loader_configs_name_the_option() {
    let c = client(Config::default());
    let e = c.loader(LoaderConfig::new(BatchUrl::Template(url("/items?ids=1")))).err().unwrap();
    assert_eq!(e.option, "url");
    let mut config = LoaderConfig::new(BatchUrl::Template(url("/items?ids={keys}")));
    config.max_batch_size = 0;
    let e = c.loader(config).err().unwrap();
    assert!(e.range && e.option == "maxBatchSize");
}

#[wasm_bindgen_test]
async fn paginate_follows_links_to_the_end_and_next_overrides() {
    let run = run_id("rs-pages");
    let c = client(Config::default());
    let first = get(&c, &url(&path("/pages", &run, "page=1&total=4&size=2")));
    let pages = c.paginate(&first, PaginateOptions::default());
    let mut seen_pages = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.expect("a page");
        let first_item = js_sys::Array::from(&page).get(0);
        seen_pages.push(field(&first_item, "page").as_f64().unwrap() as u32);
    }
    assert_eq!(seen_pages, vec![1, 2, 3, 4]);
    assert_eq!(seen(&run).await.hits("/pages"), 4.0);

    // `next` stops after page 2.
    let run2 = run_id("rs-pages-next");
    let first = get(&c, &url(&path("/pages", &run2, "page=1&total=9&size=1&nolink=1")));
    let base = url("/pages");
    let r2 = run2.clone();
    let options = PaginateOptions {
        next: Some(Rc::new(move |body: &JsValue, _response: &web_sys::Response| {
            let next = field(body, "next").as_f64();
            Ok(next.filter(|n| *n <= 2.0).map(|n| {
                let mut s = base.clone();
                s.push_str("?nolink=1&size=1&total=9&run=");
                s.push_str(&r2);
                s.push_str("&page=");
                s.push_str(&(n as u32).to_string());
                s
            }))
        })),
        ..PaginateOptions::default()
    };
    let pages = c.paginate(&first, options);
    let mut n = 0;
    while let Some(page) = pages.next().await {
        page.unwrap();
        n += 1;
    }
    assert_eq!(n, 2);
    assert_eq!(seen(&run2).await.hits("/pages"), 2.0);
}

#[wasm_bindgen_test]
async fn closing_pages_aborts_the_prefetch() {
    let run = run_id("rs-pages-close");
    let c = client(Config::default());
    let first = get(&c, &url(&path("/pages", &run, "page=1&total=50&size=1&latency=80")));
    let pages = c.paginate(&first, PaginateOptions { prefetch: 2, ..PaginateOptions::default() });
    pages.next().await.unwrap().unwrap();
    pages.close();
    assert!(pages.next().await.is_none());
    // Requests already sent when it closed may still land; then nothing more.
    sleep(100).await;
    let at_close = seen(&run).await.hits("/pages");
    sleep(300).await;
    let after = seen(&run).await.hits("/pages");
    assert!(at_close <= 3.0, "{at_close}");
    assert_eq!(after, at_close);
}
