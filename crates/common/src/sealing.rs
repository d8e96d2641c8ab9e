//! Sealing secrets at rest (Twitch tokens) with XChaCha20-Poly1305.
//!
//! A sealed value is `version (1 byte) || nonce (24 bytes) || ciphertext+tag`. The nonce is
//! random per seal (192 bits: no collision risk). The associated data binds a ciphertext to
//! its place (e.g. `twitch_tokens:<user>:access`), so sealed values cannot be swapped between
//! rows or columns without failing to open.

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the sealing key must be 32 bytes, base64-encoded (openssl rand -base64 32)")]
    BadKey,
    #[error("a sealed value could not be opened (wrong key, or tampered with)")]
    Open,
    #[error("sealing failed")]
    Seal,
}

#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

impl Sealer {
    /// From a base64-encoded 32-byte key.
    pub fn from_base64_key(key: &str) -> Result<Self, SealError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key.trim())
            .map_err(|_| SealError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SealError::BadKey);
        }
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| SealError::BadKey)?;
        Ok(Self { cipher })
    }

    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<Vec<u8>, SealError> {
        let nonce = XNonce::generate();
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealError::Seal)?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(nonce.as_slice());
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, SealError> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != VERSION {
            return Err(SealError::Open);
        }
        let nonce = XNonce::try_from(&sealed[1..=NONCE_LEN]).map_err(|_| SealError::Open)?;
        self.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: &sealed[1 + NONCE_LEN..],
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealError::Open)
    }

    pub fn open_string(&self, sealed: &[u8], context: &str) -> Result<String, SealError> {
        String::from_utf8(self.open(sealed, context)?).map_err(|_| SealError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    #[test]
    fn seals_and_opens_with_the_same_context_only() {
        let sealer = Sealer::from_base64_key(KEY).expect("key");
        let sealed = sealer
            .seal(b"k7qv2m9xw4rj0c1t8ydz5hn3bp6sae", "t:1:access")
            .expect("seal");
        assert!(
            !sealed.windows(10).any(|w| w == b"k7qv2m9xw4"),
            "no plaintext inside"
        );
        assert_eq!(
            sealer.open_string(&sealed, "t:1:access").expect("open"),
            "k7qv2m9xw4rj0c1t8ydz5hn3bp6sae"
        );
        assert_eq!(sealer.open(&sealed, "t:2:access"), Err(SealError::Open));
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(sealer.open(&tampered, "t:1:access"), Err(SealError::Open));
        // Random nonces: sealing twice gives different bytes.
        assert_ne!(
            sealed,
            sealer
                .seal(b"k7qv2m9xw4rj0c1t8ydz5hn3bp6sae", "t:1:access")
                .expect("seal")
        );
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert_eq!(
            Sealer::from_base64_key("c2hvcnQ=").err(),
            Some(SealError::BadKey)
        );
        assert_eq!(
            Sealer::from_base64_key("not base64!").err(),
            Some(SealError::BadKey)
        );
        let other =
            Sealer::from_base64_key("ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=").expect("key");
        let sealed = Sealer::from_base64_key(KEY)
            .expect("key")
            .seal(b"x", "c")
            .expect("seal");
        assert_eq!(
            other.open(&sealed, "c"),
            Err(SealError::Open),
            "a wrong key cannot open"
        );
    }
}
