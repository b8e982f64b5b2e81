//! Connections with a deadline on the request head (issue #29 item 14): hyper's own
//! header-read timeout needs a timer that `axum::serve` does not set, so a client trickling
//! header lines (or sending nothing) held its connection open for ever, and a few hundred such
//! clients locked every other client out. Each connection here must deliver a complete request
//! head (up to the blank line) within the deadline, counted from the accept and again from each
//! answer (keep-alive); the body is bounded by the request timeout and body limit as before.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};

/// A TCP listener whose connections must send each request head within `head_timeout`.
pub struct HeadDeadlineListener {
    inner: TcpListener,
    head_timeout: Duration,
}

impl HeadDeadlineListener {
    /// Wrap `inner`.
    pub fn new(inner: TcpListener, head_timeout: Duration) -> Self {
        HeadDeadlineListener { inner, head_timeout }
    }
}

impl axum::serve::Listener for HeadDeadlineListener {
    type Io = HeadDeadline;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        (HeadDeadline::new(io, self.head_timeout), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection that fails its reads once a request head has taken longer than the deadline.
pub struct HeadDeadline {
    inner: TcpStream,
    timeout: Duration,
    deadline: Pin<Box<Sleep>>,
    /// Waiting for (the rest of) a request head.
    in_head: bool,
    /// How much of "\r\n\r\n" the bytes read so far end with.
    matched: usize,
}

impl HeadDeadline {
    fn new(inner: TcpStream, timeout: Duration) -> Self {
        HeadDeadline { inner, timeout, deadline: Box::pin(tokio::time::sleep(timeout)), in_head: true, matched: 0 }
    }

    /// Follow the bytes of a head until its blank line.
    fn scan(&mut self, bytes: &[u8]) {
        const END: &[u8] = b"\r\n\r\n";
        for &b in bytes {
            self.matched = if b == END[self.matched] {
                self.matched + 1
            } else if b == b'\r' {
                1
            } else {
                0
            };
            if self.matched == END.len() {
                self.in_head = false;
                self.matched = 0;
                return;
            }
        }
    }
}

impl AsyncRead for HeadDeadline {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.in_head && this.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no complete request head within {:?}", this.timeout),
            )));
        }
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if this.in_head && matches!(r, Poll::Ready(Ok(()))) {
            let fresh = buf.filled()[before..].to_vec();
            this.scan(&fresh);
        }
        r
    }
}

impl HeadDeadline {
    /// An answer is going out: the next request head has its own deadline.
    fn answering(&mut self) {
        if !self.in_head {
            self.in_head = true;
            self.matched = 0;
            let next = Instant::now() + self.timeout;
            self.deadline.as_mut().reset(next);
        }
    }
}

impl AsyncWrite for HeadDeadline {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        this.answering();
        Pin::new(&mut this.inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        this.answering();
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
