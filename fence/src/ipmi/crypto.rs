//! RMCP+ cryptography: the RAKP key exchange codes, the session keys (SIK, K1, K2), packet
//! integrity (HMAC-SHA1-96 / HMAC-SHA256-128) and confidentiality (AES-CBC-128 with IPMI's
//! own padding). Pure functions over bytes; the session code decides when to call them.

use aes::Aes128;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

/// The cipher suites Lifeboat speaks. Suite 0 (no authentication) and the MD5 suites are
/// deliberately absent: a fencing client must know it talks to the right BMC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CipherSuite {
    /// RAKP-HMAC-SHA1, HMAC-SHA1-96, AES-CBC-128: what nearly every BMC offers.
    Suite3,
    /// RAKP-HMAC-SHA256, HMAC-SHA256-128, AES-CBC-128: preferred where offered.
    Suite17,
}

impl CipherSuite {
    /// The suite's number (`ipmitool -C`).
    pub fn id(self) -> u8 {
        match self {
            Self::Suite3 => 3,
            Self::Suite17 => 17,
        }
    }

    /// Authentication algorithm number in the Open Session request.
    pub(crate) fn auth_algorithm(self) -> u8 {
        match self {
            Self::Suite3 => 0x01,
            Self::Suite17 => 0x03,
        }
    }

    /// Integrity algorithm number.
    pub(crate) fn integrity_algorithm(self) -> u8 {
        match self {
            Self::Suite3 => 0x01,
            Self::Suite17 => 0x04,
        }
    }

    /// Confidentiality algorithm number (AES-CBC-128 for both).
    pub(crate) fn confidentiality_algorithm(self) -> u8 {
        0x01
    }

    /// Length of the RAKP2/RAKP3 key exchange authentication codes.
    pub(crate) fn exchange_code_len(self) -> usize {
        match self {
            Self::Suite3 => 20,
            Self::Suite17 => 32,
        }
    }

    /// Length of the RAKP4 integrity check value and of every packet's AuthCode.
    pub(crate) fn icv_len(self) -> usize {
        match self {
            Self::Suite3 => 12,
            Self::Suite17 => 16,
        }
    }
}

/// HMAC of the concatenated `parts` with the suite's hash.
fn hmac(suite: CipherSuite, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        let mut mac = <M as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable_key());
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }
    match suite {
        CipherSuite::Suite3 => run::<Hmac<Sha1>>(key, parts),
        CipherSuite::Suite17 => run::<Hmac<Sha256>>(key, parts),
    }
}

#[expect(
    clippy::panic,
    reason = "HMAC takes keys of any length; this cannot happen"
)]
fn unreachable_key() -> ! {
    panic!("HMAC rejected a key")
}

/// Whether `expected` equals the leading bytes of the HMAC, compared in constant time.
fn hmac_matches(suite: CipherSuite, key: &[u8], parts: &[&[u8]], expected: &[u8]) -> bool {
    let code = hmac(suite, key, parts);
    if expected.is_empty() || expected.len() > code.len() {
        return false;
    }
    // Constant time: every byte is looked at whatever the first difference.
    code.iter()
        .zip(expected)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

/// Kuid: the password, zero-padded to 20 bytes (IPMI 2.0 passwords are at most 20 bytes).
pub(crate) fn user_key(password: &[u8]) -> Option<[u8; 20]> {
    if password.len() > 20 {
        return None;
    }
    let mut key = [0u8; 20];
    key[..password.len()].copy_from_slice(password);
    Some(key)
}

/// What both sides know after RAKP2, from which every code and key is computed.
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    pub(crate) suite: CipherSuite,
    /// SIDm: the console's (our) session id.
    pub(crate) console_sid: u32,
    /// SIDc: the BMC's session id.
    pub(crate) bmc_sid: u32,
    /// Rm: our random number.
    pub(crate) console_random: [u8; 16],
    /// Rc: the BMC's random number.
    pub(crate) bmc_random: [u8; 16],
    /// GUIDc: the BMC's GUID.
    pub(crate) bmc_guid: [u8; 16],
    /// The role byte sent in RAKP1 (privilege plus the name-only lookup bit).
    pub(crate) role: u8,
    /// The user name.
    pub(crate) username: Vec<u8>,
}

