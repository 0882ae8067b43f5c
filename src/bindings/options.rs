//! Decoding the JS option objects (`ClientOptions`, `RetryOptions`, `LaneInit`,
//! `GroupOptions`) into the Rust API's types, once, at the edge.

use crate::prelude::*;

use js_sys::Function;
use wasm_bindgen::{JsCast, JsValue};

use super::values::*;
use crate::client::{BodyAs, CacheConfig, Config, ConfigError, GroupOptions, PersistConfig, RateLimit, RequestOptions, Strategy};
use crate::core::backoff::Backoff;
use crate::core::lane::Lane;
use crate::core::retry_policy::RetryPolicy;
use crate::web::transport::Transport;

const CLIENT_KEYS: &[&str] = &[
    "baseUrl", "concurrency", "perHost", "rateLimits", "retry", "timeoutMs", "totalTimeoutMs",
    "cache", "dedupe", "headers", "fetch", "onEvent", "throwHttpErrors",
];

const RETRY_KEYS: &[&str] = &[
    "limit", "methods", "statusCodes", "backoffMs", "factor", "maxBackoffMs", "jitter",
    "maxRetryAfterMs", "retryOnTimeout",
];

/// `RequestInit`'s own keys plus the ones `LaneInit` adds.
const LANE_INIT_KEYS: &[&str] = &[
    "method", "headers", "body", "mode", "credentials", "cache", "redirect", "referrer",
    "referrerPolicy", "integrity", "keepalive", "signal", "priority", "duplex", "window",
    "lane", "strategy", "ttlMs", "timeoutMs", "totalTimeoutMs", "retry", "dedupe", "key",
];

/// The decoded `createClient` options.
pub(crate) struct ClientOptions {
    pub config: Config,
    pub on_event: Option<Function>,
}

pub(crate) fn client_options(value: &JsValue) -> Result<ClientOptions, ConfigError> {
    let mut config = Config::default();
    let mut on_event = None;
    let Some(o) = options_object(value, "options")? else {
        return Ok(ClientOptions { config, on_event });
    };
    check_keys(&o, CLIENT_KEYS, "")?;
    if let Some(v) = get(&o, "baseUrl") {
        let base = match v.dyn_ref::<web_sys::Url>() {
            Some(url) => url.href(),
            None => string(&v, "baseUrl")?,
        };
        // Checked now, so that a bad base fails at creation and not on the first request.
        let absolute = crate::client::resolve_url(None, &base)
            .map_err(|_| got(ConfigError::type_error("baseUrl", "must be an absolute URL"), &v))?;
        config.base_url = Some(absolute);
    }
    if let Some(v) = get(&o, "concurrency") {
        config.concurrency = limit(&v, "concurrency")?;
    }
    if let Some(v) = get(&o, "perHost") {
        config.per_host = limit(&v, "perHost")?;
    }
    if let Some(v) = get(&o, "rateLimits") {
        config.rate_limits = rate_limits(&v)?;
    }
    if let Some(v) = get(&o, "retry") {
        config.retry = retry(&v, "retry")?;
    }
    if let Some(v) = get(&o, "timeoutMs") {
        config.timeout_ms = Some(positive_ms(&v, "timeoutMs")?);
    }
    if let Some(v) = get(&o, "totalTimeoutMs") {
        config.total_timeout_ms = Some(positive_ms(&v, "totalTimeoutMs")?);
    }
    if let Some(v) = get(&o, "cache") {
        config.cache = cache(&v)?;
    }
    if let Some(v) = get(&o, "dedupe") {
        config.dedupe = boolean(&v, "dedupe")?;
    }
    if let Some(v) = get(&o, "headers") {
        config.headers = headers(&v)?;
    }
    if let Some(v) = get(&o, "fetch") {
        config.transport = Transport::Custom(function(&v, "fetch")?);
    }
    if let Some(v) = get(&o, "onEvent") {
        on_event = Some(function(&v, "onEvent")?);
    }
    if let Some(v) = get(&o, "throwHttpErrors") {
        config.throw_http_errors = boolean(&v, "throwHttpErrors")?;
    }
    Ok(ClientOptions { config, on_event })
}

