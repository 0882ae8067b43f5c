//! Per-run fault schedule (`/__faults`): make a run's requests fail for a while, or for the
//! next N of them, without touching other runs.
//!
//! A rule (the JSON object `POST /__faults?run=ID` takes; an array adds several):
//! - `mode` (required): an HTTP status 400–599 (`"503"`, `429`, `"400"`, …): the request is
//!   answered with it and `{"error": "injected fault", "fault": "503"}`, without running the
//!   route; `"drop"`: the connection is reset without an answer (the route does not run), so
//!   `fetch` rejects with a network error; `"drop-after"`: the route runs (a collector records
//!   the delivery) and then the connection is reset instead of answering, as when an answer is
//!   lost on the way back; `"down"`: `drop` for every path of the run, and the run's CORS
//!   preflights are reset too (without using up `count`).
//! - `path` (optional): the URL path the rule applies to (`/collect/a`); a trailing `*` makes it
//!   a prefix (`/collect/*`); absent: every counted path of the run. Ignored by `down`.
//! - `forMs` (optional): the rule lasts that many ms from now;
//! - `count` (optional, integer): the rule applies to the next `count` matching requests;
//!   with both, the rule ends when either runs out; with neither, it lasts until cleared.
//! - `retryAfterSec` (optional): adds `Retry-After: <n>` (seconds, rounded up) to a status
//!   answer; ignored by the drop modes.
//!
//! Unknown keys are a 400, so that a misspelt `forMs` does not leave a fault on for good.
//!
//! Drops and browsers: a browser silently resends a request whose reused keep-alive connection
//! was reset before any answer (Chrome and Firefox do, POSTs included), so one `fetch` could
//! use up a `count: 1` drop and then succeed. To keep one attempt of the page one dropped
//! request, adding a `drop`/`drop-after`/`down` rule closes the server's idle connections, and
//! while any run has one in force every answer carries `Connection: close` (`crate::conn`):
//! each request then comes on a new connection, and its reset reaches the page as a rejected
//! `fetch` (`TypeError`). Other runs keep working, only without keep-alive for that time.
//! Rules are checked in the order they were added, when a request arrives; the first live rule
//! that matches applies (and uses up one of its `count`). The route's `latency=` delay still
//! comes first. A faulted request is still an arrival of the run (`/__stats`), with its `fault`
//! (`"503"`, `"drop"`, …) and, for the drop modes, `aborted: true` and no `status`.

use serde_json::{json, Value};
use std::collections::HashMap;

/// What a rule does to the requests it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Answer with this status (400–599) without running the route.
    Status(u16),
    /// Reset the connection without running the route.
    Drop,
    /// Run the route, then reset the connection instead of answering.
    DropAfter,
    /// `Drop` for every path of the run, CORS preflights included.
    Down,
}

impl Mode {
    fn parse(v: &Value) -> Result<Mode, String> {
        let text = match v {
            Value::String(s) => s.trim().to_ascii_lowercase(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        match text.as_str() {
            "drop" => Ok(Mode::Drop),
            "drop-after" => Ok(Mode::DropAfter),
            "down" => Ok(Mode::Down),
            t => match t.parse::<u16>() {
                Ok(code) if (400..=599).contains(&code) => Ok(Mode::Status(code)),
                _ => Err(format!(
                    "mode must be \"drop\", \"drop-after\", \"down\" or a status 400-599, not {v}"
                )),
            },
        }
    }

    /// `drop`, `drop-after` or `down`: the connection is reset.
    pub fn drops(self) -> bool {
        !matches!(self, Mode::Status(_))
    }

    /// The name used in rule listings and arrival records (`"503"`, `"drop"`, …).
    pub fn label(self) -> String {
        match self {
            Mode::Status(code) => code.to_string(),
            Mode::Drop => "drop".into(),
            Mode::DropAfter => "drop-after".into(),
            Mode::Down => "down".into(),
        }
    }
}

/// A rule as given to `POST /__faults`.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    pub mode: Mode,
    pub path: Option<String>,
    pub for_ms: Option<f64>,
    pub count: Option<u64>,
    pub retry_after_sec: Option<u64>,
}

const KNOWN_KEYS: &[&str] = &["mode", "path", "forMs", "count", "retryAfterSec"];

fn non_negative(key: &str, v: &Value) -> Result<f64, String> {
    v.as_f64()
        .filter(|x| x.is_finite() && *x >= 0.0)
        .ok_or_else(|| format!("{key} must be a non-negative number"))
}

impl Spec {
    fn parse(v: &Value) -> Result<Spec, String> {
        let Some(obj) = v.as_object() else {
            return Err("a fault rule must be a JSON object".into());
        };
        if let Some(k) = obj.keys().find(|k| !KNOWN_KEYS.contains(&k.as_str())) {
            return Err(format!(
                "unknown key {k:?} (known: {})",
                KNOWN_KEYS.join(", ")
            ));
        }
        let mode = Mode::parse(obj.get("mode").unwrap_or(&Value::Null))?;
        let path = match obj.get("path") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) if p.starts_with('/') => Some(p.clone()),
            Some(_) => return Err("path must be a string starting with \"/\"".into()),
        };
        let for_ms = match obj.get("forMs") {
            None | Some(Value::Null) => None,
            Some(x) => Some(non_negative("forMs", x)?),
        };
        let count = match obj.get("count") {
            None | Some(Value::Null) => None,
            Some(x) => Some(
                x.as_u64()
                    .ok_or_else(|| "count must be a non-negative integer".to_string())?,
            ),
        };
        let retry_after_sec = match obj.get("retryAfterSec") {
            None | Some(Value::Null) => None,
            Some(x) => Some(non_negative("retryAfterSec", x)?.ceil() as u64),
        };
        Ok(Spec {
            mode,
            path,
            for_ms,
            count,
            retry_after_sec,
        })
    }
}

