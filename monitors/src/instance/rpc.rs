//! A client of libvirt's own RPC protocol (the one `virsh` speaks to libvirtd over its UNIX
//! socket), for the few calls the instancemonitor needs: open a connection, subscribe to domain
//! events, answer keepalives. Speaking it natively means no libvirt C library at build or run
//! time.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::net::unix::OwnedWriteHalf;
use tokio::sync::mpsc;

use super::events::{DomainEvent, SUBSCRIBED};
use super::xdr::{Malformed, Reader, Writer};

const REMOTE_PROGRAM: u32 = 0x2000_8086;
const REMOTE_VERSION: u32 = 1;
const KEEPALIVE_PROGRAM: u32 = 0x6b65_6570;
const KEEPALIVE_VERSION: u32 = 1;
const KEEPALIVE_PING: u32 = 1;
const KEEPALIVE_PONG: u32 = 2;
const PROC_CONNECT_OPEN: u32 = 1;
const PROC_AUTH_LIST: u32 = 66;
const PROC_AUTH_POLKIT: u32 = 70;
const AUTH_POLKIT: u32 = 2;
const PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: u32 = 316;
const TYPE_CALL: u32 = 0;
const TYPE_REPLY: u32 = 1;
const TYPE_MESSAGE: u32 = 2;
const STATUS_OK: u32 = 0;
const VIR_CONNECT_RO: u32 = 1;
/// Largest frame accepted (libvirt's own limit is 32 MiB; events are tiny).
const MAX_FRAME: usize = 4 << 20;

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
}

/// Where to connect and what to open, from a connection URI: `qemu:///system`,
/// `test:///default`, optionally with `?socket=/path`.
pub fn socket_for(uri: &str) -> (PathBuf, String) {
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
    let path = explicit.unwrap_or_else(|| {
        [
            "/run/libvirt/libvirt-sock-ro",
            "/run/libvirt/virtqemud-sock-ro",
        ]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("/run/libvirt/libvirt-sock-ro"))
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

struct Frame {
    program: u32,
    procedure: u32,
    kind: u32,
    serial: u32,
    status: u32,
    body: Vec<u8>,
}

/// An open, subscribed connection.
#[derive(Debug)]
pub struct Connection {
    writer: OwnedWriteHalf,
    frames: mpsc::Receiver<Result<Frame, LibvirtError>>,
    serial: u32,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("program", &self.program)
            .field("procedure", &self.procedure)
            .finish_non_exhaustive()
    }
}

async fn read_frame(r: &mut tokio::net::unix::OwnedReadHalf) -> Result<Frame, LibvirtError> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(LibvirtError::Closed);
        }
        Err(e) => return Err(e.into()),
    }
    let total = u32::from_be_bytes(len) as usize;
    if !(28..=MAX_FRAME).contains(&total) {
        return Err(Malformed(0).into());
    }
    let mut rest = vec![0u8; total - 4];
    r.read_exact(&mut rest).await?;
    let mut h = Reader::new(&rest);
    let frame = Frame {
        program: h.u32()?,
        procedure: {
            let _version = h.u32()?;
            h.u32()?
        },
        kind: h.u32()?,
        serial: h.u32()?,
        status: h.u32()?,
        body: rest[24..].to_vec(),
    };
    Ok(frame)
}

fn frame(
    program: u32,
    version: u32,
    procedure: u32,
    kind: u32,
    serial: u32,
    body: &[u8],
) -> Vec<u8> {
    let mut w = Writer::default();
    let total = u32::try_from(28 + body.len()).unwrap_or(u32::MAX);
    w.u32(total)
        .u32(program)
        .u32(version)
        .u32(procedure)
        .u32(kind)
        .u32(serial)
        .u32(STATUS_OK);
    w.0.extend_from_slice(body);
    w.0
}

fn error_message(body: &[u8]) -> (i32, String) {
    let mut r = Reader::new(body);
    let code = r.i32().unwrap_or(-1);
    let _domain = r.i32();
    let message = r.optional_string().ok().flatten().unwrap_or_default();
    (code, message)
}

