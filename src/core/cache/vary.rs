//! `Vary` (RFC 9111 §4.1): the request headers a response varies on, and the secondary key
//! they give a request.

use crate::prelude::*;

use super::headers::values;
use crate::core::text::{part, split};

/// The request headers a response varies on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VaryNames {
    /// Lower-case, trimmed, sorted and deduplicated, so equal lists compare equal however the
    /// server wrote them. Default empty.
    pub names: Vec<String>,
    /// Whether `*` was listed (then the response is never stored). Default false.
    pub star: bool,
}

/// Reads every `vary` field in `headers`.
pub fn vary_names(headers: &[(String, String)]) -> VaryNames {
    let mut vary = VaryNames::default();
    for value in values(headers, "vary") {
        for name in split(value, b',') {
            let name = crate::core::text::trim(name);
            if name == "*" {
                vary.star = true;
            } else if !name.is_empty() {
                // Sorted insertion: Vary lists are a handful of names, and `sort` would link
                // a few KB of sorting code into the wasm.
                let name = name.to_ascii_lowercase();
                if let Err(at) = vary.names.binary_search(&name) {
                    vary.names.insert(at, name);
                }
            }
        }
    }
    vary
}

/// The secondary cache key: for each of `names`, the request's value or its absence.
///
/// Repeated request fields are combined and each comma-separated element trimmed (RFC 9111
/// §4.1 allows this normalisation), so `"en,fr"`, `"en, fr"` and two fields `en` and `fr` match.
/// Values keep their case. An absent header and an empty one give different keys, and the
/// encoding is unambiguous whatever the names and values contain.
pub fn vary_key(names: &[String], request_headers: &[(String, String)]) -> String {
    let mut key = String::new();
    for name in names {
        push_escaped(&mut key, name);
        let mut present = false;
        let mut first_element = true;
        for value in values(request_headers, name) {
            if !present {
                key.push_str("=");
                present = true;
            }
            for element in split(value, b',') {
                let element = crate::core::text::trim(element);
                if element.is_empty() {
                    continue;
                }
                if !first_element {
                    key.push_str(",");
                }
                first_element = false;
                push_escaped(&mut key, element);
            }
        }
        key.push_str("\n");
    }
    key
}

/// Escapes the key's separators so no name or value can forge another entry.
fn push_escaped(key: &mut String, s: &str) {
    // By bytes, copying the runs between separators: they are ASCII, so never inside a
    // multi-byte char (`chars()` and `String::push` would link UTF-8 decoding and encoding).
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'\\' => "\\\\",
            b'=' => "\\=",
            b',' => "\\,",
            b'\n' => "\\n",
            _ => continue,
        };
        key.push_str(part(s, start, i));
        key.push_str(escaped);
        start = i + 1;
    }
    key.push_str(part(s, start, s.len()));
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::core::cache::headers::testing::h;

    #[test]
    fn vary_names_are_normalised() {
        let vary = vary_names(&h(&[
            ("vary", " Accept-Language , accept-encoding,,"),
            ("Vary", "ACCEPT-LANGUAGE, Origin"),
        ]));
        assert_eq!(
            vary,
            VaryNames {
                names: vec![
                    "accept-encoding".into(),
                    "accept-language".into(),
                    "origin".into()
                ],
                star: false
            }
        );
        assert!(vary_names(&h(&[("vary", "origin, *")])).star);
        assert_eq!(vary_names(&h(&[])), VaryNames::default());
    }

    #[test]
    fn vary_key_separates_values() {
        let names = vec!["accept-language".to_owned()];
        let en = vary_key(&names, &h(&[("accept-language", "en")]));
        let fr = vary_key(&names, &h(&[("accept-language", "fr")]));
        let absent = vary_key(&names, &h(&[("accept", "en")]));
        let empty = vary_key(&names, &h(&[("accept-language", "")]));
        let blank = vary_key(&names, &h(&[("accept-language", "  ")]));
        assert_ne!(en, fr);
        assert_ne!(absent, empty);
        assert_eq!(empty, blank);
        assert_eq!(en, vary_key(&names, &h(&[("Accept-Language", " en ")])));
        // Normalised combining: one field or two, spaces or not.
        let two = vary_key(
            &names,
            &h(&[("accept-language", "en"), ("accept-language", "fr")]),
        );
        assert_eq!(two, vary_key(&names, &h(&[("accept-language", "en, fr")])));
        assert_eq!(two, vary_key(&names, &h(&[("accept-language", "en,fr")])));
        assert_ne!(two, vary_key(&names, &h(&[("accept-language", "fr, en")])));
        assert_ne!(en, vary_key(&names, &h(&[("accept-language", "EN")])));
        assert_eq!(vary_key(&[], &h(&[("accept-language", "en")])), "");
    }

    #[test]
    fn vary_key_cannot_be_forged() {
        let ab = vec!["a".to_owned(), "b".to_owned()];
        let a = vec!["a".to_owned()];
        // A value that looks like the next entry does not collide with it.
        let forged = vary_key(&a, &h(&[("a", "1\nb=2")]));
        let real = vary_key(&ab, &h(&[("a", "1"), ("b", "2")]));
        assert_ne!(forged, real);
        let forged = vary_key(&a, &h(&[("a", "1\\\nb=2")]));
        assert_ne!(forged, real);
        // An absent header against a value that spells "absent".
        assert_ne!(
            vary_key(&ab, &h(&[("b", "x")])),
            vary_key(&ab, &h(&[("a", "\nb=x")]))
        );
        assert_ne!(
            vary_key(&a, &h(&[("a", "x,y")])),
            vary_key(&a, &h(&[("a", "x\\,y")]))
        );
    }
}
