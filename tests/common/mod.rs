//! Shared helpers for the browser tests: where the local API server is, fresh run ids, and
//! what the server saw.
#![allow(dead_code)]

use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use fetchlane::{Client, Config, Error, RequestOptions};

/// The server's port, baked in at compile time by the test harness (scripts/test.mjs).
pub const PORT: &str = match option_env!("FETCHLANE_TEST_PORT") {
    Some(p) => p,
    None => "47811",
};

/// `http://127.0.0.1:PORT` + `path`.
pub fn url(path: &str) -> String {
    let mut s = String::from("http://127.0.0.1:");
    s.push_str(PORT);
    s.push_str(path);
    s
}

/// The same server as another host to the browser (`localhost`).
pub fn url_localhost(path: &str) -> String {
    let mut s = String::from("http://localhost:");
    s.push_str(PORT);
    s.push_str(path);
    s
}

/// A run id no other test (or earlier run) uses.
pub fn run_id(name: &str) -> String {
    let r = (js_sys::Math::random() * 1e12) as u64;
    let mut s = String::from(name);
    s.push('-');
    s.push_str(&r.to_string());
    s
}

pub fn client(config: Config) -> Client {
    Client::new(config).expect("valid config")
}

pub fn get(client: &Client, url: &str) -> web_sys::Request {
    client.request(url).expect("request")
}

pub async fn json(client: &Client, url: &str, options: RequestOptions) -> Result<JsValue, Error> {
    client.json(&get(client, url), options).await
}

/// Plain `fetch` + JSON, outside fetchlane (for the server's stats).
pub async fn raw_json(url: &str, method: &str) -> JsValue {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let req = web_sys::Request::new_with_str_and_init(url, &init).unwrap();
    let global: Object = js_sys::global().unchecked_into();
    let fetch: js_sys::Function = Reflect::get(&global, &"fetch".into()).unwrap().unchecked_into();
    let resp: web_sys::Response = JsFuture::from(js_sys::Promise::from(fetch.call1(&global, &req).unwrap()))
        .await
        .expect("server reachable")
        .unchecked_into();
    if method == "POST" {
        return JsValue::UNDEFINED;
    }
    JsFuture::from(resp.json().unwrap()).await.unwrap()
}

/// What the server saw for `run`.
pub struct Seen {
    pub stats: JsValue,
}

impl Seen {
    pub fn num(&self, key: &str) -> f64 {
        Reflect::get(&self.stats, &key.into()).unwrap().as_f64().unwrap_or(0.0)
    }
    pub fn hits(&self, path: &str) -> f64 {
        let hits = Reflect::get(&self.stats, &"hits".into()).unwrap();
        Reflect::get(&hits, &path.into()).unwrap().as_f64().unwrap_or(0.0)
    }
    pub fn peak_for_host(&self, host: &str) -> f64 {
        let by = Reflect::get(&self.stats, &"peakByHost".into()).unwrap();
        Reflect::get(&by, &host.into()).unwrap().as_f64().unwrap_or(0.0)
    }
    pub fn arrivals(&self) -> Vec<JsValue> {
        js_sys::Array::from(&Reflect::get(&self.stats, &"arrivals".into()).unwrap()).iter().collect()
    }
    /// Arrival times (ms) of requests to `path`.
    pub fn arrival_times(&self, path: &str) -> Vec<f64> {
        self.arrivals()
            .iter()
            .filter(|a| Reflect::get(a, &"path".into()).unwrap().as_string().as_deref() == Some(path))
            .map(|a| Reflect::get(a, &"t".into()).unwrap().as_f64().unwrap())
            .collect()
    }
    pub fn statuses(&self) -> Vec<u16> {
        self.arrivals()
            .iter()
            .map(|a| Reflect::get(a, &"status".into()).unwrap().as_f64().unwrap_or(0.0) as u16)
            .collect()
    }
}

pub async fn seen(run: &str) -> Seen {
    let mut path = String::from("/__stats?run=");
    path.push_str(run);
    Seen { stats: raw_json(&url(&path), "GET").await }
}

pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global: Object = js_sys::global().unchecked_into();
        let set_timeout: js_sys::Function = Reflect::get(&global, &"setTimeout".into()).unwrap().unchecked_into();
        set_timeout.call2(&global, &resolve, &JsValue::from(ms)).unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

pub fn now() -> f64 {
    js_sys::Date::now()
}

/// `/path?run=RUN&rest&n=UNIQUE`. Every URL is unique: Chromium's HTTP cache lets only one
/// request per URL be in flight at a time (its cache lock), which would hide concurrency.
pub fn path(p: &str, run: &str, rest: &str) -> String {
    thread_local!(static N: std::cell::Cell<u32> = const { std::cell::Cell::new(0) });
    let n = N.with(|n| {
        n.set(n.get() + 1);
        n.get()
    });
    let mut s = String::from(p);
    s.push_str(if p.contains('?') { "&run=" } else { "?run=" });
    s.push_str(run);
    if !rest.is_empty() {
        s.push('&');
        s.push_str(rest);
    }
    s.push_str("&n=");
    s.push_str(&n.to_string());
    s
}

/// Polls three futures together (the tests avoid pulling in an executor crate).
pub async fn futures_join<A, B, C>(a: A, b: B, c: C) -> (A::Output, B::Output, C::Output)
where
    A: std::future::Future,
    B: std::future::Future,
    C: std::future::Future,
{
    let ((a, b), c) = futures_util::future::join(futures_util::future::join(a, b), c).await;
    (a, b, c)
}

pub async fn futures_join2<A, B>(a: A, b: B) -> (A::Output, B::Output)
where
    A: std::future::Future,
    B: std::future::Future,
{
    futures_util::future::join(a, b).await
}
