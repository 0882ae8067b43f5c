//! Events for developers: what was queued, started, retried, served from cache, throttled
//! and settled.

use crate::prelude::*;

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};

use crate::core::error::ErrorKind;
use crate::core::lane::Lane;
use crate::core::timing::Timing;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// A request entered the queue.
    Queued,
    /// A request's first attempt started (it holds a permit).
    Start,
    /// An attempt failed and another will follow after `delay_ms`.
    Retry,
    /// A request was answered from a cache.
    CacheHit,
    /// A server said "too many" with a wait: the host pauses for `delay_ms`.
    RateLimited,
    /// A request ended, with a response or an error.
    Settled,
    /// Stale-while-revalidate refreshed a stored entry in the background.
    CacheUpdate,
    /// A cache store failed (quota, no Cache API); the request went on without it.
    CacheError,
    /// A host's adaptive limit changed (`host`, `limit`, and `reason`: `latency`,
    /// `overload`, `probe` or `remeasure`).
    Limit,
    /// An outbox item was delivered (`outbox`, `idempotency_key`, `status`).
    OutboxSent,
    /// An attempt at an outbox item failed; it is tried again after `delay_ms` (`reason`
    /// `network` or `status`).
    OutboxRetry,
    /// An outbox item was dropped (`reason` `status`: a final 4xx, or `expired`).
    OutboxDrop,
}

impl EventType {
    /// The JS name: `queued`, `start`, `retry`, `cache-hit`, `rate-limited`, `settled`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Queued => "queued",
            EventType::Start => "start",
            EventType::Retry => "retry",
            EventType::CacheHit => "cache-hit",
            EventType::RateLimited => "rate-limited",
            EventType::Settled => "settled",
            EventType::CacheUpdate => "cache-update",
            EventType::CacheError => "cache-error",
            EventType::Limit => "limit",
            EventType::OutboxSent => "outbox-sent",
            EventType::OutboxRetry => "outbox-retry",
            EventType::OutboxDrop => "outbox-drop",
        }
    }

    /// Parses a JS event name.
    pub fn parse(name: &str) -> Option<EventType> {
        Some(match name {
            "queued" => EventType::Queued,
            "start" => EventType::Start,
            "retry" => EventType::Retry,
            "cache-hit" => EventType::CacheHit,
            "rate-limited" => EventType::RateLimited,
            "settled" => EventType::Settled,
            "cache-update" => EventType::CacheUpdate,
            "cache-error" => EventType::CacheError,
            "limit" => EventType::Limit,
            "outbox-sent" => EventType::OutboxSent,
            "outbox-retry" => EventType::OutboxRetry,
            "outbox-drop" => EventType::OutboxDrop,
            _ => return None,
        })
    }
}

/// One event. Fields that do not apply to its type are `None`.
#[derive(Clone, Debug)]
pub struct Event {
    /// What happened.
    pub kind: EventType,
    /// The request's id, unique within the client (shared by all its events).
    pub id: u64,
    /// The absolute URL.
    pub url: Rc<str>,
    /// The HTTP method.
    pub method: Rc<str>,
    /// The lane it was queued in.
    pub lane: Lane,
    /// When, on the `performance.now()` clock.
    pub time_ms: f64,
    /// Attempts started so far.
    pub attempt: u32,
    /// `retry` and `rate-limited`: how long it waits, in ms.
    pub delay_ms: Option<f64>,
    /// `retry`: why (`status`, `network` or `timeout`); `limit`: why (`latency`,
    /// `overload`, `probe`, `remeasure`).
    pub reason: Option<&'static str>,
    /// The last HTTP status seen.
    pub status: Option<u16>,
    /// `settled` with an error: its kind.
    pub error: Option<ErrorKind>,
    /// `settled` and `cache-hit`: where the answer came from (`network`, `memory`,
    /// `persistent`, `dedupe`).
    pub source: Option<&'static str>,
    /// `settled`: ms from `queued` to settled.
    pub duration_ms: Option<f64>,
    /// `settled`: where its time went (`timing` in JS, whose `totalMs`, `attempts` and
    /// `source` are [`Event::duration_ms`], [`Event::attempt`] and [`Event::source`] here).
    /// Every part is `None` for a cache hit.
    pub timing: Option<Timing>,
    /// `cache-error`: what the store threw.
    pub cause: Option<wasm_bindgen::JsValue>,
    /// `limit`: the host (`host:port`) whose limit changed.
    pub host: Option<Rc<str>>,
    /// `limit`: the host's new limit.
    pub limit: Option<u32>,
    /// `outbox-*`: the outbox's name (`id` is then the item's number in it).
    pub outbox: Option<Rc<str>>,
    /// `outbox-*`: the item's idempotency key.
    pub idempotency_key: Option<Rc<str>>,
}

impl Event {
    /// An event of `kind` at `time_ms` about no request in particular: every other field
    /// empty until set.
    pub(crate) fn of(kind: EventType, time_ms: f64) -> Event {
        Event {
            kind,
            id: 0,
            url: Rc::from(""),
            method: Rc::from(""),
            lane: Lane::Normal,
            time_ms,
            attempt: 0,
            delay_ms: None,
            reason: None,
            status: None,
            error: None,
            source: None,
            duration_ms: None,
            timing: None,
            cause: None,
            host: None,
            limit: None,
            outbox: None,
            idempotency_key: None,
        }
    }
}

/// A listener callback.
pub type Listener = Rc<dyn Fn(&Event)>;

/// The listeners of one client.
#[derive(Default)]
pub(crate) struct Emitter {
    next_id: Cell<u32>,
    listeners: RefCell<Vec<(u32, Option<EventType>, Listener)>>,
}

impl Emitter {
    /// Adds a listener for one type (or every type with `None`); returns its id for `remove`.
    pub fn add(&self, kind: Option<EventType>, listener: Listener) -> u32 {
        let id = self.next_id.get() + 1;
        self.next_id.set(id);
        self.listeners.borrow_mut().push((id, kind, listener));
        id
    }

    /// Removes a listener; removing twice is harmless.
    pub fn remove(&self, id: u32) {
        self.listeners.borrow_mut().retain(|(i, _, _)| *i != id);
    }

    /// Whether anyone listens; lets the hot path skip building events.
    pub fn is_empty(&self) -> bool {
        self.listeners.borrow().is_empty()
    }

    /// Drops every listener (on close).
    pub fn clear(&self) {
        self.listeners.borrow_mut().clear();
    }

    /// Calls the listeners for `event.kind`. A listener may add or remove listeners.
    pub fn emit(&self, event: &Event) {
        let targets: Vec<Listener> = self
            .listeners
            .borrow()
            .iter()
            .filter(|(_, k, _)| k.map_or(true, |k| k == event.kind))
            .map(|(_, _, l)| l.clone())
            .collect();
        for listener in targets {
            listener(event);
        }
    }
}