fn rate_limits(value: &JsValue) -> Result<Vec<crate::client::RateLimit>, ConfigError> {
    let mut rules = Vec::new();
    for (i, item) in array(value, "rateLimits")?.iter().enumerate() {
        let path = index("rateLimits", i);
        let o = options_object(item, &path)?
            .ok_or_else(|| got(ConfigError::type_error(&path, "must be an object"), item))?;
        check_keys(&o, &["limit", "intervalMs", "host"], &path)?;
        let limit_name = join(&path, "limit");
        let interval_name = join(&path, "intervalMs");
        let limit = get(&o, "limit").ok_or_else(|| ConfigError::type_error(&limit_name, "is required"))?;
        let interval =
            get(&o, "intervalMs").ok_or_else(|| ConfigError::type_error(&interval_name, "is required"))?;
        let limit = integer(&limit, &limit_name, 1.0)?;
        let interval_ms = positive_ms(&interval, &interval_name)?;
        let host = get(&o, "host").map(|h| string(&h, &join(&path, "host"))).transpose()?;
        rules.push(RateLimit { limit: limit.min(u32::MAX as f64) as u32, interval_ms, host });
    }
    Ok(rules)
}

/// `retry`: a number (the limit), `false` (off), `true` (defaults) or `RetryOptions`.
pub(crate) fn retry(value: &JsValue, name: &str) -> Result<RetryPolicy, ConfigError> {
    if let Some(b) = value.as_bool() {
        return Ok(if b { RetryPolicy::default() } else { RetryPolicy::none() });
    }
    if value.as_f64().is_some() {
        let limit = integer(value, name, 0.0)?;
        return Ok(RetryPolicy { limit: limit.min(1000.0) as u32, ..RetryPolicy::default() });
    }
    let o = options_object(value, name)?
        .ok_or_else(|| got(ConfigError::type_error(name, "must be a number, a boolean or an object"), value))?;
    check_keys(&o, RETRY_KEYS, name)?;
    let mut p = RetryPolicy::default();
    let mut backoff = Backoff::default();
    if let Some(v) = get(&o, "limit") {
        p.limit = integer(&v, &join(name, "limit"), 0.0)?.min(1000.0) as u32;
    }
    if let Some(v) = get(&o, "methods") {
        let path = join(name, "methods");
        p.methods = array(&v, &path)?
            .iter()
            .enumerate()
            .map(|(i, m)| string(m, &index(&path, i)).map(|s| s.to_ascii_uppercase()))
            .collect::<Result<_, _>>()?;
    }
    if let Some(v) = get(&o, "statusCodes") {
        let path = join(name, "statusCodes");
        p.status_codes = array(&v, &path)?
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let code = integer(c, &index(&path, i), 100.0)?;
                if code > 599.0 {
                    return Err(got(ConfigError::range_error(&index(&path, i), "must be an HTTP status (100–599)"), c));
                }
                Ok(code as u16)
            })
            .collect::<Result<_, _>>()?;
    }
    if let Some(v) = get(&o, "backoffMs") {
        backoff.base_ms = non_negative(&v, &join(name, "backoffMs"))?;
    }
    if let Some(v) = get(&o, "factor") {
        let path = join(name, "factor");
        backoff.factor = non_negative(&v, &path)?;
        if backoff.factor < 1.0 {
            return Err(got(ConfigError::range_error(&path, "must be >= 1"), &v));
        }
    }
    if let Some(v) = get(&o, "maxBackoffMs") {
        backoff.max_ms = non_negative(&v, &join(name, "maxBackoffMs"))?;
    }
    if let Some(v) = get(&o, "jitter") {
        backoff.jitter = boolean(&v, &join(name, "jitter"))?;
    }
    if let Some(v) = get(&o, "maxRetryAfterMs") {
        let path = join(name, "maxRetryAfterMs");
        p.max_retry_after_ms = if v.as_f64() == Some(f64::INFINITY) { f64::INFINITY } else { non_negative(&v, &path)? };
    }
    if let Some(v) = get(&o, "retryOnTimeout") {
        p.retry_on_timeout = boolean(&v, &join(name, "retryOnTimeout"))?;
    }
    p.backoff = backoff;
    Ok(p)
}

