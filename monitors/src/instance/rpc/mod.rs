//! A client of libvirt's own RPC protocol (the one `virsh` speaks to libvirtd over its UNIX
//! socket), for the few calls the instancemonitor needs: open a connection, subscribe to domain
//! events, answer keepalives ([`Connection`]); and, for the guest-agent heartbeat, list running
//! domains, read their XML and send guest-agent commands, several at once ([`Client`]).
//! Speaking it natively means no libvirt C library at build or run time.

mod frames;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use tokio::net::unix::OwnedWriteHalf;
use tokio::sync::{mpsc, oneshot};

use super::events::{DomainEvent, SUBSCRIBED};
use super::xdr::{Malformed, Reader, Writer};
pub use frames::DomainRef;
use frames::*;

/// Why talking to libvirtd failed.
#[derive(Debug, thiserror::Error)]
pub enum LibvirtError {
    /// The socket could not be opened.
    #[error("connecting to libvirt at {path} failed: {source}")]
    Connect {
        /// Socket path.
        path: String,
        /// OS error.
        #[source]
        source: std::io::Error,
    },
    /// The connection broke.
    #[error("the libvirt connection broke: {0}")]
    Io(#[from] std::io::Error),
    /// libvirtd refused a call.
    #[error("libvirt refused {call}: {message} (code {code})")]
    Refused {
        /// The call.
        call: &'static str,
        /// libvirt's error code.
        code: i32,
        /// libvirt's message.
        message: String,
    },
    /// A frame could not be read.
    #[error("libvirt sent a malformed message: {0}")]
    Malformed(#[from] Malformed),
    /// The connection closed.
    #[error("libvirtd closed the connection")]
    Closed,
    /// libvirtd did not answer in time.
    #[error("libvirtd did not answer {call} in time")]
    Unanswered {
        /// The call.
        call: &'static str,
    },
}

/// Where to connect and what to open, from a connection URI: `qemu:///system`,
/// `test:///default`, optionally with `?socket=/path`. The daemon's read-only socket.
pub fn socket_for(uri: &str) -> (PathBuf, String) {
    socket_with_access(uri, true)
}

/// [`socket_for`], but the read-write socket (guest-agent commands need a read-write
/// connection). An explicit `?socket=` is used as given.
pub fn rw_socket_for(uri: &str) -> (PathBuf, String) {
    socket_with_access(uri, false)
}

fn socket_with_access(uri: &str, read_only: bool) -> (PathBuf, String) {
    let (name, query) = uri.split_once('?').unwrap_or((uri, ""));
    let explicit = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("socket="))
        .map(PathBuf::from);
    // A URI like qemu+unix:///system names the transport; the daemon wants the plain driver.
    let name = match name.split_once("://") {
        Some((scheme, rest)) => format!("{}://{rest}", scheme.split('+').next().unwrap_or(scheme)),
        None => name.to_owned(),
    };
    let suffix = if read_only { "-ro" } else { "" };
    let path = explicit.unwrap_or_else(|| {
        let candidates = ["/run/libvirt/libvirt-sock", "/run/libvirt/virtqemud-sock"]
            .map(|base| PathBuf::from(format!("{base}{suffix}")));
        candidates
            .iter()
            .find(|p| p.exists())
            .unwrap_or(&candidates[0])
            .clone()
    });
    (path, name)
}

/// What arrives on a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A domain event.
    Event(DomainEvent),
    /// The daemon's keepalive ping (answer it with [`Connection::pong`]).
    Ping,
    /// The daemon's answer to our ping.
    Pong,
    /// Anything else (replies, other programs).
    Other,
}

/// An open, subscribed connection.
#[derive(Debug)]
pub struct Connection {
    writer: OwnedWriteHalf,
    frames: mpsc::Receiver<Result<Frame, LibvirtError>>,
    serial: u32,
}

/// A call of the remote program, on either kind of connection (for the [`handshake`]).
trait RemoteCall {
    async fn remote(
        &mut self,
        what: &'static str,
        procedure: u32,
        args: &[u8],
    ) -> Result<Vec<u8>, LibvirtError>;
}

impl RemoteCall for Connection {
    async fn remote(
        &mut self,
        what: &'static str,
        procedure: u32,
        args: &[u8],
    ) -> Result<Vec<u8>, LibvirtError> {
        self.call(what, procedure, args).await
    }
}

impl RemoteCall for &Client {
    async fn remote(
        &mut self,
        what: &'static str,
        procedure: u32,
        args: &[u8],
    ) -> Result<Vec<u8>, LibvirtError> {
        self.call(what, REMOTE_PROGRAM, REMOTE_VERSION, procedure, args)
            .await
    }
}

