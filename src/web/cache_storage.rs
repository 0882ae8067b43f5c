//! The browser Cache API (`caches`), the one place that touches it. Every call can fail
//! (insecure context, quota, private mode), so each returns a `Result` and never panics.

use crate::prelude::*;

use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, CacheStorage, Request, Response};

/// `globalThis.caches`, or an error saying it is missing (insecure contexts have none).
fn storage() -> Result<CacheStorage, JsValue> {
    let caches = Reflect::get(&js_sys::global(), &JsValue::from_str("caches"))?;
    caches
        .dyn_into::<CacheStorage>()
        .map_err(|_| js_sys::Error::new("fetchlane: the Cache API (caches) is not available here").into())
}

async fn wait(promise: Result<js_sys::Promise, JsValue>) -> Result<JsValue, JsValue> {
    JsFuture::from(promise?).await
}

/// Opens (creating if needed) the cache called `name`.
pub async fn open(name: &str) -> Result<Cache, JsValue> {
    // `caches.open` is looked up at call time, so a page (or a test) that replaces it is
    // honoured.
    let caches: JsValue = storage()?.into();
    let open: js_sys::Function = Reflect::get(&caches, &JsValue::from_str("open"))?.dyn_into()?;
    let promise = open.call1(&caches, &JsValue::from_str(name))?;
    Ok(JsFuture::from(js_sys::Promise::resolve(&promise)).await?.unchecked_into())
}

/// The stored response for `request`, honouring its `Vary`.
pub async fn lookup(cache: &Cache, request: &Request) -> Result<Option<Response>, JsValue> {
    let found = wait(Ok(cache.match_with_request(request))).await?;
    Ok(found.dyn_into::<Response>().ok())
}

/// Stores `response` for `request`.
pub async fn put(cache: &Cache, request: &Request, response: &Response) -> Result<(), JsValue> {
    wait(Ok(cache.put_with_request(request, response))).await.map(|_| ())
}

/// Drops the entry for `request`.
pub async fn delete(cache: &Cache, request: &Request) -> Result<bool, JsValue> {
    Ok(wait(Ok(cache.delete_with_request(request))).await?.as_bool().unwrap_or(false))
}

/// Every stored request, oldest first.
pub async fn keys(cache: &Cache) -> Result<Vec<Request>, JsValue> {
    let list: Array = wait(Ok(cache.keys())).await?.unchecked_into();
    Ok(list.iter().filter_map(|r| r.dyn_into::<Request>().ok()).collect())
}

/// Deletes the whole cache called `name`.
pub async fn remove(name: &str) -> Result<bool, JsValue> {
    Ok(wait(Ok(storage()?.delete(name))).await?.as_bool().unwrap_or(false))
}
