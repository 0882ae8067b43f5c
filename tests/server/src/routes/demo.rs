//! Demo scenes under `/api/` (dashboard, product page, team); fault config applies to these.

use super::collections::{batch, single};
use super::{json, not_found};
use crate::data;
use crate::params::Params;
use crate::state::AppState;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::Value;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/user", get(|| async { ok(data::current_user()) }))
        .route(
            "/api/notifications",
            get(|| async { ok(data::notifications()) }),
        )
        .route("/api/analytics", get(|| async { ok(data::analytics()) }))
        .route(
            "/api/product/{id}",
            get(|Path(id): Path<String>| async move { product(&id, data::product) }),
        )
        .route(
            "/api/product/{id}/reviews",
            get(|Path(id): Path<String>| async move { product(&id, data::reviews) }),
        )
        .route(
            "/api/product/{id}/recommendations",
            get(|Path(id): Path<String>| async move { product(&id, data::recommendations) }),
        )
        .route(
            "/api/product/{id}/inventory",
            get(|Path(id): Path<String>| async move { product(&id, data::inventory) }),
        )
        .route(
            "/api/team",
            get(|p: Params| async move { batch(&p, data::user) }),
        )
        .route(
            "/api/team/{id}",
            get(|Path(id): Path<String>, p: Params| async move { single(&id, &p, data::user) }),
        )
}

fn ok(body: Value) -> Response {
    json(StatusCode::OK, body)
}

fn product(id: &str, make: fn(&str) -> Value) -> Response {
    if id == "missing" || id.starts_with("404") {
        return not_found();
    }
    ok(make(id))
}
