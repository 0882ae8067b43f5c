//! The hash the crate's maps use, FNV-1a in place of SipHash: in `core::str_map` (the
//! machine's maps) and in hashbrown, std's own map (the Rust API's).
//!
//! The keys are URLs, cache keys and host names of the page's own requests, and the item keys
//! of a loader's batch answer. Only the last come from a server, and a server that crafted
//! colliding keys would slow the page's own lookups in one batch of its own answer, nothing
//! more; so resistance to collision flooding buys little here, while SipHash (or foldhash)
//! costs a few hundred bytes of wasm for every map and FNV-1a a few instructions.

#[cfg(feature = "web")]
use core::hash::BuildHasherDefault;
use core::hash::Hasher;

/// A hash map with [`Fnv`]; build one with `HashMap::default()`. Only the Rust API uses one.
#[cfg(feature = "web")]
pub(crate) type HashMap<K, V> = hashbrown::HashMap<K, V, BuildHasherDefault<Fnv>>;
/// A hash set with [`Fnv`]; build one with `HashSet::default()`. Only the Rust API uses one.
#[cfg(feature = "web")]
pub(crate) type HashSet<K> = hashbrown::HashSet<K, BuildHasherDefault<Fnv>>;

/// 64-bit FNV-1a.
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use core::hash::BuildHasher;

    #[test]
    fn fnv_1a_matches_the_reference_values() {
        // From the FNV reference: the empty string is the offset basis; "a" is 0xaf63dc4c8601ec8c.
        let hash = |s: &[u8]| {
            let mut h = Fnv::default();
            h.write(s);
            h.finish()
        };
        assert_eq!(hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash(b"foobar"), 0x8594_4171_f739_67e8);
        // The maps hash through it: keys differing in one byte get different hashes.
        let build = BuildHasherDefault::<Fnv>::default();
        assert_ne!(build.hash_one("/users/1"), build.hash_one("/users/2"));
    }
}