/// The rules of a `POST /__faults` body: one rule object, or an array of them.
pub fn parse(body: &Value) -> Result<Vec<Spec>, String> {
    match body {
        Value::Array(items) => items.iter().map(Spec::parse).collect(),
        other => Spec::parse(other).map(|s| vec![s]),
    }
}

/// A rule in force.
#[derive(Clone, Debug)]
struct Rule {
    id: u64,
    spec: Spec,
    /// Server clock (ms) at which a `forMs` rule ends.
    until_ms: Option<f64>,
    /// Matching requests it still applies to, for a `count` rule.
    remaining: Option<u64>,
    /// Requests it was applied to so far.
    applied: u64,
}

impl Rule {
    fn live(&self, now: f64) -> bool {
        self.remaining != Some(0) && self.until_ms.is_none_or(|u| now < u)
    }

    fn matches(&self, path: &str) -> bool {
        if self.spec.mode == Mode::Down {
            return true;
        }
        match &self.spec.path {
            None => true,
            Some(p) => match p.strip_suffix('*') {
                Some(prefix) => path.starts_with(prefix),
                None => path == p,
            },
        }
    }

    fn to_json(&self, now: f64) -> Value {
        json!({
            "id": self.id,
            "mode": self.spec.mode.label(),
            "path": self.spec.path,
            "count": self.spec.count,
            "remaining": self.remaining,
            "forMs": self.spec.for_ms,
            "msLeft": self.until_ms.map(|u| ((u - now).max(0.0) * 1000.0).round() / 1000.0),
            "retryAfterSec": self.spec.retry_after_sec,
            "applied": self.applied,
        })
    }
}

/// A fault that applies to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applied {
    pub mode: Mode,
    pub retry_after_sec: Option<u64>,
}

/// Every run's rules.
#[derive(Default)]
pub struct Faults {
    runs: HashMap<String, Vec<Rule>>,
    next_id: u64,
}

impl Faults {
    fn prune(&mut self, run: &str, now: f64) -> Option<&mut Vec<Rule>> {
        let rules = self.runs.get_mut(run)?;
        rules.retain(|r| r.live(now));
        if rules.is_empty() {
            self.runs.remove(run);
            return None;
        }
        self.runs.get_mut(run)
    }

    /// Add rules to `run` (after the ones already there).
    pub fn add(&mut self, run: &str, specs: Vec<Spec>, now: f64) {
        for spec in specs {
            self.next_id += 1;
            let rule = Rule {
                id: self.next_id,
                until_ms: spec.for_ms.map(|ms| now + ms),
                remaining: spec.count,
                spec,
                applied: 0,
            };
            self.runs.entry(run.to_string()).or_default().push(rule);
        }
        self.prune(run, now);
    }

    /// The fault for a request of `run` to `path` arriving now, if any (uses up one `count`).
    pub fn take(&mut self, run: &str, path: &str, now: f64) -> Option<Applied> {
        let rules = self.prune(run, now)?;
        let rule = rules.iter_mut().find(|r| r.matches(path))?;
        if let Some(n) = rule.remaining.as_mut() {
            *n -= 1; // live, so at least 1
        }
        rule.applied += 1;
        Some(Applied {
            mode: rule.spec.mode,
            retry_after_sec: rule.spec.retry_after_sec,
        })
    }

