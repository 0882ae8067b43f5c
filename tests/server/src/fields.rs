//! `fields=a,b,c` sparse fieldsets for the JSON routes that return one object or a list of
//! objects.
//!
//! Rules (applied by [`select`]):
//! - no `fields` parameter, or one that names nothing (`fields=` / `fields=,`): the value as is;
//! - an object: only the listed top-level keys, in the object's own order; unknown names are
//!   simply absent (`fields=nope` gives `{}`);
//! - an array: each object element filtered as above (non-object elements unchanged);
//! - an envelope, i.e. an object with an `items` or `data` array (`/pages?nolink=1`,
//!   `?envelope=1` batches, `/api/notifications`, `/api/product/{id}/recommendations`): the
//!   objects in that array are filtered and the envelope's other keys are kept.
//!
//! Only top-level keys: no dotted paths. Nothing extra is recorded; the arrival's query in
//! `/__stats` already shows the `fields=` a client sent.

use crate::params::Params;
use serde_json::{Map, Value};

/// Keys whose array value makes an object an envelope.
const ENVELOPE_KEYS: &[&str] = &["items", "data"];

/// The field names asked for, or `None` when the response should be returned in full.
fn requested(p: &Params) -> Option<Vec<String>> {
    let names = p.list("fields");
    (!names.is_empty()).then_some(names)
}

fn keep(obj: Map<String, Value>, names: &[String]) -> Map<String, Value> {
    obj.into_iter()
        .filter(|(k, _)| names.iter().any(|n| n == k))
        .collect()
}

fn each(items: Vec<Value>, names: &[String]) -> Vec<Value> {
    items
        .into_iter()
        .map(|v| match v {
            Value::Object(o) => Value::Object(keep(o, names)),
            other => other,
        })
        .collect()
}

/// Applies the request's `fields=` to a response body (see the module doc for the rules).
pub fn select(body: Value, p: &Params) -> Value {
    let Some(names) = requested(p) else {
        return body;
    };
    match body {
        Value::Array(items) => Value::Array(each(items, &names)),
        Value::Object(mut obj) => {
            let envelope = ENVELOPE_KEYS
                .iter()
                .find(|k| obj.get(**k).is_some_and(Value::is_array));
            match envelope {
                Some(key) => {
                    if let Some(Value::Array(items)) = obj.get_mut(*key) {
                        let filtered = each(std::mem::take(items), &names);
                        *items = filtered;
                    }
                    Value::Object(obj)
                }
                None => Value::Object(keep(obj, &names)),
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(q: &str) -> Params {
        Params::parse(Some(q))
    }

    #[test]
    fn objects_lists_and_envelopes() {
        let obj = json!({"id": 1, "name": "a", "price": 2.5, "stock": 3});
        assert_eq!(select(obj.clone(), &p("")), obj);
        assert_eq!(select(obj.clone(), &p("fields=")), obj);
        assert_eq!(
            select(obj.clone(), &p("fields=stock,name,nope")),
            json!({"name": "a", "stock": 3})
        );
        assert_eq!(
            select(json!([obj.clone(), 7]), &p("fields=id")),
            json!([{"id": 1}, 7])
        );
        assert_eq!(
            select(
                json!({"next": 2, "items": [obj.clone()]}),
                &p("fields=price")
            ),
            json!({"next": 2, "items": [{"price": 2.5}]})
        );
        assert_eq!(
            select(json!({"data": [obj]}), &p("fields=%20id%20,")),
            json!({"data": [{"id": 1}]})
        );
    }
}
