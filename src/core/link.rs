//! The `Link` header (RFC 8288): finding the target of `rel="next"` for pagination.
//!
//! A header may list several links, separated by commas, each `<target>` followed by
//! `; name=value` parameters whose values are tokens or quoted strings (which may hold commas,
//! semicolons and `\`-escapes). `rel` holds one or more space-separated relation types,
//! compared case-insensitively.

use crate::prelude::*;

use super::text;

/// One link of a `Link` header: its target (as written, maybe relative) and its `rel` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The text between `<` and `>`.
    pub target: String,
    /// The `rel` parameter's value (unquoted), empty when absent.
    pub rel: String,
}

impl Link {
    /// Whether `rel` lists `relation` (case-insensitive).
    pub fn has_rel(&self, relation: &str) -> bool {
        self.rel.split_ascii_whitespace().any(|r| r.eq_ignore_ascii_case(relation))
    }
}

/// Every well-formed link in `header`, in order; a malformed part is skipped up to the next
/// top-level comma.
pub fn parse(header: &str) -> Vec<Link> {
    let b = header.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        // Skip separators up to the next '<'.
        while i < b.len() && (b[i] == b',' || b[i].is_ascii_whitespace()) {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        if b[i] != b'<' {
            i = skip_to_comma(b, i);
            continue;
        }
        let Some(close) = b[i + 1..].iter().position(|&c| c == b'>') else { break };
        let target = text::part(header, i + 1, i + 1 + close).trim().to_owned();
        i = i + 1 + close + 1;
        let mut rel = None;
        // Parameters, up to a top-level comma.
        loop {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i >= b.len() || b[i] == b',' {
                break;
            }
            if b[i] != b';' {
                i = skip_to_comma(b, i);
                break;
            }
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let name_start = i;
            while i < b.len() && !matches!(b[i], b'=' | b';' | b',') && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            let name = text::part(header, name_start, i);
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let mut value = String::new();
            if i < b.len() && b[i] == b'=' {
                i += 1;
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i < b.len() && b[i] == b'"' {
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        if b[i] == b'\\' && i + 1 < b.len() {
                            i += 1;
                        }
                        // Push whole characters (the header may hold UTF-8).
                        let ch_len = utf8_len(b[i]);
                        value.push_str(text::part(header, i, (i + ch_len).min(b.len())));
                        i += ch_len;
                    }
                    i += 1; // the closing quote
                } else {
                    let start = i;
                    while i < b.len() && !matches!(b[i], b';' | b',') && !b[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    value.push_str(text::part(header, start, i));
                }
            }
            // The first `rel` wins (RFC 8288 §3.3).
            if rel.is_none() && name.eq_ignore_ascii_case("rel") {
                rel = Some(value);
            }
        }
        out.push(Link { target, rel: rel.unwrap_or_default() });
    }
    out
}

/// The target of the first link whose `rel` lists `next`.
pub fn next_target(header: &str) -> Option<String> {
    parse(header).into_iter().find(|l| l.has_rel("next")).map(|l| l.target)
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// The index of the next comma outside quotes (or the end).
fn skip_to_comma(b: &[u8], mut i: usize) -> usize {
    let mut quoted = false;
    while i < b.len() {
        match b[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b',' if !quoted => return i,
            _ => {}
        }
        i += 1;
    }
    i
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn one_link() {
        assert_eq!(next_target("</pages?page=2&total=5>; rel=\"next\""), Some("/pages?page=2&total=5".into()));
        assert_eq!(next_target("<https://a.example/p/2>; rel=next"), Some("https://a.example/p/2".into()));
        assert_eq!(next_target("</p/1>; rel=\"prev\""), None);
        assert_eq!(next_target(""), None);
    }

    #[test]
    fn several_links_and_rel_values() {
        let h = "<https://api.example.com/x?page=1>; rel=\"first\", <https://api.example.com/x?page=3>; rel=\"next last\"; title=\"a, b; c\", <https://api.example.com/x?page=9>; rel=\"next\"";
        assert_eq!(next_target(h), Some("https://api.example.com/x?page=3".into()));
        let links = parse(h);
        assert_eq!(links.len(), 3);
        assert!(links[1].has_rel("last"));
        assert!(links[0].has_rel("FIRST"));
        // GitHub's style, with commas inside the URLs' query.
        let gh = "<https://api.github.com/r?page=2&a=1,2>; rel=\"next\", <https://api.github.com/r?page=5>; rel=\"last\"";
        assert_eq!(next_target(gh), Some("https://api.github.com/r?page=2&a=1,2".into()));
    }

    #[test]
    fn parameters_in_any_order_and_case() {
        assert_eq!(next_target("</b>; title=\"x\"; REL=\"Next\""), Some("/b".into()));
        assert_eq!(next_target("</a>;rel=prev,</b>;rel=next"), Some("/b".into()));
        // Only the first rel counts.
        assert_eq!(next_target("</a>; rel=prev; rel=next"), None);
        // An escaped quote inside a quoted value.
        assert_eq!(next_target("</a>; title=\"say \\\"hi\\\", rel=next\"; rel=\"prev\", </b>; rel=\"next\""), Some("/b".into()));
    }

    #[test]
    fn malformed_parts_are_skipped() {
        assert_eq!(next_target("garbage; rel=next, </ok>; rel=next"), Some("/ok".into()));
        assert_eq!(next_target("</unclosed; rel=next"), None);
        assert_eq!(next_target("</a>; rel=\"nex"), None);
        assert_eq!(next_target("</é>; rel=\"next\"; title=\"é\""), Some("/é".into()));
    }
}
