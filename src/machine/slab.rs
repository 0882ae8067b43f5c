//! Records by id in a `Vec`, reusing freed slots: the machine's calls, ops, groups and body
//! references. Cheaper than a hash map on the hot path and in the download (one small
//! generic instead of a hash table per record type).
//!
//! An id is the slot's index plus one in the low 24 bits and the slot's generation in the
//! high 8, so an id that outlived its record (a late event from a driver) finds nothing
//! rather than the slot's next tenant, for 255 reuses of a slot.

use crate::prelude::*;

const INDEX_BITS: u32 = 24;
const INDEX_MASK: u32 = (1 << INDEX_BITS) - 1;

/// Records of type `T` by id. Ids are never 0.
pub struct Slab<T> {
    /// Per slot: the id of its record while it holds one, else the slot's generation alone
    /// (the index bits 0, which no id has). Kept apart from the records so that looking an id
    /// up is one function for every `T` (a generic lookup was copied per record type).
    tags: Vec<u32>,
    slots: Vec<Option<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            tags: Vec::new(),
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }
}

/// The slot of the live record `id`, from the tags alone.
fn find(tags: &[u32], id: u32) -> Option<usize> {
    let index = (id & INDEX_MASK).checked_sub(1)? as usize;
    (tags.get(index) == Some(&id)).then_some(index)
}

impl<T> Slab<T> {
    /// Stores `value`; returns its id.
    // Not inlined (nor `remove`): inlined at each call site it was larger in the wasm.
    #[inline(never)]
    pub fn insert(&mut self, value: T) -> u32 {
        self.len += 1;
        match self.free.pop() {
            Some(index) => {
                let tag = &mut self.tags[index as usize];
                *tag = (*tag & !INDEX_MASK).wrapping_add(1 << INDEX_BITS) | (index + 1);
                self.slots[index as usize] = Some(value);
                *tag
            }
            None => {
                self.slots.push(Some(value));
                let id = self.slots.len() as u32 & INDEX_MASK;
                self.tags.push(id);
                id
            }
        }
    }

    /// The record under `id`.
    pub fn get(&self, id: u32) -> Option<&T> {
        self.slots.get(find(&self.tags, id)?)?.as_ref()
    }

    /// The record under `id`, mutably.
    pub fn get_mut(&mut self, id: u32) -> Option<&mut T> {
        self.slots.get_mut(find(&self.tags, id)?)?.as_mut()
    }

    /// Whether `id` names a live record.
    pub fn contains(&self, id: u32) -> bool {
        find(&self.tags, id).is_some()
    }

    /// Takes the record under `id` out.
    #[inline(never)]
    pub fn remove(&mut self, id: u32) -> Option<T> {
        let i = find(&self.tags, id)?;
        self.free.push(i as u32);
        self.len -= 1;
        self.tags[i] = id & !INDEX_MASK;
        self.slots[i].take()
    }

    /// Puts `value` back under `id`, which [`remove`](Self::remove) just freed (its slot is
    /// still free and of the same generation); returns false, storing nothing, otherwise.
    pub fn put_back(&mut self, id: u32, value: T) -> bool {
        let Some(index) = (id & INDEX_MASK).checked_sub(1) else {
            return false;
        };
        let free_again = self.free.last() == Some(&index) && self.tags.get(index as usize) == Some(&(id & !INDEX_MASK));
        if free_again {
            self.free.pop();
            self.tags[index as usize] = id;
            self.slots[index as usize] = Some(value);
            self.len += 1;
        }
        free_again
    }

    /// How many records are live.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The ids of the live records, in slot order.
    pub fn ids(&self) -> Vec<u32> {
        let mut ids = Vec::new();
        for &tag in &self.tags {
            if tag & INDEX_MASK != 0 {
                ids.push(tag);
            }
        }
        ids
    }

    /// Drops every record.
    pub fn clear(&mut self) {
        for (i, tag) in self.tags.iter_mut().enumerate() {
            if *tag & INDEX_MASK != 0 {
                *tag &= !INDEX_MASK;
                self.free.push(i as u32);
            }
        }
        for slot in self.slots.iter_mut() {
            *slot = None;
        }
        self.len = 0;
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn ids_are_reused_with_a_new_generation() {
        let mut s = Slab::default();
        let a = s.insert("a");
        let b = s.insert("b");
        assert_eq!(s.get(a), Some(&"a"));
        assert_eq!(s.remove(a), Some("a"));
        assert_eq!(s.get(a), None, "a stale id finds nothing");
        let c = s.insert("c");
        assert_ne!(c, a, "same slot, new generation");
        assert_eq!(c & INDEX_MASK, a & INDEX_MASK);
        assert_eq!(s.get(a), None);
        assert_eq!(s.get(c), Some(&"c"));
        assert_eq!(s.len(), 2);
        assert_eq!(s.ids(), vec![c, b]);
        assert_eq!(s.remove(c), Some("c"));
        assert!(s.put_back(c, "c again"));
        assert_eq!(s.get(c), Some(&"c again"));
        assert!(!s.put_back(a, "stale"), "only the id just freed");
        s.clear();
        assert!(s.len() == 0 && s.get(b).is_none());
        assert_eq!(s.get(0), None);
    }
}
