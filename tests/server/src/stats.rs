//! Per-run request accounting: hits, arrivals, in-flight counts and their peaks (overall and per Host),
//! requests whose client went away before the answer (`aborted`), the `/api/capacity`
//! in-flight counter with its peak, and the deliveries of the outbox collector
//! (`collected`, see `crate::routes::outbox`).

use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

/// Request headers copied into arrival records when present.
pub const RECORDED_HEADERS: &[&str] = &[
    "if-none-match",
    "if-modified-since",
    "authorization",
    "idempotency-key",
    "x-fetchlane-test",
    "traceparent",
];

/// One recorded API request.
#[derive(Clone, Debug)]
pub struct Arrival {
    pub path: String,
    pub method: String,
    pub t: f64,
    pub query: String,
    pub host: String,
    pub headers: Vec<(String, String)>,
    /// Status it was answered with; `None` while in flight or if the client went away.
    pub status: Option<u16>,
    /// The client went away before the answer was sent (an aborted fetch closes its connection),
    /// or a `drop` fault reset the connection.
    pub aborted: bool,
    /// The `/__faults` mode applied to it (`"503"`, `"drop"`, …), if any.
    pub fault: Option<String>,
}

/// One request to the outbox collector (`/collect/{name}`).
#[derive(Clone, Debug)]
pub struct Delivery {
    pub t: f64,
    pub method: String,
    /// The body was a JSON array: each element is one delivered item.
    pub batch: bool,
    /// One per delivered item, in order; `None` for an item without a key.
    pub keys: Vec<Option<String>>,
    /// The request's `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
    /// Body size after decompression.
    pub bytes: usize,
    /// Body size on the wire.
    pub bytes_received: usize,
    pub content_encoding: Option<String>,
    pub content_type: Option<String>,
    /// The body (JSON when it parses, else text), when small enough to keep.
    pub body: Option<Value>,
}

/// Everything one collector name received in one run.
#[derive(Default)]
struct Collected {
    requests: Vec<Delivery>,
}

impl Collected {
    fn keys(&self) -> impl Iterator<Item = &Option<String>> {
        self.requests.iter().flat_map(|d| d.keys.iter())
    }

    fn to_json(&self) -> Value {
        let keys: Vec<&Option<String>> = self.keys().collect();
        // First-seen order (serde_json keeps insertion order here).
        let mut counts = Map::new();
        for k in keys.iter().copied().flatten() {
            let n = counts.get(k).and_then(Value::as_u64).unwrap_or(0);
            counts.insert(k.clone(), json!(n + 1));
        }
        let duplicates: Vec<&String> = counts
            .iter()
            .filter(|(_, n)| n.as_u64() > Some(1))
            .map(|(k, _)| k)
            .collect();
        let requests: Vec<Value> = self
            .requests
            .iter()
            .map(|d| {
                json!({
                    "t": d.t, "method": d.method, "batch": d.batch, "items": d.keys.len(),
                    "keys": d.keys, "idempotencyKey": d.idempotency_key, "bytes": d.bytes,
                    "bytesReceived": d.bytes_received, "contentEncoding": d.content_encoding,
                    "contentType": d.content_type, "body": d.body,
                })
            })
            .collect();
        json!({
            "keys": keys,
            "counts": counts,
            "duplicates": duplicates,
            "missing": keys.iter().filter(|k| k.is_none()).count(),
            "items": keys.len(),
            "requests": requests,
        })
    }
}

#[derive(Default)]
struct RunStats {
    generation: u64,
    hits: BTreeMap<String, u64>,
    in_flight: u64,
    peak: u64,
    /// Requests whose client went away before they were answered.
    aborted: u64,
    in_flight_by_host: HashMap<String, u64>,
    peak_by_host: BTreeMap<String, u64>,
    arrivals: Vec<Arrival>,
    /// `/api/capacity` requests in flight (refused ones count until their 429 is returned).
    capacity_in_flight: u64,
    /// Highest `capacity_in_flight` seen.
    capacity_peak: u64,
    /// CORS preflights (`OPTIONS` with `Access-Control-Request-Method`) for this run's URLs.
    preflights: u64,
    /// Outbox collector deliveries by collector name.
    collected: BTreeMap<String, Collected>,
}

#[derive(Default)]
pub struct Stats {
    runs: HashMap<String, RunStats>,
    next_generation: u64,
}

/// Handle for an in-flight request, returned by [`Stats::arrive`].
#[derive(Debug)]
pub struct Ticket {
    run: String,
    generation: u64,
    index: usize,
    host: String,
    /// Hits on this path in this run, including this one.
    pub hit_count: u64,
}

/// Handle for an `/api/capacity` request counted in flight, returned by [`Stats::capacity_enter`].
#[derive(Debug)]
pub struct CapacityTicket {
    run: String,
    generation: u64,
    /// Capacity requests of this run in flight at arrival, this one included.
    pub in_flight: u64,
}

impl Stats {
    /// The run's stats, created (with a fresh generation) when absent.
    fn run_mut(&mut self, run: &str) -> &mut RunStats {
        if !self.runs.contains_key(run) {
            self.next_generation += 1;
            let generation = self.next_generation;
            self.runs.insert(
                run.to_string(),
                RunStats {
                    generation,
                    ..Default::default()
                },
            );
        }
        self.runs.get_mut(run).expect("inserted above")
    }

