//! Substring search, replace and slicing without core's panicking paths.
//!
//! `str::find(&str)`, `contains`, `replace` and `&s[a..b]` each link core's two-way searcher
//! and the panic that formats a bad char boundary (with its `char` Debug and Unicode tables):
//! about 6 KiB of wasm for strings that are a few dozen bytes long here. These do the same
//! with a plain byte scan; a needle that is valid UTF-8 only ever matches on char boundaries.

#[cfg(feature = "web")]
use crate::prelude::*;

/// The byte offset of the first `needle` in `haystack`; `Some(0)` for an empty needle.
pub fn find(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    // A loop, not a range's `find` (smaller in the wasm). An empty needle matches at 0.
    let mut i = 0;
    while i + n.len() <= h.len() {
        if h.get(i..i + n.len()) == Some(n) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Whether `haystack` holds `needle`.
#[cfg(feature = "web")]
pub fn contains(haystack: &str, needle: &str) -> bool {
    find(haystack, needle).is_some()
}

/// `s` with every `from` replaced by `to`, left to right, without overlaps. An empty `from`
/// leaves `s` as it is (std's `replace` would put `to` between every char).
#[cfg(feature = "web")]
pub fn replace(s: &str, from: &str, to: &str) -> String {
    if from.is_empty() {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = find(rest, from) {
        out.push_str(part(rest, 0, i));
        out.push_str(to);
        rest = part(rest, i + from.len(), rest.len());
    }
    out.push_str(rest);
    out
}

/// The text before and after the first `separator`.
pub fn split_once<'a>(s: &'a str, separator: &str) -> Option<(&'a str, &'a str)> {
    let i = find(s, separator)?;
    Some((part(s, 0, i), part(s, i + separator.len(), s.len())))
}

/// The pieces of `s` between each ASCII `separator`, as `str::split` with a `char` gives them,
/// by a plain byte scan (a `char` pattern links core's searcher, `memchr` and UTF-8 encoding).
pub fn split(s: &str, separator: u8) -> Split<'_> {
    Split {
        rest: Some(s),
        separator,
    }
}

/// The non-empty pieces of `s` between runs of ASCII whitespace, as
/// `str::split_ascii_whitespace` gives them.
pub fn split_ascii_whitespace(s: &str) -> impl Iterator<Item = &str> {
    // Separator 0 stands for any ASCII whitespace (NUL itself separates nothing here).
    Split { rest: Some(s), separator: 0 }.filter(|piece| !piece.is_empty())
}

/// The iterator of [`split`].
pub struct Split<'a> {
    rest: Option<&'a str>,
    separator: u8,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        let separator = self.separator;
        // A loop, not `bytes().position` (smaller in the wasm).
        let mut i = 0;
        for b in rest.bytes() {
            if if separator == 0 { b.is_ascii_whitespace() } else { b == separator } {
                self.rest = Some(part(rest, i + 1, rest.len()));
                return Some(part(rest, 0, i));
            }
            i += 1;
        }
        self.rest.take()
    }
}

/// The byte length of the whitespace `char` (`char::is_whitespace`) that `s` starts with
/// (`end` false) or ends with (true), 0 for none. `s` is whole UTF-8, so a whitespace encoding
/// at either end is a whole `char`.
fn space_at(s: &[u8], end: bool) -> usize {
    // The first or last `k` bytes as one big-endian number (0 if `s` is shorter).
    let edge = |k: usize| {
        let w = if end { s.len().checked_sub(k).and_then(|i| s.get(i..)) } else { s.get(..k) };
        w.map_or(0, |w| w.iter().fold(0u32, |n, &b| n << 8 | u32::from(b)))
    };
    if matches!(edge(1), 0x09..=0x0D | 0x20) {
        1
    } else if matches!(edge(2), 0xC285 | 0xC2A0) {
        // U+0085, U+00A0
        2
    } else if matches!(
        edge(3),
        // U+1680, U+2000 to U+200A, U+2028, U+2029, U+202F, U+205F, U+3000
        0xE19A80 | 0xE28080..=0xE2808A | 0xE280A8 | 0xE280A9 | 0xE280AF | 0xE2819F | 0xE38080
    ) {
        3
    } else {
        0
    }
}

/// `s` without leading and trailing whitespace, as `str::trim` gives it, by a byte scan (which
/// links no UTF-8 decoding and no `char` pattern matching).
pub fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    let (mut start, mut end) = (0, b.len());
    while let n @ 1.. = space_at(b.get(start..end).unwrap_or_default(), false) {
        start += n;
    }
    while let n @ 1.. = space_at(b.get(start..end).unwrap_or_default(), true) {
        end -= n;
    }
    part(s, start, end)
}