/// `headers`: anything the `Headers` constructor takes (a record, pairs, a `Headers`).
fn headers(value: &JsValue) -> Result<Vec<(String, String)>, ConfigError> {
    let headers = web_sys::Headers::new_with_str_sequence_sequence(value)
        .map_err(|_| got(ConfigError::type_error("headers", "must be a Headers object, an object of strings or an array of pairs"), value))?;
    let mut out = Vec::new();
    if let Ok(Some(entries)) = js_sys::try_iter(&headers) {
        for entry in entries.flatten() {
            let pair: js_sys::Array = entry.unchecked_into();
            out.push((pair.get(0).as_string().unwrap_or_default(), pair.get(1).as_string().unwrap_or_default()));
        }
    }
    Ok(out)
}

fn strategy(value: &JsValue, name: &str) -> Result<Strategy, ConfigError> {
    value.as_string().and_then(|s| Strategy::parse(&s)).ok_or_else(|| {
        got(
            ConfigError::type_error(
                name,
                "must be 'cache-first', 'network-first', 'stale-while-revalidate', 'network-only', 'cache-only' or 'none'",
            ),
            value,
        )
    })
}

/// `cache`: `false` (off) or `CacheOptions`.
fn cache(value: &JsValue) -> Result<Option<CacheConfig>, ConfigError> {
    if value.as_bool() == Some(false) {
        return Ok(None);
    }
    let o = options_object(value, "cache")?
        .ok_or_else(|| got(ConfigError::type_error("cache", "must be false or an object"), value))?;
    check_keys(&o, &["strategy", "ttlMs", "maxEntries", "maxBytes", "namespace", "persist", "allowPrivate"], "cache")?;
    let mut c = CacheConfig::default();
    if let Some(v) = get(&o, "strategy") {
        c.strategy = strategy(&v, "cache.strategy")?;
    }
    if let Some(v) = get(&o, "ttlMs") {
        c.ttl_ms = Some(non_negative(&v, "cache.ttlMs")?);
    }
    if let Some(v) = get(&o, "maxEntries") {
        c.max_entries = integer(&v, "cache.maxEntries", 1.0)? as usize;
    }
    if let Some(v) = get(&o, "maxBytes") {
        c.max_bytes = integer(&v, "cache.maxBytes", 1.0)? as usize;
    }
    if let Some(v) = get(&o, "namespace") {
        c.namespace = string(&v, "cache.namespace")?;
    }
    if let Some(v) = get(&o, "allowPrivate") {
        c.allow_private = boolean(&v, "cache.allowPrivate")?;
    }
    if let Some(v) = get(&o, "persist") {
        if v.as_bool() != Some(false) {
            let p = options_object(&v, "cache.persist")?
                .ok_or_else(|| got(ConfigError::type_error("cache.persist", "must be false or an object"), &v))?;
            check_keys(&p, &["name", "maxEntries", "maxAgeMs"], "cache.persist")?;
            let name = get(&p, "name")
                .ok_or_else(|| ConfigError::type_error("cache.persist.name", "is required"))
                .and_then(|n| string(&n, "cache.persist.name"))?;
            let max_entries =
                get(&p, "maxEntries").map(|n| integer(&n, "cache.persist.maxEntries", 1.0).map(|n| n as usize)).transpose()?;
            let max_age_ms = get(&p, "maxAgeMs").map(|n| positive_ms(&n, "cache.persist.maxAgeMs")).transpose()?;
            c.persist = Some(PersistConfig { name, max_entries, max_age_ms });
        }
    }
    Ok(Some(c))
}

