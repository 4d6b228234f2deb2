//! BMC passwords at rest: sealed with AES-256-GCM under a key read from a file named in the
//! configuration (`[fencing] credential_key_file`), never kept in the database. A stolen
//! database dump or backup therefore reveals no BMC password; the key file must be protected
//! like the configuration file itself.
//!
//! Sealed form: `v1:` then hex of nonce (12 bytes) ‖ ciphertext ‖ tag. The associated data
//! names the purpose, so a sealed value cannot be passed off as anything else.

use std::path::Path;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use lifeboat_core::config::Secret;
use lifeboat_core::fencing::{CredentialSealer, SealError, SealedSecret};

const PREFIX: &str = "v1:";
const PURPOSE: &[u8] = b"lifeboat fence device password v1";

/// Why the credential key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CredentialKeyError {
    /// The file could not be read.
    #[error("reading the credential key file {path} failed")]
    ReadKeyFile {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file does not hold a key.
    #[error(
        "the credential key file {path} must hold 64 hexadecimal characters (32 random bytes; make one with `openssl rand -hex 32`)"
    )]
    BadKey {
        /// The file.
        path: String,
    },
}

/// Seals and opens passwords with one AES-256 key.
pub struct KeySealer {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for KeySealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeySealer(***)")
    }
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl KeySealer {
    /// A sealer for a 32-byte key.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// Reads the key file: 64 hexadecimal characters, surrounding whitespace ignored.
    pub fn from_file(path: &Path) -> Result<Self, CredentialKeyError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| CredentialKeyError::ReadKeyFile {
                path: path.display().to_string(),
                source,
            })?;
        warn_if_readable_by_others(path);
        let key: [u8; 32] = hex_decode(text.trim())
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| CredentialKeyError::BadKey {
                path: path.display().to_string(),
            })?;
        Ok(Self::new(&key))
    }
}

fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %path.display(),
            "the credential key file is readable by other users; make it readable by Lifeboat only (chmod 600)"
        );
    }
}

impl CredentialSealer for KeySealer {
    fn seal(&self, plain: &Secret) -> Result<SealedSecret, SealError> {
        let nonce: [u8; 12] = rand::random();
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain.expose().as_bytes(),
                    aad: PURPOSE,
                },
            )
            .map_err(|_| SealError::Open("encryption failed".to_owned()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(SealedSecret(format!("{PREFIX}{}", hex_encode(&bytes))))
    }

    fn open(&self, sealed: &SealedSecret) -> Result<Secret, SealError> {
        let bytes = sealed
            .0
            .strip_prefix(PREFIX)
            .and_then(hex_decode)
            .filter(|b| b.len() > 12 + 16)
            .ok_or_else(|| SealError::Open("not a sealed value".to_owned()))?;
        let (nonce, ciphertext) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: PURPOSE,
                },
            )
            .map_err(|_| SealError::Open("wrong key or altered value".to_owned()))?;
        String::from_utf8(plain)
            .map(Secret::new)
            .map_err(|_| SealError::Open("not UTF-8".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_passwords_open_with_the_key_only() {
        let a = KeySealer::new(&[7u8; 32]);
        let b = KeySealer::new(&[8u8; 32]);
        let sealed = a.seal(&Secret::new("hunter2")).unwrap();
        assert!(sealed.0.starts_with("v1:"));
        assert!(!sealed.0.contains("hunter2"));
        assert_ne!(
            a.seal(&Secret::new("hunter2")).unwrap(),
            sealed,
            "a fresh nonce each time"
        );
        assert_eq!(a.open(&sealed).unwrap().expose(), "hunter2");
        assert!(b.open(&sealed).is_err());
        let mut tampered = sealed.0;
        let last = tampered.pop().unwrap();
        tampered.push(if last == '0' { '1' } else { '0' });
        assert!(a.open(&SealedSecret(tampered)).is_err());
        assert!(a.open(&SealedSecret("hunter2".into())).is_err());
        assert_eq!(format!("{a:?}"), "KeySealer(***)");
    }

    #[test]
    fn key_files_hold_64_hex_characters() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.key");
        std::fs::write(&good, format!("{}\n", "ab".repeat(32))).unwrap();
        assert!(KeySealer::from_file(&good).is_ok());
        let short = dir.path().join("short.key");
        std::fs::write(&short, "abcd").unwrap();
        let err = KeySealer::from_file(&short).unwrap_err();
        assert!(err.to_string().contains("openssl rand -hex 32"), "{err}");
        assert!(matches!(
            KeySealer::from_file(&dir.path().join("missing")),
            Err(CredentialKeyError::ReadKeyFile { .. })
        ));
    }
}