async fn connect(path: &Path) -> Result<UnixStream, LibvirtError> {
    UnixStream::connect(path)
        .await
        .map_err(|source| LibvirtError::Connect {
            path: path.display().to_string(),
            source,
        })
}

/// Authenticates and opens `name` with `flags` (`VIR_CONNECT_RO` or 0).
async fn handshake(c: &mut impl RemoteCall, name: &str, flags: u32) -> Result<(), LibvirtError> {
    // The daemon says how it wants to be authenticated; for root on the local socket,
    // polkit's answer is "allowed" without a prompt. SASL (prompts) is not supported, as in
    // masakari-monitors' zero-prompt auth callback.
    let auth = c.remote("auth_list", PROC_AUTH_LIST, &[]).await?;
    let mut r = Reader::new(&auth);
    let n = r.u32()?;
    let types: Vec<u32> = (0..n.min(20)).map(|_| r.u32()).collect::<Result<_, _>>()?;
    if types.contains(&AUTH_POLKIT) {
        c.remote("auth_polkit", PROC_AUTH_POLKIT, &[]).await?;
    }
    let mut open = Writer::default();
    open.optional_string(Some(name)).u32(flags);
    c.remote("connect_open", PROC_CONNECT_OPEN, &open.0).await?;
    Ok(())
}

impl Connection {
    /// Connects to the daemon's socket, opens `name` read-only and subscribes to the domain
    /// events the instancemonitor reports.
    pub async fn open(path: &Path, name: &str) -> Result<Self, LibvirtError> {
        let (mut reader, writer) = connect(path).await?.into_split();
        let (tx, frames) = mpsc::channel(256);
        tokio::spawn(async move {
            loop {
                let frame = read_frame(&mut reader).await;
                let failed = frame.is_err();
                if tx.send(frame).await.is_err() || failed {
                    return;
                }
            }
        });
        let mut conn = Self {
            writer,
            frames,
            serial: 0,
        };
        handshake(&mut conn, name, VIR_CONNECT_RO).await?;
        for (event_id, _) in SUBSCRIBED {
            let mut args = Writer::default();
            // The event id, then no domain filter (a null remote_domain pointer).
            args.u32(*event_id).u32(0);
            conn.call(
                "domain_event_callback_register_any",
                PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
                &args.0,
            )
            .await?;
        }
        Ok(conn)
    }

    async fn call(
        &mut self,
        what: &'static str,
        procedure: u32,
        args: &[u8],
    ) -> Result<Vec<u8>, LibvirtError> {
        self.serial += 1;
        let serial = self.serial;
        self.writer
            .write_all(&frame(
                REMOTE_PROGRAM,
                REMOTE_VERSION,
                procedure,
                TYPE_CALL,
                serial,
                args,
            ))
            .await?;
        loop {
            let f = self.frames.recv().await.ok_or(LibvirtError::Closed)??;
            if f.program == REMOTE_PROGRAM && f.kind == TYPE_REPLY && f.serial == serial {
                if f.status != STATUS_OK {
                    let (code, message) = error_message(&f.body);
                    return Err(LibvirtError::Refused {
                        call: what,
                        code,
                        message,
                    });
                }
                return Ok(f.body);
            }
            if f.program == KEEPALIVE_PROGRAM && f.procedure == KEEPALIVE_PING {
                self.pong().await?;
            }
        }
    }

    /// The next thing the daemon sends. Cancel-safe: frames are read by a separate task.
    pub async fn next(&mut self) -> Result<Incoming, LibvirtError> {
        let f = self.frames.recv().await.ok_or(LibvirtError::Closed)??;
        Ok(match (f.program, f.kind) {
            (KEEPALIVE_PROGRAM, _) if f.procedure == KEEPALIVE_PING => Incoming::Ping,
            (KEEPALIVE_PROGRAM, _) if f.procedure == KEEPALIVE_PONG => Incoming::Pong,
            (REMOTE_PROGRAM, TYPE_MESSAGE) => match decode_event(f.procedure, &f.body)? {
                Some(e) => Incoming::Event(e),
                None => Incoming::Other,
            },
            _ => Incoming::Other,
        })
    }

    /// Answers the daemon's keepalive ping.
    pub async fn pong(&mut self) -> Result<(), LibvirtError> {
        self.keepalive(KEEPALIVE_PONG).await
    }

    /// Sends a keepalive ping (the daemon answers with a pong).
    pub async fn ping(&mut self) -> Result<(), LibvirtError> {
        self.keepalive(KEEPALIVE_PING).await
    }

    async fn keepalive(&mut self, procedure: u32) -> Result<(), LibvirtError> {
        self.writer
            .write_all(&frame(
                KEEPALIVE_PROGRAM,
                KEEPALIVE_VERSION,
                procedure,
                TYPE_MESSAGE,
                0,
                &[],
            ))
            .await
            .map_err(LibvirtError::from)
    }
}

