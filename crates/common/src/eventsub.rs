//! EventSub over webhooks, the part both ends share (reference §14.8–14.10): the headers
//! Twitch sends, and the message signature — `sha256=` + hex(HMAC-SHA256(secret, message id +
//! timestamp + raw body)). twitch-fake signs with it; twitch-api's callback verifies with it.

use sha2::{Digest, Sha256};

pub const MESSAGE_ID: &str = "twitch-eventsub-message-id";
pub const MESSAGE_RETRY: &str = "twitch-eventsub-message-retry";
pub const MESSAGE_TYPE: &str = "twitch-eventsub-message-type";
pub const MESSAGE_SIGNATURE: &str = "twitch-eventsub-message-signature";
pub const MESSAGE_TIMESTAMP: &str = "twitch-eventsub-message-timestamp";
pub const SUBSCRIPTION_TYPE: &str = "twitch-eventsub-subscription-type";
pub const SUBSCRIPTION_VERSION: &str = "twitch-eventsub-subscription-version";

/// `Twitch-Eventsub-Message-Type` values.
pub const NOTIFICATION: &str = "notification";
pub const VERIFICATION: &str = "webhook_callback_verification";
pub const REVOCATION: &str = "revocation";

const BLOCK: usize = 64;

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[&[u8]]) -> [u8; 32] {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for part in message {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The `Twitch-Eventsub-Message-Signature` of a message: over the header strings as sent and
/// the body's bytes as sent (never re-serialized).
pub fn signature(secret: &str, message_id: &str, timestamp: &str, body: &[u8]) -> String {
    let mac = hmac_sha256(
        secret.as_bytes(),
        &[message_id.as_bytes(), timestamp.as_bytes(), body],
    );
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for byte in mac {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Whether `presented` is the message's signature (compared in constant time).
pub fn verify(
    secret: &str,
    message_id: &str,
    timestamp: &str,
    body: &[u8],
    presented: &str,
) -> bool {
    let expected = signature(secret, message_id, timestamp, body);
    crate::server::constant_time_eq(expected.as_bytes(), presented.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_references_worked_example_signs_to_its_signature() {
        let body = r#"{"subscription":{"id":"9b2c4e7a-1f3d-4a6b-8c5e-2d7f0a9b3c61","status":"enabled","type":"stream.offline","version":"1","condition":{"broadcaster_user_id":"771043215"},"transport":{"method":"webhook","callback":"https://mod.example.com/eventsub/callback"},"created_at":"2025-01-18T18:55:13.902117604Z","cost":1},"event":{"broadcaster_user_id":"771043215","broadcaster_user_login":"pixelbrookgames","broadcaster_user_name":"PixelBrookGames"}}"#;
        assert_eq!(body.len(), 439);
        let secret = "m0dt00l-demo-eventsub-secret-7c41e9";
        let id = "d3b0a7e2-5c19-4f6e-8a21-9e4b7c0f3a58";
        let at = "2025-01-18T22:31:07.184203518Z";
        let expected = "sha256=c05bc9e133e9e5a4eaa73e1394895da347baa7475677b5531179b36858344c9f";
        assert_eq!(signature(secret, id, at, body.as_bytes()), expected);
        assert!(verify(secret, id, at, body.as_bytes(), expected));
        assert!(!verify(
            "another-secret-entirely",
            id,
            at,
            body.as_bytes(),
            expected
        ));
        let mut tampered = body.as_bytes().to_vec();
        tampered[10] ^= 1;
        assert!(!verify(secret, id, at, &tampered, expected));
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2_and_long_keys_are_hashed() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // RFC 4231 case 6: a 131-byte key.
        let key = [0xaau8; 131];
        let mac = hmac_sha256(
            &key,
            &[b"Test Using Larger Than Block-Size Key - Hash Key First"],
        );
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}
