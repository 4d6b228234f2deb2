//! Byte layouts of IPMI over LAN: the RMCP header, IPMI 1.5 and 2.0 (RMCP+) session headers
//! with the integrity trailer, the IPMI message with its two checksums, and the Open Session
//! and RAKP payloads. Building and parsing only; no I/O, no policy.

use super::crypto::{CipherSuite, SessionKeys};

/// RMCP version 6, no ACK wanted, class IPMI.
const RMCP_HEADER: [u8; 4] = [0x06, 0x00, 0xFF, 0x07];
/// Session header auth type of RMCP+ packets.
const AUTH_RMCP_PLUS: u8 = 0x06;
/// Payload type bits.
const ENCRYPTED: u8 = 0x80;
const AUTHENTICATED: u8 = 0x40;
/// The BMC's responder address and our requester (software id) address.
const BMC_ADDR: u8 = 0x20;
const CONSOLE_ADDR: u8 = 0x81;

/// RMCP+ payload types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PayloadType {
    Ipmi = 0x00,
    OpenSessionRequest = 0x10,
    OpenSessionResponse = 0x11,
    Rakp1 = 0x12,
    Rakp2 = 0x13,
    Rakp3 = 0x14,
    Rakp4 = 0x15,
}

/// Why a datagram is not something we can use (it is dropped; the wait goes on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reject {
    /// Too short or inconsistent lengths.
    Malformed,
    /// Not the kind of packet expected now.
    Unexpected,
    /// The AuthCode does not match: forged, corrupted or from another session.
    Integrity,
    /// Encrypted payload that does not decrypt with our key.
    Confidentiality,
    /// A message checksum is wrong.
    Checksum,
    /// A sequence number seen before (a replay or a late duplicate).
    Replay,
}

fn checksum(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0u8, |acc, b| acc.wrapping_add(*b))
        .wrapping_neg()
}

/// An IPMI request message: rsAddr, netFn/LUN, chk1, rqAddr, rqSeq/LUN, cmd, data, chk2.
pub(crate) fn request_message(netfn: u8, cmd: u8, rq_seq: u8, data: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(7 + data.len());
    m.push(BMC_ADDR);
    m.push(netfn << 2);
    m.push(checksum(&m[0..2]));
    m.push(CONSOLE_ADDR);
    m.push((rq_seq & 0x3F) << 2);
    m.push(cmd);
    m.extend_from_slice(data);
    m.push(checksum(&m[3..]));
    m
}

/// A parsed IPMI response message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) netfn: u8,
    pub(crate) rq_seq: u8,
    pub(crate) cmd: u8,
    pub(crate) completion: u8,
    pub(crate) data: Vec<u8>,
}

impl Response {
    /// Whether this answers request `(netfn, cmd, rq_seq)`.
    pub(crate) fn answers(&self, netfn: u8, cmd: u8, rq_seq: u8) -> bool {
        self.netfn == (netfn | 1) && self.cmd == cmd && self.rq_seq == rq_seq & 0x3F
    }
}

/// Parses rqAddr, netFn/LUN, chk1, rsAddr, rqSeq/LUN, cmd, completion code, data, chk2.
pub(crate) fn parse_response(m: &[u8]) -> Result<Response, Reject> {
    if m.len() < 8 {
        return Err(Reject::Malformed);
    }
    if checksum(&m[0..2]) != m[2] || checksum(&m[3..m.len() - 1]) != m[m.len() - 1] {
        return Err(Reject::Checksum);
    }
    if m[0] != CONSOLE_ADDR || m[3] != BMC_ADDR {
        return Err(Reject::Unexpected);
    }
    Ok(Response {
        netfn: m[1] >> 2,
        rq_seq: m[4] >> 2,
        cmd: m[5],
        completion: m[6],
        data: m[7..m.len() - 1].to_vec(),
    })
}

/// An IPMI 1.5 packet outside any session (authentication type none): how Get Channel
/// Authentication Capabilities is asked before RMCP+ is set up.
pub(crate) fn v15_packet(message: &[u8]) -> Vec<u8> {
    let mut p = RMCP_HEADER.to_vec();
    p.push(0x00); // auth type none
    p.extend_from_slice(&[0; 4]); // session sequence
    p.extend_from_slice(&[0; 4]); // session id
    p.push(message.len() as u8);
    p.extend_from_slice(message);
    p
}

