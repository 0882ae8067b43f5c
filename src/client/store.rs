//! The browser Cache API store behind `persist`: whole responses in a cache named
//! `fetchlane:<name>:<namespace>`, each with the time it was stored. The machine decides
//! what is read, written and deleted (and judges an entry's age); this only does the I/O.
//! Every call may fail (insecure context, quota, private mode): failures are `Err`s.

use crate::prelude::*;

use core::cell::RefCell;

use wasm_bindgen::JsValue;
use web_sys::{Cache, Request};

use super::body::Buffered;
use super::config::PersistConfig;
use crate::web::cache_storage;
use crate::web::clock::wall_ms;

/// The header under which a persisted entry remembers when it was stored (ms since the
/// epoch); stripped again on the way out.
const STORED_AT: &str = "x-fetchlane-stored-at";

/// The Cache API cache of one client.
pub(crate) struct PersistentStore {
    name: String,
    max_entries: Option<usize>,
    /// Opened once; a failed open is tried again next time.
    cache: RefCell<Option<Cache>>,
}

impl PersistentStore {
    pub fn new(config: &PersistConfig, namespace: &str) -> PersistentStore {
        let mut name = String::from("fetchlane:");
        name.push_str(&config.name);
        name.push(':');
        name.push_str(namespace);
        PersistentStore { name, max_entries: config.max_entries, cache: RefCell::new(None) }
    }

    async fn opened(&self) -> Result<Cache, JsValue> {
        if let Some(c) = self.cache.borrow().clone() {
            return Ok(c);
        }
        let cache = cache_storage::open(&self.name).await?;
        *self.cache.borrow_mut() = Some(cache.clone());
        Ok(cache)
    }

    /// The stored entry for `request` (honouring its `Vary`) and when it was stored.
    pub async fn read(&self, request: &Request, url: &str) -> Result<Option<(Buffered, f64)>, JsValue> {
        let cache = self.opened().await?;
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
        let mut buffered = Buffered::read(&response, url).await.map_err(|e| e.cause.unwrap_or(JsValue::UNDEFINED))?;
        buffered.headers.retain(|(n, _)| n != STORED_AT);
        Ok(Some((buffered, stored_at)))
    }

    /// Stores `body` for `request` with the time now, then trims the cache to `maxEntries`
    /// (the Cache API lists keys in the order they were put; re-putting moves an entry to
    /// the end).
    pub async fn write(&self, request: &Request, body: &Buffered) -> Result<(), JsValue> {
        let mut stored = body.clone();
        stored.headers.retain(|(n, _)| n != STORED_AT);
        let mut at = String::new();
        crate::core::error::push_decimal(&mut at, wall_ms().max(0.0) as u64);
        stored.headers.push((STORED_AT.to_owned(), at));
        // Made before the first await: the body may be dropped or merged meanwhile.
        let response = stored.to_response(None);
        let cache = self.opened().await?;
        cache_storage::delete(&cache, request).await?;
        cache_storage::put(&cache, request, &response).await?;
        if let Some(max) = self.max_entries {
            let keys = cache_storage::keys(&cache).await?;
            for old in keys.iter().take(keys.len().saturating_sub(max)) {
                cache_storage::delete(&cache, old).await?;
            }
        }
        Ok(())
    }

    /// Deletes the entry for `request`.
    pub async fn remove(&self, request: &Request) -> Result<(), JsValue> {
        let cache = self.opened().await?;
        cache_storage::delete(&cache, request).await.map(|_| ())
    }

    /// Drops the entries whose URL matches; returns their URLs.
    pub async fn invalidate(&self, matches: &dyn Fn(&str) -> bool) -> Result<Vec<String>, JsValue> {
        let cache = self.opened().await?;
        let mut removed = Vec::new();
        for request in cache_storage::keys(&cache).await? {
            let url = request.url();
            if matches(&url) && cache_storage::delete(&cache, &request).await? {
                removed.push(url);
            }
        }
        Ok(removed)
    }

    /// Deletes the whole cache.
    pub async fn clear(&self) -> Result<(), JsValue> {
        *self.cache.borrow_mut() = None;
        cache_storage::remove(&self.name).await.map(|_| ())
    }
}
