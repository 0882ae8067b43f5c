//! Header blocks as drivers pass them: `name:value` lines, lower-case names, one `\n` after
//! each (the order `Headers` iterates in). Parsed into pairs only where a rule reads them.

use crate::prelude::*;

use crate::core::text::{split, split_once, trim};

/// Header pairs with lower-case names.
pub type HeaderList = Vec<(String, String)>;

/// Parses a header block; lines without a colon are skipped.
pub fn parse(block: &str) -> HeaderList {
    let mut out = Vec::new();
    for line in split(block, b'\n') {
        if let Some((name, value)) = split_once(line, ":") {
            out.push((trim(name).to_ascii_lowercase(), String::from(trim(value))));
        }
    }
    out
}

/// The first value of `name` (lower case) in a block, without parsing the rest.
pub fn find<'a>(block: &'a str, name: &str) -> Option<&'a str> {
    for line in split(block, b'\n') {
        if let Some((n, v)) = split_once(line, ":") {
            if trim(n).eq_ignore_ascii_case(name) {
                return Some(trim(v));
            }
        }
    }
    None
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_finds_values() {
        let block = "cache-control:max-age=60\netag:\"v1\"\nbroken line\n";
        assert_eq!(
            parse(block),
            vec![
                ("cache-control".into(), "max-age=60".into()),
                ("etag".into(), "\"v1\"".into())
            ]
        );
        assert_eq!(find(block, "etag"), Some("\"v1\""));
        assert_eq!(find(block, "ETag"), Some("\"v1\""));
        assert_eq!(find(block, "vary"), None);
        assert_eq!(find("", "vary"), None);
        // A value may hold colons of its own.
        assert_eq!(
            find("date:Tue, 14 Nov 2023 22:13:20 GMT\n", "date"),
            Some("Tue, 14 Nov 2023 22:13:20 GMT")
        );
    }
}