/// Reads the domain at the start of every event message after the callback id.
fn domain(r: &mut Reader<'_>) -> Result<(String, String), Malformed> {
    let name = r.string()?;
    let uuid = r.fixed(16)?;
    let _id = r.i32()?;
    let hex: String = uuid.iter().map(|b| format!("{b:02x}")).collect();
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    Ok((name, uuid))
}

fn decode_event(procedure: u32, body: &[u8]) -> Result<Option<DomainEvent>, Malformed> {
    let Some((event_id, _)) = SUBSCRIBED.iter().find(|(_, p)| *p == procedure) else {
        return Ok(None);
    };
    let mut r = Reader::new(body);
    let _callback = r.i32()?;
    let (domain, uuid) = domain(&mut r)?;
    let (kind, detail) = match *event_id {
        super::events::EVENT_LIFECYCLE => (r.i32()?, r.i32()?),
        super::events::EVENT_WATCHDOG => (r.i32()?, 0),
        super::events::EVENT_IO_ERROR => {
            let _src = r.string()?;
            let _alias = r.string()?;
            (r.i32()?, 0)
        }
        _ => (0, 0),
    };
    Ok(Some(DomainEvent {
        event_id: *event_id,
        domain,
        uuid,
        kind,
        detail,
    }))
}

impl Connection {
    /// Connects to the daemon's socket, opens `name` read-only and subscribes to the domain
    /// events the instancemonitor reports.
    pub async fn open(path: &Path, name: &str) -> Result<Self, LibvirtError> {
        let stream = UnixStream::connect(path)
            .await
            .map_err(|source| LibvirtError::Connect {
                path: path.display().to_string(),
                source,
            })?;
        let (mut reader, writer) = stream.into_split();
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
        // The daemon says how it wants to be authenticated; for root on the local socket,
        // polkit's answer is "allowed" without a prompt. SASL (prompts) is not supported, as in
        // masakari-monitors' zero-prompt auth callback.
        let auth = conn.call("auth_list", PROC_AUTH_LIST, &[]).await?;
        let mut r = Reader::new(&auth);
        let n = r.u32()?;
        let types: Vec<u32> = (0..n.min(20)).map(|_| r.u32()).collect::<Result<_, _>>()?;
        if types.contains(&AUTH_POLKIT) {
            conn.call("auth_polkit", PROC_AUTH_POLKIT, &[]).await?;
        }
        let mut open = Writer::default();
        open.optional_string(Some(name)).u32(VIR_CONNECT_RO);
        conn.call("connect_open", PROC_CONNECT_OPEN, &open.0)
            .await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_name_the_driver_and_the_socket() {
        let (path, name) = socket_for("qemu+unix:///system?socket=/tmp/x.sock");
        assert_eq!(path, PathBuf::from("/tmp/x.sock"));
        assert_eq!(name, "qemu:///system");
        assert_eq!(socket_for("test:///default").1, "test:///default");
    }

    #[test]
    fn a_lifecycle_message_decodes() {
        let mut w = Writer::default();
        w.u32(7).string("vm1");
        w.0.extend_from_slice(&[
            0x5c, 0x3f, 0x4b, 0x3e, 0x6d, 0x0e, 0x4b, 0x8f, 0x9a, 0x43, 0x0e, 0x6f, 0x1d, 0x2a,
            0x7b, 0x10,
        ]);
        w.u32(3).u32(5).u32(1);
        let e = decode_event(318, &w.0).unwrap().unwrap();
        assert_eq!(e.uuid, "5c3f4b3e-6d0e-4b8f-9a43-0e6f1d2a7b10");
        assert_eq!(
            (e.event_id, e.kind, e.detail, e.domain.as_str()),
            (0, 5, 1, "vm1")
        );
        assert!(decode_event(999, &w.0).unwrap().is_none());
        assert!(decode_event(318, &w.0[..10]).is_err());
    }
}
