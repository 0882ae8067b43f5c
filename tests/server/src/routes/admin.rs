//! Uncounted control routes: `/__stats`, `/__reset`, `/__config`, `/__faults`.
//!
//! - `GET /__stats?run=ID`: the run's accounting (`crate::stats`), including `collected`
//!   (`crate::routes::outbox`).
//! - `POST /__reset?run=ID`: clear one run (stats, endpoint state, fault rules); without `run`,
//!   everything, the `/__config` knobs too.
//! - `GET`/`POST /__config`: global demo fault knobs for `/api/*`.
//! - `POST /__faults?run=ID` with a rule object or an array of rules (see `crate::faults`):
//!   adds them to the run, answers `{"run", "faults": [rule…]}` (the rules in force); a bad
//!   rule is a 400 `{"error"}` and adds nothing. `GET /__faults?run=ID` answers the same
//!   listing. A listed rule: `{id, mode, path, count, remaining, forMs, msLeft, retryAfterSec,
//!   applied}` (`remaining`: requests left of `count`; `msLeft`: time left of `forMs`; `null`
//!   when not given). `DELETE /__faults?run=ID` removes the run's rules, without `run` every
//!   run's: `{"ok": true, "run", "cleared": n}`.

use super::json;
use crate::faults;
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
        .route(
            "/__faults",
            get(get_faults).post(add_faults).delete(clear_faults),
        )
}

fn faults_json(state: &AppState, run: &str) -> Value {
    let now = state.now_ms();
    json!({"run": run, "faults": lock(&state.faults).listing(run, now)})
}

async fn get_faults(State(state): State<AppState>, p: Params) -> Response {
    json(StatusCode::OK, faults_json(&state, &p.run()))
}

async fn add_faults(State(state): State<AppState>, p: Params, body: Bytes) -> Response {
    let specs = match serde_json::from_slice::<Value>(&body)
        .map_err(|e| format!("body must be JSON: {e}"))
        .and_then(|v| faults::parse(&v))
    {
        Ok(s) => s,
        Err(e) => return json(StatusCode::BAD_REQUEST, json!({"error": e})),
    };
    let run = p.run();
    let now = state.now_ms();
    // A dropped request must come on a new connection, or the browser resends it unseen
    // (see `crate::conn`): close the idle ones now; `Connection: close` does the rest.
    if specs.iter().any(|s| s.mode.drops()) {
        state.conns.close_idle();
    }
    lock(&state.faults).add(&run, specs, now);
    json(StatusCode::OK, faults_json(&state, &run))
}

/// `?run=ID` clears one run's rules; no `run` clears every run's.
async fn clear_faults(State(state): State<AppState>, p: Params) -> Response {
    let now = state.now_ms();
    let cleared = {
        let mut faults = lock(&state.faults);
        match p.get("run") {
            Some(run) => faults.clear_run(run, now),
            None => faults.clear_all(now),
        }
    };
    json(
        StatusCode::OK,
        json!({"ok": true, "run": p.get("run"), "cleared": cleared}),
    )
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
