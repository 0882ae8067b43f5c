//! Integration tests: spawn the real binary on a free port and talk HTTP/1.1 over `TcpStream`.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
}

impl Server {
    fn start() -> Server {
        Self::start_with(&[])
    }

    fn start_with(extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fetchlane-test-server"))
            .args(["--port", "0", "--exit-on-stdin-eof"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let prefix = "fetchlane-test-server listening on http://127.0.0.1:";
        assert!(line.starts_with(prefix), "unexpected banner {line:?}");
        let port = line[prefix.len()..].trim().parse().unwrap();
        let stdin = child.stdin.take();
        Server { child, stdin, port }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn req(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
        self.req_bytes(method, path, headers, body.as_bytes())
    }

    fn req_bytes(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        request(self.port, &self.host(), method, path, headers, body)
    }

    fn get(&self, path: &str) -> Resp {
        self.req("GET", path, &[], "")
    }

    fn post(&self, path: &str, body: &str) -> Resp {
        self.req("POST", path, &[], body)
    }

    fn stats(&self, run: &str) -> Value {
        self.get(&format!("/__stats?run={run}")).json()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", self.text()))
    }
}

/// The status and the headers (lower-case names) of a raw HTTP/1.1 answer's head.
fn parse_head(head: &str) -> (u16, Vec<(String, String)>) {
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers)
}

/// Minimal HTTP/1.1 client: one request per connection (`Connection: close`).
fn request(
    port: u16,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut req = req.into_bytes();
    req.extend_from_slice(body);
    s.write_all(&req).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let (status, headers) = parse_head(&head);
    let body = raw[split + 4..].to_vec();
    Resp {
        status,
        headers,
        body,
    }
}

#[test]
fn status_routes() {
    let s = Server::start();
    let r = s.get("/status/418?run=st");
    assert_eq!(r.status, 418);
    assert_eq!(r.json()["status"], 418);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert!(r.header("x-served-at").unwrap().parse::<f64>().is_ok());
    assert!(r
        .header("access-control-expose-headers")
        .unwrap()
        .contains("Retry-After"));

    let r = s.get("/status/204");
    assert_eq!((r.status, r.body.len()), (204, 0));
    let r = s.get("/status/503?retryAfter=7");
    assert_eq!((r.status, r.header("retry-after")), (503, Some("7")));
    let r = s.get("/status/429?retryAfter=Wed,%2021%20Oct%202015%2007:28:00%20GMT");
    assert_eq!(
        r.header("retry-after"),
        Some("Wed, 21 Oct 2015 07:28:00 GMT")
    );
    assert_eq!(s.post("/status/201", "x").status, 201);
    assert_eq!(s.req("DELETE", "/status/202", &[], "").status, 202);
    let r = s.req("HEAD", "/status/200", &[], "");
    assert_eq!((r.status, r.body.len()), (200, 0));
    assert_eq!(s.get("/status/abc").status, 400);

    let stats = s.stats("st");
    assert_eq!(stats["total"], 1);
    assert_eq!(stats["arrivals"][0]["status"], 418);
    assert_eq!(stats["arrivals"][0]["query"], "run=st");
}

#[test]
fn echo_and_misc_routes() {
    let s = Server::start();
    let r = s.req(
        "PUT",
        "/echo?a=1",
        &[("X-Fetchlane-Test", "yes")],
        "hello body",
    );
    let j = r.json();
    assert_eq!(j["method"], "PUT");
    assert_eq!(j["path"], "/echo");
    assert_eq!(j["query"], "a=1");
    assert_eq!(j["headers"]["x-fetchlane-test"], "yes");
    assert_eq!(j["body"], "hello body");

    let r = s.get("/bad-json");
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("application/json"))
    );
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    let r = s.get("/not-json");
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert_eq!(r.text(), "<html>hello</html>");
    let r = s.get("/bytes/1000");
    assert_eq!(
        (r.body.len(), r.header("content-length")),
        (1000, Some("1000"))
    );
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.body, s.get("/bytes/1000").body);
}

#[test]
fn flaky_sequence() {
    let s = Server::start();
    let path = "/flaky/k1?run=f&fails=2&retryAfter=3";
    for attempt in 1..=2 {
        let r = s.get(path);
        assert_eq!((r.status, r.header("retry-after")), (503, Some("3")));
        assert_eq!(r.json()["attempt"], attempt);
        assert_eq!(r.json()["error"], "flaky");
    }
    let r = s.post(path, "");
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), serde_json::json!({"ok": true, "attempt": 3}));
    // Independent per run and per key; custom status.
    assert_eq!(s.get("/flaky/k1?run=g&fails=1&status=500").status, 500);
    assert_eq!(s.get("/flaky/k2?run=f&fails=1").status, 503);
    assert_eq!(s.get("/flaky/k2?run=f&fails=1").status, 200);
}

#[test]
fn storm_then_ok() {
    let s = Server::start();
    for _ in 0..3 {
        let r = s.get("/storm/a?run=s&count=3&retryAfter=2");
        assert_eq!((r.status, r.header("retry-after")), (429, Some("2")));
        assert_eq!(r.json()["error"], "rate limited");
    }
    let r = s.get("/storm/a?run=s&count=3&retryAfter=2");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["hit"], 4);
}

#[test]
fn limited_sliding_window() {
    let s = Server::start();
    let path = "/limited/w?run=l&limit=3&window=1000";
    for _ in 0..3 {
        assert_eq!(s.get(path).status, 200);
    }
    let r = s.get(path);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.header("ratelimit-reset"), Some("1"));
    thread::sleep(Duration::from_millis(1050));
    assert_eq!(s.get(path).status, 200);
    let stats = s.stats("l");
    assert_eq!(stats["statuses"]["429"], 1);
    let n429 = stats["arrivals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] == 429)
        .count();
    assert_eq!(n429, 1);
}

fn ids(v: &Value) -> Vec<Value> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].clone())
        .collect()
}

#[test]
fn items_options() {
    let s = Server::start();
    let j = s.get("/items?ids=1,2,3,2").json();
    assert_eq!(ids(&j), ["1", "2", "3"]);
    assert_eq!(j[0]["name"], "Item 1");
    assert!(j[0]["price"].is_number());
    assert_eq!(
        ids(&s.get("/items?ids=1,2,3&order=reverse").json()),
        ["3", "2", "1"]
    );
    let shuffled = ids(&s.get("/items?ids=1,2,3,4,5&order=shuffle").json());
    assert_eq!(
        shuffled,
        ids(&s.get("/items?ids=1,2,3,4,5&order=shuffle").json())
    );
    assert_ne!(shuffled, ["1", "2", "3", "4", "5"]);
    assert_eq!(shuffled.len(), 5);
    assert_eq!(
        ids(&s.get("/items?ids=1,2,3,5&missing=2,5").json()),
        ["1", "3"]
    );
    assert_eq!(
        ids(&s.get("/items?ids=1,2&extra=99").json()),
        ["1", "2", "99"]
    );
    assert_eq!(ids(&s.get("/items?ids=1,2&dup=1").json()), ["1", "2", "1"]);
    let env = s.get("/items?ids=7&envelope=1").json();
    assert_eq!(ids(&env["data"]), ["7"]);
    assert_eq!(
        ids(&s.get("/items?ids=1,x&numeric=1").json()),
        [serde_json::json!(1), serde_json::json!("x")]
    );

    let users = s.get("/users?ids=4,5").json();
    for key in ["id", "name", "email", "avatar", "role"] {
        assert!(!users[0][key].is_null(), "user lacks {key}");
    }
    assert_eq!(users, s.get("/users?ids=4,5").json(), "deterministic");
    assert_eq!(s.get("/users/4").json(), users[0]);
    assert_eq!(s.get("/items/12").json()["id"], "12");
    assert_eq!(s.get("/users/missing").status, 404);
    assert_eq!(s.get("/items/404x").json()["error"], "not found");
    assert_eq!(s.get("/api/team?ids=4,5").json(), users);
    assert_eq!(s.get("/api/team/5").json(), users[1]);
}