    /// Record an arrival and bump the in-flight counters.
    pub fn arrive(&mut self, run: &str, arrival: Arrival) -> Ticket {
        let rs = self.run_mut(run);
        let hits = rs.hits.entry(arrival.path.clone()).or_insert(0);
        *hits += 1;
        let hit_count = *hits;
        rs.in_flight += 1;
        rs.peak = rs.peak.max(rs.in_flight);
        let host_n = rs
            .in_flight_by_host
            .entry(arrival.host.clone())
            .or_insert(0);
        *host_n += 1;
        let host_n = *host_n;
        let peak_host = rs.peak_by_host.entry(arrival.host.clone()).or_insert(0);
        *peak_host = (*peak_host).max(host_n);
        let host = arrival.host.clone();
        rs.arrivals.push(arrival);
        Ticket {
            run: run.to_string(),
            generation: rs.generation,
            index: rs.arrivals.len() - 1,
            host,
            hit_count,
        }
    }

    /// The request was answered (`Some(status)`) or abandoned (`None`).
    pub fn finish(&mut self, ticket: &Ticket, status: Option<u16>) {
        let Some(rs) = self.runs.get_mut(&ticket.run) else {
            return;
        };
        if rs.generation != ticket.generation {
            return; // the run was reset while this request was in flight
        }
        rs.in_flight = rs.in_flight.saturating_sub(1);
        if let Some(n) = rs.in_flight_by_host.get_mut(&ticket.host) {
            *n = n.saturating_sub(1);
        }
        if status.is_none() {
            rs.aborted += 1;
        }
        if let Some(a) = rs.arrivals.get_mut(ticket.index) {
            a.status = status;
            a.aborted = status.is_none();
        }
    }

    /// One more `/api/capacity` request in flight for `run`.
    pub fn capacity_enter(&mut self, run: &str) -> CapacityTicket {
        let rs = self.run_mut(run);
        rs.capacity_in_flight += 1;
        rs.capacity_peak = rs.capacity_peak.max(rs.capacity_in_flight);
        CapacityTicket {
            run: run.to_string(),
            generation: rs.generation,
            in_flight: rs.capacity_in_flight,
        }
    }

    /// That `/api/capacity` request was answered or abandoned (no-op if the run was reset since).
    pub fn capacity_leave(&mut self, ticket: &CapacityTicket) {
        if let Some(rs) = self.runs.get_mut(&ticket.run) {
            if rs.generation == ticket.generation {
                rs.capacity_in_flight = rs.capacity_in_flight.saturating_sub(1);
            }
        }
    }

    /// Record a delivery to the collector `name`. Returns the keys of this delivery that had
    /// been delivered before (earlier in the same batch included), in order.
    pub fn collect(&mut self, run: &str, name: &str, delivery: Delivery) -> Vec<String> {
        let c = self
            .run_mut(run)
            .collected
            .entry(name.to_string())
            .or_default();
        let mut seen: std::collections::HashSet<&str> =
            c.keys().flatten().map(String::as_str).collect();
        let mut again = Vec::new();
        for k in delivery.keys.iter().flatten() {
            if !seen.insert(k.as_str()) {
                again.push(k.clone());
            }
        }
        c.requests.push(delivery);
        again
    }

    /// A CORS preflight arrived for one of `run`'s URLs (it is answered, never counted as a hit).
    pub fn preflight(&mut self, run: &str) {
        self.run_mut(run).preflights += 1;
    }

    pub fn clear_run(&mut self, run: &str) {
        self.runs.remove(run);
    }

    pub fn clear_all(&mut self) {
        self.runs.clear();
    }

    /// The `/__stats` document for one run.
    pub fn to_json(&self, run: &str) -> Value {
        let empty = RunStats::default();
        let rs = self.runs.get(run).unwrap_or(&empty);
        let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
        let arrivals: Vec<Value> = rs
            .arrivals
            .iter()
            .map(|a| {
                if let Some(s) = a.status {
                    *statuses.entry(s.to_string()).or_insert(0) += 1;
                }
                let headers: Map<String, Value> = a
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect();
                json!({
                    "path": a.path, "method": a.method, "t": a.t, "query": a.query,
                    "host": a.host, "headers": headers, "status": a.status,
                    "aborted": a.aborted, "fault": a.fault,
                })
            })
            .collect();
        json!({
            "run": run,
            "total": rs.arrivals.len(),
            "hits": rs.hits,
            "peak": rs.peak,
            "peakByHost": rs.peak_by_host,
            "inFlight": rs.in_flight,
            "aborted": rs.aborted,
            "preflights": rs.preflights,
            "statuses": statuses,
            "capacityInFlight": rs.capacity_in_flight,
            "capacityPeak": rs.capacity_peak,
            "arrivals": arrivals,
            "collected": rs
                .collected
                .iter()
                .map(|(name, c)| (name.clone(), c.to_json()))
                .collect::<Map<String, Value>>(),
        })
    }
}
