//! The Rust API across tabs (`Config::share`, the npm package's js/share.js loaded as a
//! snippet), in a real browser against the local API server. Two clients of one name in one
//! page meet as two tabs do: through a Web Lock and a BroadcastChannel (a channel delivers to
//! the other objects of its name in the same page). Run by scripts/test.mjs in headless
//! Chromium and Firefox. Several tabs of JS clients are tests/e2e/share.test.mjs.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use fetchlane::{CacheConfig, Client, Config, ErrorKind, GroupOptions, RequestOptions, ShareConfig, ShareRole, Strategy};
use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn shared(name: &str, config: Config) -> Client {
    client(Config { share: Some(ShareConfig { name: String::from(name) }), ..config })
}

/// Waits (up to 2 s) until `c` has `role` and counts `tabs`; false when it never did.
async fn settles_as(c: &Client, role: ShareRole, tabs: u32) -> bool {
    for _ in 0..200 {
        let s = c.stats().share;
        if s.role == role && s.tabs == tabs {
            return true;
        }
        sleep(10).await;
    }
    false
}

/// A leader and a follower of a fresh name, both with `config`.
async fn pair(run: &str, config: Config) -> (Client, Client) {
    let leader = shared(run, config.clone());
    assert!(settles_as(&leader, ShareRole::Leader, 1).await, "the first client leads");
    let follower = shared(run, config);
    assert!(settles_as(&follower, ShareRole::Follower, 2).await, "the second follows: {:?}", follower.stats().share);
    assert!(settles_as(&leader, ShareRole::Leader, 2).await, "the leader counts two tabs");
    (leader, follower)
}

/// `c.active_count()` once it is 0, or after 1 s.
async fn settled_active(c: &Client) -> usize {
    for _ in 0..50 {
        if c.active_count() == 0 {
            break;
        }
        sleep(20).await;
    }
    c.active_count()
}

/// A POST of `body` to `url`.
fn post_to(url: &str, body: &str) -> web_sys::Request {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    web_sys::Request::new_with_str_and_init(url, &init).unwrap()
}

fn field(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap()
}

#[wasm_bindgen_test]
async fn a_client_alone_runs_its_own_requests_and_reports_alone() {
    let c = client(Config::default());
    assert_eq!(c.stats().share.role, ShareRole::Alone);
    assert_eq!(c.stats().share.tabs, 1);
    let run = run_id("rs-share-solo");
    let solo = shared(&run, Config::default());
    assert!(settles_as(&solo, ShareRole::Leader, 1).await, "alone in its name, it leads: {:?}", solo.stats().share);
    let body = json(&solo, &url(&path("/echo", &run, "")), RequestOptions::default()).await.expect("answered");
    assert_eq!(field(&body, "path").as_string().as_deref(), Some("/echo"));
    assert_eq!(solo.stats().started, 1);
}

#[wasm_bindgen_test]
async fn the_limits_of_the_leader_hold_for_both_clients_and_it_runs_every_request() {
    let run = run_id("rs-share-peak");
    let (leader, follower) = pair(&run, Config { concurrency: 2, per_host: 2, ..Config::default() }).await;
    let requests = |c: &Client| (0..6).map(|_| (get(c, &url(&path("/status/200", &run, "latency=80"))), RequestOptions::default())).collect();
    let (a, b) = futures_join2(
        leader.all(requests(&leader), GroupOptions::default()),
        follower.all(requests(&follower), GroupOptions::default()),
    )
    .await;
    assert_eq!(a.expect("the leader's answered").len(), 6);
    assert_eq!(b.expect("the follower's answered").len(), 6);
    let seen = seen(&run).await;
    assert_eq!(seen.num("total"), 12.0);
    assert_eq!(seen.num("peak"), 2.0, "two clients of concurrency 2 together send 2 at once");
    assert_eq!(leader.stats().started, 12, "the leader ran all twelve");
    assert_eq!(follower.stats().started, 0, "the follower ran none itself");
    assert_eq!(follower.pending_count(), 0);
    follower.on_idle().await;
}

