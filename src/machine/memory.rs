//! The memory cache's index: what is stored under which key. The bodies themselves stay
//! with the driver under their body ids; an entry holds one reference to its body.

use crate::prelude::*;

use alloc::rc::Rc;

use super::headers::HeaderList;
use super::slab::Slab;
use crate::core::cache::{vary_key, vary_names};
use crate::core::str_map::StrMap;
use crate::core::lru::Lru;

/// A stored response.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The absolute URL (what `invalidate` matches).
    pub url: Rc<str>,
    /// The driver's body id.
    pub body: u32,
    /// Its headers (lower-case names), merged with any 304 since.
    pub headers: Rc<HeaderList>,
    /// When it arrived or was last revalidated, ms since the epoch.
    pub response_time_ms: f64,
    /// Body size in bytes, for the byte budget.
    pub bytes: usize,
}

/// Entries by namespace, URL (or `key`) and the request headers they vary on.
pub struct MemoryStore {
    lru: Lru<Entry>,
    /// For each URL key, the id in `vary_names` of the header names its last stored response
    /// varies on. A `usize` index, like the LRU's own map, so both share one hash-table
    /// instantiation in the wasm.
    vary: StrMap,
    vary_names: Slab<Vec<String>>,
}

impl MemoryStore {
    /// An empty store with the given budgets.
    pub fn new(max_entries: usize, max_bytes: usize) -> MemoryStore {
        MemoryStore {
            lru: Lru::new(max_entries, max_bytes),
            vary: StrMap::default(),
            vary_names: Slab::default(),
        }
    }

    fn full_key(&self, url_key: &str, request_headers: &str) -> String {
        let mut key = String::from(url_key);
        if let Some(names) = self.vary.get(url_key).and_then(|&id| self.vary_names.get(id as u32)) {
            key.push_str("\n");
            key.push_str(&vary_key(names, &super::headers::parse(request_headers)));
        }
        key
    }

    /// The entry for this URL key and request, marking it recently used.
    pub fn get(&mut self, url_key: &str, request_headers: &str) -> Option<&Entry> {
        if self.lru.is_empty() {
            return None;
        }
        let key = self.full_key(url_key, request_headers);
        self.lru.get(&key)
    }

    /// Stores `entry`; returns the bodies of the entries that fell out (the one it replaced,
    /// and any the budgets evicted), whose references the caller releases.
    pub fn put(&mut self, url_key: &str, request_headers: &str, entry: Entry) -> Vec<u32> {
        let names = vary_names(&entry.headers).names;
        if let Some(old) = self.vary.remove(url_key) {
            self.vary_names.remove(old as u32);
        }
        if !names.is_empty() {
            let id = self.vary_names.insert(names);
            self.vary.insert(String::from(url_key), id as usize);
        }
        let key = self.full_key(url_key, request_headers);
        let bytes = entry.bytes + key.len();
        let mut out = Vec::new();
        if let Some(old) = self.lru.remove(&key) {
            out.push(old.body);
        }
        for (_, e) in self.lru.insert(key, entry, bytes) {
            out.push(e.body);
        }
        out
    }

    /// Drops the entries whose URL is `url`; returns their bodies.
    pub fn remove_url(&mut self, url: &str) -> Vec<u32> {
        let mut removed = Vec::new();
        self.lru.retain(|_, e| {
            let hit = &*e.url == url;
            if hit {
                removed.push(e.body);
            }
            !hit
        });
        removed
    }

    /// The headers of the entry holding `body`.
    pub fn headers_of(&self, body: u32) -> Option<Rc<HeaderList>> {
        let mut found = None;
        self.lru.for_each(|_, e| {
            if e.body == body {
                found = Some(e.headers.clone());
            }
        });
        found
    }

    /// The distinct URLs stored, for `invalidate` with a pattern.
    pub fn urls(&self) -> Vec<Rc<str>> {
        let mut urls: Vec<Rc<str>> = Vec::new();
        self.lru.for_each(|_, e| {
            if !urls.iter().any(|u| **u == *e.url) {
                urls.push(e.url.clone());
            }
        });
        urls
    }

    /// Empties the store; returns the bodies it held.
    pub fn clear(&mut self) -> Vec<u32> {
        let mut all = Vec::new();
        self.lru.retain(|_, e| {
            all.push(e.body);
            false
        });
        self.vary.clear();
        self.vary_names.clear();
        all
    }

    /// How many entries are stored.
    pub fn len(&self) -> usize {
        self.lru.len()
    }
}
