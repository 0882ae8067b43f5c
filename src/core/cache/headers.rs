//! Header lookups and the delta-seconds number format, shared by the cache rules.

use crate::prelude::*;

/// RFC 9111 §1.2.2: a delta-seconds too large to represent counts as 2^31 seconds.
const MAX_DELTA_SECONDS: u64 = 1 << 31;

/// `1*DIGIT` as seconds, saturating at 2^31.
pub(super) fn delta_seconds(s: &str) -> Option<f64> {
    if !crate::core::http_date::all_digits(s) {
        return None;
    }
    // By bytes: a `char` pattern links core's UTF-8 decoding.
    let mut zeros = 0;
    while s.as_bytes().get(zeros) == Some(&b'0') {
        zeros += 1;
    }
    let significant = crate::core::text::part(s, zeros, s.len());
    // Eleven digits already exceed 2^31, and `u64` itself overflows past twenty.
    let n = if significant.len() > 10 {
        MAX_DELTA_SECONDS
    } else if significant.is_empty() {
        0
    } else {
        crate::core::text::parse_u64(significant)?.min(MAX_DELTA_SECONDS)
    };
    Some(n as f64)
}

/// Every value of the fields named `name` (compared case-insensitively), in order.
pub(super) fn values<'a>(
    headers: &'a [(String, String)],
    name: &'a str,
) -> impl Iterator<Item = &'a str> {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The value of the first field named `name` (compared case-insensitively).
pub(super) fn first<'a>(headers: &'a [(String, String)], name: &'a str) -> Option<&'a str> {
    values(headers, name).next()
}

/// Test fixtures shared by the cache rules' tests.
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(super) mod testing {
    use crate::prelude::*;

    /// 2023-11-14T22:13:20Z.
    pub(crate) const T0: f64 = 1_700_000_000_000.0;
    pub(crate) const T0_DATE: &str = "Tue, 14 Nov 2023 22:13:20 GMT";

    /// Owned header pairs from literals.
    pub(crate) fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }
}