#[wasm_bindgen_test]
async fn an_identical_get_from_both_is_one_server_hit_and_the_leaders_cache_answers_the_follower() {
    let run = run_id("rs-share-dedupe");
    let cache = CacheConfig { strategy: Strategy::CacheFirst, ttl_ms: Some(60_000.0), ..CacheConfig::default() };
    let (leader, follower) = pair(&run, Config { cache: Some(cache), ..Config::default() }).await;
    let same = url(&path("/echo", &run, "latency=150"));
    let (a, b) = futures_join2(
        leader.text(&get(&leader, &same), RequestOptions::default()),
        follower.fetch(&get(&follower, &same), RequestOptions::default()),
    )
    .await;
    let b = b.expect("the follower's Response");
    assert_eq!(b.status(), 200);
    let b_text = wasm_bindgen_futures::JsFuture::from(b.text().unwrap()).await.unwrap().as_string().unwrap();
    assert_eq!(a.expect("the leader's text"), b_text, "the same body, each readable");
    assert_eq!(seen(&run).await.hits("/echo"), 1.0, "one server hit");
    // An entry the leader's request stored answers the follower, with no request.
    let cached = url(&path("/cache/s", &run, "maxAge=600"));
    json(&leader, &cached, RequestOptions::default()).await.expect("stored");
    json(&follower, &cached, RequestOptions::default()).await.expect("from the shared cache");
    assert_eq!(seen(&run).await.hits("/cache/s"), 1.0);
    assert_eq!(leader.stats().memory_hits, 1);
}

#[wasm_bindgen_test]
async fn a_followers_post_crosses_with_its_body_bytes_headers_and_options() {
    let run = run_id("rs-share-post");
    let (leader, follower) = pair(&run, Config { headers: vec![(String::from("x-client"), String::from("rust"))], ..Config::default() }).await;
    let request = post_to(&url(&path("/echo", &run, "")), "{\"n\":\"héllo\"}");
    request.headers().set("content-type", "application/json").unwrap();
    let echoed = follower.json(&request, RequestOptions::default()).await.expect("answered");
    assert_eq!(field(&echoed, "method").as_string().as_deref(), Some("POST"));
    assert_eq!(field(&echoed, "body").as_string().as_deref(), Some("{\"n\":\"héllo\"}"));
    let headers = field(&echoed, "headers");
    assert_eq!(field(&headers, "content-type").as_string().as_deref(), Some("application/json"));
    assert_eq!(field(&headers, "x-client").as_string().as_deref(), Some("rust"));
    // The caller's own request is untouched, and its body still readable.
    assert!(!request.body_used());
    assert_eq!((leader.stats().started, follower.stats().started), (1, 0), "the leader sent it");
}

#[wasm_bindgen_test]
async fn failures_cross_with_their_kind_status_and_attempts_and_an_abort_reaches_the_leader() {
    let run = run_id("rs-share-errors");
    let (leader, follower) = pair(&run, Config::default()).await;
    let e = json(&follower, &url(&path("/status/404", &run, "")), RequestOptions::default()).await.expect_err("a 404");
    assert_eq!(e.kind, ErrorKind::Http);
    assert_eq!(e.status, Some(404));
    assert_eq!(e.attempts, 1);
    let e = json(&follower, &url(&path("/bad-json", &run, "")), RequestOptions::default()).await.expect_err("not JSON");
    assert_eq!(e.kind, ErrorKind::Decode, "the follower decodes the bytes itself");
    assert_eq!((leader.stats().started, follower.stats().started), (2, 0), "the leader sent both");
    // An abort while the leader runs it: the caller fails at once with kind abort, and the
    // leader's request is aborted too.
    let controller = web_sys::AbortController::new().unwrap();
    let slow = follower.json(
        &get(&follower, &url(&path("/status/200", &run, "latency=2000"))),
        RequestOptions { signal: Some(controller.signal()), ..RequestOptions::default() },
    );
    let abort = async {
        sleep(150).await;
        controller.abort();
    };
    let started = now();
    let (r, ()) = futures_join2(slow, abort).await;
    assert_eq!(r.expect_err("aborted").kind, ErrorKind::Abort);
    assert!(now() - started < 1000.0, "it did not wait for the answer");
    assert_eq!(settled_active(&leader).await, 0, "the leader dropped the aborted request");
    assert_eq!(follower.pending_count(), 0);
}

#[wasm_bindgen_test]
async fn dropping_a_followers_future_takes_its_call_off_the_leader() {
    let run = run_id("rs-share-drop");
    let (leader, follower) = pair(&run, Config { concurrency: 1, ..Config::default() }).await;
    let first = follower.json(&get(&follower, &url(&path("/status/200", &run, "latency=300"))), RequestOptions::default());
    let dropped = follower.json(&get(&follower, &url(&path("/echo", &run, ""))), RequestOptions::default());
    sleep(100).await;
    assert_eq!(follower.pending_count(), 2, "both wait on the leader");
    drop(dropped);
    assert_eq!(follower.pending_count(), 1);
    first.await.expect("the first answers");
    sleep(100).await;
    assert_eq!(seen(&run).await.hits("/echo"), 0.0, "the dropped call never reached the server");
    assert_eq!(leader.pending_count(), 0);
}

