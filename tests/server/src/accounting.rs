//! Middleware for API routes: records arrivals and in-flight counts, applies `latency=`, applies
//! the run's `/__faults` rules (see `crate::faults`), and injects the demo faults configured
//! through `/__config` on `/api/*` routes.

use crate::conn::ConnHandle;
use crate::faults::{Applied, Mode};
use crate::params::Params;
use crate::state::{lock, AppState};
use crate::stats::{Arrival, Ticket, RECORDED_HEADERS};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::time::Duration;

/// Longest artificial delay accepted from `latency=` (ms).
const MAX_LATENCY_MS: f64 = 600_000.0;

/// Decrements the in-flight counters even if the client goes away and the future is dropped.
struct InFlight {
    state: AppState,
    ticket: Option<Ticket>,
}

impl InFlight {
    fn finish(mut self, status: u16) {
        if let Some(t) = self.ticket.take() {
            lock(&self.state.stats).finish(&t, Some(status));
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(t) = self.ticket.take() {
            lock(&self.state.stats).finish(&t, None);
        }
    }
}

pub async fn account(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let params = Params::parse(req.uri().query());
    let run = params.run();
    let path = req.uri().path().to_string();
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(String::from)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let headers = RECORDED_HEADERS
        .iter()
        .filter_map(|&name| {
            let v = req.headers().get(name)?;
            Some((
                name.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            ))
        })
        .collect();
    // Stamped under the stats lock, so that the arrivals list is in time order even when
    // requests arrive together.
    // The run's fault rules are consulted under the same lock, so that a `count` is used up in
    // arrival order.
    let arrived_ms = state.now_ms();
    let (ticket, fault) = {
        let mut stats = lock(&state.stats);
        let now = state.now_ms();
        let fault = lock(&state.faults).take(&run, &path, now);
        let arrival = Arrival {
            path: path.clone(),
            method: req.method().to_string(),
            t: now,
            query: params.raw.clone(),
            host,
            headers,
            status: None,
            aborted: false,
            fault: fault.map(|f| f.mode.label()),
        };
        (stats.arrive(&run, arrival), fault)
    };
    let hit_count = ticket.hit_count;
    let guard = InFlight {
        state: state.clone(),
        ticket: Some(ticket),
    };

    let mut delay = params.f64_or("latency", 0.0).clamp(0.0, MAX_LATENCY_MS);
    let demo = if path.starts_with("/api/") {
        Some(lock(&state.config).clone())
    } else {
        None
    };
    if let Some(cfg) = &demo {
        delay += cfg.latency_ms.max(0.0);
        if cfg.jitter_ms > 0.0 {
            delay += state.random() * cfg.jitter_ms;
        }
    }
    if delay > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(delay.min(MAX_LATENCY_MS) / 1000.0)).await;
    }

    let mut resp = match fault {
        Some(Applied {
            mode: Mode::Status(code),
            retry_after_sec,
        }) => fault_response(code, retry_after_sec),
        Some(Applied {
            mode: Mode::Drop | Mode::Down,
            ..
        }) => return drop_connection(&req, guard),
        Some(Applied {
            mode: Mode::DropAfter,
            ..
        }) => {
            let kill = connection(&req);
            let _ = next.run(req).await;
            return drop_with(kill, guard);
        }
        None => match demo {
            Some(cfg) if cfg.error_rate > 0.0 && state.random() < cfg.error_rate => (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"error": "injected failure"})),
            )
                .into_response(),
            Some(cfg) if cfg.rate_limit_rate > 0.0 && state.random() < cfg.rate_limit_rate => (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, cfg.retry_after_sec.to_string())],
                Json(json!({"error": "rate limited"})),
            )
                .into_response(),
            _ => next.run(req).await,
        },
    };
    resp.headers_mut()
        .insert("x-request-count", HeaderValue::from(hit_count));
    if params.flag("serverTiming") {
        // What the server spent: the asked-for wait, and the whole handling of this request.
        let took = state.now_ms() - arrived_ms;
        let value = format!("wait;dur={delay:.1};desc=\"latency param\", app;dur={took:.1}");
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert("server-timing", v);
        }
    }
    guard.finish(resp.status().as_u16());
    resp
}

/// The answer of a `/__faults` status rule.
fn fault_response(code: u16, retry_after_sec: Option<u64>) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut resp = (
        status,
        Json(json!({"error": "injected fault", "fault": code.to_string()})),
    )
        .into_response();
    if let Some(secs) = retry_after_sec {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// The kill switch of the request's connection (absent only when not served by `main`).
pub fn connection(req: &Request) -> Option<ConnHandle> {
    req.extensions()
        .get::<ConnectInfo<ConnHandle>>()
        .map(|ConnectInfo(k)| k.clone())
}

fn drop_connection(req: &Request, guard: InFlight) -> Response {
    drop_with(connection(req), guard)
}

/// Reset the connection instead of answering; the arrival is recorded as aborted, no status.
fn drop_with(kill: Option<ConnHandle>, guard: InFlight) -> Response {
    let body = json!({"error": "this connection should have been dropped"});
    match kill {
        Some(k) => {
            k.kill();
            drop(guard);
            // Never sent: the first write on a killed connection fails.
            (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
        }
        None => {
            guard.finish(500);
            (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
        }
    }
}
