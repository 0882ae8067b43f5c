//! Pagination: each page's decoded body in order, following `Link: <…>; rel="next"` (or a
//! `next` function of the body and response), fetching up to `prefetch` pages ahead of the
//! consumer through the same pipeline as every request.
//!
//! One driver task fetches pages one after another (the next URL is only known once a page
//! has arrived); it starts page `i` (0-based) once the consumer has asked for more than
//! `i - prefetch` pages. [`Pages::close`] aborts whatever is in flight and ends the sequence.

use crate::prelude::*;

use alloc::collections::VecDeque;
use alloc::rc::Rc;
use core::cell::RefCell;
use core::future::Future;
use core::task::{Poll, Waker};

use core::future::poll_fn;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AbortController, Request, RequestInit, Response};

use super::body::decode;
use super::error::{Error, ErrorKind};
use super::options::{BodyAs, RequestOptions};
use super::request::resolve;
use super::Client;
use crate::core::link::next_target;
use crate::web::abort::{self, AbortLink};

/// Finds the next page's URL from a page's body and response (whose body is already read);
/// `Ok(None)` when this was the last page. A relative URL resolves against the page's URL.
pub type NextPage = Rc<dyn Fn(&JsValue, &Response) -> Result<Option<String>, Error>>;

/// Options of [`Client::paginate`].
#[derive(Clone)]
pub struct PaginateOptions {
    /// Options of every page request (lane, retry, timeouts, signal, …). Default none.
    pub request: RequestOptions,
    /// Pages fetched ahead of the consumer. Default 1 (the next page loads while the
    /// consumer handles the current one); 0 fetches a page only when it is asked for.
    pub prefetch: usize,
    /// How the next page is found. Default none: the `Link` header's `rel="next"` target.
    pub next: Option<NextPage>,
}

impl Default for PaginateOptions {
    fn default() -> Self {
        PaginateOptions { request: RequestOptions::default(), prefetch: 1, next: None }
    }
}

/// Results produced but not yet handed out. The driver produces them in index order and
/// consumers mostly take them in order, so a deque that knows the index of its front does what
/// a map would, with less code in the wasm.
#[derive(Default)]
struct Ready {
    /// The index of `slots[0]`.
    front: usize,
    /// `None` once taken; taken slots at the front are dropped.
    slots: VecDeque<Option<Result<JsValue, Error>>>,
}

impl Ready {
    /// Adds the result with the next index.
    fn push(&mut self, result: Result<JsValue, Error>) {
        self.slots.push_back(Some(result));
    }

    /// Takes the result at `index`, if it is there.
    fn take(&mut self, index: usize) -> Option<Result<JsValue, Error>> {
        let taken = self.slots.get_mut(index.checked_sub(self.front)?)?.take();
        while let Some(None) = self.slots.front() {
            self.slots.pop_front();
            self.front += 1;
        }
        taken
    }

    /// Drops every result not yet taken; later pushes keep their indices.
    fn clear(&mut self) {
        self.front += self.slots.len();
        self.slots.clear();
    }
}

#[derive(Default)]
struct State {
    /// `next` calls so far.
    requested: usize,
    /// Pages (or the error that ended the sequence) not yet handed out, by index.
    ready: Ready,
    /// How many results the sequence has, once it has ended.
    total: Option<usize>,
    closed: bool,
    started: bool,
    driver: Option<Waker>,
    consumers: Vec<Waker>,
}

struct Shared {
    client: Client,
    first: RefCell<Option<Request>>,
    options: PaginateOptions,
    /// Aborted by `close` (and by the caller's own signal): aborts the page request in
    /// flight.
    stop: AbortController,
    /// Forwards the caller's signal (`options.request.signal`) into `stop`.
    _link: Option<AbortLink>,
    state: RefCell<State>,
}

impl Shared {
    fn wake_consumers(&self) {
        let wakers = core::mem::take(&mut self.state.borrow_mut().consumers);
        for w in wakers {
            w.wake();
        }
    }

    fn wake_driver(&self) {
        let waker = self.state.borrow_mut().driver.take();
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn closed(&self) -> bool {
        self.state.borrow().closed
    }
}

/// The pages of a paginated resource, in order. Dropping it closes it.
#[must_use = "pages are fetched only when asked for"]
pub struct Pages {
    shared: Rc<Shared>,
}

impl Client {
    /// The pages starting at `first`: each page's body parsed as JSON, in order. Nothing is
    /// fetched until the first [`Pages::next`]. Later pages reuse `first`'s method, headers
    /// and credentials.
    pub fn paginate(&self, first: &Request, options: PaginateOptions) -> Pages {
        let stop = abort::controller();
        let link = options.request.signal.as_ref().map(|s| abort::link(s, &stop));
        Pages {
            shared: Rc::new(Shared {
                client: self.clone(),
                first: RefCell::new(Some(Clone::clone(first))),
                options,
                stop,
                _link: link,
                state: RefCell::new(State::default()),
            }),
        }
    }
}

impl Pages {
    /// The next page's body; `None` after the last page, after an error was handed out, or
    /// once closed. An error (a failed page, a body that is not JSON, a `next` function that
    /// failed) comes at the page it concerns, after every page before it.
    pub fn next(&self) -> impl Future<Output = Option<Result<JsValue, Error>>> {
        let shared = self.shared.clone();
        let index = {
            let mut st = shared.state.borrow_mut();
            st.requested += 1;
            st.requested - 1
        };
        self.start();
        shared.wake_driver();
        poll_fn(move |cx| {
            let mut st = shared.state.borrow_mut();
            if st.closed {
                return Poll::Ready(None);
            }
            if let Some(r) = st.ready.take(index) {
                return Poll::Ready(Some(r));
            }
            if st.total.is_some_and(|t| index >= t) {
                return Poll::Ready(None);
            }
            st.consumers.push(cx.waker().clone());
            Poll::Pending
        })
    }

