//! An RMCP+ session over UDP: the handshake (Get Channel Authentication Capabilities, Open
//! Session, RAKP 1–4), then signed and encrypted requests with sequence numbers, each sent
//! over the [`Link`](super::link::Link) that retransmits it, and Close Session.

use std::time::Duration;

use super::crypto::{CipherSuite, Exchange, SessionKeys, user_key};
use super::link::{Heard, Link};
use super::wire::{self, PayloadType, Reject};
use super::{CipherChoice, IpmiError, IpmiTarget, Privilege, Timing, completion_meaning};

/// NetFn App.
const APP: u8 = 0x06;
/// NetFn Chassis.
const CHASSIS: u8 = 0x00;

/// RMCP+ status codes that mean "not this cipher suite": the next suite may still work.
const SUITE_REFUSED: &[u8] = &[0x04, 0x05, 0x10, 0x11];

/// The handshake's own state, threaded through the exchanges.
#[derive(Debug)]
struct Handshake {
    tag: u8,
    console_sid: u32,
}

/// An open RMCP+ session. Close it with [`Session::close`]: BMCs have only a few session slots.
#[derive(Debug)]
pub struct Session {
    link: Link,
    keys: SessionKeys,
    console_sid: u32,
    bmc_sid: u32,
    /// Our next outbound session sequence number (0 is never used).
    out_seq: u32,
    /// The highest inbound sequence number accepted.
    in_seq: u32,
    /// IPMI message sequence (6 bits).
    rq_seq: u8,
    username: String,
    privilege: Privilege,
}

/// Per-request state for [`Link::exchange`].
struct Pending<'a> {
    keys: &'a SessionKeys,
    bmc_sid: u32,
    console_sid: u32,
    out_seq: &'a mut u32,
    in_seq: &'a mut u32,
    netfn: u8,
    cmd: u8,
    rq_seq: u8,
    data: &'a [u8],
}

