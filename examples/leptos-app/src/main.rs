//! A small Leptos (CSR) dashboard over fetchlane's Rust API.
//!
//! On load, one [`fetchlane::Client`] (at most 2 requests at a time, a memory cache) fetches
//! the test server's demo endpoints:
//! - three panels (`/api/user`, `/api/notifications`, `/api/analytics`), each its own `json`
//!   call, plus a second identical `/api/user` call made at the same time (de-duplicated:
//!   it joins the one in flight);
//! - a product group (`/api/product/7`, its reviews and inventory) with `all`;
//! - a product that does not exist (`/api/product/missing`, a 404), shown as an error;
//! - once all of that has settled, `/api/user` once more, answered from the memory cache.
//!
//! Every URL carries the page's own `?run=ID`, so that the server's `/__stats?run=ID` tells
//! what this page sent. `#app[data-status]` goes from `loading` to `done` at the end, and
//! `#client-stats` shows the client's own counters. tests/e2e/leptos.test.mjs builds this
//! crate and checks the page and the server's accounting.

use fetchlane::{CacheConfig, Client, Config, Error, GroupOptions, RequestOptions};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsValue;

/// How long the server holds each answer (ms), so that requests overlap and the limit of 2
/// is visible at the server.
const LATENCY_MS: u32 = 150;

/// One panel of the dashboard.
#[derive(Clone, Debug, PartialEq)]
struct Panel {
    id: &'static str,
    title: &'static str,
    /// `loading`, `ok` or `error`.
    state: &'static str,
    text: String,
}

impl Panel {
    fn loading(id: &'static str, title: &'static str) -> Panel {
        Panel { id, title, state: "loading", text: String::from("loading…") }
    }
}

/// The client's counters, as shown in `#client-stats`.
#[derive(Clone, Debug, Default, PartialEq)]
struct Counters {
    started: u64,
    succeeded: u64,
    failed: u64,
    deduped: u64,
    memory_hits: u64,
}

/// `?run=ID` from the page's own URL ("" when absent).
fn run_id() -> String {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("run="))
        .unwrap_or_default()
        .to_string()
}

/// A field of a parsed JSON value, by a dotted path (`totals.visitors`).
fn field(value: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(value.clone(), |v, key| js_sys::Reflect::get(&v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED))
}

fn text(value: &JsValue, path: &str) -> String {
    let v = field(value, path);
    match (v.as_string(), v.as_f64()) {
        (Some(s), _) => s,
        (None, Some(n)) => n.to_string(),
        _ => String::from("?"),
    }
}

/// `http 404: fetchlane: HTTP 404 from …`: the kind, the status, and the message (or the URL).
fn describe(e: &Error) -> String {
    let mut out = String::from(e.kind.as_str());
    if let Some(status) = e.status {
        out.push_str(&format!(" {status}"));
    }
    let detail = if e.message.is_empty() { &e.url } else { &e.message };
    out.push_str(&format!(": {detail}"));
    out
}

fn to_panel(id: &'static str, title: &'static str, result: Result<String, Error>) -> Panel {
    match result {
        Ok(text) => Panel { id, title, state: "ok", text },
        Err(e) => Panel { id, title, state: "error", text: describe(&e) },
    }
}