#[test]
fn pages_and_link_header() {
    let s = Server::start();
    let r = s.get("/pages?total=3&size=2&run=pg&fail=9");
    assert_eq!(
        r.json(),
        serde_json::json!([{"page":1,"index":0,"id":"1-0"},{"page":1,"index":1,"id":"1-1"}])
    );
    assert_eq!(
        r.header("link"),
        Some("</pages?page=2&total=3&size=2&run=pg&fail=9>; rel=\"next\"")
    );
    let r = s.get("/pages?page=3&total=3&size=2&run=pg");
    assert_eq!((r.status, r.header("link")), (200, None));
    let r = s.get("/pages?page=1&total=3&size=1&absolute=1");
    let expected = format!(
        "<http://{}/pages?page=2&total=3&size=1&absolute=1>; rel=\"next\"",
        s.host()
    );
    assert_eq!(r.header("link"), Some(expected.as_str()));
    assert_eq!(s.get("/pages?page=2&total=3&fail=2").status, 500);
    let r = s.get("/pages?page=2&total=3&size=1&nolink=1");
    assert_eq!(r.header("link"), None);
    assert_eq!(r.json()["next"], 3);
    assert_eq!(r.json()["items"][0]["id"], "2-0");
    assert_eq!(
        s.get("/pages?page=3&total=3&nolink=1").json()["next"],
        Value::Null
    );
}

#[test]
fn cache_conditional_flow() {
    let s = Server::start();
    let base = "/cache/k?run=c&etag=1&lastModified=1&maxAge=30";
    let r = s.get(base);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("etag"), Some("\"k-1\""));
    assert_eq!(r.header("cache-control"), Some("max-age=30"));
    let lm = r.header("last-modified").unwrap().to_string();
    assert_eq!(r.json()["version"], 1);

    let r = s.req("GET", base, &[("If-None-Match", "\"k-1\"")], "");
    assert_eq!((r.status, r.body.len()), (304, 0));
    assert_eq!(r.header("etag"), Some("\"k-1\""));
    assert_eq!(r.header("cache-control"), Some("max-age=30"));
    assert_eq!(
        s.req("GET", base, &[("If-None-Match", "\"zz\", W/\"k-1\"")], "")
            .status,
        304
    );
    assert_eq!(
        s.req("GET", base, &[("If-Modified-Since", &lm)], "").status,
        304
    );

    let bumped = s.post("/cache/k/bump?run=c", "").json();
    assert_eq!(bumped["version"], 2);
    let r = s.req("GET", base, &[("If-None-Match", "\"k-1\"")], "");
    assert_eq!((r.status, r.header("etag")), (200, Some("\"k-2\"")));
    assert_eq!(r.json()["version"], 2);
    assert_eq!(
        s.req("GET", base, &[("If-Modified-Since", &lm)], "").status,
        200
    );
    // Other run is unaffected.
    assert_eq!(
        s.get("/cache/k?run=other&etag=1").header("etag"),
        Some("\"k-1\"")
    );

    let r = s.req(
        "GET",
        "/cache/v?vary=X-Lang&size=5&cc=no-cache",
        &[("X-Lang", "de")],
        "",
    );
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    assert_eq!(r.header("vary"), Some("X-Lang"));
    assert_eq!(r.json()["vary"], "de");
    assert_eq!(r.json()["pad"], "xxxxx");
    assert_eq!(
        s.get("/cache-nostore/a").header("cache-control"),
        Some("no-store")
    );
    assert_eq!(
        s.get("/cache-private/a").header("cache-control"),
        Some("private, max-age=60")
    );
}

#[test]
fn stats_peak_and_hosts() {
    let s = Server::start();
    let port = s.port;
    let started = Instant::now();
    let threads: Vec<_> = (0..5)
        .map(|i| {
            let host = if i < 3 {
                format!("localhost:{port}")
            } else {
                format!("127.0.0.1:{port}")
            };
            thread::spawn(move || {
                request(
                    port,
                    &host,
                    "GET",
                    "/items?ids=1&run=p&latency=200",
                    &[],
                    b"",
                )
                .status
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 200);
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(200) && elapsed < Duration::from_millis(1500),
        "{elapsed:?}"
    );
    s.req(
        "GET",
        "/echo?run=p",
        &[("Authorization", "Bearer t"), ("Idempotency-Key", "abc")],
        "",
    );

    let st = s.stats("p");
    assert_eq!(st["run"], "p");
    assert_eq!(st["total"], 6);
    assert_eq!(st["hits"]["/items"], 5);
    assert_eq!(st["hits"]["/echo"], 1);
    assert_eq!(st["peak"], 5);
    assert_eq!(st["inFlight"], 0);
    assert_eq!(st["peakByHost"][format!("localhost:{port}")], 3);
    assert_eq!(st["peakByHost"][format!("127.0.0.1:{port}")], 2);
    let arrivals = st["arrivals"].as_array().unwrap();
    assert_eq!(arrivals.len(), 6);
    let ts: Vec<f64> = arrivals.iter().map(|a| a["t"].as_f64().unwrap()).collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]), "arrival order");
    assert_eq!(arrivals[0]["path"], "/items");
    assert_eq!(arrivals[0]["method"], "GET");
    assert_eq!(arrivals[5]["headers"]["authorization"], "Bearer t");
    assert_eq!(arrivals[5]["headers"]["idempotency-key"], "abc");
    // Requests without run are accounted under "".
    s.get("/items?ids=1");
    assert_eq!(s.get("/__stats").json()["total"], 1);
}

#[test]
fn cors_preflight_not_counted() {
    let s = Server::start();
    let r = s.req(
        "OPTIONS",
        "/items?ids=1&run=cors",
        &[
            ("Origin", "http://localhost:9000"),
            ("Access-Control-Request-Method", "GET"),
            (
                "Access-Control-Request-Headers",
                "x-fetchlane-test, authorization",
            ),
        ],
        "",
    );
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://localhost:9000")
    );
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("x-fetchlane-test, authorization")
    );
    assert_eq!(r.header("access-control-max-age"), Some("600"));
    assert_eq!(
        r.header("access-control-allow-private-network"),
        Some("true")
    );
    assert!(r
        .header("access-control-allow-methods")
        .unwrap()
        .contains("PATCH"));
    let st = s.stats("cors");
    assert_eq!(st["total"], 0);
    // Counted apart, so that a test can tell whether a request needed one.
    assert_eq!(st["preflights"], 1);
    // An OPTIONS without Access-Control-Request-Method is no preflight.
    s.req("OPTIONS", "/items?run=cors", &[("Origin", "http://a.test")], "");
    assert_eq!(s.stats("cors")["preflights"], 1);

    let r = s.req(
        "GET",
        "/cache/x?run=cors&vary=Accept",
        &[("Origin", "http://a.test")],
        "",
    );
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://a.test")
    );
    assert_eq!(r.header("vary"), Some("Accept, Origin"));
    let st = s.stats("cors");
    assert_eq!(
        (st["total"].as_u64(), st["peak"].as_u64()),
        (Some(1), Some(1))
    );
    let r = s.req("GET", "/__stats", &[("Origin", "http://a.test")], "");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://a.test")
    );
}