impl Session {
    /// Authenticates to the BMC and opens a session at `target.privilege` (the session runs
    /// at USER until [`Session::raise_privilege`]).
    pub async fn open(target: &IpmiTarget, timing: Timing) -> Result<Self, IpmiError> {
        let address = target.address.clone();
        let username = target.username.as_bytes().to_vec();
        if username.len() > 16 {
            return Err(IpmiError::Credentials {
                reason: "IPMI user names are at most 16 bytes".to_owned(),
            });
        }
        let kuid = user_key(target.password.expose().as_bytes()).ok_or(IpmiError::Credentials {
            reason: "IPMI 2.0 passwords are at most 20 bytes".to_owned(),
        })?;
        let kg = match &target.kg {
            Some(kg) => user_key(kg.expose().as_bytes()).ok_or(IpmiError::Credentials {
                reason: "the BMC key (Kg) is at most 20 bytes".to_owned(),
            })?,
            None => kuid,
        };
        let link = Link::connect(target, timing).await?;
        check_rmcp_plus(&link).await?;

        let mut hs = Handshake {
            tag: 0,
            console_sid: random_nonzero(),
        };
        let suites: &[CipherSuite] = match target.cipher {
            CipherChoice::Auto => &[CipherSuite::Suite17, CipherSuite::Suite3],
            CipherChoice::Only(CipherSuite::Suite3) => &[CipherSuite::Suite3],
            CipherChoice::Only(CipherSuite::Suite17) => &[CipherSuite::Suite17],
        };
        let mut chosen = None;
        for (i, &suite) in suites.iter().enumerate() {
            hs.tag = hs.tag.wrapping_add(1);
            let answer = link
                .exchange(
                    "Open Session",
                    &mut hs,
                    |hs| {
                        wire::v20_plain_packet(
                            PayloadType::OpenSessionRequest,
                            &wire::open_session_request(hs.tag, hs.console_sid, suite),
                        )
                    },
                    |hs, p| {
                        plain_payload(p, PayloadType::OpenSessionResponse, |payload| {
                            wire::parse_open_session_response(
                                payload,
                                hs.tag,
                                hs.console_sid,
                                suite,
                            )
                        })
                    },
                )
                .await?;
            match answer {
                Ok(bmc_sid) => {
                    chosen = Some((suite, bmc_sid));
                    break;
                }
                Err(status) if SUITE_REFUSED.contains(&status) && i + 1 < suites.len() => {
                    tracing::debug!(bmc.address = %address, suite = suite.id(), "cipher suite refused; trying the next");
                }
                Err(status) => {
                    return Err(IpmiError::OpenSession {
                        address,
                        suite: suite.id(),
                        status,
                        reason: rmcp_status_meaning(status),
                    });
                }
            }
        }
        let Some((suite, bmc_sid)) = chosen else {
            return Err(IpmiError::OpenSession {
                address,
                suite: 0,
                status: 0x11,
                reason: rmcp_status_meaning(0x11),
            });
        };

        let role = target.privilege.level() | 0x10; // name-only lookup
        let console_random: [u8; 16] = rand::random();
        hs.tag = hs.tag.wrapping_add(1);
        let rakp2 = link
            .exchange(
                "RAKP 1",
                &mut hs,
                |hs| {
                    wire::v20_plain_packet(
                        PayloadType::Rakp1,
                        &wire::rakp1(hs.tag, bmc_sid, &console_random, role, &username),
                    )
                },
                |hs, p| {
                    plain_payload(p, PayloadType::Rakp2, |payload| {
                        wire::parse_rakp2(payload, hs.tag, hs.console_sid)
                    })
                },
            )
            .await?
            .map_err(|status| IpmiError::Rakp {
                address: address.clone(),
                user: target.username.clone(),
                status,
                reason: rmcp_status_meaning(status),
            })?;
        let exchange = Exchange {
            suite,
            console_sid: hs.console_sid,
            bmc_sid,
            console_random,
            bmc_random: rakp2.bmc_random,
            bmc_guid: rakp2.bmc_guid,
            role,
            username: username.clone(),
        };
        if !exchange.bmc_proof_matches(&kuid, &rakp2.code) {
            // Tell the BMC so it frees the session slot at once (no answer is expected).
            let abort = wire::rakp3(hs.tag.wrapping_add(1), 0x0F, bmc_sid, &[]);
            let _ = link
                .socket
                .send(&wire::v20_plain_packet(PayloadType::Rakp3, &abort))
                .await;
            return Err(IpmiError::Authentication {
                address,
                user: target.username.clone(),
            });
        }
        let proof = exchange.console_proof(&kuid);
        hs.tag = hs.tag.wrapping_add(1);
        let icv = link
            .exchange(
                "RAKP 3",
                &mut hs,
                |hs| {
                    wire::v20_plain_packet(
                        PayloadType::Rakp3,
                        &wire::rakp3(hs.tag, 0, bmc_sid, &proof),
                    )
                },
                |hs, p| {
                    plain_payload(p, PayloadType::Rakp4, |payload| {
                        wire::parse_rakp4(payload, hs.tag, hs.console_sid)
                    })
                },
            )
            .await?
            .map_err(|status| match status {
                // The BMC found our proof wrong: it holds another password.
                0x0F => IpmiError::Authentication {
                    address: address.clone(),
                    user: target.username.clone(),
                },
                status => IpmiError::Rakp {
                    address: address.clone(),
                    user: target.username.clone(),
                    status,
                    reason: rmcp_status_meaning(status),
                },
            })?;
        let sik = exchange.sik(&kg);
        if !exchange.rakp4_matches(&sik, &icv) {
            return Err(IpmiError::Authentication {
                address,
                user: target.username.clone(),
            });
        }
        Ok(Self {
            link,
            keys: SessionKeys::derive(suite, &sik),
            console_sid: hs.console_sid,
            bmc_sid,
            out_seq: 1,
            in_seq: 0,
            rq_seq: rand::random::<u8>() & 0x3F,
            username: target.username.clone(),
            privilege: target.privilege,
        })
    }

    /// The cipher suite in use.
    pub fn cipher_suite(&self) -> CipherSuite {
        self.keys.suite
    }

