//! Connections that the server can cut or close: the listener wraps every accepted socket in a
//! [`Conn`], registers it in the [`Registry`] and hands each request a [`ConnHandle`] (as
//! `ConnectInfo<ConnHandle>`) for its connection.
//!
//! - [`ConnHandle::kill`]: the next read or write on that connection fails: hyper gives up on it
//!   without sending a byte of the pending answer, and the socket is closed with `SO_LINGER` 0,
//!   so the peer sees a TCP reset (a browser's `fetch` rejects with a network error). The
//!   `drop`, `drop-after` and `down` faults of `/__faults` use it (see `crate::faults`).
//! - [`Registry::close_idle`]: every connection closes as soon as it is idle (at once if it is
//!   idle now, else after the answer it is writing). `/__faults` calls it when it adds a drop
//!   rule, and [`keep_alive`] answers `Connection: close` while such a rule is in force, so
//!   that the requests to drop come on new connections: a browser silently resends a request
//!   whose *reused* keep-alive connection is reset before any answer (Chrome and Firefox do,
//!   POSTs included), which would turn one dropped `fetch` into a success on the resend.

use crate::state::{lock, AppState};
use axum::extract::connect_info::Connected;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::{IncomingStream, Listener};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// What is shared between a connection and the handlers (and registry) that may end it.
#[derive(Debug, Default)]
struct Ctl {
    /// Reset the connection on its next read or write.
    kill: AtomicBool,
    /// Close the connection once it is idle.
    close_idle: AtomicBool,
    /// The waker of a pending read, woken by [`Registry::close_idle`].
    read_waker: Mutex<Option<Waker>>,
}

impl Ctl {
    fn wake_reader(&self) {
        if let Some(w) = lock(&self.read_waker).take() {
            w.wake();
        }
    }
}

/// Every open connection (weakly held), for [`Registry::close_idle`].
#[derive(Clone, Default)]
pub struct Registry(Arc<Mutex<Vec<Weak<Ctl>>>>);

impl Registry {
    fn register(&self, ctl: &Arc<Ctl>) {
        let mut conns = lock(&self.0);
        conns.retain(|c| c.strong_count() > 0);
        conns.push(Arc::downgrade(ctl));
    }

    /// Close every open connection as soon as it is idle; returns how many were open.
    pub fn close_idle(&self) -> usize {
        let conns: Vec<Arc<Ctl>> = lock(&self.0).iter().filter_map(Weak::upgrade).collect();
        for c in &conns {
            c.close_idle.store(true, Ordering::Release);
            c.wake_reader();
        }
        conns.len()
    }
}

/// A TCP listener whose connections can be killed or closed by the server (TCP_NODELAY on).
pub struct KillableListener {
    pub listener: TcpListener,
    pub registry: Registry,
}

impl Listener for KillableListener {
    type Io = Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Conn, SocketAddr) {
        let (tcp, addr) = Listener::accept(&mut self.listener).await;
        let _ = tcp.set_nodelay(true);
        let ctl = Arc::new(Ctl::default());
        self.registry.register(&ctl);
        let conn = Conn {
            tcp,
            ctl,
            reset: false,
            idle: true,
            wrote: false,
        };
        (conn, addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// An accepted socket with a kill switch and a close-when-idle switch.
pub struct Conn {
    tcp: TcpStream,
    ctl: Arc<Ctl>,
    /// `SO_LINGER` 0 already set.
    reset: bool,
    /// Between requests: nothing read since the last answer was flushed (or nothing yet).
    idle: bool,
    /// Written since the last read.
    wrote: bool,
}

impl Conn {
    /// `Some(error)` once the connection was killed (and then arms the reset on close).
    fn killed(&mut self) -> Option<io::Error> {
        if !self.ctl.kill.load(Ordering::Acquire) {
            return None;
        }
        if !self.reset {
            self.reset = true;
            let _ = self.tcp.set_zero_linger();
        }
        Some(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "connection dropped on purpose",
        ))
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = this.killed() {
            return Poll::Ready(Err(e));
        }
        if this.idle && this.ctl.close_idle.load(Ordering::Acquire) {
            // End of stream between requests: hyper closes the connection cleanly.
            return Poll::Ready(Ok(()));
        }
        *lock(&this.ctl.read_waker) = Some(cx.waker().clone());
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.tcp).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.idle = false;
            this.wrote = false;
        }
        polled
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(e) = this.killed() {
            return Poll::Ready(Err(e));
        }
        this.wrote = true;
        Pin::new(&mut this.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(e) = this.killed() {
            return Poll::Ready(Err(e));
        }
        this.wrote = true;
        Pin::new(&mut this.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = this.killed() {
            return Poll::Ready(Err(e));
        }
        let polled = Pin::new(&mut this.tcp).poll_flush(cx);
        if matches!(polled, Poll::Ready(Ok(()))) && this.wrote && !this.idle {
            // An answer went out: idle until the next request's bytes arrive.
            this.idle = true;
            if this.ctl.close_idle.load(Ordering::Acquire) {
                this.ctl.wake_reader();
            }
        }
        polled
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = this.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.tcp).poll_shutdown(cx)
    }
}

/// The connection a request came on (`ConnectInfo<ConnHandle>`).
#[derive(Clone, Debug)]
pub struct ConnHandle(Arc<Ctl>);

impl ConnHandle {
    /// Make the connection fail on its next read or write (nothing more is sent on it).
    pub fn kill(&self) {
        self.0.kill.store(true, Ordering::Release);
    }
}

impl Connected<IncomingStream<'_, KillableListener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        ConnHandle(stream.io().ctl.clone())
    }
}

/// Outermost middleware: `Connection: close` on every answer while a run has a `drop`,
/// `drop-after` or `down` rule in force (see the module doc).
pub async fn keep_alive(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let now = state.now_ms();
    if lock(&state.faults).drops_in_force(now) {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}
