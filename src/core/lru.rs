//! The memory store: a least-recently-used map with an entry budget and a byte budget.
//!
//! Expiry is deliberately not in here: the pipeline asks `core::cache` whether an entry is
//! fresh, and a stale entry is still worth keeping for revalidation or `stale-if-error`.

use crate::prelude::*;

use crate::core::str_map::StrMap;

/// Marks "no node" at either end of the list.
const NIL: usize = usize::MAX;

struct Node<V> {
    key: String,
    value: V,
    bytes: usize,
    /// Towards the most recently used end.
    prev: usize,
    /// Towards the least recently used end.
    next: usize,
}

/// A least-recently-used map from `String` keys with an entry budget and a byte budget.
///
/// `get`, `insert` and `remove` are O(1): a [`StrMap`] finds a node in a dense `Vec` whose nodes
/// form a doubly linked list in recency order. A removal moves the last node into the hole
/// (one extra map update) instead of keeping a free list, so no slot is ever empty. The
/// byte size of each entry is whatever the caller says it is (keys are not counted). The
/// client's defaults are 500 entries and 50 MiB.
pub struct Lru<V> {
    map: StrMap,
    nodes: Vec<Node<V>>,
    /// Most recently used.
    head: usize,
    /// Least recently used: the next to be evicted.
    tail: usize,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
}