/// The message inside an IPMI 1.5 packet without authentication.
pub(crate) fn parse_v15(p: &[u8]) -> Result<&[u8], Reject> {
    if p.len() < 14 || p[..4] != RMCP_HEADER {
        return Err(Reject::Malformed);
    }
    if p[4] != 0x00 {
        return Err(Reject::Unexpected);
    }
    let len = usize::from(p[13]);
    p.get(14..14 + len).ok_or(Reject::Malformed)
}

/// An unauthenticated RMCP+ packet outside a session (Open Session, RAKP).
pub(crate) fn v20_plain_packet(payload_type: PayloadType, payload: &[u8]) -> Vec<u8> {
    let mut p = RMCP_HEADER.to_vec();
    p.push(AUTH_RMCP_PLUS);
    p.push(payload_type as u8);
    p.extend_from_slice(&[0; 4]); // session id
    p.extend_from_slice(&[0; 4]); // sequence
    p.extend_from_slice(&(payload.len() as u16).to_le_bytes());
    p.extend_from_slice(payload);
    p
}

/// An RMCP+ packet of an established session: the IPMI message encrypted, the whole signed.
pub(crate) fn v20_secure_packet(
    keys: &SessionKeys,
    bmc_sid: u32,
    seq: u32,
    iv: [u8; 16],
    message: &[u8],
) -> Vec<u8> {
    let payload = keys.encrypt(iv, message);
    let mut p = RMCP_HEADER.to_vec();
    p.push(AUTH_RMCP_PLUS);
    p.push(ENCRYPTED | AUTHENTICATED | PayloadType::Ipmi as u8);
    p.extend_from_slice(&bmc_sid.to_le_bytes());
    p.extend_from_slice(&seq.to_le_bytes());
    p.extend_from_slice(&(payload.len() as u16).to_le_bytes());
    p.extend_from_slice(&payload);
    // Integrity pad: authtype … next header must be a multiple of 4 bytes.
    let covered = p.len() - RMCP_HEADER.len() + 2;
    let pad = (4 - covered % 4) % 4;
    p.extend(std::iter::repeat_n(0xFF, pad));
    p.push(pad as u8);
    p.push(0x07); // next header
    let code = keys.auth_code(&p[RMCP_HEADER.len()..]);
    p.extend_from_slice(&code);
    p
}

/// An RMCP+ packet's header fields and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct V20<'a> {
    pub(crate) payload_type: u8,
    pub(crate) session_id: u32,
    pub(crate) seq: u32,
    pub(crate) payload: &'a [u8],
}

fn u32_at(p: &[u8], at: usize) -> Result<u32, Reject> {
    let bytes: [u8; 4] = p
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .ok_or(Reject::Malformed)?;
    Ok(u32::from_le_bytes(bytes))
}

/// Splits an RMCP+ packet into its header fields and payload (the trailer, if any, is left
/// for [`open_secure`]).
pub(crate) fn parse_v20(p: &[u8]) -> Result<V20<'_>, Reject> {
    if p.len() < 16 || p[..4] != RMCP_HEADER {
        return Err(Reject::Malformed);
    }
    if p[4] != AUTH_RMCP_PLUS {
        return Err(Reject::Unexpected);
    }
    let len = usize::from(u16::from_le_bytes([p[14], p[15]]));
    Ok(V20 {
        payload_type: p[5],
        session_id: u32_at(p, 6)?,
        seq: u32_at(p, 10)?,
        payload: p.get(16..16 + len).ok_or(Reject::Malformed)?,
    })
}

/// Checks a session packet addressed to `console_sid`: authenticated and encrypted, AuthCode
/// valid, trailer well-formed; returns its sequence number and the decrypted IPMI message.
pub(crate) fn open_secure(
    keys: &SessionKeys,
    console_sid: u32,
    p: &[u8],
) -> Result<(u32, Vec<u8>), Reject> {
    let v = parse_v20(p)?;
    if v.payload_type != (ENCRYPTED | AUTHENTICATED | PayloadType::Ipmi as u8)
        || v.session_id != console_sid
    {
        return Err(Reject::Unexpected);
    }
    let icv = keys.suite.icv_len();
    let payload_end = 16 + v.payload.len();
    if p.len() < payload_end + 2 + icv {
        return Err(Reject::Integrity);
    }
    let code_at = p.len() - icv;
    let (next_header, pad_len) = (p[code_at - 1], usize::from(p[code_at - 2]));
    if next_header != 0x07 || payload_end + pad_len + 2 != code_at {
        return Err(Reject::Integrity);
    }
    if !p[payload_end..payload_end + pad_len]
        .iter()
        .all(|b| *b == 0xFF)
    {
        return Err(Reject::Integrity);
    }
    if !keys.auth_code_matches(&p[RMCP_HEADER.len()..code_at], &p[code_at..]) {
        return Err(Reject::Integrity);
    }
    let message = keys
        .decrypt(v.payload)
        .map_err(|_| Reject::Confidentiality)?;
    Ok((v.seq, message))
}