#[wasm_bindgen_test]
async fn when_the_leader_closes_the_follower_leads_and_runs_what_waited() {
    let run = run_id("rs-share-failover");
    let (leader, follower) = pair(&run, Config { concurrency: 1, ..Config::default() }).await;
    // In flight at the leader when it closes: a GET (retried by the rules: sent again) and a
    // POST (not retried: fails with kind network). Queued there: two more GETs.
    let get_in_flight = follower.json(&get(&follower, &url(&path("/status/200", &run, "latency=400"))), RequestOptions::default());
    let post = follower.json(&post_to(&url(&path("/echo", &run, "latency=400")), "x"), RequestOptions::default());
    let queued: Vec<_> = (0..2).map(|_| follower.json(&get(&follower, &url(&path("/echo", &run, ""))), RequestOptions::default())).collect();
    sleep(150).await;
    let closed_at = now();
    leader.close();
    assert!(settles_as(&follower, ShareRole::Leader, 1).await, "the follower leads: {:?}", follower.stats().share);
    let took = now() - closed_at;
    assert!(took < 500.0, "the new leader took over in {took} ms");
    let (a, b, rest) = futures_join(get_in_flight, post, futures_util::future::join_all(queued)).await;
    a.expect("the GET in flight is sent again");
    let e = b.expect_err("the POST in flight died with its leader");
    assert_eq!(e.kind, ErrorKind::Network, "not sent again: the old leader may have sent it");
    for r in rest {
        r.expect("a queued GET is answered");
    }
    assert!(follower.stats().started >= 3, "the new leader ran them itself");
}

#[wasm_bindgen_test]
async fn a_failing_all_of_the_follower_aborts_its_siblings_at_the_leader() {
    let run = run_id("rs-share-all");
    let (leader, follower) = pair(&run, Config::default()).await;
    let mut requests = vec![(get(&follower, &url(&path("/status/404", &run, "latency=50"))), RequestOptions::default())];
    for _ in 0..2 {
        requests.push((get(&follower, &url(&path("/status/200", &run, "latency=3000"))), RequestOptions::default()));
    }
    let started = now();
    let e = follower.all(requests, GroupOptions::default()).await.expect_err("the 404 fails the group");
    assert_eq!(e.kind, ErrorKind::Http);
    assert!(now() - started < 1500.0, "it failed fast");
    assert_eq!(settled_active(&leader).await, 0, "the siblings were aborted at the leader");
    assert_eq!(follower.pending_count(), 0);
}

#[wasm_bindgen(inline_js = "export function load(url) { return import(url); }")]
extern "C" {
    /// `import(url)`.
    fn load(url: &str) -> js_sys::Promise;
}

/// A client of the npm package (pkg/, built by `node scripts/build.mjs`, served by the test
/// server) made with `options`.
async fn js_client(options: &JsValue) -> JsValue {
    let module = JsFuture::from(load(&url("/pkg/index.js")))
        .await
        .expect("the npm package at /pkg/index.js: build it first (node scripts/build.mjs)");
    let create: js_sys::Function = field(&module, "createClient").unchecked_into();
    JsFuture::from(js_sys::Promise::from(create.call1(&JsValue::NULL, options).unwrap())).await.unwrap()
}

/// `client[method](...args)` of a JS client, awaited when it is a promise.
async fn js_call(client: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: js_sys::Function = field(client, method).unchecked_into();
    let out = f.apply(client, &args.iter().collect::<js_sys::Array>())?;
    match out.dyn_into::<js_sys::Promise>() {
        Ok(p) => JsFuture::from(p).await,
        Err(v) => Ok(v),
    }
}

/// The JS client's `stats()` field `path` (`share.role`, `started`).
async fn js_stat(client: &JsValue, path: &[&str]) -> JsValue {
    let mut v = js_call(client, "stats", &[]).await.unwrap();
    for k in path {
        v = field(&v, k);
    }
    v
}

