//! The two stores behind the cache: memory (an LRU with entry and byte budgets) and the
//! browser Cache API (`persist`). Both hold whole responses with the time they arrived.

use crate::prelude::*;

use alloc::rc::Rc;

use wasm_bindgen::JsValue;
use web_sys::{Cache, Request};

use super::body::Buffered;
use super::config::{CacheConfig, PersistConfig};
use crate::core::cache::{vary_key, vary_names};
use crate::core::hash::HashMap;
use crate::core::lru::Lru;
use crate::web::cache_storage;
use crate::web::clock::wall_ms;

/// The header under which a persisted entry remembers when it arrived; stripped again on
/// the way out.
const STORED_AT: &str = "x-fetchlane-stored-at";

/// A stored response.
#[derive(Clone)]
pub(crate) struct Entry {
    /// The absolute URL (what `invalidate` matches).
    pub url: Rc<str>,
    pub response: Buffered,
    /// When it arrived (or was last revalidated), ms since the epoch.
    pub response_time_ms: f64,
}

/// Responses in memory, keyed by namespace, URL and the request headers they vary on.
pub(crate) struct MemoryStore {
    lru: Lru<Entry>,
    /// For each URL key, the header names its last stored response varies on.
    vary: HashMap<String, Vec<String>>,
}

impl MemoryStore {
    pub fn new(config: &CacheConfig) -> MemoryStore {
        MemoryStore { lru: Lru::new(config.max_entries, config.max_bytes), vary: HashMap::default() }
    }

    fn full_key(&self, url_key: &str, request_headers: &[(String, String)]) -> String {
        let mut key = String::from(url_key);
        if let Some(names) = self.vary.get(url_key) {
            key.push('\n');
            key.push_str(&vary_key(names, request_headers));
        }
        key
    }

    pub fn get(&mut self, url_key: &str, request_headers: &[(String, String)]) -> Option<Entry> {
        let key = self.full_key(url_key, request_headers);
        self.lru.get(&key).cloned()
    }

    pub fn put(&mut self, url_key: &str, request_headers: &[(String, String)], entry: Entry) {
        let names = vary_names(&entry.response.headers).names;
        if names.is_empty() {
            self.vary.remove(url_key);
        } else {
            self.vary.insert(url_key.to_owned(), names);
        }
        let key = self.full_key(url_key, request_headers);
        let bytes = entry.response.len() + key.len();
        // What falls out is gone for good; the LRU keeps within both budgets.
        drop(self.lru.insert(key, entry, bytes));
    }

    /// Drops the entries whose URL matches; returns their URLs.
    pub fn remove_matching(&mut self, matches: &dyn Fn(&str) -> bool) -> Vec<Rc<str>> {
        let mut removed = Vec::new();
        self.lru.retain(|_, e| {
            let hit = matches(&e.url);
            if hit {
                removed.push(e.url.clone());
            }
            !hit
        });
        removed
    }

    pub fn clear(&mut self) {
        self.lru.clear();
        self.vary.clear();
    }
}

/// Responses in the browser Cache API, in a cache named `fetchlane:<name>:<namespace>`.
pub(crate) struct PersistentStore {
    pub name: String,
    config: PersistConfig,
    cache: Option<Cache>,
}

impl PersistentStore {
    pub fn new(config: &PersistConfig, namespace: &str) -> PersistentStore {
        let mut name = String::from("fetchlane:");
        name.push_str(&config.name);
        name.push(':');
        name.push_str(namespace);
        PersistentStore { name, config: config.clone(), cache: None }
    }
}

/// Opens the persistent cache once and keeps it.
async fn opened(store: &core::cell::RefCell<PersistentStore>) -> Result<Cache, JsValue> {
    if let Some(c) = store.borrow().cache.clone() {
        return Ok(c);
    }
    let name = store.borrow().name.clone();
    let cache = cache_storage::open(&name).await?;
    store.borrow_mut().cache = Some(cache.clone());
    Ok(cache)
}

/// The persisted entry for `request`, if any and not past `maxAgeMs`.
pub(crate) async fn persisted(store: &core::cell::RefCell<PersistentStore>, request: &Request, url: &Rc<str>) -> Result<Option<Entry>, JsValue> {
    let cache = opened(store).await?;
    let Some(response) = cache_storage::lookup(&cache, request).await? else {
        return Ok(None);
    };
    let stored_at = response
        .headers()
        .get(STORED_AT)
        .ok()
        .flatten()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(0.0, |v| v as f64);
    let max_age = store.borrow().config.max_age_ms;
    if max_age.is_some_and(|max| wall_ms() - stored_at > max) {
        cache_storage::delete(&cache, request).await?;
        return Ok(None);
    }
    let mut buffered = Buffered::read(&response, url).await.map_err(|e| e.cause.unwrap_or(JsValue::UNDEFINED))?;
    buffered.headers.retain(|(n, _)| n != STORED_AT);
    Ok(Some(Entry { url: url.clone(), response: buffered, response_time_ms: stored_at }))
}

/// Persists `entry` for `request`, then trims the cache to `maxEntries` (oldest stored
/// first: the Cache API lists keys in the order they were put).
pub(crate) async fn persist(store: &core::cell::RefCell<PersistentStore>, request: &Request, entry: &Entry) -> Result<(), JsValue> {
    let cache = opened(store).await?;
    let mut stored = entry.response.clone();
    stored.headers.retain(|(n, _)| n != STORED_AT);
    let mut at = String::new();
    crate::core::error::push_decimal(&mut at, entry.response_time_ms.max(0.0) as u64);
    stored.headers.push((STORED_AT.to_owned(), at));
    // Re-putting moves the entry to the end of the key order.
    cache_storage::delete(&cache, request).await?;
    cache_storage::put(&cache, request, &stored.to_response(None)).await?;
    let max = store.borrow().config.max_entries;
    if let Some(max) = max {
        let keys = cache_storage::keys(&cache).await?;
        for old in keys.iter().take(keys.len().saturating_sub(max)) {
            cache_storage::delete(&cache, old).await?;
        }
    }
    Ok(())
}

/// Drops the persisted entries whose URL matches; returns their URLs.
pub(crate) async fn unpersist(store: &core::cell::RefCell<PersistentStore>, matches: &dyn Fn(&str) -> bool) -> Result<Vec<String>, JsValue> {
    let cache = opened(store).await?;
    let mut removed = Vec::new();
    for request in cache_storage::keys(&cache).await? {
        let url = request.url();
        if matches(&url) && cache_storage::delete(&cache, &request).await? {
            removed.push(url);
        }
    }
    Ok(removed)
}

/// Deletes the whole persistent cache.
pub(crate) async fn clear_persisted(store: &core::cell::RefCell<PersistentStore>) -> Result<(), JsValue> {
    let name = store.borrow().name.clone();
    store.borrow_mut().cache = None;
    cache_storage::remove(&name).await.map(|_| ())
}
