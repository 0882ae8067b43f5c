//! Uncounted control routes: `/__stats`, `/__reset`, `/__config`.

use super::json;
use crate::params::Params;
use crate::state::{lock, AppState, FaultConfig};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/__stats", get(stats))
        .route("/__reset", post(reset))
        .route("/__config", get(get_config).post(set_config))
}

async fn stats(State(state): State<AppState>, p: Params) -> Response {
    let body = lock(&state.stats).to_json(&p.run());
    json(StatusCode::OK, body)
}

/// `?run=ID` clears one run; no `run` clears everything (including the fault config).
async fn reset(State(state): State<AppState>, p: Params) -> Response {
    match p.get("run") {
        Some(run) => state.reset_run(run),
        None => state.reset_all(),
    }
    json(StatusCode::OK, json!({"ok": true, "run": p.get("run")}))
}

/// Whole numbers as JSON integers, so `0` reads as `0` rather than `0.0`.
fn num(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

fn config_json(c: &FaultConfig) -> Value {
    json!({
        "latencyMs": num(c.latency_ms),
        "jitterMs": num(c.jitter_ms),
        "errorRate": num(c.error_rate),
        "rateLimitRate": num(c.rate_limit_rate),
        "retryAfterSec": c.retry_after_sec,
    })
}

async fn get_config(State(state): State<AppState>) -> Response {
    let c = lock(&state.config).clone();
    json(StatusCode::OK, config_json(&c))
}

const KNOWN_KEYS: &[&str] = &[
    "latencyMs",
    "jitterMs",
    "errorRate",
    "rateLimitRate",
    "retryAfterSec",
];

/// Partial update from a JSON object; unknown keys are ignored, wrong types are a 400.
async fn set_config(State(state): State<AppState>, body: Bytes) -> Response {
    let patch: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return json(
                StatusCode::BAD_REQUEST,
                json!({"error": "body must be a JSON object"}),
            )
        }
    };
    let mut c = lock(&state.config).clone();
    for (key, value) in patch.as_object().into_iter().flatten() {
        if !KNOWN_KEYS.contains(&key.as_str()) {
            continue;
        }
        let Some(x) = value.as_f64().filter(|x| x.is_finite() && *x >= 0.0) else {
            return json(
                StatusCode::BAD_REQUEST,
                json!({"error": format!("{key} must be a non-negative number")}),
            );
        };
        match key.as_str() {
            "latencyMs" => c.latency_ms = x,
            "jitterMs" => c.jitter_ms = x,
            "errorRate" => c.error_rate = x.min(1.0),
            "rateLimitRate" => c.rate_limit_rate = x.min(1.0),
            "retryAfterSec" => c.retry_after_sec = x.ceil() as u64,
            _ => {}
        }
    }
    *lock(&state.config) = c.clone();
    json(StatusCode::OK, config_json(&c))
}