fn lane(value: &JsValue, name: &str) -> Result<Lane, ConfigError> {
    value.as_string().and_then(|s| Lane::parse(&s)).ok_or_else(|| {
        got(ConfigError::type_error(name, "must be 'critical', 'normal' or 'background'"), value)
    })
}

/// The `LaneInit` additions of a request's `init` (the rest is `RequestInit`'s).
pub(crate) fn lane_init(init: &JsValue) -> Result<RequestOptions, ConfigError> {
    let mut opts = RequestOptions::default();
    let Some(o) = options_object(init, "init")? else {
        return Ok(opts);
    };
    check_keys(&o, LANE_INIT_KEYS, "init")?;
    if let Some(v) = get(&o, "lane") {
        opts.lane = lane(&v, "init.lane")?;
    }
    if let Some(v) = get(&o, "strategy") {
        opts.strategy = Some(strategy(&v, "init.strategy")?);
    }
    if let Some(v) = get(&o, "ttlMs") {
        opts.ttl_ms = Some(non_negative(&v, "init.ttlMs")?);
    }
    if let Some(v) = get(&o, "timeoutMs") {
        opts.timeout_ms = Some(positive_ms(&v, "init.timeoutMs")?);
    }
    if let Some(v) = get(&o, "totalTimeoutMs") {
        opts.total_timeout_ms = Some(positive_ms(&v, "init.totalTimeoutMs")?);
    }
    if let Some(v) = get(&o, "retry") {
        opts.retry = Some(retry(&v, "init.retry")?);
    }
    if let Some(v) = get(&o, "dedupe") {
        opts.dedupe = Some(boolean(&v, "init.dedupe")?);
    }
    if let Some(v) = get(&o, "key") {
        opts.key = Some(string(&v, "init.key")?);
    }
    if let Some(v) = get(&o, "signal") {
        if !v.is_null() {
            opts.signal = Some(v.dyn_into().map_err(|v| {
                got(ConfigError::type_error("init.signal", "must be an AbortSignal"), &v)
            })?);
        }
    }
    Ok(opts)
}

/// `GroupOptions` plus the `allSettled` progress callback.
pub(crate) fn group_options(value: &JsValue) -> Result<(GroupOptions, Option<Function>), ConfigError> {
    let mut group = GroupOptions::default();
    let Some(o) = options_object(value, "opts")? else {
        return Ok((group, None));
    };
    check_keys(&o, &["as", "abortOnFailure", "onProgress"], "opts")?;
    if let Some(v) = get(&o, "as") {
        group.body_as = v.as_string().and_then(|s| BodyAs::parse(&s)).ok_or_else(|| {
            got(ConfigError::type_error("opts.as", "must be 'json', 'text' or 'response'"), &v)
        })?;
    }
    if let Some(v) = get(&o, "abortOnFailure") {
        group.abort_on_failure = boolean(&v, "opts.abortOnFailure")?;
    }
    let progress = get(&o, "onProgress").map(|v| function(&v, "opts.onProgress")).transpose()?;
    Ok((group, progress))
}

/// `schedule`'s options.
pub(crate) fn schedule_options(value: &JsValue) -> Result<crate::client::ScheduleOptions, ConfigError> {
    let mut opts = crate::client::ScheduleOptions::default();
    let Some(o) = options_object(value, "opts")? else {
        return Ok(opts);
    };
    check_keys(&o, &["lane", "signal", "host"], "opts")?;
    if let Some(v) = get(&o, "lane") {
        opts.lane = lane(&v, "opts.lane")?;
    }
    if let Some(v) = get(&o, "signal") {
        opts.signal = Some(
            v.dyn_into().map_err(|v| got(ConfigError::type_error("opts.signal", "must be an AbortSignal"), &v))?,
        );
    }
    if let Some(v) = get(&o, "host") {
        opts.host = Some(string(&v, "opts.host")?);
    }
    Ok(opts)
}