/// Everything the page fetches, in order; `show` is called as each panel settles.
async fn load(client: Client, run: String, show: impl Fn(Panel)) {
    let url = |path: &str| format!("{path}?run={run}&latency={LATENCY_MS}");
    let json = |path: &str| {
        let request = client.request(&url(path));
        let client = client.clone();
        async move { client.json(&request?, RequestOptions::default()).await }
    };

    // join! (below) polls every block in the same tick, so every call is queued at once;
    // the client runs 2 at a time, and the second /api/user joins the first.
    let user = async {
        let me = json("/api/user").await;
        show(to_panel("user", "You", me.map(|v| format!("{} <{}>", text(&v, "name"), text(&v, "email")))));
    };
    let user_again = async {
        let me = json("/api/user").await;
        show(to_panel("user-dedupe", "You (same request, de-duplicated)", me.map(|v| text(&v, "name"))));
    };
    let notifications = async {
        let n = json("/api/notifications").await;
        show(to_panel(
            "notifications",
            "Notifications",
            n.map(|v| format!("{} unread of {}", text(&v, "unread"), js_sys::Array::from(&field(&v, "items")).length())),
        ));
    };
    let analytics = async {
        let a = json("/api/analytics").await;
        show(to_panel(
            "analytics",
            "Analytics",
            a.map(|v| format!("{} visitors, {} page views ({})", text(&v, "totals.visitors"), text(&v, "totals.pageViews"), text(&v, "range"))),
        ));
    };
    let product = async {
        let requests: Result<Vec<_>, Error> = ["/api/product/7", "/api/product/7/reviews", "/api/product/7/inventory"]
            .iter()
            .map(|path| client.request(&url(path)).map(|r| (r, RequestOptions::default())))
            .collect();
        let all = match requests {
            Ok(requests) => client.all(requests, GroupOptions::default()).await,
            Err(e) => Err(e),
        };
        show(to_panel(
            "product",
            "Product 7 (all)",
            all.map(|parts| {
                let reviews = js_sys::Array::from(&field(&parts[1], "reviews")).length();
                let warehouses = js_sys::Array::from(&field(&parts[2], "warehouses")).length();
                format!("{}: {} reviews, stock in {} warehouses", text(&parts[0], "name"), reviews, warehouses)
            }),
        ));
    };
    let missing = async {
        let m = json("/api/product/missing").await;
        show(to_panel("missing", "A product that does not exist", m.map(|v| text(&v, "name"))));
    };
    futures::join!(user, user_again, notifications, analytics, product, missing);

    // Everything settled: the same request again is answered by the memory cache.
    let cached = json("/api/user").await;
    show(to_panel("user-cached", "You (again, from the cache)", cached.map(|v| text(&v, "name"))));
}

#[component]
fn App() -> impl IntoView {
    let ids = [
        ("user", "You"),
        ("user-dedupe", "You (same request, de-duplicated)"),
        ("notifications", "Notifications"),
        ("analytics", "Analytics"),
        ("product", "Product 7 (all)"),
        ("missing", "A product that does not exist"),
        ("user-cached", "You (again, from the cache)"),
    ];
    let panels = RwSignal::new(ids.iter().map(|(id, title)| Panel::loading(id, title)).collect::<Vec<_>>());
    let status = RwSignal::new("loading");
    let counters = RwSignal::new(Counters::default());
    let config_error = RwSignal::new(None::<String>);

    let config = Config {
        concurrency: 2,
        cache: Some(CacheConfig { ttl_ms: Some(60_000.0), ..CacheConfig::default() }),
        ..Config::default()
    };
    match Client::new(config) {
        Ok(client) => spawn_local(async move {
            let show = |panel: Panel| {
                panels.update(|all| {
                    if let Some(slot) = all.iter_mut().find(|p| p.id == panel.id) {
                        *slot = panel;
                    }
                })
            };
            load(client.clone(), run_id(), show).await;
            let s = client.stats();
            counters.set(Counters {
                started: s.started,
                succeeded: s.succeeded,
                failed: s.failed,
                deduped: s.deduped,
                memory_hits: s.memory_hits,
            });
            status.set("done");
        }),
        Err(e) => {
            config_error.set(Some(format!("{}: {}", e.option, e.message)));
            status.set("error");
        }
    }

    view! {
        <div id="app" data-status=move || status.get()>
            <h1>"fetchlane + Leptos"</h1>
            <p class="note">"One client: 2 requests at a time, a memory cache, de-duplication."</p>
            {move || config_error.get().map(|e| view! { <p id="config-error">{e}</p> })}
            <div class="panels">
                <For each=move || panels.get() key=|p| (p.id, p.state, p.text.clone()) let:panel>
                    <section class="panel" id=panel.id data-state=panel.state>
                        <h2>{panel.title}</h2>
                        <p class="body">{panel.text}</p>
                    </section>
                </For>
            </div>
            <p
                id="client-stats"
                data-started=move || counters.get().started
                data-succeeded=move || counters.get().succeeded
                data-failed=move || counters.get().failed
                data-deduped=move || counters.get().deduped
                data-memory-hits=move || counters.get().memory_hits
            >
                {move || {
                    let c = counters.get();
                    format!(
                        "client: {} started, {} succeeded, {} failed, {} de-duplicated, {} from the memory cache",
                        c.started, c.succeeded, c.failed, c.deduped, c.memory_hits,
                    )
                }}
            </p>
        </div>
    }
}

fn main() {
    leptos::mount::mount_to_body(App);
}
