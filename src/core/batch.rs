//! Batch collection for the loader: collecting distinct keys, encoding them, building the
//! batch URL from a `{keys}` template, and splitting a batch so that every request respects
//! both `maxBatchSize` and `maxUrlLength`.
//!
//! Keys are compared by their string form (what `String(key)` gives in JS), so that the id
//! `1` and the id `"1"` are the same key.

use crate::prelude::*;

use core::ops::Range;

use crate::core::str_map::StrMap;

/// The placeholder a URL template holds; replaced by the comma-joined, encoded keys.
pub const KEYS_PLACEHOLDER: &str = "{keys}";

/// The distinct keys of one batch, in the order they were first loaded.
#[derive(Default, Debug, Clone)]
pub struct Collector {
    keys: Vec<String>,
    index: StrMap,
}

impl Collector {
    /// An empty collection.
    pub fn new() -> Collector {
        Collector::default()
    }

    /// Adds `key`; returns its position and whether it was new (false for a duplicate,
    /// which joins the position of the first load).
    pub fn push(&mut self, key: &str) -> (usize, bool) {
        if let Some(&i) = self.index.get(key) {
            return (i, false);
        }
        let i = self.keys.len();
        self.keys.push(key.to_owned());
        self.index.insert(key.to_owned(), i);
        (i, true)
    }

    /// The position of `key`, if it was collected.
    pub fn position(&self, key: &str) -> Option<usize> {
        self.index.get(key).copied()
    }

    /// How many distinct keys were collected.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The distinct keys, in first-load order.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }
}

/// `encodeURIComponent(key)`: every byte of the UTF-8 form except `A–Z a–z 0–9 - _ . ! ~ * ' ( )`
/// becomes `%XX` (upper-case hex).
pub fn encode_key(key: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(key.len());
    for &b in key.as_bytes() {
        let keep = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')');
        if keep {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
    out
}

/// A batch URL template: the text around each `{keys}` placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlTemplate {
    /// The text between placeholders; one more part than there are placeholders.
    parts: Vec<String>,
}

impl UrlTemplate {
    /// Splits `template` around every `{keys}`; `None` when it holds none.
    pub fn parse(template: &str) -> Option<UrlTemplate> {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some((part, after)) = super::text::split_once(rest, KEYS_PLACEHOLDER) {
            parts.push(part.to_owned());
            rest = after;
        }
        if parts.is_empty() {
            return None;
        }
        parts.push(rest.to_owned());
        Some(UrlTemplate { parts })
    }

    /// How many placeholders the template holds (at least 1).
    pub fn slots(&self) -> usize {
        self.parts.len() - 1
    }

    /// The length of the template without its placeholders.
    pub fn fixed_len(&self) -> usize {
        self.parts.iter().map(String::len).sum()
    }

    /// The length of the URL for keys whose encoded, comma-joined form is `joined_len` long.
    pub fn len_with(&self, joined_len: usize) -> usize {
        self.fixed_len() + self.slots() * joined_len
    }

    /// The URL for `encoded` keys (already encoded with [`encode_key`]), comma-joined.
    pub fn build(&self, encoded: &[String]) -> String {
        let joined_len = joined_len(encoded.iter().map(String::len));
        let mut joined = String::with_capacity(joined_len);
        for (i, k) in encoded.iter().enumerate() {
            if i > 0 {
                joined.push(',');
            }
            joined.push_str(k);
        }
        let mut url = String::with_capacity(self.len_with(joined_len));
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                url.push_str(&joined);
            }
            url.push_str(part);
        }
        url
    }
}

/// The length of the comma-joined form of keys of these lengths.
fn joined_len(lens: impl Iterator<Item = usize>) -> usize {
    let mut total = 0;
    let mut n: usize = 0;
    for l in lens {
        total += l;
        n += 1;
    }
    total + n.saturating_sub(1)
}

