//! The API's HTTP/1.1 server: hyper, with the limits axum's `serve` does not offer. A client
//! has `header_timeout` to send its first request's headers and `keep_alive_timeout` after
//! each answer for the next one (both hyper's header-read timer), `body_timeout` for a body;
//! at most `max_connections` are served at once (the rest wait in the listen queue); a shutdown
//! waits `grace` for requests in flight, then closes what is left.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::rt::{Sleep, Timer};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use lifeboat_core::config::Config;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

/// Descriptors kept for everything but client connections (listener, runtime, logs, outbound
/// HTTP, fence agents), on top of the database pool.
const DESCRIPTOR_RESERVE: u64 = 64;

/// How connections are treated.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Until the first request's headers are complete.
    pub header_timeout: Duration,
    /// After an answer, until the next request's headers are complete.
    pub keep_alive_timeout: Duration,
    /// From a request's headers until its body is complete.
    pub body_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// How long a shutdown waits for requests in flight.
    pub grace: Duration,
}

impl Limits {
    /// The configured limits, `max_connections` lowered to fit the open-file limit.
    pub fn from_config(config: &Config) -> Self {
        let s = &config.api_server;
        let configured = u64::from(s.api_max_connections);
        let reserve = DESCRIPTOR_RESERVE + u64::from(config.database.max_pool_size);
        let max_connections = match descriptor_limit() {
            Some(limit) if limit.saturating_sub(reserve) < configured => {
                let fitted = limit.saturating_sub(reserve).max(1);
                tracing::warn!(
                    configured,
                    open_file_limit = limit,
                    used = fitted,
                    "api_max_connections lowered to fit the open-file limit"
                );
                fitted
            }
            _ => configured,
        };
        Self {
            header_timeout: s.api_header_timeout.0,
            keep_alive_timeout: s.api_keep_alive_timeout.0,
            body_timeout: s.api_body_timeout.0,
            max_connections: usize::try_from(max_connections).unwrap_or(usize::MAX),
            grace: s.graceful_shutdown_timeout.0,
        }
    }
}

/// The soft open-file limit (`ulimit -n`), read from procfs: the one way without `unsafe`.
fn descriptor_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Serves `router` on `listener` until `shutdown`, then for at most `limits.grace`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let force = CancellationToken::new();
    let mut starved_since: Option<tokio::time::Instant> = None;
    loop {
        // Holding a permit before accepting leaves clients beyond the bound in the listen
        // queue, where they wait, instead of taking descriptors.
        let permit = tokio::select! {
            () = shutdown.cancelled() => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                starved_since = None;
                tokio::spawn(connection(
                    stream,
                    router.clone(),
                    limits,
                    permit,
                    shutdown.clone(),
                    force.clone(),
                ));
            }
            Err(e) if is_connection_error(&e) => {}
            Err(e) => {
                // Out of descriptors or memory: retrying at once would spin; connections
                // closing (the timeouts see to idle ones) free what is missing.
                if starved_since.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                    tracing::warn!(error = %e, "accepting a connection failed; retrying");
                    starved_since = Some(tokio::time::Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    // New clients are refused from here on.
    drop(listener);
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let drained = tokio::time::timeout(limits.grace, permits.acquire_many(all)).await;
    if drained.is_err() {
        let open = limits.max_connections - permits.available_permits();
        tracing::warn!(
            connections = open,
            "closing connections still open after the grace period"
        );
        force.cancel();
    }
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

async fn connection(
    stream: TcpStream,
    router: Router,
    limits: Limits,
    _permit: OwnedSemaphorePermit,
    shutdown: CancellationToken,
    force: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let body_timeout = limits.body_timeout;
    let service = router.map_request(move |request: Request<Incoming>| {
        request.map(|body| axum::body::Body::new(DeadlineBody::new(body, body_timeout)))
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(HeaderTimer::new(limits))
        .header_read_timeout(limits.header_timeout);
    let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => return log_end(result),
        () = shutdown.cancelled() => conn.as_mut().graceful_shutdown(),
    }
    // Idle connections close at once; one with a request in flight after its answer.
    tokio::select! {
        result = conn => log_end(result),
        () = force.cancelled() => {}
    }
}

fn log_end(result: hyper::Result<()>) {
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection ended");
    }
}

/// hyper's timer with one twist: hyper times every wait for a request's headers with one
/// `header_read_timeout`, from a connection's start and again from each answer. The first
/// wait on a connection keeps it; later ones (a kept-alive connection) get `keep_alive_timeout`.
#[derive(Debug, Clone)]
struct HeaderTimer {
    tokio: TokioTimer,
    first_wait_done: Arc<AtomicBool>,
    header_timeout: Duration,
    keep_alive_timeout: Duration,
}

impl HeaderTimer {
    fn new(limits: Limits) -> Self {
        Self {
            tokio: TokioTimer::new(),
            first_wait_done: Arc::new(AtomicBool::new(false)),
            header_timeout: limits.header_timeout,
            keep_alive_timeout: limits.keep_alive_timeout,
        }
    }

    fn deadline(&self, hyper_deadline: Instant) -> Instant {
        if !self.first_wait_done.swap(true, Ordering::Relaxed) {
            return hyper_deadline;
        }
        hyper_deadline
            .checked_sub(self.header_timeout)
            .map_or(hyper_deadline, |start| start + self.keep_alive_timeout)
    }
}

impl Timer for HeaderTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        self.tokio.sleep(duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        self.tokio.sleep_until(self.deadline(deadline))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn Sleep>>, new_deadline: Instant) {
        self.tokio.reset(sleep, self.deadline(new_deadline));
    }
}

/// A request body that fails once its deadline passes (hyper has no body timeout, and
/// tower-http's restarts with every chunk, so a client trickling bytes would never hit it).
struct DeadlineBody {
    body: Incoming,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl DeadlineBody {
    fn new(body: Incoming, timeout: Duration) -> Self {
        let deadline = (!body.is_end_stream()).then(|| Box::pin(tokio::time::sleep(timeout)));
        Self { body, deadline }
    }
}

/// The error a late body ends with.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within api_body_timeout")]
struct BodyTimedOut;

impl Body for DeadlineBody {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if let Some(deadline) = &mut self.deadline
            && deadline.as_mut().poll(cx).is_ready()
        {
            tracing::info!("a client did not send its request body in time");
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