/// The Open Session request: tag, maximum privilege (0: the highest the algorithms allow),
/// our session id, and one record per algorithm.
pub(crate) fn open_session_request(tag: u8, console_sid: u32, suite: CipherSuite) -> Vec<u8> {
    let mut m = vec![tag, 0x00, 0x00, 0x00];
    m.extend_from_slice(&console_sid.to_le_bytes());
    for (kind, algorithm) in [
        (0x00, suite.auth_algorithm()),
        (0x01, suite.integrity_algorithm()),
        (0x02, suite.confidentiality_algorithm()),
    ] {
        m.extend_from_slice(&[kind, 0x00, 0x00, 0x08, algorithm, 0x00, 0x00, 0x00]);
    }
    m
}

/// The Open Session response: status, and on success the BMC's session id after the algorithms
/// it chose were checked to be ours.
pub(crate) fn parse_open_session_response(
    payload: &[u8],
    tag: u8,
    console_sid: u32,
    suite: CipherSuite,
) -> Result<Result<u32, u8>, Reject> {
    if payload.len() < 2 || payload[0] != tag {
        return Err(Reject::Unexpected);
    }
    if payload[1] != 0 {
        return Ok(Err(payload[1]));
    }
    if payload.len() < 36 || u32_at(payload, 4)? != console_sid {
        return Err(Reject::Malformed);
    }
    let chosen = [payload[16], payload[24], payload[32]];
    let wanted = [
        suite.auth_algorithm(),
        suite.integrity_algorithm(),
        suite.confidentiality_algorithm(),
    ];
    if chosen.iter().zip(wanted).any(|(c, w)| c & 0x3F != w) {
        return Err(Reject::Unexpected);
    }
    Ok(Ok(u32_at(payload, 8)?))
}

/// RAKP message 1: tag, the BMC's session id, our random number, the role and the user name.
pub(crate) fn rakp1(
    tag: u8,
    bmc_sid: u32,
    console_random: &[u8; 16],
    role: u8,
    username: &[u8],
) -> Vec<u8> {
    let mut m = vec![tag, 0, 0, 0];
    m.extend_from_slice(&bmc_sid.to_le_bytes());
    m.extend_from_slice(console_random);
    m.extend_from_slice(&[role, 0, 0, username.len() as u8]);
    m.extend_from_slice(username);
    m
}

/// RAKP message 2's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rakp2 {
    pub(crate) bmc_random: [u8; 16],
    pub(crate) bmc_guid: [u8; 16],
    pub(crate) code: Vec<u8>,
}

/// Parses RAKP message 2: `Ok(Err(status))` when the BMC refused.
pub(crate) fn parse_rakp2(
    payload: &[u8],
    tag: u8,
    console_sid: u32,
) -> Result<Result<Rakp2, u8>, Reject> {
    if payload.len() < 2 || payload[0] != tag {
        return Err(Reject::Unexpected);
    }
    if payload[1] != 0 {
        return Ok(Err(payload[1]));
    }
    if payload.len() < 40 || u32_at(payload, 4)? != console_sid {
        return Err(Reject::Malformed);
    }
    let mut bmc_random = [0u8; 16];
    bmc_random.copy_from_slice(&payload[8..24]);
    let mut bmc_guid = [0u8; 16];
    bmc_guid.copy_from_slice(&payload[24..40]);
    Ok(Ok(Rakp2 {
        bmc_random,
        bmc_guid,
        code: payload[40..].to_vec(),
    }))
}

/// RAKP message 3: tag, status, the BMC's session id, our proof (empty with a failure status).
pub(crate) fn rakp3(tag: u8, status: u8, bmc_sid: u32, code: &[u8]) -> Vec<u8> {
    let mut m = vec![tag, status, 0, 0];
    m.extend_from_slice(&bmc_sid.to_le_bytes());
    m.extend_from_slice(code);
    m
}

