//! A client of libvirt's own RPC protocol (the one `virsh` speaks to libvirtd over its UNIX
//! socket), for the few calls the instancemonitor needs: open a connection, subscribe to domain
//! events, answer keepalives ([`Connection`]); and, for the guest-agent heartbeat, list running
//! domains, read their XML and send guest-agent commands, several at once ([`Client`]).
//! Speaking it natively means no libvirt C library at build or run time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::net::unix::OwnedWriteHalf;
use tokio::sync::{mpsc, oneshot};

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
const PROC_DOMAIN_GET_XML_DESC: u32 = 14;
const PROC_CONNECT_LIST_ALL_DOMAINS: u32 = 273;
/// libvirt's QEMU-specific program (`src/remote/qemu_protocol.x`).
const QEMU_PROGRAM: u32 = 0x2000_8087;
const QEMU_VERSION: u32 = 1;
const QEMU_PROC_DOMAIN_AGENT_COMMAND: u32 = 3;
/// `VIR_CONNECT_LIST_DOMAINS_RUNNING`.
const LIST_DOMAINS_RUNNING: u32 = 16;
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

/// A domain as the protocol names it (`remote_nonnull_domain`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainRef {
    /// Domain name.
    pub name: String,
    /// Domain UUID, raw.
    pub uuid: [u8; 16],
    /// Domain id (changes on every start; -1 when not running).
    pub id: i32,
}

impl DomainRef {
    fn read(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        let name = r.string()?;
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(r.fixed(16)?);
        let id = r.i32()?;
        Ok(Self { name, uuid, id })
    }

    fn write(&self, w: &mut Writer) {
        w.string(&self.name).fixed(&self.uuid).i32(self.id);
    }

    /// The UUID as text (the Nova instance UUID).
    pub fn uuid_string(&self) -> String {
        let hex: String = self.uuid.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }
}

/// Reads the domain at the start of every event message after the callback id.
fn domain(r: &mut Reader<'_>) -> Result<(String, String), Malformed> {
    let d = DomainRef::read(r)?;
    let uuid = d.uuid_string();
    Ok((d.name, uuid))
}

/// The arguments of `QEMU_PROC_DOMAIN_AGENT_COMMAND` (`qemu_domain_agent_command_args`):
/// the domain, the command, the timeout in seconds, flags (none).
fn agent_command_args(domain: &DomainRef, command: &str, timeout_secs: i32) -> Vec<u8> {
    let mut w = Writer::default();
    domain.write(&mut w);
    w.string(command).i32(timeout_secs).u32(0);
    w.0
}

/// The arguments of `REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS`: `need_results`, flags.
fn list_running_args() -> Vec<u8> {
    let mut w = Writer::default();
    w.i32(1).u32(LIST_DOMAINS_RUNNING);
    w.0
}

/// `remote_connect_list_all_domains_ret`: the domains, then their count.
fn decode_domain_list(body: &[u8]) -> Result<Vec<DomainRef>, Malformed> {
    let mut r = Reader::new(body);
    let n = r.u32()?;
    // libvirt's REMOTE_DOMAIN_LIST_MAX; a larger count is garbage, not a host.
    if n > 16384 {
        return Err(Malformed(0));
    }
    (0..n).map(|_| DomainRef::read(&mut r)).collect()
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

    fn vm1() -> DomainRef {
        DomainRef {
            name: "vm1".into(),
            uuid: [
                0x5c, 0x3f, 0x4b, 0x3e, 0x6d, 0x0e, 0x4b, 0x8f, 0x9a, 0x43, 0x0e, 0x6f, 0x1d, 0x2a,
                0x7b, 0x10,
            ],
            id: 7,
        }
    }

    #[test]
    fn the_agent_command_is_domain_command_timeout_flags() {
        let args = agent_command_args(&vm1(), r#"{"execute":"guest-ping"}"#, 2);
        let mut want = vec![0, 0, 0, 3, b'v', b'm', b'1', 0];
        want.extend_from_slice(&vm1().uuid);
        want.extend_from_slice(&[0, 0, 0, 7]);
        want.extend_from_slice(&[0, 0, 0, 24]);
        want.extend_from_slice(br#"{"execute":"guest-ping"}"#);
        want.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 0]);
        assert_eq!(args, want);
        let call = frame(QEMU_PROGRAM, QEMU_VERSION, 3, TYPE_CALL, 9, &args);
        assert_eq!(
            &call[..12],
            &[0, 0, 0, 92, 0x20, 0x00, 0x80, 0x87, 0, 0, 0, 1]
        );
        assert_eq!(
            &call[12..28],
            &[0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0]
        );
    }

    #[test]
    fn a_running_domain_list_decodes() {
        assert_eq!(list_running_args(), vec![0, 0, 0, 1, 0, 0, 0, 16]);
        let mut w = Writer::default();
        w.u32(2);
        vm1().write(&mut w);
        DomainRef {
            name: "instance-0000000a".into(),
            uuid: [1; 16],
            id: 12,
        }
        .write(&mut w);
        w.u32(2);
        let list = decode_domain_list(&w.0).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0], vm1());
        assert_eq!(
            list[0].uuid_string(),
            "5c3f4b3e-6d0e-4b8f-9a43-0e6f1d2a7b10"
        );
        assert_eq!(
            (list[1].name.as_str(), list[1].id),
            ("instance-0000000a", 12)
        );
        assert!(decode_domain_list(&w.0[..20]).is_err());
    }

    #[test]
    fn read_write_sockets_drop_the_ro_suffix() {
        let (path, _) = rw_socket_for("qemu:///system");
        assert!(!path.display().to_string().ends_with("-ro"), "{path:?}");
        let (path, _) = rw_socket_for("qemu:///system?socket=/tmp/s");
        assert_eq!(path, PathBuf::from("/tmp/s"));
    }
}