impl Exchange {
    fn user_len(&self) -> [u8; 1] {
        // Usernames are at most 16 bytes (checked before RAKP1).
        [self.username.len() as u8]
    }

    /// Whether RAKP2's code proves the BMC knows the password:
    /// HMAC(Kuid, SIDm ‖ SIDc ‖ Rm ‖ Rc ‖ GUIDc ‖ role ‖ ulen ‖ user).
    pub(crate) fn bmc_proof_matches(&self, kuid: &[u8], code: &[u8]) -> bool {
        code.len() == self.suite.exchange_code_len()
            && hmac_matches(
                self.suite,
                kuid,
                &[
                    &self.console_sid.to_le_bytes(),
                    &self.bmc_sid.to_le_bytes(),
                    &self.console_random,
                    &self.bmc_random,
                    &self.bmc_guid,
                    &[self.role],
                    &self.user_len(),
                    &self.username,
                ],
                code,
            )
    }

    /// RAKP3's code, our proof: HMAC(Kuid, Rc ‖ SIDm ‖ role ‖ ulen ‖ user).
    pub(crate) fn console_proof(&self, kuid: &[u8]) -> Vec<u8> {
        hmac(
            self.suite,
            kuid,
            &[
                &self.bmc_random,
                &self.console_sid.to_le_bytes(),
                &[self.role],
                &self.user_len(),
                &self.username,
            ],
        )
    }

    /// The session integrity key: HMAC(KG, Rm ‖ Rc ‖ role ‖ ulen ‖ user), KG being the BMC key
    /// when one is set and Kuid otherwise.
    pub(crate) fn sik(&self, kg: &[u8]) -> Vec<u8> {
        hmac(
            self.suite,
            kg,
            &[
                &self.console_random,
                &self.bmc_random,
                &[self.role],
                &self.user_len(),
                &self.username,
            ],
        )
    }

    /// Whether RAKP4's value proves the BMC derived the same SIK: HMAC(SIK, Rm ‖ SIDc ‖ GUIDc),
    /// truncated.
    pub(crate) fn rakp4_matches(&self, sik: &[u8], icv: &[u8]) -> bool {
        icv.len() == self.suite.icv_len()
            && hmac_matches(
                self.suite,
                sik,
                &[
                    &self.console_random,
                    &self.bmc_sid.to_le_bytes(),
                    &self.bmc_guid,
                ],
                icv,
            )
    }
}

/// The keys of an established session.
#[derive(Clone)]
pub(crate) struct SessionKeys {
    pub(crate) suite: CipherSuite,
    /// K1, for packet integrity.
    k1: Vec<u8>,
    /// The first 16 bytes of K2, the AES key.
    aes_key: [u8; 16],
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKeys")
            .field("suite", &self.suite)
            .finish_non_exhaustive()
    }
}

/// Why an encrypted payload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecryptError {
    /// Not an IV followed by whole AES blocks.
    Length,
    /// The confidentiality trailer (pad bytes 1, 2, … n, then n) is wrong.
    Padding,
}

impl SessionKeys {
    /// K1 = HMAC(SIK, 20 × 0x01), K2 = HMAC(SIK, 20 × 0x02) (20-byte constants for every suite).
    pub(crate) fn derive(suite: CipherSuite, sik: &[u8]) -> Self {
        let k1 = hmac(suite, sik, &[&[0x01; 20]]);
        let k2 = hmac(suite, sik, &[&[0x02; 20]]);
        let mut aes_key = [0u8; 16];
        aes_key.copy_from_slice(&k2[..16]);
        Self { suite, k1, aes_key }
    }

    /// The AuthCode of a packet: the leading bytes of HMAC(K1, authtype … next header).
    pub(crate) fn auth_code(&self, covered: &[u8]) -> Vec<u8> {
        let mut code = hmac(self.suite, &self.k1, &[covered]);
        code.truncate(self.suite.icv_len());
        code
    }