    /// Ends the sequence: aborts the page requests in flight (prefetches), and every
    /// `next` from now on (and any still waiting) gives `None`. Closing twice is harmless.
    pub fn close(&self) {
        let shared = &self.shared;
        if core::mem::replace(&mut shared.state.borrow_mut().closed, true) {
            return;
        }
        shared.state.borrow_mut().ready.clear();
        shared.stop.abort_with_reason(&js_sys::Error::new("fetchlane: the pages were closed").into());
        shared.wake_driver();
        shared.wake_consumers();
    }

    fn start(&self) {
        let first = {
            let mut st = self.shared.state.borrow_mut();
            if st.started || st.closed {
                return;
            }
            st.started = true;
            self.shared.first.borrow_mut().take()
        };
        if let Some(first) = first {
            wasm_bindgen_futures::spawn_local(drive(self.shared.clone(), first));
        }
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        self.close();
    }
}

/// Fetches the pages one after another, never more than `prefetch` ahead of the consumer.
async fn drive(shared: Rc<Shared>, first: Request) {
    let prefetch = shared.options.prefetch;
    let mut request = Clone::clone(&first);
    let mut index = 0;
    loop {
        // Wait until the consumer is close enough (or gone).
        poll_fn(|cx| {
            let mut st = shared.state.borrow_mut();
            if st.closed || index < st.requested.saturating_add(prefetch) {
                Poll::Ready(())
            } else {
                st.driver = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
        if shared.closed() {
            break;
        }
        let page = fetch_page(&shared, &request, &first).await;
        if shared.closed() {
            break;
        }
        let (result, next) = match page {
            Ok((body, next)) => (Ok(body), next),
            Err(e) => (Err(e), Ok(None)),
        };
        let failed = result.is_err();
        shared.state.borrow_mut().ready.push(result);
        index += 1;
        shared.wake_consumers();
        if failed {
            break;
        }
        match next {
            Ok(Some(r)) => request = r,
            Ok(None) => break,
            // The next page cannot be requested: that page fails.
            Err(e) => {
                shared.state.borrow_mut().ready.push(Err(e));
                index += 1;
                break;
            }
        }
    }
    shared.state.borrow_mut().total = Some(index);
    shared.wake_consumers();
}

type Page = (JsValue, Result<Option<Request>, Error>);

/// One page: its body, and the request for the page after it (if any).
async fn fetch_page(shared: &Shared, request: &Request, first: &Request) -> Result<Page, Error> {
    let url = request.url();
    let options = RequestOptions { signal: Some(shared.stop.signal()), ..shared.options.request.clone() };
    let response: Response = shared.client.send(request, options, BodyAs::Response).await?.unchecked_into();
    let body = decode(Clone::clone(&response), BodyAs::Json, &url).await?;
    // Relative links resolve against where the page came from (after redirects).
    let page_url = Some(response.url()).filter(|u| !u.is_empty()).unwrap_or(url);
    let target = match &shared.options.next {
        Some(f) => f(&body, &response),
        None => Ok(response.headers().get("link").ok().flatten().and_then(|h| next_target(&h))),
    };
    let next = target.and_then(|t| match t {
        None => Ok(None),
        Some(t) => next_request(&t, &page_url, first).map(Some),
    });
    Ok((body, next))
}

/// The request for the page at `target` (relative to `page_url`), with `first`'s method,
/// headers, credentials, mode, cache mode, redirect mode and referrer policy.
fn next_request(target: &str, page_url: &str, first: &Request) -> Result<Request, Error> {
    let absolute = resolve(Some(page_url), target).map_err(|m| Error::new(ErrorKind::Network, target).with_message(m))?;
    let init = RequestInit::new();
    init.set_method(&first.method());
    init.set_headers(&first.headers());
    init.set_credentials(first.credentials());
    for field in ["mode", "cache", "redirect", "referrerPolicy"] {
        let key = JsValue::from_str(field);
        if let Ok(v) = js_sys::Reflect::get(first, &key) {
            // `navigate` cannot be asked for; the browser picks the mode then.
            if v.is_string() && v.as_string().as_deref() != Some("navigate") {
                let _ = js_sys::Reflect::set(&init, &key, &v);
            }
        }
    }
    Request::new_with_str_and_init(&absolute, &init).map_err(|cause| Error::new(ErrorKind::Network, &absolute).with_cause(cause))
}
