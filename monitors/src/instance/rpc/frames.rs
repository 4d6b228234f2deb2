//! The protocol's frames and message bodies: program and procedure numbers, reading and
//! writing one frame, the domain reference, and decoding events and domain lists.

use tokio::io::AsyncReadExt;

use super::LibvirtError;
use crate::instance::events::{DomainEvent, SUBSCRIBED};
use crate::instance::xdr::{Malformed, Reader, Writer};

pub(super) const REMOTE_PROGRAM: u32 = 0x2000_8086;
pub(super) const REMOTE_VERSION: u32 = 1;
pub(super) const KEEPALIVE_PROGRAM: u32 = 0x6b65_6570;
pub(super) const KEEPALIVE_VERSION: u32 = 1;
pub(super) const KEEPALIVE_PING: u32 = 1;
pub(super) const KEEPALIVE_PONG: u32 = 2;
pub(super) const PROC_CONNECT_OPEN: u32 = 1;
pub(super) const PROC_AUTH_LIST: u32 = 66;
pub(super) const PROC_AUTH_POLKIT: u32 = 70;
pub(super) const AUTH_POLKIT: u32 = 2;
pub(super) const PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: u32 = 316;
pub(super) const PROC_DOMAIN_GET_XML_DESC: u32 = 14;
pub(super) const PROC_CONNECT_LIST_ALL_DOMAINS: u32 = 273;
/// libvirt's QEMU-specific program (`src/remote/qemu_protocol.x`).
pub(super) const QEMU_PROGRAM: u32 = 0x2000_8087;
pub(super) const QEMU_VERSION: u32 = 1;
pub(super) const QEMU_PROC_DOMAIN_AGENT_COMMAND: u32 = 3;
/// `VIR_CONNECT_LIST_DOMAINS_RUNNING`.
pub(super) const LIST_DOMAINS_RUNNING: u32 = 16;
pub(super) const TYPE_CALL: u32 = 0;
pub(super) const TYPE_REPLY: u32 = 1;
pub(super) const TYPE_MESSAGE: u32 = 2;
pub(super) const STATUS_OK: u32 = 0;
pub(super) const VIR_CONNECT_RO: u32 = 1;
/// Largest frame accepted (libvirt's own limit is 32 MiB; events are tiny).
pub(super) const MAX_FRAME: usize = 4 << 20;

pub(super) struct Frame {
    pub(super) program: u32,
    pub(super) procedure: u32,
    pub(super) kind: u32,
    pub(super) serial: u32,
    pub(super) status: u32,
    pub(super) body: Vec<u8>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("program", &self.program)
            .field("procedure", &self.procedure)
            .finish_non_exhaustive()
    }
}

pub(super) async fn read_frame(
    r: &mut tokio::net::unix::OwnedReadHalf,
) -> Result<Frame, LibvirtError> {
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

pub(super) fn frame(
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

pub(super) fn error_message(body: &[u8]) -> (i32, String) {
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
    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        let name = r.string()?;
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(r.fixed(16)?);
        let id = r.i32()?;
        Ok(Self { name, uuid, id })
    }

    pub(super) fn write(&self, w: &mut Writer) {
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
pub(super) fn domain(r: &mut Reader<'_>) -> Result<(String, String), Malformed> {
    let d = DomainRef::read(r)?;
    let uuid = d.uuid_string();
    Ok((d.name, uuid))
}

/// The arguments of `QEMU_PROC_DOMAIN_AGENT_COMMAND` (`qemu_domain_agent_command_args`):
/// the domain, the command, the timeout in seconds, flags (none).
pub(super) fn agent_command_args(domain: &DomainRef, command: &str, timeout_secs: i32) -> Vec<u8> {
    let mut w = Writer::default();
    domain.write(&mut w);
    w.string(command).i32(timeout_secs).u32(0);
    w.0
}

/// The arguments of `REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS`: `need_results`, flags.
pub(super) fn list_running_args() -> Vec<u8> {
    let mut w = Writer::default();
    w.i32(1).u32(LIST_DOMAINS_RUNNING);
    w.0
}

/// `remote_connect_list_all_domains_ret`: the domains, then their count.
pub(super) fn decode_domain_list(body: &[u8]) -> Result<Vec<DomainRef>, Malformed> {
    let mut r = Reader::new(body);
    let n = r.u32()?;
    // libvirt's REMOTE_DOMAIN_LIST_MAX; a larger count is garbage, not a host.
    if n > 16384 {
        return Err(Malformed(0));
    }
    (0..n).map(|_| DomainRef::read(&mut r)).collect()
}

pub(super) fn decode_event(procedure: u32, body: &[u8]) -> Result<Option<DomainEvent>, Malformed> {
    let Some((event_id, _)) = SUBSCRIBED.iter().find(|(_, p)| *p == procedure) else {
        return Ok(None);
    };
    let mut r = Reader::new(body);
    let _callback = r.i32()?;
    let (domain, uuid) = domain(&mut r)?;
    let (kind, detail) = match *event_id {
        crate::instance::events::EVENT_LIFECYCLE => (r.i32()?, r.i32()?),
        crate::instance::events::EVENT_WATCHDOG => (r.i32()?, 0),
        crate::instance::events::EVENT_IO_ERROR => {
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