/// Splits keys (given by their encoded lengths, in order) into consecutive ranges such that
/// each has at most `max_batch_size` keys and its URL from `template` is at most
/// `max_url_length` long. A key whose URL alone is longer still gets a request of its own
/// (it cannot be split further); nothing is dropped and order is kept.
pub fn chunk(encoded_lens: &[usize], template: &UrlTemplate, max_batch_size: usize, max_url_length: usize) -> Vec<Range<usize>> {
    let max_batch_size = max_batch_size.max(1);
    let mut out = Vec::new();
    let mut start = 0;
    // The comma-joined length of keys[start..i].
    let mut joined = 0usize;
    for (i, &len) in encoded_lens.iter().enumerate() {
        let count = i - start;
        let grown = if count == 0 { len } else { joined + 1 + len };
        let too_many = count >= max_batch_size;
        let too_long = count > 0 && template.len_with(grown) > max_url_length;
        if too_many || too_long {
            out.push(start..i);
            start = i;
            joined = len;
        } else {
            joined = grown;
        }
    }
    if start < encoded_lens.len() {
        out.push(start..encoded_lens.len());
    }
    out
}

/// Splits `0..len` into ranges of at most `max_batch_size`, then halves any range that
/// `build` refuses (its second value false) until it is accepted or holds one key, which is
/// always kept. For URLs made by a function, whose length is only known once built. The
/// ranges come back in order, each with what `build` made for it.
pub fn bisect<T>(len: usize, max_batch_size: usize, mut build: impl FnMut(Range<usize>) -> (T, bool)) -> Vec<(Range<usize>, T)> {
    let max_batch_size = max_batch_size.max(1);
    let mut out = Vec::new();
    let mut start = 0;
    while start < len {
        let end = start.saturating_add(max_batch_size).min(len);
        // A stack of ranges still to try, the leftmost on top.
        #[allow(clippy::single_range_in_vec_init)]
        let mut todo = vec![start..end];
        while let Some(r) = todo.pop() {
            let (made, fits) = build(r.clone());
            if fits || r.len() <= 1 {
                out.push((r, made));
            } else {
                let mid = r.start + r.len() / 2;
                todo.push(mid..r.end);
                todo.push(r.start..mid);
            }
        }
        start = end;
    }
    out
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn lens(keys: &[&str]) -> Vec<usize> {
        keys.iter().map(|k| encode_key(k).len()).collect()
    }

    #[test]
    fn collector_dedupes_in_order() {
        let mut c = Collector::new();
        assert_eq!(c.push("3"), (0, true));
        assert_eq!(c.push("1"), (1, true));
        assert_eq!(c.push("3"), (0, false));
        assert_eq!(c.keys(), ["3", "1"]);
        assert_eq!(c.position("1"), Some(1));
        assert_eq!(c.position("2"), None);
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn encodes_like_encode_uri_component() {
        assert_eq!(encode_key("abc-_.!~*'()09"), "abc-_.!~*'()09");
        assert_eq!(encode_key("a b,c/d?e&f=g"), "a%20b%2Cc%2Fd%3Fe%26f%3Dg");
        assert_eq!(encode_key("é"), "%C3%A9");
        assert_eq!(encode_key("%"), "%25");
        assert_eq!(encode_key(""), "");
    }

    #[test]
    fn templates() {
        assert_eq!(UrlTemplate::parse("/items?ids=1"), None);
        let t = UrlTemplate::parse("/items?ids={keys}&run=r").unwrap();
        assert_eq!(t.slots(), 1);
        assert_eq!(t.fixed_len(), "/items?ids=&run=r".len());
        let url = t.build(&["1".into(), "a%20b".into()]);
        assert_eq!(url, "/items?ids=1,a%20b&run=r");
        assert_eq!(url.len(), t.len_with(7));
        let two = UrlTemplate::parse("{keys}/x?k={keys}").unwrap();
        assert_eq!(two.slots(), 2);
        assert_eq!(two.build(&["a".into(), "b".into()]), "a,b/x?k=a,b");
        assert_eq!(two.build(&[]), "/x?k=");
    }

    #[test]
    fn chunks_by_batch_size() {
        let t = UrlTemplate::parse("/i?ids={keys}").unwrap();
        let keys: Vec<String> = (0..250).map(|i| i.to_string()).collect();
        let l: Vec<usize> = keys.iter().map(|k| k.len()).collect();
        let c = chunk(&l, &t, 100, usize::MAX);
        assert_eq!(c, vec![0..100, 100..200, 200..250]);
        assert_eq!(chunk(&[], &t, 100, 2000), Vec::<Range<usize>>::new());
    }

    #[test]
    fn chunks_by_url_length() {
        let t = UrlTemplate::parse("/i?ids={keys}").unwrap(); // fixed 7
        // 10 keys of 3 chars: all in one URL is 7 + 10*3 + 9 = 46.
        let l = lens(&["aaa"; 10]);
        assert_eq!(chunk(&l, &t, 100, 46), vec![0..10]);
        // 45: the 10th key does not fit.
        assert_eq!(chunk(&l, &t, 100, 45), vec![0..9, 9..10]);
        // Room for exactly 2 keys (7 + 3 + 1 + 3 = 14).
        assert_eq!(chunk(&l, &t, 100, 14), vec![0..2, 2..4, 4..6, 6..8, 8..10]);
        // A key too long for any URL still goes alone.
        assert_eq!(chunk(&[1, 50, 1], &t, 100, 20), vec![0..1, 1..2, 2..3]);
    }

    #[test]
    fn bisects_until_it_fits() {
        // Fits when the range holds at most 3 keys.
        let mut calls = 0;
        let out = bisect(10, 8, |r| {
            calls += 1;
            let fits = r.len() <= 3;
            (r.start, fits)
        });
        let ranges: Vec<Range<usize>> = out.iter().map(|(r, _)| r.clone()).collect();
        assert_eq!(ranges, vec![0..2, 2..4, 4..6, 6..8, 8..10]);
        assert!(calls < 20);
        // A single key that never fits is kept.
        let out = bisect(2, 8, |_| ((), false));
        assert_eq!(out.len(), 2);
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{1,6}",
            "[a-z ,/é]{0,12}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, .. ProptestConfig::default() })]

        /// Every key lands in exactly one chunk, in order; every chunk respects the batch
        /// size, and the URL limit unless it holds a single key.
        #[test]
        fn chunks_cover_every_key_once_within_limits(
            raw in proptest::collection::vec(key(), 0..300),
            max_batch_size in 1usize..120,
            max_url_length in 1usize..600,
            prefix in "[a-z/?=]{0,30}",
        ) {
            let mut collector = Collector::new();
            for k in &raw {
                collector.push(k);
            }
            let keys = collector.keys();
            let encoded: Vec<String> = keys.iter().map(|k| encode_key(k)).collect();
            let template = UrlTemplate::parse(&(prefix + "{keys}&run=x")).unwrap();
            let l: Vec<usize> = encoded.iter().map(String::len).collect();
            let chunks = chunk(&l, &template, max_batch_size, max_url_length);
            let mut next = 0;
            for r in &chunks {
                prop_assert_eq!(r.start, next, "contiguous, in order");
                prop_assert!(!r.is_empty());
                prop_assert!(r.len() <= max_batch_size);
                let url = template.build(&encoded[r.clone()]);
                prop_assert!(url.len() <= max_url_length || r.len() == 1, "url {} > {}", url.len(), max_url_length);
                // Greedy: the next key would not have fitted.
                if r.end < keys.len() && r.len() < max_batch_size {
                    let longer = template.build(&encoded[r.start..r.end + 1]);
                    prop_assert!(longer.len() > max_url_length);
                }
                next = r.end;
            }
            prop_assert_eq!(next, keys.len());
            // Distinct keys only.
            let mut sorted = keys.to_vec();
            sorted.sort();
            sorted.dedup();
            prop_assert_eq!(sorted.len(), keys.len());
        }

        /// Bisecting covers every key once, in order, within the batch size and the fit.
        #[test]
        fn bisect_covers_every_key_once(len in 0usize..300, max_batch_size in 1usize..120, fit in 1usize..50) {
            let out = bisect(len, max_batch_size, |r| ((), r.len() <= fit));
            let mut next = 0;
            for (r, _) in &out {
                prop_assert_eq!(r.start, next);
                prop_assert!(!r.is_empty() && r.len() <= max_batch_size && r.len() <= fit);
                next = r.end;
            }
            prop_assert_eq!(next, len);
        }
    }
}
