//! Middleware for API routes: records arrivals and in-flight counts, applies `latency=`, and injects
//! the demo faults configured through `/__config` on `/api/*` routes.

use crate::params::Params;
use crate::state::{lock, AppState};
use crate::stats::{Arrival, Ticket, RECORDED_HEADERS};
use axum::extract::{Request, State};
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
    let arrived_ms = state.now_ms();
    let ticket = {
        let mut stats = lock(&state.stats);
        let arrival = Arrival {
            path: path.clone(),
            method: req.method().to_string(),
            t: state.now_ms(),
            query: params.raw.clone(),
            host,
            headers,
            status: None,
            aborted: false,
        };
        stats.arrive(&run, arrival)
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

    let mut resp = match demo {
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