impl<V> Lru<V> {
    /// An empty map holding at most `max_entries` entries and `max_bytes` bytes (the client's
    /// defaults are 500 and 50 MiB). A budget of 0 stores nothing.
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        Lru {
            map: StrMap::default(),
            nodes: Vec::new(),
            head: NIL,
            tail: NIL,
            bytes: 0,
            max_entries,
            max_bytes,
        }
    }

    /// The value under `key`, marking it as the most recently used.
    pub fn get(&mut self, key: &str) -> Option<&V> {
        let index = *self.map.get(key)?;
        self.unlink(index);
        self.push_front(index);
        self.nodes.get(index).map(|n| &n.value)
    }

    /// The value under `key`, leaving the recency order alone.
    pub fn peek(&self, key: &str) -> Option<&V> {
        let index = *self.map.get(key)?;
        Some(&self.nodes[index].value)
    }

    /// Stores `value` under `key` as the most recently used entry, counting it as `bytes`, and
    /// returns the entries evicted to make room, least recently used first.
    ///
    /// A value already under `key` is replaced and dropped (a replacement is not an eviction).
    /// A value that can never fit (`bytes > max_bytes`, or `max_entries == 0`) is not stored
    /// and comes back as the only evicted entry; any older value under `key` is still removed,
    /// so it cannot outlive the response that superseded it.
    pub fn insert(&mut self, key: String, value: V, bytes: usize) -> Vec<(String, V)> {
        if bytes > self.max_bytes || self.max_entries == 0 {
            self.remove(&key);
            return vec![(key, value)];
        }
        if let Some(&index) = self.map.get(&key) {
            let node = &mut self.nodes[index];
            node.value = value;
            self.bytes = self.bytes - node.bytes + bytes;
            node.bytes = bytes;
            self.unlink(index);
            self.push_front(index);
        } else {
            let index = self.nodes.len();
            self.nodes.push(Node {
                key: key.clone(),
                value,
                bytes,
                prev: NIL,
                next: NIL,
            });
            self.map.insert(key, index);
            self.bytes += bytes;
            self.push_front(index);
        }
        let mut evicted = Vec::new();
        // The new entry is at the head and fits on its own, so this stops before reaching it.
        while self.map.len() > self.max_entries || self.bytes > self.max_bytes {
            let index = self.tail;
            evicted.push(self.remove_index(index));
        }
        evicted
    }

    /// Removes and returns the value under `key`.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let index = *self.map.get(key)?;
        Some(self.remove_index(index).1)
    }

    /// Keeps only the entries for which `f` returns true (called once per entry, in no
    /// particular order) and returns how many were removed.
    pub fn retain(&mut self, mut f: impl FnMut(&str, &V) -> bool) -> usize {
        let before = self.nodes.len();
        // Backwards, because a removal moves the last node, already visited, into the hole.
        for index in (0..before).rev() {
            let node = &self.nodes[index];
            if !f(&node.key, &node.value) {
                self.remove_index(index);
            }
        }
        before - self.nodes.len()
    }

    /// Calls `f` on every entry, in no particular order, without touching recency.
    pub fn for_each(&self, mut f: impl FnMut(&str, &V)) {
        for node in &self.nodes {
            f(&node.key, &node.value);
        }
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.map.clear();
        self.nodes.clear();
        self.head = NIL;
        self.tail = NIL;
        self.bytes = 0;
    }

    /// How many entries are stored.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The sum of the byte sizes given for the stored entries.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Unlinks a node, takes it out of the map and the `Vec`, and hands back its entry.
    fn remove_index(&mut self, index: usize) -> (String, V) {
        self.unlink(index);
        let node = self.nodes.swap_remove(index);
        self.map.remove(&node.key);
        self.bytes -= node.bytes;
        if let Some(moved) = self.nodes.get(index) {
            // The last node now lives at `index`: repoint its neighbours and its map entry.
            let (prev, next) = (moved.prev, moved.next);
            self.set_next(prev, index);
            self.set_prev(next, index);
            if let Some(slot) = self.map.get_mut(&self.nodes[index].key) {
                *slot = index;
            }
        }
        (node.key, node.value)
    }

    /// Points node `index`'s `next` at `next`; the head instead when `index` is `NIL`. Links
    /// are set through `get_mut` (no bounds-check panic), and `NIL`, past every node, is the
    /// list's end.
    fn set_next(&mut self, index: usize, next: usize) {
        match self.nodes.get_mut(index) {
            Some(node) => node.next = next,
            None => self.head = next,
        }
    }

    /// Points node `index`'s `prev` at `prev`; the tail instead when `index` is `NIL`.
    fn set_prev(&mut self, index: usize, prev: usize) {
        match self.nodes.get_mut(index) {
            Some(node) => node.prev = prev,
            None => self.tail = prev,
        }
    }

    fn unlink(&mut self, index: usize) {
        let Some(node) = self.nodes.get_mut(index) else { return };
        let (prev, next) = (node.prev, node.next);
        node.prev = NIL;
        node.next = NIL;
        self.set_next(prev, next);
        self.set_prev(next, prev);
    }

    fn push_front(&mut self, index: usize) {
        let head = self.head;
        let Some(node) = self.nodes.get_mut(index) else { return };
        node.prev = NIL;
        node.next = head;
        self.set_prev(head, index);
        self.head = index;
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::RngSeed;

    /// Keys from most to least recently used, walking the list (checks the links too).
    fn order<V>(lru: &Lru<V>) -> Vec<String> {
        let mut keys = Vec::new();
        let mut index = lru.head;
        let mut prev = NIL;
        while index != NIL {
            assert_eq!(lru.nodes[index].prev, prev);
            assert_eq!(lru.map.get(&lru.nodes[index].key), Some(&index));
            keys.push(lru.nodes[index].key.clone());
            prev = index;
            index = lru.nodes[index].next;
        }
        assert_eq!(lru.tail, prev);
        assert_eq!(keys.len(), lru.nodes.len());
        keys
    }

    fn keys(evicted: &[(String, u32)]) -> Vec<&str> {
        evicted.iter().map(|(k, _)| k.as_str()).collect()
    }

    #[test]
    fn recency_order() {
        let mut lru = Lru::new(3, 100);
        assert!(lru.insert("a".into(), 1, 1).is_empty());
        assert!(lru.insert("b".into(), 2, 1).is_empty());
        assert!(lru.insert("c".into(), 3, 1).is_empty());
        assert_eq!(order(&lru), ["c", "b", "a"]);
        assert_eq!(lru.get("a"), Some(&1));
        assert_eq!(order(&lru), ["a", "c", "b"]);
        // peek leaves the order alone.
        assert_eq!(lru.peek("b"), Some(&2));
        assert_eq!(order(&lru), ["a", "c", "b"]);
        let evicted = lru.insert("d".into(), 4, 1);
        assert_eq!(keys(&evicted), ["b"]);
        assert_eq!(order(&lru), ["d", "a", "c"]);
        assert_eq!(lru.get("b"), None);
        assert_eq!(lru.peek("missing"), None);
    }

    #[test]
    fn entry_budget_evicts_oldest_first() {
        let mut lru = Lru::new(2, 100);
        lru.insert("a".into(), 1, 1);
        lru.insert("b".into(), 2, 1);
        assert_eq!(keys(&lru.insert("c".into(), 3, 1)), ["a"]);
        assert_eq!(lru.len(), 2);
    }

    #[test]
    fn byte_budget_evicts_several_oldest_first() {
        let mut lru = Lru::new(10, 10);
        lru.insert("a".into(), 1, 3);
        lru.insert("b".into(), 2, 3);
        lru.insert("c".into(), 3, 3);
        assert_eq!(lru.bytes(), 9);
        let evicted = lru.insert("d".into(), 4, 8);
        assert_eq!(
            evicted,
            [
                ("a".to_owned(), 1),
                ("b".to_owned(), 2),
                ("c".to_owned(), 3)
            ]
        );
        assert_eq!(lru.bytes(), 8);
        assert_eq!(order(&lru), ["d"]);
        // Exactly at the budget is fine.
        assert!(lru.insert("e".into(), 5, 2).is_empty());
        assert_eq!(lru.bytes(), 10);
    }

    #[test]
    fn replacing_a_key_adjusts_bytes_and_recency() {
        let mut lru = Lru::new(10, 100);
        lru.insert("a".into(), 1, 10);
        lru.insert("b".into(), 2, 20);
        assert!(lru.insert("a".into(), 11, 5).is_empty());
        assert_eq!(lru.bytes(), 25);
        assert_eq!(lru.len(), 2);
        assert_eq!(lru.peek("a"), Some(&11));
        assert_eq!(order(&lru), ["a", "b"]);
        // Growing an entry can evict others but never itself.
        let evicted = lru.insert("a".into(), 12, 90);
        assert_eq!(keys(&evicted), ["b"]);
        assert_eq!(lru.bytes(), 90);
        assert_eq!(order(&lru), ["a"]);
    }

    #[test]
    fn oversize_entry_is_rejected() {
        let mut lru = Lru::new(10, 100);
        lru.insert("keep".into(), 1, 50);
        let evicted = lru.insert("big".into(), 2, 101);
        assert_eq!(evicted, [("big".to_owned(), 2)]);
        assert_eq!(lru.peek("big"), None);
        assert_eq!(order(&lru), ["keep"]);
        assert_eq!(lru.bytes(), 50);
        // An oversize replacement drops the old value rather than leave it behind.
        let evicted = lru.insert("keep".into(), 3, 1000);
        assert_eq!(evicted, [("keep".to_owned(), 3)]);
        assert!(lru.is_empty());
        assert_eq!(lru.bytes(), 0);
    }

    #[test]
    fn zero_budgets_store_nothing() {
        let mut none = Lru::new(0, 100);
        assert_eq!(none.insert("a".into(), 1, 0), [("a".to_owned(), 1)]);
        assert!(none.is_empty());
        let mut zero_bytes = Lru::new(10, 0);
        assert!(zero_bytes.insert("a".into(), 1, 0).is_empty());
        assert_eq!(zero_bytes.insert("b".into(), 2, 1), [("b".to_owned(), 2)]);
        assert_eq!(zero_bytes.len(), 1);
    }

    #[test]
    fn remove_keeps_links_and_map_consistent() {
        let mut lru = Lru::new(10, 100);
        lru.insert("a".into(), 1, 1);
        lru.insert("b".into(), 2, 2);
        lru.insert("c".into(), 3, 3);
        assert_eq!(lru.remove("b"), Some(2));
        assert_eq!(lru.remove("b"), None);
        assert_eq!(lru.bytes(), 4);
        assert_eq!(order(&lru), ["c", "a"]);
        lru.insert("d".into(), 4, 4);
        assert_eq!(order(&lru), ["d", "c", "a"]);
        assert_eq!(lru.get("c"), Some(&3));
        assert_eq!(order(&lru), ["c", "d", "a"]);
        assert_eq!(lru.remove("a"), Some(1));
        assert_eq!(lru.remove("d"), Some(4));
        assert_eq!(order(&lru), ["c"]);
        assert_eq!(lru.nodes.len(), 1);
        assert_eq!(lru.remove("c"), Some(3));
        assert!(lru.is_empty());
        assert_eq!(order(&lru), Vec::<String>::new());
    }

    #[test]
    fn retain_counts_removed() {
        let mut lru = Lru::new(10, 100);
        for (i, key) in ["/a/1", "/b/1", "/a/2", "/c"].iter().enumerate() {
            lru.insert((*key).to_owned(), i as u32, 10);
        }
        let mut seen = Vec::new();
        let removed = lru.retain(|k, _| {
            seen.push(k.to_owned());
            !k.starts_with("/a/")
        });
        assert_eq!(removed, 2);
        seen.sort();
        assert_eq!(seen, ["/a/1", "/a/2", "/b/1", "/c"]);
        assert_eq!(order(&lru), ["/c", "/b/1"]);
        assert_eq!(lru.bytes(), 20);
        assert_eq!(lru.retain(|_, v| *v == 1), 1);
        assert_eq!(order(&lru), ["/b/1"]);
    }

    #[test]
    fn clear_empties_everything() {
        let mut lru = Lru::new(10, 100);
        lru.insert("a".into(), 1, 5);
        lru.insert("b".into(), 2, 5);
        lru.clear();
        assert!(lru.is_empty());
        assert_eq!(lru.bytes(), 0);
        assert_eq!(lru.get("a"), None);
        lru.insert("c".into(), 3, 5);
        assert_eq!(order(&lru), ["c"]);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u8, usize),
        Get(u8),
        Remove(u8),
        RetainOdd,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0u8..24, 0usize..400).prop_map(|(k, b)| Op::Insert(k, b)),
            2 => (0u8..24).prop_map(Op::Get),
            2 => (0u8..24).prop_map(Op::Remove),
            1 => Just(Op::RetainOdd),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 512,
            rng_seed: RngSeed::Fixed(0x1A0),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn budgets_always_hold(
            max_entries in 0usize..8,
            max_bytes in 0usize..1000,
            ops in proptest::collection::vec(op(), 0..200),
        ) {
            let mut lru = Lru::new(max_entries, max_bytes);
            // The model: key -> bytes of live entries.
            let mut live: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
            for op in ops {
                match op {
                    Op::Insert(k, b) => {
                        let key = k.to_string();
                        live.remove(&key);
                        live.insert(key.clone(), b);
                        for (gone, _) in lru.insert(key, b, b) {
                            live.remove(&gone);
                        }
                    }
                    Op::Get(k) => {
                        let got = lru.get(&k.to_string()).copied();
                        prop_assert_eq!(got, live.get(&k.to_string()).copied());
                    }
                    Op::Remove(k) => {
                        let got = lru.remove(&k.to_string());
                        prop_assert_eq!(got, live.remove(&k.to_string()));
                    }
                    Op::RetainOdd => {
                        let before = lru.len();
                        let removed = lru.retain(|_, v| v % 2 == 1);
                        live.retain(|_, v| *v % 2 == 1);
                        prop_assert_eq!(before - removed, lru.len());
                    }
                }
                prop_assert!(lru.bytes() <= max_bytes);
                prop_assert!(lru.len() <= max_entries);
                prop_assert_eq!(lru.len(), live.len());
                prop_assert_eq!(lru.bytes(), live.values().sum::<usize>());
                let listed = order(&lru);
                prop_assert_eq!(listed.len(), lru.len());
                for key in &listed {
                    prop_assert_eq!(lru.peek(key).copied(), live.get(key).copied());
                }
            }
        }
    }
}