/// Parses RAKP message 4: the integrity check value, or `Ok(Err(status))`.
pub(crate) fn parse_rakp4(
    payload: &[u8],
    tag: u8,
    console_sid: u32,
) -> Result<Result<Vec<u8>, u8>, Reject> {
    if payload.len() < 2 || payload[0] != tag {
        return Err(Reject::Unexpected);
    }
    if payload[1] != 0 {
        return Ok(Err(payload[1]));
    }
    if payload.len() < 8 || u32_at(payload, 4)? != console_sid {
        return Err(Reject::Malformed);
    }
    Ok(Ok(payload[8..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::super::crypto::tests::{array16, hex, vector};
    use super::super::crypto::user_key;
    use super::*;

    fn vector_keys() -> SessionKeys {
        SessionKeys::derive(
            CipherSuite::Suite3,
            &vector().sik(&user_key(b"password").unwrap()),
        )
    }

    #[test]
    fn the_first_session_packet_is_built_byte_for_byte_as_ipmitool_did() {
        let message = request_message(0x06, 0x3B, 1, &[0x04]);
        assert_eq!(message, hex("2018c881043b043c"));
        let keys = vector_keys();
        let packet = v20_secure_packet(
            &keys,
            0x0502,
            3,
            array16("e05246bba771c80375cdea21f4d29abf"),
            &message,
        );
        let expected = [
            RMCP_HEADER.to_vec(),
            hex(
                "06 c0 02050000 03000000 2000 e05246bba771c80375cdea21f4d29abf \
                 034066624974f248bbc7258a74f7d62b ffff 02 07 e187f22c89e1b00e2a613bd0",
            ),
        ]
        .concat();
        assert_eq!(packet, expected);
    }

    /// The same layout, as the BMC would send it to us (session id = ours).
    fn reply(keys: &SessionKeys, console_sid: u32, seq: u32, message: &[u8]) -> Vec<u8> {
        v20_secure_packet(keys, console_sid, seq, [5u8; 16], message)
    }

    #[test]
    fn replies_are_checked_for_integrity_confidentiality_and_addressee() {
        let keys = vector_keys();
        let message = hex("81 04 7b 20 04 01 00 01 00 00 da");
        let good = reply(&keys, 0xa0a2_a3a4, 7, &message);
        assert_eq!(
            open_secure(&keys, 0xa0a2_a3a4, &good),
            Ok((7, message.clone()))
        );
        assert_eq!(
            open_secure(&keys, 0x1111_1111, &good),
            Err(Reject::Unexpected)
        );
        // Any flipped bit in the covered bytes or in the code fails the integrity check.
        for at in [5, 12, 20, good.len() - 3, good.len() - 1] {
            let mut bad = good.clone();
            bad[at] ^= 0x01;
            assert!(open_secure(&keys, 0xa0a2_a3a4, &bad).is_err(), "byte {at}");
        }
        let other = SessionKeys::derive(CipherSuite::Suite3, &[1u8; 20]);
        assert_eq!(
            open_secure(&other, 0xa0a2_a3a4, &good),
            Err(Reject::Integrity)
        );
        let response = parse_response(&message).unwrap();
        assert!(response.answers(0x00, 0x01, 1));
        assert_eq!(response.completion, 0);
        assert_eq!(response.data, vec![0x01, 0x00, 0x00]);
        let mut corrupt = message;
        corrupt[7] ^= 1;
        assert_eq!(parse_response(&corrupt), Err(Reject::Checksum));
    }

    #[test]
    fn handshake_payloads_have_the_documented_layout() {
        let open = open_session_request(0, 0xa0a2_a3a4, CipherSuite::Suite3);
        assert_eq!(
            open,
            hex("00 00 0000 a4a3a2a0 0000000801000000 0100000801000000 0200000801000000")
        );
        let mut response = hex("00 00 04 00 a4a3a2a0 02050000");
        response.extend_from_slice(&open[8..]);
        assert_eq!(
            parse_open_session_response(&response, 0, 0xa0a2_a3a4, CipherSuite::Suite3),
            Ok(Ok(0x0502))
        );
        assert_eq!(
            parse_open_session_response(&[0, 0x11], 0, 1, CipherSuite::Suite17),
            Ok(Err(0x11))
        );
        let r1 = rakp1(0, 0x0502, &[0xAA; 16], 0x14, b"admin");
        assert_eq!(r1.len(), 28 + 5);
        assert_eq!(&r1[4..8], &[0x02, 0x05, 0, 0]);
        assert_eq!(&r1[24..28], &[0x14, 0, 0, 5]);
        let v15 = v15_packet(&request_message(0x06, 0x38, 0, &[0x8E, 0x04]));
        assert_eq!(parse_v15(&v15).unwrap().len(), 9);
    }
}