#[test]
fn reset_and_config() {
    let s = Server::start();
    assert_eq!(s.get("/flaky/r?run=a").status, 503);
    assert_eq!(s.get("/flaky/r?run=b").status, 503);
    assert_eq!(s.post("/__reset?run=a", "").status, 200);
    assert_eq!(s.stats("a")["total"], 0);
    assert_eq!(s.stats("b")["total"], 1);
    assert_eq!(
        s.get("/flaky/r?run=a").status,
        503,
        "flaky state for run a was reset"
    );
    assert_eq!(s.get("/flaky/r?run=b").status, 200, "run b kept its state");

    let cfg = s.get("/__config").json();
    assert_eq!(
        cfg,
        serde_json::json!({"latencyMs":0,"jitterMs":0,"errorRate":0,"rateLimitRate":0,"retryAfterSec":1})
    );
    let cfg = s.post("/__config", r#"{"errorRate": 1}"#).json();
    assert_eq!(cfg["errorRate"], 1);
    assert_eq!(s.get("/api/user?run=cfg").status, 503);
    assert_eq!(s.get("/items?ids=1").status, 200, "faults only on /api/");
    s.post(
        "/__config",
        r#"{"errorRate": 0, "rateLimitRate": 1, "retryAfterSec": 4}"#,
    );
    let r = s.get("/api/notifications?run=cfg");
    assert_eq!((r.status, r.header("retry-after")), (429, Some("4")));
    s.post("/__config", r#"{"rateLimitRate": 0, "latencyMs": 150}"#);
    let t = Instant::now();
    assert_eq!(s.get("/api/analytics").status, 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
    assert_eq!(s.post("/__config", "nope").status, 400);

    assert_eq!(s.post("/__reset", "").status, 200);
    assert_eq!(s.get("/__config").json()["latencyMs"], 0);
    assert_eq!(s.stats("b")["total"], 0);
    assert_eq!(s.stats("cfg")["total"], 0);
    assert_eq!(s.get("/flaky/r?run=b").status, 503);
}

#[test]
fn demo_routes() {
    let s = Server::start();
    for path in [
        "/api/user",
        "/api/notifications",
        "/api/analytics",
        "/api/product/42",
        "/api/product/42/reviews",
        "/api/product/42/recommendations",
        "/api/product/42/inventory",
    ] {
        let r = s.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert!(
            (200..20_000).contains(&r.body.len()),
            "{path}: {} bytes",
            r.body.len()
        );
        assert_eq!(r.body, s.get(path).body, "{path} deterministic");
        assert!(!r.text().contains("http://") || r.text().contains("http://www.w3.org/2000/svg"));
    }
    assert_eq!(s.get("/api/product/42").json()["id"], "42");
    assert_eq!(s.get("/api/product/missing").status, 404);
}

#[test]
fn hang_client_gone_and_static_files() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fetchlane-static-test");
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(dir.join("index.html"), "<p>root</p>").unwrap();
    std::fs::write(dir.join("pkg/m.wasm"), b"\0asm").unwrap();
    std::fs::write(dir.join("pkg/m.js"), "export {}").unwrap();
    let www = format!("/={}", dir.display());
    let pkg = format!("/pkg={}", dir.join("pkg").display());
    let s = Server::start_with(&["--static", &www, "--static", &pkg]);

    let r = s.get("/");
    assert_eq!((r.status, r.text().as_str()), (200, "<p>root</p>"));
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    let r = s.get("/pkg/m.wasm");
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("application/wasm"))
    );
    assert!(s
        .get("/pkg/m.js")
        .header("content-type")
        .unwrap()
        .starts_with("text/javascript"));
    assert_eq!(s.get("/pkg/../../etc/passwd").status, 404);
    assert_eq!(s.get("/pkg/%2e%2e/%2e%2e/etc/passwd").status, 404);
    assert_eq!(s.get("/nope.js").status, 404);
    assert_eq!(
        s.get("/__stats").json()["total"],
        0,
        "static files are not counted"
    );

    assert_eq!(s.get("/status/200?run=h").status, 200);
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    write!(c, "GET /hang?run=h HTTP/1.1\r\nHost: {}\r\n\r\n", s.host()).unwrap();
    thread::sleep(Duration::from_millis(200));
    let st = s.stats("h");
    assert_eq!(
        (st["inFlight"].as_u64(), st["aborted"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(
        st["arrivals"][1]["aborted"], false,
        "in flight is not aborted"
    );
    drop(c);
    wait_until("hang request still in flight after client left", || {
        s.stats("h")["inFlight"] == 0
    });
    // The client that went away is counted as aborted; the answered request is not.
    let st = s.stats("h");
    assert_eq!(st["aborted"], 1);
    assert_eq!(st["arrivals"][0]["aborted"], false);
    assert_eq!(st["arrivals"][0]["status"], 200);
    assert_eq!(st["arrivals"][1]["aborted"], true);
    assert_eq!(st["arrivals"][1]["status"], Value::Null);
    assert_eq!(s.stats("other")["aborted"], 0, "an unknown run has none");
}

#[test]
fn exits_on_stdin_eof() {
    let mut s = Server::start();
    assert_eq!(s.get("/status/200").status, 200);
    drop(s.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(code) = s.child.try_wait().unwrap() {
            assert!(code.success(), "exit status {code:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "server did not exit on stdin EOF"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// Starts `n` capacity requests together (one thread each) and returns their responses.
fn capacity_burst(s: &Server, n: usize, query: &str) -> Vec<(Resp, Duration)> {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (port, host, path) = (s.port, s.host(), format!("/api/capacity?{query}"));
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                let t0 = Instant::now();
                let r = request(port, &host, "GET", &path, &[], b"");
                (r, t0.elapsed())
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn capacity_latency_grows_past_the_knee() {
    let s = Server::start();
    // Alone: one in flight, the base latency (defaults: knee 2, refuse 5, base 20).
    let r = s.get("/api/capacity?run=cap1");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        serde_json::json!({"inFlight": 1, "latencyMs": 20})
    );

    // Four at once, knee 2: 1 and 2 in flight take the base, 3 takes 1.5×, 4 takes 2×.
    let out = capacity_burst(&s, 4, "run=cap2&knee=2&refuse=10&base=300");
    let mut seen: Vec<(u64, f64, Duration)> = out
        .iter()
        .map(|(r, took)| {
            assert_eq!(r.status, 200, "{}", r.text());
            let v = r.json();
            (
                v["inFlight"].as_u64().unwrap(),
                v["latencyMs"].as_f64().unwrap(),
                *took,
            )
        })
        .collect();
    seen.sort_by_key(|x| x.0);
    let n: Vec<u64> = seen.iter().map(|x| x.0).collect();
    assert_eq!(n, [1, 2, 3, 4], "all four overlapped");
    let ms: Vec<f64> = seen.iter().map(|x| x.1).collect();
    assert_eq!(ms, [300.0, 300.0, 450.0, 600.0]);
    assert!(seen[3].2 >= Duration::from_millis(600), "{:?}", seen[3].2);
    let st = s.stats("cap2");
    assert_eq!(
        (st["capacityPeak"].as_u64(), st["capacityInFlight"].as_u64()),
        (Some(4), Some(0))
    );
    assert_eq!(st["statuses"]["200"], 4);
    assert_eq!(st["hits"]["/api/capacity"], 4);
}

#[test]
fn capacity_refuses_above_the_threshold() {
    let s = Server::start();
    let q = "run=cap3&knee=1&refuse=2&base=800";
    let (port, host) = (s.port, s.host());
    let slow: Vec<_> = (0..2)
        .map(|_| {
            let (host, path) = (host.clone(), format!("/api/capacity?{q}"));
            thread::spawn(move || request(port, &host, "GET", &path, &[], b"").status)
        })
        .collect();
    wait_until("the two slow requests never overlapped", || {
        s.stats("cap3")["capacityInFlight"] == 2
    });
    let t0 = Instant::now();
    let r = s.get(&format!("/api/capacity?{q}"));
    assert!(
        t0.elapsed() < Duration::from_millis(400),
        "refused at once: {:?}",
        t0.elapsed()
    );
    assert_eq!((r.status, r.header("retry-after")), (429, Some("1")));
    assert_eq!(
        r.json(),
        serde_json::json!({"error": "over capacity", "inFlight": 3})
    );
    for t in slow {
        assert_eq!(t.join().unwrap(), 200);
    }
    let st = s.stats("cap3");
    assert_eq!(st["statuses"]["429"], 1, "the 429s sent, per run");
    assert_eq!(st["statuses"]["200"], 2);
    assert_eq!(
        st["capacityPeak"], 3,
        "the refused arrival counts in the peak"
    );
    assert_eq!(st["capacityInFlight"], 0);
    let refused: Vec<&Value> = st["arrivals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] == 429)
        .collect();
    assert_eq!(refused.len(), 1);
    // Other runs have their own counters.
    assert_eq!(s.get("/api/capacity?run=cap3b&refuse=0").status, 429);
    assert_eq!(s.get("/api/capacity?run=cap3c&refuse=1&base=0").status, 200);
}

/// Polls `done` every 10 ms for up to 3 s; panics with `what` if it never holds.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        thread::sleep(Duration::from_millis(10));
    }
}

/// Opens a capacity request of `run` that takes 10 s, once the server counts it in flight.
fn slow_capacity_request(s: &Server, run: &str) -> TcpStream {
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    write!(
        c,
        "GET /api/capacity?run={run}&base=10000 HTTP/1.1\r\nHost: {}\r\n\r\n",
        s.host()
    )
    .unwrap();
    wait_until("request never counted", || {
        s.stats(run)["capacityInFlight"] == 1
    });
    c
}

#[test]
fn capacity_counter_after_disconnect_and_reset() {
    let s = Server::start();
    let c = slow_capacity_request(&s, "cap4");
    drop(c);
    wait_until("still counted after the client left", || {
        s.stats("cap4")["capacityInFlight"] == 0
    });
    let st = s.stats("cap4");
    assert_eq!(
        (st["capacityPeak"].as_u64(), st["aborted"].as_u64()),
        (Some(1), Some(1))
    );
    // The next request is alone again.
    assert_eq!(s.get("/api/capacity?run=cap4&base=0").json()["inFlight"], 1);

    // A reset clears the run's counter, and a request still in flight from before the reset
    // does not take the new count below what it is.
    let c = slow_capacity_request(&s, "cap4");
    assert_eq!(s.post("/__reset?run=cap4", "").status, 200);
    let st = s.stats("cap4");
    assert_eq!(
        (st["capacityInFlight"].as_u64(), st["capacityPeak"].as_u64()),
        (Some(0), Some(0))
    );
    let mut c2 = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    write!(
        c2,
        "GET /api/capacity?run=cap4&base=10000 HTTP/1.1\r\nHost: {}\r\n\r\n",
        s.host()
    )
    .unwrap();
    wait_until("request after reset never counted", || {
        s.stats("cap4")["capacityInFlight"] == 1
    });
    drop(c); // from before the reset: must not count against the new run
    thread::sleep(Duration::from_millis(200));
    assert_eq!(s.stats("cap4")["capacityInFlight"], 1);
    drop(c2);
    wait_until("still counted after the client left", || {
        s.stats("cap4")["capacityInFlight"] == 0
    });
}

#[test]
fn capacity_bad_params() {
    let s = Server::start();
    for (query, param) in [
        ("knee=0", "knee"),
        ("knee=-1", "knee"),
        ("knee=abc", "knee"),
        ("knee=", "knee"),
        ("refuse=x", "refuse"),
        ("refuse=-1", "refuse"),
        ("base=-1", "base"),
        ("base=10001", "base"),
        ("base=NaN", "base"),
        ("base=inf", "base"),
    ] {
        let r = s.get(&format!("/api/capacity?run=cap5&{query}"));
        assert_eq!(r.status, 400, "{query}");
        let v = r.json();
        assert_eq!(v["param"], param, "{query}");
        assert!(
            v["error"].as_str().unwrap().starts_with(param),
            "{query}: {v}"
        );
    }
    let st = s.stats("cap5");
    assert_eq!(st["statuses"]["400"], 10);
    assert_eq!(
        (st["capacityInFlight"].as_u64(), st["capacityPeak"].as_u64()),
        (Some(0), Some(0))
    );
    // Edge values are accepted.
    let r = s.get("/api/capacity?run=cap5&knee=0.5&refuse=3&base=0");
    assert_eq!(r.json(), serde_json::json!({"inFlight": 1, "latencyMs": 0}));
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn fields_on_objects() {
    let s = Server::start();
    let full = s.get("/api/product/42").json();
    for k in ["id", "name", "price", "stock", "description", "images"] {
        assert!(full.get(k).is_some(), "product has {k}: {full}");
    }
    assert!(full["stock"].is_u64());
    assert_eq!(
        full["stock"],
        s.get("/api/product/42/inventory").json()["totalStock"]
    );
    let r = s.get("/api/product/42?fields=name,price,stock,nope&run=f1");
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(keys(&j), ["name", "price", "stock"]);
    for k in ["name", "price", "stock"] {
        assert_eq!(j[k], full[k]);
    }
    assert!(r.body.len() * 4 < s.get("/api/product/42").body.len());
    // No fields (or an empty list): the full object, as before.
    assert_eq!(s.get("/api/product/42?fields=").json(), full);
    assert_eq!(
        keys(&s.get("/api/user?fields=plan,email").json()),
        ["email", "plan"]
    );
    assert_eq!(keys(&s.get("/users/7?fields=id").json()), ["id"]);
    assert_eq!(
        keys(&s.get("/api/team/7?fields=role&numeric=1").json()),
        ["role"]
    );
    assert_eq!(
        s.get("/api/product/missing?fields=name").json()["error"],
        "not found"
    );
    // The arrival records the query, fields= included.
    let st = s.stats("f1");
    let q = st["arrivals"][0]["query"].as_str().unwrap();
    assert!(q.contains("fields=name,price,stock,nope"), "{q}");
}

#[test]
fn fields_on_lists_and_envelopes() {
    let s = Server::start();
    let full = s.get("/items?ids=1,2,3").json();
    let j = s.get("/items?ids=1,2,3&fields=id,price").json();
    let list = j.as_array().unwrap();
    assert_eq!(list.len(), 3);
    for (o, f) in list.iter().zip(full.as_array().unwrap()) {
        assert_eq!(keys(o), ["id", "price"]);
        assert_eq!((&o["id"], &o["price"]), (&f["id"], &f["price"]));
    }
    let j = s.get("/users?ids=1,2&envelope=1&fields=name").json();
    assert_eq!(keys(&j), ["data"]);
    assert!(j["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| keys(u) == ["name"]));
    let j = s.get("/pages?nolink=1&total=2&size=3&fields=id").json();
    assert_eq!(j["next"], 2);
    assert!(j["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| keys(i) == ["id"]));
    let r = s.get("/pages?total=2&size=2&fields=index");
    assert_eq!(r.json(), serde_json::json!([{"index": 0}, {"index": 1}]));
    assert!(r.header("link").unwrap().contains("fields=index"));
    let j = s
        .get("/api/product/42/recommendations?fields=name,price,stock")
        .json();
    assert_eq!(j["productId"], "42");
    let items = j["items"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    assert!(items.iter().all(|i| keys(i) == ["name", "price", "stock"]));
    let j = s.get("/api/notifications?fields=id,read").json();
    assert_eq!(j["unread"], 3);
    assert!(j["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| keys(i) == ["id", "read"]));
    // Unknown only: empty objects; no fields: full.
    assert_eq!(
        s.get("/api/team?ids=1,2&fields=nope").json(),
        serde_json::json!([{}, {}])
    );
    assert!(s.get("/api/team?ids=1,2").json()[0]["email"].is_string());
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn zlib(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

#[test]
fn compressed_request_bodies() {
    let s = Server::start();
    // Large, compressible, not valid UTF-8 in places: over the 4 KiB echo limit.
    let big: Vec<u8> = (0..200_000u32)
        .flat_map(|i| format!("row {i} {}\n", i % 7).into_bytes())
        .chain([0xff, 0x00, 0xfe])
        .collect();
    for (name, wire) in [("gzip", gzip(&big)), ("deflate", zlib(&big))] {
        let r = s.req_bytes(
            "POST",
            "/echo?run=z",
            &[("Content-Encoding", name), ("Content-Type", "text/plain")],
            &wire,
        );
        assert_eq!(r.status, 200, "{name}: {}", r.text());
        let j = r.json();
        assert_eq!(j["contentEncoding"], name);
        assert_eq!(j["bytesReceived"], wire.len() as u64, "{name}");
        assert_eq!(j["bytesDecoded"], big.len() as u64, "{name}");
        assert_eq!(j["bodyLength"], big.len() as u64, "{name}");
        assert_eq!(j["bodySha256"], sha256_hex(&big), "{name}");
        assert!(j.get("body").is_none(), "{name}: large body not echoed");
        assert_eq!(j["headers"]["content-encoding"], name);
        assert_eq!(j["headers"]["content-length"], wire.len().to_string());
        assert!(wire.len() * 4 < big.len());
    }
    // Small bodies come back as text too; PUT and PATCH are decoded as well.
    let small = "{\"hello\":\"wörld\"}";
    for (method, name, wire) in [
        ("PUT", "gzip", gzip(small.as_bytes())),
        ("PATCH", "deflate", zlib(small.as_bytes())),
    ] {
        let j = s
            .req_bytes(method, "/echo", &[("Content-Encoding", name)], &wire)
            .json();
        assert_eq!(j["method"], method);
        assert_eq!(j["body"], small);
        assert_eq!(j["bytesReceived"], wire.len() as u64);
        assert_eq!(j["bytesDecoded"], small.len() as u64);
    }
    // gzip then deflate on the wire, listed in the order applied.
    let both = zlib(&gzip(small.as_bytes()));
    let j = s
        .req_bytes(
            "POST",
            "/echo",
            &[("Content-Encoding", "gzip, deflate")],
            &both,
        )
        .json();
    assert_eq!(j["body"], small);
    // The admin /__config body goes through the same decoder.
    let cfg = gzip(br#"{"latencyMs": 0}"#);
    let r = s.req_bytes("POST", "/__config", &[("Content-Encoding", "gzip")], &cfg);
    assert_eq!(r.status, 200, "{}", r.text());
    // Arrivals count the decoded requests.
    assert_eq!(s.stats("z")["arrivals"].as_array().unwrap().len(), 2);
}

#[test]
fn bad_or_unknown_request_encodings() {
    let s = Server::start();
    let mut corrupt = gzip(b"some body that will not survive");
    let n = corrupt.len();
    corrupt[n / 2] ^= 0x55;
    corrupt[n - 5] ^= 0x55; // the CRC/length trailer
    let r = s.req_bytes(
        "POST",
        "/echo?run=bad",
        &[("Content-Encoding", "gzip")],
        &corrupt,
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let j = r.json();
    assert_eq!(j["encoding"], "gzip");
    assert!(j["error"].as_str().unwrap().contains("gzip"), "{j}");
    let r = s.req_bytes(
        "POST",
        "/echo?run=bad",
        &[("Content-Encoding", "deflate")],
        b"not zlib at all",
    );
    assert_eq!(
        (r.status, r.json()["encoding"].clone()),
        (400, "deflate".into())
    );
    // gzip bytes labelled deflate: not accepted either.
    let r = s.req_bytes(
        "POST",
        "/echo",
        &[("Content-Encoding", "deflate")],
        &gzip(b"x"),
    );
    assert_eq!(r.status, 400);
    let r = s.req_bytes(
        "POST",
        "/echo?run=bad",
        &[("Content-Encoding", "br")],
        b"\x0b\x02\x80",
    );
    assert_eq!(r.status, 415, "{}", r.text());
    assert_eq!(r.json()["encoding"], "br");
    // Refusals are still arrivals, with their status.
    let st = s.stats("bad");
    let statuses: Vec<u64> = st["arrivals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [400, 400, 415]);
}

#[test]
fn uncompressed_bodies_unchanged() {
    let s = Server::start();
    let j = s.post("/echo", "plain body").json();
    assert_eq!(j["body"], "plain body");
    assert_eq!(j["contentEncoding"], Value::Null);
    assert_eq!(
        (j["bytesReceived"].as_u64(), j["bytesDecoded"].as_u64()),
        (Some(10), Some(10))
    );
    assert_eq!(j["bodySha256"], sha256_hex(b"plain body"));
    let j = s
        .req("POST", "/echo", &[("Content-Encoding", "identity")], "same")
        .json();
    assert_eq!(j["body"], "same");
    let big = "y".repeat(5000);
    let j = s.post("/echo", &big).json();
    assert!(j.get("body").is_none());
    assert_eq!(j["bodyLength"], 5000);
    assert_eq!(j["bodySha256"], sha256_hex(big.as_bytes()));
    // A GET's Content-Encoding is not looked at.
    assert_eq!(
        s.req("GET", "/echo", &[("Content-Encoding", "br")], "")
            .status,
        200
    );
}

#[test]
fn chunked_answers_have_no_content_length() {
    let s = Server::start();
    let r = s.get("/chunked?items=3&run=chunk");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), None);
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    // The raw body is chunk-framed around the JSON text.
    assert!(
        r.text().contains(r#"[{"i":0},{"i":1},{"i":2}]"#),
        "{}",
        r.text()
    );
}

#[test]
fn server_timing_timing_allow_origin_and_traceparent() {
    let s = Server::start();
    let r = s.get("/echo?run=st&latency=30&serverTiming=1");
    assert_eq!(r.status, 200);
    let st = r.header("server-timing").expect("Server-Timing with serverTiming=1");
    assert!(st.starts_with("wait;dur=30.0;desc=\"latency param\", app;dur="), "{st}");
    let app: f64 = st.rsplit("dur=").next().unwrap().parse().unwrap();
    assert!(app >= 30.0, "the server held it at least the asked latency: {st}");
    assert_eq!(r.header("timing-allow-origin"), Some("*"));
    assert!(r.header("access-control-expose-headers").unwrap().contains("Server-Timing"));
    let plain = s.get("/echo?run=st");
    assert_eq!(plain.header("server-timing"), None);
    assert_eq!(plain.header("timing-allow-origin"), Some("*"));

    let parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    s.req("GET", "/echo?run=st", &[("traceparent", parent)], "");
    let arrivals = s.stats("st")["arrivals"].as_array().unwrap().clone();
    assert_eq!(arrivals[2]["headers"]["traceparent"], parent);
    assert_eq!(arrivals[1]["headers"].get("traceparent"), None);
}

// ---- Outbox collector (`/collect/{name}`) and per-run faults (`/__faults`) ----

fn post_json(s: &Server, path: &str, key: Option<&str>, body: &str) -> Resp {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(k) = key {
        headers.push(("Idempotency-Key", k));
    }
    s.req("POST", path, &headers, body)
}

fn collected(s: &Server, run: &str, name: &str) -> Value {
    s.stats(run)["collected"][name].clone()
}

fn strs(v: &Value) -> Vec<Option<String>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().map(String::from))
        .collect()
}

fn some(keys: &[&str]) -> Vec<Option<String>> {
    keys.iter().map(|k| Some(k.to_string())).collect()
}

/// Adds fault rules to `run`; panics unless accepted.
fn set_faults(s: &Server, run: &str, rules: &str) -> Value {
    let r = s.post(&format!("/__faults?run={run}"), rules);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// What a raw client gets for one request: the bytes read until EOF, and the error that ended
/// the exchange (a reset can come while the request is still being written).
fn raw_exchange(port: u16, req: &str) -> (Vec<u8>, Option<std::io::ErrorKind>, Duration) {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    if let Err(e) = c.write_all(req.as_bytes()) {
        return (Vec::new(), Some(e.kind()), started.elapsed());
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match c.read(&mut buf) {
            Ok(0) => return (got, None, started.elapsed()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return (got, Some(e.kind()), started.elapsed()),
        }
    }
}

/// Asserts that the server closes the connection of this request without a byte of answer.
fn assert_dropped(s: &Server, method: &str, path: &str, headers: &str, body: &str) {
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        s.host(),
        body.len()
    );
    let (got, err, took) = raw_exchange(s.port, &req);
    assert!(
        got.is_empty(),
        "{method} {path}: expected no answer, got {:?}",
        String::from_utf8_lossy(&got)
    );
    // A reset (SO_LINGER 0), neither a plain close nor a timeout.
    assert!(
        matches!(
            err,
            Some(std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe)
        ),
        "{method} {path}: {err:?}"
    );
    assert!(took < Duration::from_secs(3), "{method} {path}: {took:?}");
}

#[test]
fn collect_records_keys_in_order_with_duplicates() {
    let s = Server::start();
    for (key, body) in [
        ("k1", r#"{"n":1}"#),
        ("k2", r#"{"n":2}"#),
        ("k1", r#"{"n":1}"#),
    ] {
        let r = post_json(&s, "/collect/a?run=c", Some(key), body);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
    let j = post_json(&s, "/collect/a?run=c", Some("k2"), "{}").json();
    assert_eq!(j["ok"], true);
    assert_eq!(j["name"], "a");
    assert_eq!(j["items"], 1);
    assert_eq!(strs(&j["keys"]), some(&["k2"]));
    assert_eq!(strs(&j["duplicates"]), some(&["k2"]), "seen before");
    // No key: still a delivery, recorded as null.
    let j = post_json(&s, "/collect/a?run=c", None, "{}").json();
    assert_eq!(j["keys"], serde_json::json!([null]));
    // Another name and another run are kept apart.
    post_json(&s, "/collect/b?run=c", Some("k1"), "{}");
    post_json(&s, "/collect/a?run=other", Some("k9"), "{}");

    let st = s.stats("c");
    let a = &st["collected"]["a"];
    assert_eq!(
        strs(&a["keys"]),
        vec![
            Some("k1".into()),
            Some("k2".into()),
            Some("k1".into()),
            Some("k2".into()),
            None
        ]
    );
    assert_eq!(a["counts"], serde_json::json!({"k1": 2, "k2": 2}));
    let order: Vec<&String> = a["counts"].as_object().unwrap().keys().collect();
    assert_eq!(order, ["k1", "k2"], "first-delivery order");
    assert_eq!(strs(&a["duplicates"]), some(&["k1", "k2"]));
    assert_eq!(
        (a["items"].as_u64(), a["missing"].as_u64()),
        (Some(5), Some(1))
    );
    let reqs = a["requests"].as_array().unwrap();
    assert_eq!(reqs.len(), 5);
    assert_eq!(reqs[0]["body"], serde_json::json!({"n": 1}));
    assert_eq!(reqs[0]["batch"], false);
    assert_eq!(reqs[0]["method"], "POST");
    assert_eq!(reqs[0]["idempotencyKey"], "k1");
    assert_eq!(reqs[0]["bytes"], 7);
    assert_eq!(reqs[0]["bytesReceived"], 7);
    assert_eq!(reqs[0]["contentEncoding"], Value::Null);
    assert_eq!(reqs[0]["contentType"], "application/json");
    let ts: Vec<f64> = reqs.iter().map(|r| r["t"].as_f64().unwrap()).collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]), "time order {ts:?}");
    assert_eq!(strs(&st["collected"]["b"]["keys"]), some(&["k1"]));
    assert_eq!(st["collected"]["b"]["duplicates"], serde_json::json!([]));
    assert_eq!(strs(&collected(&s, "other", "a")["keys"]), some(&["k9"]));
    // The collector's requests are ordinary arrivals too; the old fields are all there.
    assert_eq!(st["hits"]["/collect/a"], 5);
    assert_eq!(st["arrivals"][0]["headers"]["idempotency-key"], "k1");
    assert_eq!(st["arrivals"][0]["fault"], Value::Null);
    for field in [
        "total",
        "peak",
        "peakByHost",
        "inFlight",
        "aborted",
        "preflights",
        "statuses",
    ] {
        assert!(st.get(field).is_some(), "{field}");
    }
    assert_eq!(s.stats("nobody")["collected"], serde_json::json!({}));

    // PUT works too; `status=` picks the success status; a reset forgets the run.
    let r = s.req(
        "PUT",
        "/collect/a?run=c&status=201",
        &[("Idempotency-Key", "k3")],
        "x",
    );
    assert_eq!((r.status, r.json()["keys"][0].as_str()), (201, Some("k3")));
    assert_eq!(
        collected(&s, "c", "a")["requests"][5]["body"],
        "x",
        "text body"
    );
    let r = s.req("POST", "/collect/a?run=c&status=204", &[], "");
    assert_eq!((r.status, r.body.len()), (204, 0));
    assert_eq!(s.get("/collect/a?run=c").status, 405);
    s.post("/__reset?run=c", "");
    assert_eq!(s.stats("c")["collected"], serde_json::json!({}));
    assert_eq!(strs(&collected(&s, "other", "a")["keys"]), some(&["k9"]));
}

#[test]
fn collect_batches_take_keys_from_elements() {
    let s = Server::start();
    let batch = r#"[{"idempotencyKey":"b1","body":1},{"idempotencyKey":"b2"},{"x":1},"str",{"idempotencyKey":"b1"}]"#;
    // A header that does not list one key per element is recorded, not used as the keys.
    let r = post_json(&s, "/collect/q?run=b", Some("h1,h2"), batch);
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["items"], 5);
    assert_eq!(
        strs(&j["keys"]),
        vec![
            Some("b1".into()),
            Some("b2".into()),
            None,
            None,
            Some("b1".into())
        ]
    );
    assert_eq!(
        strs(&j["duplicates"]),
        some(&["b1"]),
        "repeated within the batch"
    );

    // A gzip batch: decoded first; sizes on the wire and decoded.
    let plain = r#"[{"idempotencyKey":"b3"},{"idempotencyKey":"b2"}]"#;
    let wire = gzip(plain.as_bytes());
    let r = s.req_bytes(
        "POST",
        "/collect/q?run=b",
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        &wire,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(strs(&r.json()["duplicates"]), some(&["b2"]));
    // An empty batch delivers nothing but is still a request.
    assert_eq!(
        post_json(&s, "/collect/q?run=b", None, "[]").json()["items"],
        0
    );

    let q = collected(&s, "b", "q");
    assert_eq!(
        strs(&q["keys"]),
        vec![
            Some("b1".into()),
            Some("b2".into()),
            None,
            None,
            Some("b1".into()),
            Some("b3".into()),
            Some("b2".into())
        ]
    );
    assert_eq!(q["counts"], serde_json::json!({"b1": 2, "b2": 2, "b3": 1}));
    assert_eq!(strs(&q["duplicates"]), some(&["b1", "b2"]));
    assert_eq!(
        (q["items"].as_u64(), q["missing"].as_u64()),
        (Some(7), Some(2))
    );
    let reqs = q["requests"].as_array().unwrap();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0]["batch"], true);
    assert_eq!(reqs[0]["items"], 5);
    assert_eq!(reqs[0]["idempotencyKey"], "h1,h2");
    assert_eq!(reqs[0]["body"][0]["body"], 1);
    assert_eq!(reqs[1]["contentEncoding"], "gzip");
    assert_eq!(reqs[1]["bytes"], plain.len());
    assert_eq!(reqs[1]["bytesReceived"], wire.len());
    assert_eq!(reqs[2]["items"], 0);

    // One key per element in the header (as fetchlane's outbox sends a batch): those win.
    let r = post_json(&s, "/collect/k?run=b", Some("k1, k2,k3"), r#"[{"idempotencyKey":"x"},{},3]"#);
    assert_eq!(strs(&r.json()["keys"]), some(&["k1", "k2", "k3"]));
    // Bodies over 4 KiB are not kept.
    let big = format!(
        r#"[{{"idempotencyKey":"big","pad":"{}"}}]"#,
        "p".repeat(5000)
    );
    post_json(&s, "/collect/q?run=b", None, &big);
    let q = collected(&s, "b", "q");
    assert_eq!(q["requests"][3]["body"], Value::Null);
    assert_eq!(q["requests"][3]["keys"][0], "big");
}

#[test]
fn collect_cors_and_keepalive_headers() {
    let s = Server::start();
    let origin = "http://localhost:9000";
    let r = s.req(
        "OPTIONS",
        "/collect/x?run=cc",
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "content-type, idempotency-key, content-encoding",
            ),
        ],
        "",
    );
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some(origin));
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("content-type, idempotency-key, content-encoding")
    );
    assert!(r
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    let wire = gzip(br#"{"a":1}"#);
    let r = s.req_bytes(
        "POST",
        "/collect/x?run=cc",
        &[
            ("Origin", origin),
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
            ("Idempotency-Key", "ck"),
            ("Sec-Fetch-Mode", "cors"),
        ],
        &wire,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("access-control-allow-origin"), Some(origin));
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    let st = s.stats("cc");
    assert_eq!(st["preflights"], 1);
    assert_eq!(strs(&st["collected"]["x"]["keys"]), some(&["ck"]));
    assert_eq!(st["collected"]["x"]["requests"][0]["body"]["a"], 1);
}

#[test]
fn fault_status_by_count_with_retry_after() {
    let s = Server::start();
    let j = set_faults(
        &s,
        "f",
        r#"{"mode": "503", "path": "/collect/a", "count": 2, "retryAfterSec": 3}"#,
    );
    assert_eq!(j["run"], "f");
    let rule = &j["faults"][0];
    assert_eq!(rule["mode"], "503");
    assert_eq!(rule["path"], "/collect/a");
    assert_eq!(
        (rule["count"].as_u64(), rule["remaining"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(rule["forMs"], Value::Null);
    assert_eq!(rule["msLeft"], Value::Null);
    assert_eq!(rule["retryAfterSec"], 3);
    assert_eq!(rule["applied"], 0);

    for i in 0..2 {
        let r = post_json(&s, "/collect/a?run=f", Some("k1"), "{}");
        assert_eq!(r.status, 503, "attempt {i}");
        assert_eq!(r.header("retry-after"), Some("3"));
        assert_eq!(r.json()["fault"], "503");
        assert!(r.header("access-control-allow-origin").is_some());
        if i == 0 {
            let listed = s.get("/__faults?run=f").json();
            assert_eq!(listed["faults"][0]["remaining"], 1);
            assert_eq!(listed["faults"][0]["applied"], 1);
        }
    }
    // Another path of the run is not matched.
    assert_eq!(
        post_json(&s, "/collect/b?run=f", Some("k9"), "{}").status,
        200
    );
    let r = post_json(&s, "/collect/a?run=f", Some("k1"), "{}");
    assert_eq!((r.status, r.header("retry-after")), (200, None));
    assert_eq!(
        s.get("/__faults?run=f").json()["faults"],
        serde_json::json!([])
    );

    let st = s.stats("f");
    assert_eq!(
        strs(&st["collected"]["a"]["keys"]),
        some(&["k1"]),
        "only the delivery"
    );
    let arr = st["arrivals"].as_array().unwrap();
    let seen: Vec<(Value, Value)> = arr
        .iter()
        .map(|a| (a["status"].clone(), a["fault"].clone()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (503.into(), "503".into()),
            (503.into(), "503".into()),
            (200.into(), Value::Null),
            (200.into(), Value::Null)
        ]
    );
    assert_eq!(st["statuses"]["503"], 2);
    assert_eq!(st["hits"]["/collect/a"], 3, "attempts are counted");

    // 429 without Retry-After, a 400, and a status as a number; a prefix path.
    set_faults(
        &s,
        "g",
        r#"[{"mode": "429", "path": "/collect/*", "count": 1}, {"mode": 400, "count": 1}]"#,
    );
    let r = post_json(&s, "/collect/z?run=g", Some("x"), "{}");
    assert_eq!((r.status, r.header("retry-after")), (429, None));
    let r = s.get("/items?ids=1&run=g");
    assert_eq!(r.status, 400, "the second rule matches every path");
    assert_eq!(s.get("/items?ids=1&run=g").status, 200);
}

#[test]
fn fault_for_a_time_and_with_latency() {
    let s = Server::start();
    let j = set_faults(
        &s,
        "t",
        r#"{"mode": "429", "forMs": 1000, "retryAfterSec": 1}"#,
    );
    let left = j["faults"][0]["msLeft"].as_f64().unwrap();
    assert!(left > 500.0 && left <= 1000.0, "{left}");
    let started = Instant::now();
    let mut refused = 0;
    while started.elapsed() < Duration::from_millis(400) {
        let r = s.get("/items?ids=1&run=t");
        assert_eq!((r.status, r.header("retry-after")), (429, Some("1")));
        refused += 1;
        thread::sleep(Duration::from_millis(50));
    }
    assert!(refused >= 3);
    thread::sleep(Duration::from_millis(1100).saturating_sub(started.elapsed()));
    assert_eq!(s.get("/items?ids=1&run=t").status, 200, "expired");
    assert_eq!(
        s.get("/__faults?run=t").json()["faults"],
        serde_json::json!([])
    );

    // count and forMs together: whichever runs out first (here the time).
    set_faults(&s, "t2", r#"{"mode": "503", "forMs": 500, "count": 100}"#);
    assert_eq!(s.get("/echo?run=t2").status, 503);
    thread::sleep(Duration::from_millis(600));
    assert_eq!(s.get("/echo?run=t2").status, 200);

    // latency= still applies before the fault's answer.
    set_faults(&s, "t3", r#"{"mode": "503", "count": 1}"#);
    let started = Instant::now();
    let r = post_json(&s, "/collect/a?run=t3&latency=200", Some("k"), "{}");
    assert_eq!(r.status, 503);
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn fault_drop_resets_the_connection() {
    let s = Server::start();
    set_faults(
        &s,
        "d",
        r#"{"mode": "drop", "path": "/collect/a", "count": 2}"#,
    );
    let headers = "Content-Type: application/json\r\nIdempotency-Key: k1\r\n";
    assert_dropped(&s, "POST", "/collect/a?run=d", headers, r#"{"n":1}"#);
    // On a keep-alive connection too, and without reading the body.
    assert_dropped(
        &s,
        "POST",
        "/collect/a?run=d",
        headers,
        &"x".repeat(100_000),
    );
    let r = post_json(&s, "/collect/a?run=d", Some("k1"), r#"{"n":1}"#);
    assert_eq!(r.status, 200, "count used up");

    let st = s.stats("d");
    assert_eq!(strs(&st["collected"]["a"]["keys"]), some(&["k1"]));
    assert_eq!(st["collected"]["a"]["duplicates"], serde_json::json!([]));
    let arr = st["arrivals"].as_array().unwrap();
    assert_eq!(arr.len(), 3, "every attempt is an arrival");
    for a in &arr[..2] {
        assert_eq!(
            (&a["status"], &a["aborted"], &a["fault"]),
            (&Value::Null, &Value::Bool(true), &Value::from("drop"))
        );
        assert_eq!(a["headers"]["idempotency-key"], "k1");
    }
    assert_eq!(
        (&arr[2]["status"], &arr[2]["aborted"]),
        (&200.into(), &false.into())
    );
    assert_eq!(st["aborted"], 2);
    assert_eq!(st["inFlight"], 0);
    assert_eq!(st["hits"]["/collect/a"], 3);
}

#[test]
fn fault_drop_after_delivers_then_resets() {
    let s = Server::start();
    set_faults(
        &s,
        "da",
        r#"{"mode": "drop-after", "path": "/collect/a", "count": 1}"#,
    );
    let headers = "Content-Type: application/json\r\nIdempotency-Key: k1\r\n";
    assert_dropped(&s, "POST", "/collect/a?run=da", headers, r#"{"n":1}"#);
    // The client retries with the same key: the collector saw it twice.
    let r = post_json(&s, "/collect/a?run=da", Some("k1"), r#"{"n":1}"#);
    assert_eq!(r.status, 200);
    assert_eq!(strs(&r.json()["duplicates"]), some(&["k1"]));
    let st = s.stats("da");
    let a = &st["collected"]["a"];
    assert_eq!(strs(&a["keys"]), some(&["k1", "k1"]));
    assert_eq!(a["counts"]["k1"], 2);
    assert_eq!(strs(&a["duplicates"]), some(&["k1"]));
    assert_eq!(st["arrivals"][0]["fault"], "drop-after");
    assert_eq!(st["arrivals"][0]["aborted"], true);
    assert_eq!(st["arrivals"][0]["status"], Value::Null);
}

#[test]
fn fault_down_drops_every_path_and_preflight_of_the_run_only() {
    let s = Server::start();
    let j = set_faults(&s, "dn", r#"{"mode": "down", "path": "/ignored"}"#);
    assert_eq!(j["faults"][0]["mode"], "down");
    assert_eq!(j["faults"][0]["remaining"], Value::Null);
    assert_dropped(
        &s,
        "POST",
        "/collect/a?run=dn",
        "Idempotency-Key: k\r\n",
        "{}",
    );
    assert_dropped(&s, "GET", "/items?ids=1&run=dn", "", "");
    assert_dropped(
        &s,
        "OPTIONS",
        "/collect/a?run=dn",
        "Origin: http://a.test\r\nAccess-Control-Request-Method: POST\r\n",
        "",
    );
    // Other runs, requests without a run, and the control routes still answer.
    assert_eq!(
        post_json(&s, "/collect/a?run=up", Some("k"), "{}").status,
        200
    );
    assert_eq!(s.get("/items?ids=1").status, 200);
    let r = s.req(
        "OPTIONS",
        "/collect/a?run=up",
        &[
            ("Origin", "http://a.test"),
            ("Access-Control-Request-Method", "POST"),
        ],
        "",
    );
    assert_eq!(r.status, 204);
    let st = s.stats("dn");
    assert_eq!(st["total"], 2);
    assert_eq!(st["preflights"], 1, "a dropped preflight is still counted");
    assert_eq!(st["aborted"], 2);
    assert_eq!(st["arrivals"][1]["fault"], "down");
    assert_eq!(st["collected"], serde_json::json!({}));

    // Cleared: back up.
    let r = s.req("DELETE", "/__faults?run=dn", &[], "");
    assert_eq!(
        r.json(),
        serde_json::json!({"ok": true, "run": "dn", "cleared": 1})
    );
    assert_eq!(
        post_json(&s, "/collect/a?run=dn", Some("k"), "{}").status,
        200
    );

    // down with a count: only that many requests (preflights do not use it up).
    set_faults(&s, "dn2", r#"{"mode": "down", "count": 1}"#);
    assert_dropped(
        &s,
        "OPTIONS",
        "/echo?run=dn2",
        "Origin: http://a.test\r\nAccess-Control-Request-Method: PUT\r\n",
        "",
    );
    assert_dropped(&s, "GET", "/echo?run=dn2", "", "");
    assert_eq!(s.get("/echo?run=dn2").status, 200);
}

#[test]
fn faults_are_per_run_and_cleared_by_reset() {
    let s = Server::start();
    set_faults(&s, "A", r#"{"mode": "503", "path": "/collect/a"}"#);
    set_faults(&s, "A", r#"{"mode": "drop", "path": "/items"}"#);
    assert_eq!(
        s.get("/__faults?run=A").json()["faults"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        s.get("/__faults?run=B").json()["faults"],
        serde_json::json!([])
    );
    for _ in 0..3 {
        assert_eq!(
            post_json(&s, "/collect/a?run=A", Some("k"), "{}").status,
            503
        );
        assert_eq!(
            post_json(&s, "/collect/a?run=B", Some("k"), "{}").status,
            200
        );
        assert_eq!(post_json(&s, "/collect/a", Some("k"), "{}").status, 200);
    }
    assert_eq!(s.stats("A")["statuses"]["503"], 3);
    assert_eq!(
        strs(&collected(&s, "B", "a")["keys"]),
        some(&["k", "k", "k"])
    );
    assert_eq!(s.stats("B")["arrivals"][0]["fault"], Value::Null);

    // /__reset?run=A forgets A's rules, not B's.
    set_faults(&s, "B", r#"{"mode": "429"}"#);
    s.post("/__reset?run=A", "");
    assert_eq!(
        s.get("/__faults?run=A").json()["faults"],
        serde_json::json!([])
    );
    assert_eq!(
        post_json(&s, "/collect/a?run=A", Some("k"), "{}").status,
        200
    );
    assert_eq!(
        post_json(&s, "/collect/a?run=B", Some("k"), "{}").status,
        429
    );
    // DELETE without run, like /__reset without run, clears every run's rules.
    set_faults(&s, "C", r#"{"mode": "429"}"#);
    let r = s.req("DELETE", "/__faults", &[], "").json();
    assert_eq!(r["cleared"], 2);
    assert_eq!(
        post_json(&s, "/collect/a?run=B", Some("k"), "{}").status,
        200
    );
    set_faults(&s, "C", r#"{"mode": "429"}"#);
    s.post("/__reset", "");
    assert_eq!(s.get("/echo?run=C").status, 200);
}

#[test]
fn bad_fault_rules_are_refused() {
    let s = Server::start();
    for bad in [
        "not json",
        r#""drop""#,
        r#"{}"#,
        r#"{"mode": "200"}"#,
        r#"{"mode": "teapot"}"#,
        r#"{"mode": "drop", "forms": 100}"#,
        r#"{"mode": "drop", "count": -1}"#,
        r#"{"mode": "drop", "forMs": "100"}"#,
        r#"{"mode": "drop", "path": "items"}"#,
        r#"[{"mode": "drop"}, {"mode": "nope"}]"#,
    ] {
        let r = s.post("/__faults?run=bad", bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert!(r.json()["error"].is_string(), "{bad}");
    }
    assert_eq!(
        s.get("/__faults?run=bad").json()["faults"],
        serde_json::json!([])
    );
    assert_eq!(s.get("/echo?run=bad").status, 200, "nothing was added");
    // The rules may come gzip-compressed, like /__config.
    let wire = gzip(br#"{"mode": "503", "count": 1}"#);
    let r = s.req_bytes(
        "POST",
        "/__faults?run=bad",
        &[("Content-Encoding", "gzip")],
        &wire,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(s.get("/echo?run=bad").status, 503);
}

/// Reads one answer (with `Content-Length`) from a keep-alive connection.
fn read_answer(c: &mut TcpStream) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        assert_eq!(
            c.read(&mut byte).unwrap(),
            1,
            "connection closed mid-answer"
        );
        raw.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&raw).into_owned();
    let (status, headers) = parse_head(&head);
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0u8; len];
    c.read_exact(&mut body).unwrap();
    (status, headers, body)
}

fn keep_alive_get(s: &Server, path: &str) -> TcpStream {
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(c, "GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", s.host()).unwrap();
    c
}

fn closed_by_server(c: &mut TcpStream) -> bool {
    let mut buf = [0u8; 16];
    c.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    matches!(c.read(&mut buf), Ok(0))
}

#[test]
fn drop_rules_close_keep_alive_connections() {
    let s = Server::start();
    // An idle keep-alive connection, and one whose request is still being handled.
    let mut idle = keep_alive_get(&s, "/items?ids=1&run=ka");
    let (status, headers, _) = read_answer(&mut idle);
    assert_eq!(status, 200);
    assert!(
        !headers.iter().any(|(k, _)| k == "connection"),
        "{headers:?}"
    );
    let mut busy = keep_alive_get(&s, "/echo?run=ka&latency=1500");
    wait_until("busy request never arrived", || {
        s.stats("ka")["inFlight"] == 1
    });

    // A status rule leaves connections alone.
    set_faults(&s, "other", r#"{"mode": "503"}"#);
    assert!(!closed_by_server(&mut idle), "idle connection kept");
    write!(
        idle,
        "GET /items?ids=2&run=ka HTTP/1.1\r\nHost: {}\r\n\r\n",
        s.host()
    )
    .unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(read_answer(&mut idle).0, 200, "still usable");

    // A drop rule (for any run) closes idle connections at once and busy ones after their
    // answer, which is sent whole, with `Connection: close`.
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let rule = r#"{"mode": "drop", "path": "/nothing", "forMs": 60000}"#;
    write!(
        c,
        "POST /__faults?run=other HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\r\n{rule}",
        s.host(),
        rule.len()
    )
    .unwrap();
    let (status, headers, _) = read_answer(&mut c);
    assert_eq!(status, 200);
    assert!(
        headers.contains(&("connection".into(), "close".into())),
        "{headers:?}"
    );
    assert!(closed_by_server(&mut c));
    assert!(closed_by_server(&mut idle), "idle connection closed");
    busy.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (status, headers, body) = read_answer(&mut busy);
    assert_eq!(status, 200);
    assert!(
        headers.contains(&("connection".into(), "close".into())),
        "{headers:?}"
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["path"],
        "/echo"
    );
    assert!(
        closed_by_server(&mut busy),
        "busy connection closed after its answer"
    );
    // Every answer says `Connection: close` while the rule is in force, whatever the run.
    for path in ["/items?ids=1&run=ka", "/__stats?run=ka", "/t/missing"] {
        let mut c = keep_alive_get(&s, path);
        let (_, headers, _) = read_answer(&mut c);
        assert!(
            headers.contains(&("connection".into(), "close".into())),
            "{path}"
        );
        assert!(closed_by_server(&mut c), "{path}");
    }
    s.req("DELETE", "/__faults?run=other", &[], "");
    let mut again = keep_alive_get(&s, "/items?ids=1&run=ka");
    let (status, headers, _) = read_answer(&mut again);
    assert_eq!(status, 200);
    assert!(
        !headers.iter().any(|(k, _)| k == "connection"),
        "cleared: {headers:?}"
    );
    assert!(!closed_by_server(&mut again), "keep-alive is back");
    assert_eq!(s.stats("ka")["aborted"], 0, "no answer was cut");
}