    /// Whether a `down` rule of `run` is in force (preflights are reset then; nothing used up).
    pub fn down(&mut self, run: &str, now: f64) -> bool {
        self.prune(run, now)
            .is_some_and(|rules| rules.iter().any(|r| r.spec.mode == Mode::Down))
    }

    /// Whether any run has a `drop`, `drop-after` or `down` rule in force.
    pub fn drops_in_force(&self, now: f64) -> bool {
        self.runs
            .values()
            .flatten()
            .any(|r| r.spec.mode.drops() && r.live(now))
    }

    /// The rules of `run` still in force, in the order they apply.
    pub fn listing(&mut self, run: &str, now: f64) -> Value {
        let rules: Vec<Value> = self
            .prune(run, now)
            .map(|rules| rules.iter().map(|r| r.to_json(now)).collect())
            .unwrap_or_default();
        Value::Array(rules)
    }

    /// Remove `run`'s rules; returns how many were in force.
    pub fn clear_run(&mut self, run: &str, now: f64) -> usize {
        let n = self.prune(run, now).map_or(0, |r| r.len());
        self.runs.remove(run);
        n
    }

    /// Remove every run's rules; returns how many were in force.
    pub fn clear_all(&mut self, now: f64) -> usize {
        let n = self.runs.values().flatten().filter(|r| r.live(now)).count();
        self.runs.clear();
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: Value) -> Vec<Spec> {
        parse(&v).unwrap()
    }

    #[test]
    fn parses_rules() {
        let s =
            spec(json!({"mode": "503", "path": "/collect/a", "count": 2, "retryAfterSec": 1.2}));
        assert_eq!(s[0].mode, Mode::Status(503));
        assert_eq!(s[0].retry_after_sec, Some(2));
        assert_eq!(s[0].count, Some(2));
        assert_eq!(spec(json!({"mode": 429}))[0].mode, Mode::Status(429));
        assert_eq!(spec(json!([{"mode": "DROP"}, {"mode": "down"}])).len(), 2);
        for bad in [
            json!({"mode": "200"}),
            json!({"mode": "nope"}),
            json!({}),
            json!({"mode": "drop", "forms": 10}),
            json!({"mode": "drop", "count": -1}),
            json!({"mode": "drop", "count": 1.5}),
            json!({"mode": "drop", "forMs": "10"}),
            json!({"mode": "drop", "path": "collect"}),
            json!("drop"),
        ] {
            assert!(parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn count_time_paths_and_runs() {
        let mut f = Faults::default();
        f.add(
            "r",
            spec(json!([{"mode": "503", "path": "/collect/a", "count": 2},
                         {"mode": "drop", "path": "/collect/*", "forMs": 100}])),
            0.0,
        );
        let take = |f: &mut Faults, run: &str, path: &str, t: f64| {
            f.take(run, path, t).map(|a| a.mode.label())
        };
        assert_eq!(take(&mut f, "other", "/collect/a", 1.0), None);
        assert_eq!(take(&mut f, "r", "/collect/a", 1.0).as_deref(), Some("503"));
        assert_eq!(
            take(&mut f, "r", "/collect/b", 2.0).as_deref(),
            Some("drop")
        );
        assert_eq!(take(&mut f, "r", "/collect/a", 3.0).as_deref(), Some("503"));
        assert_eq!(
            take(&mut f, "r", "/collect/a", 4.0).as_deref(),
            Some("drop")
        );
        assert_eq!(take(&mut f, "r", "/items", 5.0), None);
        assert_eq!(take(&mut f, "r", "/collect/a", 100.0), None);
        assert_eq!(f.listing("r", 100.0), json!([]));
        assert!(f.runs.is_empty(), "expired rules are pruned");

        f.add(
            "r",
            spec(json!({"mode": "down", "path": "/x", "count": 1})),
            0.0,
        );
        assert!(f.down("r", 0.0) && !f.down("s", 0.0));
        assert_eq!(take(&mut f, "r", "/items", 0.0).as_deref(), Some("down"));
        assert!(!f.down("r", 0.0));

        f.add("r", spec(json!({"mode": "drop", "count": 0})), 0.0);
        assert_eq!(
            take(&mut f, "r", "/items", 0.0),
            None,
            "count 0 never applies"
        );
        f.add("r", spec(json!({"mode": "429"})), 0.0);
        assert_eq!(
            f.clear_run("r", 1e12),
            1,
            "no count, no forMs: until cleared"
        );
        assert_eq!(take(&mut f, "r", "/items", 0.0), None);
    }
}