/// Replies awaited, by serial; `None` once the connection is gone.
type Pending = Arc<Mutex<Option<HashMap<u32, oneshot::Sender<Frame>>>>>;

/// A read-write connection on which calls are made concurrently: replies are matched to calls
/// by serial, so one guest agent that is slow to answer does not hold up the others.
#[derive(Debug)]
pub struct Client {
    writer: tokio::sync::Mutex<OwnedWriteHalf>,
    pending: Pending,
    serial: std::sync::atomic::AtomicU32,
}

/// Forgets a call's reply slot when the caller stops waiting (timeout, cancellation).
struct Forget<'a>(&'a Pending, u32);

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        if let Ok(mut p) = self.0.lock()
            && let Some(p) = p.as_mut()
        {
            p.remove(&self.1);
        }
    }
}

impl Client {
    /// Connects to the daemon's socket and opens `name` read-write.
    pub async fn open(path: &Path, name: &str) -> Result<Self, LibvirtError> {
        let (mut reader, writer) = connect(path).await?.into_split();
        let pending: Pending = Arc::new(Mutex::new(Some(HashMap::new())));
        let routes = pending.clone();
        tokio::spawn(async move {
            while let Ok(f) = read_frame(&mut reader).await {
                if f.kind != TYPE_REPLY {
                    // Events and keepalives: this connection subscribes to neither.
                    continue;
                }
                let waiting = routes
                    .lock()
                    .ok()
                    .and_then(|mut p| p.as_mut().and_then(|p| p.remove(&f.serial)));
                if let Some(tx) = waiting {
                    let _ = tx.send(f);
                }
            }
            // Dropping the senders wakes every caller with `Closed`.
            if let Ok(mut p) = routes.lock() {
                *p = None;
            }
        });
        let client = Self {
            writer: tokio::sync::Mutex::new(writer),
            pending,
            serial: std::sync::atomic::AtomicU32::new(0),
        };
        handshake(&mut &client, name, 0).await?;
        Ok(client)
    }

    async fn call(
        &self,
        what: &'static str,
        program: u32,
        version: u32,
        procedure: u32,
        args: &[u8],
    ) -> Result<Vec<u8>, LibvirtError> {
        let serial = self
            .serial
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .wrapping_add(1);
        let (tx, rx) = oneshot::channel();
        {
            let mut p = self.pending.lock().map_err(|_| LibvirtError::Closed)?;
            p.as_mut().ok_or(LibvirtError::Closed)?.insert(serial, tx);
        }
        let _forget = Forget(&self.pending, serial);
        let frame = frame(program, version, procedure, TYPE_CALL, serial, args);
        self.writer.lock().await.write_all(&frame).await?;
        let f = rx.await.map_err(|_| LibvirtError::Closed)?;
        if f.status != STATUS_OK {
            let (code, message) = error_message(&f.body);
            return Err(LibvirtError::Refused {
                call: what,
                code,
                message,
            });
        }
        Ok(f.body)
    }

    /// The running domains.
    pub async fn running_domains(&self) -> Result<Vec<DomainRef>, LibvirtError> {
        let body = self
            .call(
                "connect_list_all_domains",
                REMOTE_PROGRAM,
                REMOTE_VERSION,
                PROC_CONNECT_LIST_ALL_DOMAINS,
                &list_running_args(),
            )
            .await?;
        Ok(decode_domain_list(&body)?)
    }

    /// The live XML of `domain`.
    pub async fn domain_xml(&self, domain: &DomainRef) -> Result<String, LibvirtError> {
        let mut args = Writer::default();
        domain.write(&mut args);
        args.u32(0);
        let body = self
            .call(
                "domain_get_xml_desc",
                REMOTE_PROGRAM,
                REMOTE_VERSION,
                PROC_DOMAIN_GET_XML_DESC,
                &args.0,
            )
            .await?;
        Ok(Reader::new(&body).string()?)
    }

    /// Sends `command` (JSON) to the domain's QEMU guest agent and returns its answer;
    /// libvirt gives up after `timeout_secs`.
    pub async fn agent_command(
        &self,
        domain: &DomainRef,
        command: &str,
        timeout_secs: i32,
    ) -> Result<Option<String>, LibvirtError> {
        let body = self
            .call(
                "qemu_domain_agent_command",
                QEMU_PROGRAM,
                QEMU_VERSION,
                QEMU_PROC_DOMAIN_AGENT_COMMAND,
                &agent_command_args(domain, command, timeout_secs),
            )
            .await?;
        Ok(Reader::new(&body).optional_string()?)
    }
}

#[cfg(test)]
mod tests;