    /// Whether `code` is the AuthCode of `covered`.
    pub(crate) fn auth_code_matches(&self, covered: &[u8], code: &[u8]) -> bool {
        code.len() == self.suite.icv_len() && hmac_matches(self.suite, &self.k1, &[covered], code)
    }

    /// IV ‖ AES-CBC-128(K2, IV, plain ‖ 01 02 … n ‖ n), the whole padded to 16-byte blocks.
    pub(crate) fn encrypt(&self, iv: [u8; 16], plain: &[u8]) -> Vec<u8> {
        let pad = (16 - (plain.len() + 1) % 16) % 16;
        let mut buf = Vec::with_capacity(16 + plain.len() + pad + 1);
        buf.extend_from_slice(plain);
        buf.extend((1..=pad).map(|i| i as u8));
        buf.push(pad as u8);
        let len = buf.len();
        let encryptor = cbc::Encryptor::<Aes128>::new(&self.aes_key.into(), &iv.into());
        // The buffer is a whole number of blocks, so NoPadding cannot fail.
        let _ = encryptor.encrypt_padded_mut::<NoPadding>(&mut buf, len);
        let mut out = iv.to_vec();
        out.extend_from_slice(&buf);
        out
    }

    /// The plaintext of IV ‖ ciphertext, with the confidentiality trailer checked and removed.
    pub(crate) fn decrypt(&self, payload: &[u8]) -> Result<Vec<u8>, DecryptError> {
        if payload.len() < 32 || !payload.len().is_multiple_of(16) {
            return Err(DecryptError::Length);
        }
        let (iv, ciphertext) = payload.split_at(16);
        let mut iv_block = [0u8; 16];
        iv_block.copy_from_slice(iv);
        let mut buf = ciphertext.to_vec();
        let decryptor = cbc::Decryptor::<Aes128>::new(&self.aes_key.into(), &iv_block.into());
        decryptor
            .decrypt_padded_mut::<NoPadding>(&mut buf)
            .map_err(|_| DecryptError::Length)?;
        let pad = usize::from(*buf.last().ok_or(DecryptError::Length)?);
        if pad >= 16 || pad + 1 > buf.len() {
            return Err(DecryptError::Padding);
        }
        let body_len = buf.len() - pad - 1;
        let trailer_ok = buf[body_len..buf.len() - 1]
            .iter()
            .enumerate()
            .all(|(i, b)| usize::from(*b) == i + 1);
        if !trailer_ok {
            return Err(DecryptError::Padding);
        }
        buf.truncate(body_len);
        Ok(buf)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    pub(crate) fn array16(s: &str) -> [u8; 16] {
        hex(s).try_into().unwrap()
    }

    /// The research note's vector (§4.3): ipmitool against ipmi_sim, user admin/password.
    pub(crate) fn vector() -> Exchange {
        Exchange {
            suite: CipherSuite::Suite3,
            console_sid: 0xa0a2_a3a4,
            bmc_sid: 0x0000_0502,
            console_random: array16("aab679c2ce9b2c042e7a8eb997cdb492"),
            bmc_random: array16("7e9ed5f77a8c184aa367ae62afe426e6"),
            bmc_guid: array16("a123456789abcdefa123456789abcdef"),
            role: 0x14,
            username: b"admin".to_vec(),
        }
    }

    #[test]
    fn the_recorded_rakp_exchange_verifies_and_derives_the_recorded_keys() {
        let x = vector();
        let kuid = user_key(b"password").unwrap();
        assert!(x.bmc_proof_matches(&kuid, &hex("264a9d5261bb0808cf9d0f824ec458dffc42adcf")));
        assert_eq!(
            x.console_proof(&kuid),
            hex("2e2aff084edd370e044e1c3ba6d92c94deb4350c")
        );
        let sik = x.sik(&kuid);
        assert_eq!(sik, hex("ba656fad362d9e701a5e79e71fad2c6eaf0cffa5"));
        assert!(x.rakp4_matches(&sik, &hex("dc6697ca59231c2681719812")));
        let keys = SessionKeys::derive(CipherSuite::Suite3, &sik);
        assert_eq!(keys.k1, hex("01a9f8af365d187830a911ad088db21be27ccae0"));
        assert_eq!(
            keys.aes_key.to_vec(),
            hex("4f61957dd3a5a599cab36a17f1d75048")
        );
    }

    #[test]
    fn a_wrong_password_or_a_tampered_code_does_not_verify() {
        let x = vector();
        let wrong = user_key(b"passw0rd").unwrap();
        let code = hex("264a9d5261bb0808cf9d0f824ec458dffc42adcf");
        assert!(!x.bmc_proof_matches(&wrong, &code));
        let mut tampered = code.clone();
        tampered[19] ^= 1;
        assert!(!x.bmc_proof_matches(&user_key(b"password").unwrap(), &tampered));
        assert!(!x.bmc_proof_matches(&user_key(b"password").unwrap(), &code[..12]));
        let sik = x.sik(&user_key(b"password").unwrap());
        assert!(!x.rakp4_matches(&sik, &hex("dc6697ca59231c2681719813")));
        assert!(user_key(&[b'x'; 21]).is_none());
    }

    #[test]
    fn the_recorded_first_packet_authenticates_and_decrypts() {
        let x = vector();
        let sik = x.sik(&user_key(b"password").unwrap());
        let keys = SessionKeys::derive(CipherSuite::Suite3, &sik);
        let covered = hex(
            "06 c0 02050000 03000000 2000 e05246bba771c80375cdea21f4d29abf \
             034066624974f248bbc7258a74f7d62b ffff 02 07",
        );
        assert_eq!(keys.auth_code(&covered), hex("e187f22c89e1b00e2a613bd0"));
        assert!(keys.auth_code_matches(&covered, &hex("e187f22c89e1b00e2a613bd0")));
        let payload = &covered[12..44];
        let plain = keys.decrypt(payload).unwrap();
        assert_eq!(plain, hex("2018c881043b043c"));
        // And encrypting it again with the recorded IV gives the recorded ciphertext.
        assert_eq!(
            keys.encrypt(array16("e05246bba771c80375cdea21f4d29abf"), &plain),
            payload
        );
    }

    #[test]
    fn confidentiality_padding_round_trips_and_bad_trailers_are_refused() {
        let keys = SessionKeys::derive(CipherSuite::Suite17, &[7u8; 32]);
        for len in [0, 1, 14, 15, 16, 17, 40] {
            let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let sealed = keys.encrypt([9u8; 16], &plain);
            assert_eq!(sealed.len() % 16, 0);
            assert_eq!(keys.decrypt(&sealed).unwrap(), plain, "{len}");
        }
        assert_eq!(keys.decrypt(&[0u8; 20]), Err(DecryptError::Length));
        // A ciphertext under another key decrypts to garbage whose trailer does not check out
        // (with overwhelming probability; this one is fixed).
        let other = SessionKeys::derive(CipherSuite::Suite17, &[8u8; 32]);
        let sealed = other.encrypt([1u8; 16], b"hello");
        assert_eq!(keys.decrypt(&sealed), Err(DecryptError::Padding));
    }

    #[test]
    fn suite_17_uses_sha256_lengths() {
        let mut x = vector();
        x.suite = CipherSuite::Suite17;
        let kuid = user_key(b"password").unwrap();
        assert_eq!(x.console_proof(&kuid).len(), 32);
        let sik = x.sik(&kuid);
        assert_eq!(sik.len(), 32);
        let keys = SessionKeys::derive(CipherSuite::Suite17, &sik);
        assert_eq!(keys.auth_code(b"abc").len(), 16);
        assert!(keys.auth_code_matches(b"abc", &keys.auth_code(b"abc")));
        assert!(!keys.auth_code_matches(b"abd", &keys.auth_code(b"abc")));
    }
}