/// `s` as a decimal `u64`, as `str::parse::<u64>` reads it (an optional `+`, then one or more
/// ASCII digits; `None` past `u64::MAX`). One loop for every integer the wasm parses, instead
/// of core's parser instantiated for each integer type.
pub fn parse_u64(s: &str) -> Option<u64> {
    let digits = s.strip_prefix("+").unwrap_or(s);
    if digits.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

/// `s[start..end]`, for offsets found by scanning for ASCII or for a whole needle, which are
/// always char boundaries; a range that is not gives `""` instead of a panic.
pub fn part(s: &str, start: usize, end: usize) -> &str {
    s.get(start..end).unwrap_or_default()
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn find_agrees_with_std() {
        let cases = [("", ""), ("abc", ""), ("", "a"), ("abc", "c"), ("abcabc", "ca"), ("aaa", "aa"), ("ab", "abc"), ("é://x", "://"), ("x{keys}y", "{keys}")];
        for (h, n) in cases {
            assert_eq!(find(h, n), h.find(n), "find({h:?}, {n:?})");
            #[cfg(feature = "web")]
            assert_eq!(contains(h, n), h.contains(n));
            assert_eq!(split_once(h, n), if n.is_empty() { Some(("", h)) } else { h.split_once(n) });
        }
    }

    #[test]
    #[cfg(feature = "web")]
    fn replace_agrees_with_std() {
        let cases = [("", "a", "b"), ("aaa", "a", "bb"), ("aaaa", "aa", "a"), ("`init.x` and `init`", "`init", "`opts"), ("ünï", "n", "N"), ("abc", "", "x")];
        for (s, from, to) in cases {
            let expected = if from.is_empty() { s.to_owned() } else { s.replace(from, to) };
            assert_eq!(replace(s, from, to), expected, "replace({s:?}, {from:?}, {to:?})");
        }
    }

    #[test]
    fn split_agrees_with_std() {
        let cases = ["", ",", "a", "a,b", ",a,,b,", "é,ü", "a\nb\n"];
        for h in cases {
            for sep in [b',', b'\n'] {
                let ours: Vec<&str> = split(h, sep).collect();
                let std: Vec<&str> = h.split(char::from(sep)).collect();
                assert_eq!(ours, std, "split({h:?}, {sep})");
            }
        }
    }

    #[test]
    fn split_ascii_whitespace_agrees_with_std() {
        for h in ["", " ", "a", " a  b\t\r\nc \x0C", "\x0Ba\x0B", "a\0b", "é ü"] {
            let ours: Vec<&str> = split_ascii_whitespace(h).collect();
            assert_eq!(ours, h.split_ascii_whitespace().collect::<Vec<_>>(), "{h:?}");
        }
    }

    #[test]
    fn parse_u64_agrees_with_std() {
        let cases = [
            "", "+", "-", "0", "+0", "-0", "007", "42", "+42", "-42", " 1", "1 ", "1a", "١",
            "18446744073709551615", "18446744073709551616", "99999999999999999999999", "++1",
        ];
        for s in cases {
            assert_eq!(parse_u64(s), s.parse::<u64>().ok(), "parse_u64({s:?})");
        }
    }

    #[test]
    fn trim_agrees_with_std() {
        let spaces: Vec<char> = (0..=0x3000u32).filter_map(char::from_u32).filter(|c| c.is_whitespace()).collect();
        let others = ['a', 'é', '\u{1681}', '\u{200B}', '\u{2030}', '\u{3001}', '\u{FEFF}', '\u{0B}', '\u{1F}'];
        let mut cases: Vec<String> = vec![String::new()];
        for &w in &spaces {
            for &o in &others {
                cases.push(format!("{w}{o}{w}"));
                cases.push(format!("{w}{w}{o} {o}{w}"));
                cases.push(format!("{o}{w}"));
                cases.push(format!("{w}"));
            }
        }
        for s in &cases {
            assert_eq!(trim(s), s.trim(), "trim({s:?})");
        }
    }

    #[test]
    fn part_never_panics() {
        assert_eq!(part("héllo", 0, 1), "h");
        assert_eq!(part("héllo", 1, 3), "é");
        assert_eq!(part("héllo", 1, 2), "", "inside a char");
        assert_eq!(part("abc", 2, 9), "", "past the end");
        assert_eq!(part("abc", 2, 1), "", "reversed");
    }
}
