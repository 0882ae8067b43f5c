//! A small hash map from `String` keys to `usize` values, for the maps the machine keeps
//! (dedupe keys, `Vary` name lists, the LRU's index).
//!
//! Every map of the shipped wasm has this one shape, so a general map buys nothing there:
//! hashbrown was 4.1 KiB of the raw wasm (its one instantiation), this is a fraction of it
//! (measured in the README's size table). Open addressing with linear probing at a load of at
//! most one half, FNV-1a hashes (see `core::hash` for why not SipHash), and deletion by
//! backward shift (Knuth's Algorithm R), so there are no tombstones and lookups never slow
//! down with churn.

use crate::prelude::*;

use core::hash::Hasher;

use super::hash::Fnv;

/// One occupied slot: the key's full hash (compared before the key), the key, the value.
type Slot = Option<(u64, String, usize)>;

/// A map from `String` to `usize`; `StrMap::default()` is empty and allocates nothing.
#[derive(Clone, Debug, Default)]
pub struct StrMap {
    /// A power of two in length (or empty).
    slots: Vec<Slot>,
    len: usize,
}

fn hash(key: &str) -> u64 {
    let mut h = Fnv::default();
    h.write(key.as_bytes());
    h.finish()
}

impl StrMap {
    /// Entries held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The slot holding `key`, or the empty slot where it would go (`None` while no slot exists).
    fn find(&self, key: &str, h: u64) -> Result<usize, Option<usize>> {
        if self.slots.is_empty() {
            return Err(None);
        }
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            match &self.slots[i] {
                None => return Err(Some(i)),
                Some((sh, k, _)) if *sh == h && k == key => return Ok(i),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&usize> {
        let i = self.find(key, hash(key)).ok()?;
        self.slots[i].as_ref().map(|(_, _, v)| v)
    }

    /// The value under `key`, to change in place.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut usize> {
        let i = self.find(key, hash(key)).ok()?;
        self.slots[i].as_mut().map(|(_, _, v)| v)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Puts `value` under `key`; returns the value it replaced.
    pub fn insert(&mut self, key: String, value: usize) -> Option<usize> {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let h = hash(&key);
        match self.find(&key, h) {
            Ok(i) => self.slots[i].as_mut().map(|(_, _, v)| core::mem::replace(v, value)),
            Err(at) => {
                self.slots[at.unwrap_or(0)] = Some((h, key, value));
                self.len += 1;
                None
            }
        }
    }

    /// Twice the slots (at least 8), every entry placed again.
    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(8);
        // Loops and pushes, not iterator chains (each chain was code of its own in the wasm).
        let mut slots = Vec::new();
        for _ in 0..size {
            slots.push(None);
        }
        let old = core::mem::replace(&mut self.slots, slots);
        let mask = size - 1;
        for slot in old {
            let Some((h, key, value)) = slot else { continue };
            let mut i = h as usize & mask;
            while self.slots[i].is_some() {
                i = (i + 1) & mask;
            }
            self.slots[i] = Some((h, key, value));
        }
    }

    /// Takes `key` out; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<usize> {
        let mut hole = self.find(key, hash(key)).ok()?;
        let (_, _, value) = self.slots[hole].take()?;
        self.len -= 1;
        // Close the hole: a later entry of the same run moves back into it unless its home
        // slot lies cyclically in (hole, j], where a lookup for it would stop before the hole.
        let mask = self.slots.len() - 1;
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let Some((h, _, _)) = &self.slots[j] else { break };
            let home = *h as usize & mask;
            let stays = if hole <= j { hole < home && home <= j } else { hole < home || home <= j };
            if !stays {
                self.slots[hole] = self.slots[j].take();
                hole = j;
            }
        }
        Some(value)
    }

    /// Removes every entry, keeping the slots.
    pub fn clear(&mut self) {
        for slot in self.slots.iter_mut() {
            *slot = None;
        }
        self.len = 0;
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, usize),
        Remove(u8),
        Get(u8),
        Bump(u8),
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (any::<u8>(), any::<usize>()).prop_map(|(k, v)| Op::Insert(k, v)),
            4 => any::<u8>().prop_map(Op::Remove),
            3 => any::<u8>().prop_map(Op::Get),
            1 => any::<u8>().prop_map(Op::Bump),
            1 => Just(Op::Clear),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Any sequence of operations gives what std's HashMap gives.
        #[test]
        fn behaves_like_std_hash_map(ops in proptest::collection::vec(op(), 0..300)) {
            let mut ours = StrMap::default();
            let mut std_map: HashMap<String, usize> = HashMap::new();
            // Few distinct keys, so that runs collide, wrap and shift often.
            let key = |k: u8| std::format!("/k/{}", k % 40);
            for op in ops {
                match op {
                    Op::Insert(k, v) => prop_assert_eq!(ours.insert(key(k), v), std_map.insert(key(k), v)),
                    Op::Remove(k) => prop_assert_eq!(ours.remove(&key(k)), std_map.remove(&key(k))),
                    Op::Get(k) => prop_assert_eq!(ours.get(&key(k)), std_map.get(&key(k))),
                    Op::Bump(k) => {
                        if let Some(v) = ours.get_mut(&key(k)) {
                            *v = v.wrapping_add(1);
                        }
                        if let Some(v) = std_map.get_mut(&key(k)) {
                            *v = v.wrapping_add(1);
                        }
                    }
                    Op::Clear => {
                        ours.clear();
                        std_map.clear();
                    }
                }
                prop_assert_eq!(ours.len(), std_map.len());
                for (k, v) in &std_map {
                    prop_assert_eq!(ours.get(k), Some(v));
                    prop_assert!(ours.contains_key(k));
                }
            }
        }
    }

    #[test]
    fn holds_many_keys_and_gives_them_back() {
        let mut m = StrMap::default();
        for i in 0..10_000 {
            assert_eq!(m.insert(std::format!("https://h/{i}"), i), None);
        }
        assert_eq!(m.len(), 10_000);
        for i in (0..10_000).step_by(2) {
            assert_eq!(m.remove(&std::format!("https://h/{i}")), Some(i));
        }
        for i in 0..10_000 {
            let want = if i % 2 == 1 { Some(&i) } else { None };
            assert_eq!(m.get(&std::format!("https://h/{i}")), want);
        }
        assert!(!m.is_empty());
    }
}
