//! Query-string helper: ordered key/value pairs with typed getters, usable as an axum extractor.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::convert::Infallible;

/// Decoded query parameters in their original order (first value wins on lookup).
#[derive(Clone, Debug, Default)]
pub struct Params {
    pub pairs: Vec<(String, String)>,
    pub raw: String,
}

impl Params {
    pub fn parse(raw: Option<&str>) -> Self {
        let raw = raw.unwrap_or("").to_string();
        let pairs = form_urlencoded::parse(raw.as_bytes())
            .into_owned()
            .collect();
        Params { pairs, raw }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn str_or<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.get(name).unwrap_or(default)
    }

    pub fn u64_or(&self, name: &str, default: u64) -> u64 {
        self.get(name)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(default)
    }

    pub fn f64_or(&self, name: &str, default: f64) -> f64 {
        self.get(name)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite())
            .unwrap_or(default)
    }

    /// True when the flag is present with a truthy value (`1`, `true`, `yes`, or empty).
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("1" | "true" | "yes" | ""))
    }

    /// Comma-separated list, trimmed, empty entries dropped.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The `run` id used for accounting ("" when absent).
    pub fn run(&self) -> String {
        self.str_or("run", "").to_string()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Params::parse(parts.uri.query()))
    }
}