#[wasm_bindgen_test]
async fn rust_and_js_clients_of_one_name_act_as_one_either_way_round() {
    let run = run_id("rs-share-js");
    // A Rust leader answers a JS follower.
    let rust = shared(&run, Config::default());
    assert!(settles_as(&rust, ShareRole::Leader, 1).await);
    let options = js_sys::Object::new();
    let share = js_sys::Object::new();
    Reflect::set(&share, &"name".into(), &run.as_str().into()).unwrap();
    Reflect::set(&options, &"share".into(), &share).unwrap();
    let js = js_client(&options).await;
    for _ in 0..200 {
        if js_stat(&js, &["share", "role"]).await.as_string().as_deref() == Some("follower") {
            break;
        }
        sleep(10).await;
    }
    assert_eq!(js_stat(&js, &["share", "role"]).await.as_string().as_deref(), Some("follower"));
    let body = js_call(&js, "json", &[url(&path("/echo", &run, "from=js")).into()]).await.expect("the JS follower's call answered");
    assert_eq!(field(&body, "path").as_string().as_deref(), Some("/echo"));
    assert_eq!(rust.stats().started, 1, "the Rust leader sent it");
    assert_eq!(js_stat(&js, &["started"]).await.as_f64(), Some(0.0));
    let e = js_call(&js, "json", &[url(&path("/status/404", &run, "")).into()]).await.expect_err("a 404");
    assert_eq!(field(&e, "kind").as_string().as_deref(), Some("http"));
    assert_eq!(field(&e, "status").as_f64(), Some(404.0));
    // The Rust leader's client closes: the JS client leads, and answers a new Rust follower.
    rust.close();
    for _ in 0..50 {
        if js_stat(&js, &["share", "role"]).await.as_string().as_deref() == Some("leader") {
            break;
        }
        sleep(10).await;
    }
    assert_eq!(js_stat(&js, &["share", "role"]).await.as_string().as_deref(), Some("leader"), "the JS client leads within 500 ms");
    let follower = shared(&run, Config::default());
    assert!(settles_as(&follower, ShareRole::Follower, 2).await, "{:?}", follower.stats().share);
    let body = json(&follower, &url(&path("/echo", &run, "from=rust")), RequestOptions::default()).await.expect("answered by the JS leader");
    assert!(field(&body, "query").as_string().unwrap_or_default().contains("from=rust"));
    assert_eq!(follower.stats().started, 0);
    assert_eq!(js_stat(&js, &["started"]).await.as_f64(), Some(1.0), "the JS leader sent it");
    assert_eq!(seen(&run).await.hits("/echo"), 2.0);
    js_call(&js, "close", &[]).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_followers_deadline_holds_when_the_leader_never_answers() {
    let run = run_id("rs-share-deadline");
    // The leader: js/share.js itself (from the test server), whose `run` never settles, as a
    // frozen tab's would not.
    let module = JsFuture::from(load(&url("/js/share.js"))).await.expect("/js/share.js");
    let create: js_sys::Function = field(&module, "createShare").unchecked_into();
    let hooks = js_sys::Object::new();
    let never = Closure::<dyn FnMut() -> js_sys::Promise>::new(|| js_sys::Promise::new(&mut |_, _| {}));
    let nothing = Closure::<dyn FnMut()>::new(|| {});
    Reflect::set(&hooks, &"run".into(), never.as_ref()).unwrap();
    Reflect::set(&hooks, &"local".into(), nothing.as_ref()).unwrap();
    Reflect::set(&hooks, &"answer".into(), nothing.as_ref()).unwrap();
    let leader = create.call2(&JsValue::NULL, &run.as_str().into(), &hooks).unwrap();
    for _ in 0..100 {
        if field(&field(&leader, "state"), "role").as_string().as_deref() == Some("leader") {
            break;
        }
        sleep(10).await;
    }
    let follower = shared(&run, Config { total_timeout_ms: Some(300.0), ..Config::default() });
    assert!(settles_as(&follower, ShareRole::Follower, 2).await, "{:?}", follower.stats().share);
    let started = now();
    let e = json(&follower, &url(&path("/echo", &run, "")), RequestOptions::default()).await.expect_err("no answer");
    assert_eq!(e.kind, ErrorKind::Timeout);
    let took = now() - started;
    assert!((250.0..1500.0).contains(&took), "the client's totalTimeoutMs (300 ms) ended it after {took} ms");
    assert_eq!(follower.pending_count(), 0);
    let close: js_sys::Function = field(&leader, "close").unchecked_into();
    close.call0(&leader).unwrap();
}
