//! Batch and paging routes: `/items`, `/users` (`?ids=`), `/items/{id}`, `/users/{id}`, `/pages`.
//!
//! All of them take `fields=a,b,c` (see `crate::fields`): only those top-level keys of each
//! object are returned (`/items?ids=1,2&fields=id,price` → `[{"id":"1","price":…},…]`; with
//! `envelope=1` the objects inside `data` are filtered; `/pages` filters each page item, in
//! both the array and the `nolink=1` `{items, next}` shapes). Unknown names are absent; no
//! `fields` gives the full objects. A 404 body is never filtered.

use super::{json, not_found, set_header};
use crate::params::Params;
use crate::state::{AppState, Prng};
use crate::{data, fields};
use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/items",
            get(|p: Params| async move { batch(&p, data::item) }),
        )
        .route(
            "/users",
            get(|p: Params| async move { batch(&p, data::user) }),
        )
        .route(
            "/items/{id}",
            get(|Path(id): Path<String>, p: Params| async move { single(&id, &p, data::item) }),
        )
        .route(
            "/users/{id}",
            get(|Path(id): Path<String>, p: Params| async move { single(&id, &p, data::user) }),
        )
        .route("/pages", get(pages))
}

/// Builds one object from an id (`numeric` makes the id a JSON number when it parses).
pub type Maker = fn(&str, bool) -> Value;

/// Deterministic shuffle seeded by the ids; never returns the input order for 2+ ids.
fn shuffle(ids: &mut [String]) {
    let original = ids.to_vec();
    let mut rng = Prng::new(data::hash(&ids.join(",")));
    for i in (1..ids.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        ids.swap(i, j);
    }
    if ids.len() > 1 && ids == original.as_slice() {
        ids.rotate_left(1);
    }
}

/// `?ids=` batch with the `order`, `missing`, `extra`, `dup`, `envelope`, `numeric` options.
pub fn batch(p: &Params, make: Maker) -> Response {
    let numeric = p.flag("numeric");
    let missing = p.list("missing");
    let mut ids: Vec<String> = Vec::new();
    for id in p.list("ids") {
        if !ids.contains(&id) && !missing.contains(&id) {
            ids.push(id);
        }
    }
    match p.get("order") {
        Some("reverse") => ids.reverse(),
        Some("shuffle") => shuffle(&mut ids),
        _ => {}
    }
    let mut out: Vec<Value> = ids.iter().map(|id| make(id, numeric)).collect();
    out.extend(p.list("extra").iter().map(|id| make(id, numeric)));
    if p.flag("dup") {
        if let Some(first) = out.first().cloned() {
            out.push(first);
        }
    }
    let body = if p.flag("envelope") {
        json!({ "data": out })
    } else {
        Value::Array(out)
    };
    json(StatusCode::OK, fields::select(body, p))
}

/// Single object; 404 for id `missing` or ids starting with `404`.
pub fn single(id: &str, p: &Params, make: Maker) -> Response {
    if id == "missing" || id.starts_with("404") {
        return not_found();
    }
    json(
        StatusCode::OK,
        fields::select(make(id, p.flag("numeric")), p),
    )
}

async fn pages(p: Params, headers: HeaderMap) -> Response {
    let page = p.u64_or("page", 1).max(1);
    let total = p.u64_or("total", 5);
    let size = p.u64_or("size", 10).min(10_000);
    if p.get("fail").and_then(|f| f.parse::<u64>().ok()) == Some(page) {
        return json(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "page failed", "page": page}),
        );
    }
    let items: Vec<Value> = if page <= total {
        (0..size)
            .map(|i| json!({"page": page, "index": i, "id": format!("{page}-{i}")}))
            .collect()
    } else {
        Vec::new()
    };
    let items = match fields::select(Value::Array(items), &p) {
        Value::Array(items) => items,
        _ => unreachable!("fields::select keeps an array an array"),
    };
    let next = (page < total).then_some(page + 1);
    if p.flag("nolink") {
        return json(StatusCode::OK, json!({"items": items, "next": next}));
    }
    let mut resp = json(StatusCode::OK, Value::Array(items));
    if let Some(next) = next {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("page", &next.to_string());
        q.append_pair("total", &total.to_string());
        q.append_pair("size", &size.to_string());
        for (k, v) in &p.pairs {
            if !matches!(k.as_str(), "page" | "total" | "size") {
                q.append_pair(k, v);
            }
        }
        let rel = format!("/pages?{}", q.finish());
        let url = if p.flag("absolute") {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("127.0.0.1");
            format!("http://{host}{rel}")
        } else {
            rel
        };
        set_header(&mut resp, header::LINK, &format!("<{url}>; rel=\"next\""));
    }
    resp
}
