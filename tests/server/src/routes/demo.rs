//! Demo scenes under `/api/` (dashboard, product page, team); fault config applies to these.
//!
//! Routes: `/api/user`, `/api/notifications`, `/api/analytics`, `/api/product/{id}` (with
//! `name`, `price`, `stock` among its keys; `stock` equals the inventory's `totalStock`),
//! `/api/product/{id}/reviews`, `/recommendations`, `/inventory`, `/api/team` (`?ids=` batch
//! like `/users`), `/api/team/{id}`. Product ids `missing` and `404…` are a 404.
//!
//! Every route here takes `fields=a,b,c` (see `crate::fields`): only those top-level keys are
//! returned, e.g. `/api/product/42?fields=name,price,stock` →
//! `{"name":…,"price":…,"stock":…}`. Envelopes filter their items instead:
//! `/api/notifications` and `/api/product/{id}/recommendations` keep their other keys and
//! filter each object in `items`. Unknown names are absent; no `fields` gives the full body.

use super::collections::{batch, single};
use super::{json, not_found};
use crate::params::Params;
use crate::state::AppState;
use crate::{data, fields};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::Value;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/user",
            get(|p: Params| async move { ok(data::current_user(), &p) }),
        )
        .route(
            "/api/notifications",
            get(|p: Params| async move { ok(data::notifications(), &p) }),
        )
        .route(
            "/api/analytics",
            get(|p: Params| async move { ok(data::analytics(), &p) }),
        )
        .route(
            "/api/product/{id}",
            get(|Path(id): Path<String>, p: Params| async move { product(&id, &p, data::product) }),
        )
        .route(
            "/api/product/{id}/reviews",
            get(|Path(id): Path<String>, p: Params| async move { product(&id, &p, data::reviews) }),
        )
        .route(
            "/api/product/{id}/recommendations",
            get(|Path(id): Path<String>, p: Params| async move {
                product(&id, &p, data::recommendations)
            }),
        )
        .route(
            "/api/product/{id}/inventory",
            get(|Path(id): Path<String>, p: Params| async move {
                product(&id, &p, data::inventory)
            }),
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

fn ok(body: Value, p: &Params) -> Response {
    json(StatusCode::OK, fields::select(body, p))
}

fn product(id: &str, p: &Params, make: fn(&str) -> Value) -> Response {
    if id == "missing" || id.starts_with("404") {
        return not_found();
    }
    ok(make(id), p)
}
