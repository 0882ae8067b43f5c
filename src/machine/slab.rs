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
    slots: Vec<(u8, Option<T>)>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Slab<T> {
    /// Stores `value`; returns its id.
    pub fn insert(&mut self, value: T) -> u32 {
        self.len += 1;
        match self.free.pop() {
            Some(index) => {
                let slot = &mut self.slots[index as usize];
                slot.0 = slot.0.wrapping_add(1);
                slot.1 = Some(value);
                (u32::from(slot.0) << INDEX_BITS) | (index + 1)
            }
            None => {
                self.slots.push((0, Some(value)));
                self.slots.len() as u32 & INDEX_MASK
            }
        }
    }

    fn index(&self, id: u32) -> Option<usize> {
        let index = (id & INDEX_MASK).checked_sub(1)? as usize;
        let slot = self.slots.get(index)?;
        if u32::from(slot.0) == id >> INDEX_BITS && slot.1.is_some() {
            Some(index)
        } else {
            None
        }
    }

    /// The record under `id`.
    pub fn get(&self, id: u32) -> Option<&T> {
        self.index(id).and_then(|i| self.slots[i].1.as_ref())
    }

    /// The record under `id`, mutably.
    pub fn get_mut(&mut self, id: u32) -> Option<&mut T> {
        let i = self.index(id)?;
        self.slots[i].1.as_mut()
    }

    /// Whether `id` names a live record.
    pub fn contains(&self, id: u32) -> bool {
        self.index(id).is_some()
    }

    /// Takes the record under `id` out.
    pub fn remove(&mut self, id: u32) -> Option<T> {
        let i = self.index(id)?;
        self.free.push(i as u32);
        self.len -= 1;
        self.slots[i].1.take()
    }

    /// Puts `value` back under `id`, which [`remove`](Self::remove) just freed (its slot is
    /// still free and of the same generation); returns false, storing nothing, otherwise.
    pub fn put_back(&mut self, id: u32, value: T) -> bool {
        let Some(index) = (id & INDEX_MASK).checked_sub(1) else {
            return false;
        };
        let free_again = self.free.last() == Some(&index)
            && self
                .slots
                .get(index as usize)
                .is_some_and(|s| s.1.is_none() && u32::from(s.0) == id >> INDEX_BITS);
        if free_again {
            self.free.pop();
            self.slots[index as usize].1 = Some(value);
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
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.1.is_some())
            .map(|(i, s)| (u32::from(s.0) << INDEX_BITS) | (i as u32 + 1))
            .collect()
    }

    /// Drops every record.
    pub fn clear(&mut self) {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if slot.1.take().is_some() {
                self.free.push(i as u32);
            }
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
