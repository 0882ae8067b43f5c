//! Rust events and stats as plain JS objects.

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

use crate::client::{Event, Stats};

fn set(target: &Object, key: &str, value: JsValue) {
    // Setting a data property on a fresh plain object cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), &value);
}

/// `{ type, id, url, method, lane, time, attempt, … }`; fields that do not apply are absent.
pub(crate) fn event_to_js(event: &Event) -> JsValue {
    let o = Object::new();
    set(&o, "type", event.kind.as_str().into());
    set(&o, "id", (event.id as f64).into());
    set(&o, "url", JsValue::from_str(&event.url));
    set(&o, "method", JsValue::from_str(&event.method));
    set(&o, "lane", event.lane.as_str().into());
    set(&o, "time", event.time_ms.into());
    set(&o, "attempt", event.attempt.into());
    if let Some(v) = event.delay_ms {
        set(&o, "delayMs", v.into());
    }
    if let Some(v) = event.reason {
        set(&o, "reason", v.into());
    }
    if let Some(v) = event.status {
        set(&o, "status", v.into());
    }
    if let Some(v) = event.error {
        set(&o, "error", v.as_str().into());
    }
    if let Some(v) = event.source {
        set(&o, "source", v.into());
    }
    if let Some(v) = event.duration_ms {
        set(&o, "durationMs", v.into());
    }
    if let Some(v) = &event.cause {
        set(&o, "cause", v.clone());
    }
    o.into()
}

/// The `ClientStats` object.
pub(crate) fn stats_to_js(s: &Stats) -> JsValue {
    let o = Object::new();
    let n = |v: u64| JsValue::from(v as f64);
    set(&o, "started", n(s.started));
    set(&o, "succeeded", n(s.succeeded));
    set(&o, "failed", n(s.failed));
    set(&o, "retried", n(s.retried));
    set(&o, "deduped", n(s.deduped));
    set(&o, "batched", n(s.batched));
    let hits = Object::new();
    set(&hits, "memory", n(s.memory_hits));
    set(&hits, "persistent", n(s.persistent_hits));
    set(&o, "cacheHits", hits.into());
    set(&o, "cacheMisses", n(s.cache_misses));
    set(&o, "rateLimited", n(s.rate_limited));
    set(&o, "bytes", n(s.bytes));
    o.into()
}
