//! The UDP link to one BMC: its socket, and each exchange retransmitted until it is answered
//! or its deadline passes (what the session's steps and requests are sent over).

use std::io::ErrorKind;

use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::wire::Reject;
use super::{IpmiError, IpmiTarget, Timing};

/// What a received datagram meant to the step waiting for it.
pub(super) enum Heard<T> {
    /// Not the answer (dropped; the wait goes on).
    Dropped(Reject),
    /// The answer.
    Answer(T),
}

/// The socket and the retransmission policy.
#[derive(Debug)]
pub(super) struct Link {
    pub(super) socket: UdpSocket,
    pub(super) address: String,
    pub(super) timing: Timing,
}

impl Link {
    pub(super) async fn connect(target: &IpmiTarget, timing: Timing) -> Result<Self, IpmiError> {
        let (host, port) = super::split_address(&target.address)?;
        let socket_error = |source| IpmiError::Socket {
            address: target.address.clone(),
            source,
        };
        let peer = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| IpmiError::Address {
                address: target.address.clone(),
                reason: e.to_string(),
            })?
            .next()
            .ok_or_else(|| IpmiError::Address {
                address: target.address.clone(),
                reason: "the name has no address".to_owned(),
            })?;
        let local = if peer.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let socket = UdpSocket::bind(local).await.map_err(socket_error)?;
        socket.connect(peer).await.map_err(socket_error)?;
        Ok(Self {
            socket,
            address: target.address.clone(),
            timing,
        })
    }

    /// Sends `build(state)` and waits for a datagram `hear` accepts; sends a fresh packet
    /// every `timing.retransmit` until `timing.timeout` has passed since the first.
    pub(super) async fn exchange<S, T>(
        &self,
        step: &'static str,
        state: &mut S,
        mut build: impl FnMut(&mut S) -> Vec<u8>,
        mut hear: impl FnMut(&mut S, &[u8]) -> Result<Heard<T>, IpmiError>,
    ) -> Result<T, IpmiError> {
        let started = Instant::now();
        let deadline = started + self.timing.timeout;
        let mut dropped: Option<Reject> = None;
        let mut refused = false;
        let mut buf = [0u8; 1024];
        loop {
            let packet = build(state);
            if let Err(e) = self.socket.send(&packet).await {
                refused |= e.kind() == ErrorKind::ConnectionRefused;
            }
            let resend_at = (Instant::now() + self.timing.retransmit).min(deadline);
            loop {
                match tokio::time::timeout_at(resend_at, self.socket.recv(&mut buf)).await {
                    Err(_elapsed) => break,
                    Ok(Err(e)) => {
                        // ICMP port unreachable (nothing listens there) or a similar transient
                        // error: nothing more arrives for this packet, so wait for the resend.
                        refused |= e.kind() == ErrorKind::ConnectionRefused;
                        tokio::time::sleep_until(resend_at).await;
                        break;
                    }
                    Ok(Ok(n)) => match hear(state, &buf[..n])? {
                        Heard::Answer(t) => return Ok(t),
                        Heard::Dropped(why) => {
                            tracing::debug!(bmc.address = %self.address, step, reason = ?why, "dropped a datagram");
                            dropped = Some(why);
                        }
                    },
                }
            }
            if Instant::now() >= deadline {
                let note = match (dropped, refused) {
                    (Some(why), _) => format!(" (answers were dropped: {})", reject_text(why)),
                    (None, true) => " (the port is unreachable: nothing listens there)".to_owned(),
                    (None, false) => String::new(),
                };
                return Err(IpmiError::NoAnswer {
                    address: self.address.clone(),
                    step,
                    after: started.elapsed(),
                    note,
                });
            }
        }
    }
}

pub(super) fn reject_text(why: Reject) -> &'static str {
    match why {
        Reject::Malformed => "malformed",
        Reject::Unexpected => "not addressed to this session",
        Reject::Integrity => "integrity check failed",
        Reject::Confidentiality => "did not decrypt",
        Reject::Checksum => "bad message checksum",
        Reject::Replay => "replayed sequence number",
    }
}