    /// Sends one IPMI request inside the session and returns the response data (after the
    /// completion code, which must be 0).
    async fn request(
        &mut self,
        command: &'static str,
        netfn: u8,
        cmd: u8,
        data: &[u8],
    ) -> Result<Vec<u8>, IpmiError> {
        self.rq_seq = (self.rq_seq + 1) & 0x3F;
        let mut pending = Pending {
            keys: &self.keys,
            bmc_sid: self.bmc_sid,
            console_sid: self.console_sid,
            out_seq: &mut self.out_seq,
            in_seq: &mut self.in_seq,
            netfn,
            cmd,
            rq_seq: self.rq_seq,
            data,
        };
        let response = self
            .link
            .exchange(
                command,
                &mut pending,
                |p| {
                    // Each retransmission is a new packet (new sequence number and IV) carrying
                    // the same message, so the BMC's replay window never swallows it.
                    let seq = *p.out_seq;
                    *p.out_seq = p.out_seq.wrapping_add(1).max(1);
                    let message = wire::request_message(p.netfn, p.cmd, p.rq_seq, p.data);
                    wire::v20_secure_packet(p.keys, p.bmc_sid, seq, rand::random(), &message)
                },
                |p, packet| {
                    let (seq, message) = match wire::open_secure(p.keys, p.console_sid, packet) {
                        Ok(opened) => opened,
                        Err(why) => return Ok(Heard::Dropped(why)),
                    };
                    if seq != 0 && seq <= *p.in_seq {
                        return Ok(Heard::Dropped(Reject::Replay));
                    }
                    let response = match wire::parse_response(&message) {
                        Ok(r) => r,
                        Err(why) => return Ok(Heard::Dropped(why)),
                    };
                    *p.in_seq = (*p.in_seq).max(seq);
                    if !response.answers(p.netfn, p.cmd, p.rq_seq) {
                        return Ok(Heard::Dropped(Reject::Unexpected));
                    }
                    Ok(Heard::Answer(response))
                },
            )
            .await?;
        match response.completion {
            0x00 => Ok(response.data),
            code @ (0xD4 | 0x80 | 0x81) => Err(IpmiError::InsufficientPrivilege {
                address: self.link.address.clone(),
                user: self.username.clone(),
                command,
                code,
            }),
            code => Err(IpmiError::Command {
                address: self.link.address.clone(),
                command,
                code,
                meaning: completion_meaning(code),
            }),
        }
    }

    /// Set Session Privilege Level to the target's privilege: sessions start at USER, and
    /// Chassis Control needs OPERATOR.
    pub async fn raise_privilege(&mut self) -> Result<(), IpmiError> {
        let level = self.privilege.level();
        let data = self
            .request("Set Session Privilege Level", APP, 0x3B, &[level])
            .await?;
        match data.first() {
            Some(granted) if granted & 0x0F >= level => Ok(()),
            _ => Err(IpmiError::InsufficientPrivilege {
                address: self.link.address.clone(),
                user: self.username.clone(),
                command: "Set Session Privilege Level",
                code: 0x81,
            }),
        }
    }

    /// The user's privilege limit on this channel, as the BMC's user table has it (Get Session
    /// Info for our user id, then Get User Access); `None` when the BMC does not say.
    pub async fn user_privilege_limit(&mut self) -> Option<u8> {
        let info = self
            .request("Get Session Info", APP, 0x3D, &[0x00])
            .await
            .ok()?;
        let user_id = *info.get(3)?;
        let access = self
            .request("Get User Access", APP, 0x44, &[0x0E, user_id & 0x3F])
            .await
            .ok()?;
        access.get(3).map(|b| b & 0x0F)
    }

    /// Fails with [`IpmiError::InsufficientPrivilege`] when the BMC's user table gives the
    /// user less than OPERATOR. Some BMCs (ipmi_sim among them) grant a session whatever
    /// privilege it asks for; a fencing client must not rely on a power command that a
    /// correctly configured BMC would refuse.
    pub async fn check_power_privilege(&mut self) -> Result<(), IpmiError> {
        match self.user_privilege_limit().await {
            Some(limit) if limit < Privilege::Operator.level() => {
                Err(IpmiError::InsufficientPrivilege {
                    address: self.link.address.clone(),
                    user: self.username.clone(),
                    command: "Chassis Control",
                    code: 0xD4,
                })
            }
            _ => Ok(()),
        }
    }

    /// Get Chassis Status.
    pub async fn chassis_status(&mut self) -> Result<super::ChassisStatus, IpmiError> {
        let data = self
            .request("Get Chassis Status", CHASSIS, 0x01, &[])
            .await?;
        let first = *data.first().ok_or_else(|| IpmiError::Malformed {
            address: self.link.address.clone(),
            command: "Get Chassis Status",
        })?;
        Ok(super::ChassisStatus {
            power_on: first & 0x01 != 0,
            power_fault: first & 0x10 != 0,
        })
    }

