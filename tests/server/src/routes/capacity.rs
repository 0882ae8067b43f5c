//! `/api/capacity`: a server with a capacity, for adaptive concurrency.
//!
//! `GET /api/capacity?knee=K&refuse=R&base=MS&run=RUN` counts the capacity requests of `run` in
//! flight (this one included, as seen at arrival: `n`).
//! - `n > R`: `429` at once, `Retry-After: 1`, `{"error": "over capacity", "inFlight": n}`.
//! - else: waits `MS × max(1, n / K)` ms (latency flat up to the knee, then growing with `n`),
//!   then `200 {"inFlight": n, "latencyMs": ms}`.
//!
//! Defaults: `knee=2`, `refuse=5`, `base=20`. A non-numeric value, `knee ≤ 0`, `refuse < 0` or
//! `base` outside 0..=10000 is a `400 {"error": "<param> must be …", "param": …}`, not counted
//! in flight.
//! The count goes down when the answer is produced or when the client goes away (the handler's
//! future is dropped). It lives in the run's stats: `/__stats?run=` reports `capacityInFlight`
//! and `capacityPeak` (refused arrivals included), and `/__reset?run=` clears both; the 429s sent
//! are `statuses["429"]` there (and each arrival's `status`). Like every `/api/*` route, the
//! `/__config` faults and `latency=` apply before this handler runs.

use super::{json, too_many};
use crate::params::Params;
use crate::state::{lock, AppState};
use crate::stats::CapacityTicket;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use std::time::Duration;

const DEFAULT_KNEE: f64 = 2.0;
const DEFAULT_REFUSE: f64 = 5.0;
const DEFAULT_BASE_MS: f64 = 20.0;
const MAX_BASE_MS: f64 = 10_000.0;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/capacity", get(capacity))
}

/// Takes the request out of the run's capacity count when dropped: on answer or client gone.
struct Slot {
    state: AppState,
    ticket: CapacityTicket,
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.state.stats).capacity_leave(&self.ticket);
    }
}

/// `name`'s value as a finite number accepted by `ok`, or its default when absent.
/// `Err` carries the 400 body naming the parameter.
fn number(
    p: &Params,
    name: &str,
    default: f64,
    ok: fn(f64) -> bool,
    rule: &str,
) -> Result<f64, Value> {
    let Some(raw) = p.get(name) else {
        return Ok(default);
    };
    match raw.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && ok(x) => Ok(x),
        _ => Err(json!({"error": format!("{name} must be {rule}"), "param": name, "value": raw})),
    }
}

/// Whole numbers as JSON integers.
fn num(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

async fn capacity(State(state): State<AppState>, p: Params) -> Response {
    let parsed = number(&p, "knee", DEFAULT_KNEE, |x| x > 0.0, "a number > 0").and_then(|knee| {
        let refuse = number(&p, "refuse", DEFAULT_REFUSE, |x| x >= 0.0, "a number ≥ 0")?;
        let base = number(
            &p,
            "base",
            DEFAULT_BASE_MS,
            |x| (0.0..=MAX_BASE_MS).contains(&x),
            "a number of ms in 0..=10000",
        )?;
        Ok((knee, refuse, base))
    });
    let (knee, refuse, base) = match parsed {
        Ok(v) => v,
        Err(body) => return json(StatusCode::BAD_REQUEST, body),
    };
    let ticket = lock(&state.stats).capacity_enter(&p.run());
    let slot = Slot { state, ticket };
    let n = slot.ticket.in_flight;
    if n as f64 > refuse {
        return too_many("1", json!({"error": "over capacity", "inFlight": n}), false);
    }
    let ms = base * (n as f64 / knee).max(1.0);
    tokio::time::sleep(Duration::from_secs_f64(ms / 1000.0)).await;
    drop(slot);
    json(StatusCode::OK, json!({"inFlight": n, "latencyMs": num(ms)}))
}