    /// Chassis Control. Completion only means "accepted": verify with
    /// [`Session::chassis_status`].
    pub async fn chassis_control(
        &mut self,
        control: super::ChassisControl,
    ) -> Result<(), IpmiError> {
        self.request("Chassis Control", CHASSIS, 0x02, &[control as u8])
            .await
            .map(|_| ())
    }

    /// Close Session, so the BMC frees the slot now rather than after its idle timeout. Best
    /// effort and quick: a BMC that does not answer frees it later anyway.
    pub async fn close(mut self) {
        self.link.timing = Timing {
            retransmit: self.link.timing.retransmit.min(Duration::from_millis(250)),
            timeout: self.link.timing.timeout.min(Duration::from_millis(500)),
        };
        let sid = self.bmc_sid.to_le_bytes();
        if let Err(e) = self.request("Close Session", APP, 0x3C, &sid).await {
            tracing::debug!(bmc.address = %self.link.address, error = %e, "closing the IPMI session failed");
        }
    }
}

/// Get Channel Authentication Capabilities: does the BMC speak IPMI 2.0?
async fn check_rmcp_plus(link: &Link) -> Result<(), IpmiError> {
    let rq_seq = rand::random::<u8>() & 0x3F;
    // Current channel, "IPMI 2.0 extended data" bit; administrator privilege.
    let message = wire::request_message(APP, 0x38, rq_seq, &[0x8E, 0x04]);
    let response = link
        .exchange(
            "Get Channel Authentication Capabilities",
            &mut (),
            |()| wire::v15_packet(&message),
            |(), p| {
                let parsed = wire::parse_v15(p).and_then(wire::parse_response);
                Ok(match parsed {
                    Ok(r) if r.answers(APP, 0x38, rq_seq) => Heard::Answer(r),
                    Ok(_) => Heard::Dropped(Reject::Unexpected),
                    Err(why) => Heard::Dropped(why),
                })
            },
        )
        .await?;
    let v2 = response.completion == 0
        && response.data.len() >= 4
        && response.data[1] & 0x80 != 0
        && response.data[3] & 0x02 != 0;
    if v2 {
        Ok(())
    } else {
        Err(IpmiError::NoRmcpPlus {
            address: link.address.clone(),
        })
    }
}

/// Hands the payload of an unauthenticated RMCP+ packet of type `want` to `parse`.
fn plain_payload<T>(
    p: &[u8],
    want: PayloadType,
    parse: impl FnOnce(&[u8]) -> Result<T, Reject>,
) -> Result<Heard<T>, IpmiError> {
    let outcome = wire::parse_v20(p).and_then(|v| {
        if v.payload_type & 0x3F == want as u8 && v.session_id == 0 {
            parse(v.payload)
        } else {
            Err(Reject::Unexpected)
        }
    });
    Ok(match outcome {
        Ok(t) => Heard::Answer(t),
        Err(why) => Heard::Dropped(why),
    })
}

fn random_nonzero() -> u32 {
    loop {
        let v: u32 = rand::random();
        if v != 0 {
            return v;
        }
    }
}

/// RMCP+ status codes (Open Session, RAKP), in words.
fn rmcp_status_meaning(status: u8) -> &'static str {
    match status {
        0x01 => "no session slot is free",
        0x02 => "invalid session id",
        0x03 => "invalid payload type",
        0x04 => "the authentication algorithm is not supported",
        0x05 => "the integrity algorithm is not supported",
        0x06 => "no matching authentication payload",
        0x07 => "no matching integrity payload",
        0x08 => "inactive session id",
        0x09 => "invalid role",
        0x0A => "the user may not have the requested role or privilege",
        0x0B => "no resources for a session at the requested role",
        0x0C => "invalid user name length",
        0x0D => "unknown user name",
        0x0E => "unauthorized GUID",
        0x0F => "invalid integrity check value",
        0x10 => "the confidentiality algorithm is not supported",
        0x11 => "no cipher suite matches",
        0x12 => "illegal parameter",
        _ => "unknown status",
    }
}
