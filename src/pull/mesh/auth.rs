//! The MESH `Authorization` header (reference/mesh.md §6).
//!
//! `NHSMESH {mailbox}:{nonce}:{nonce_count}:{timestamp}:{hmac}` where `hmac` is the
//! lower-case hex HMAC-SHA256, keyed by the shared key, of
//! `{mailbox}:{nonce}:{nonce_count}:{password}:{timestamp}` — the password sits between
//! the count and the timestamp in the signed string and never appears in the header.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Builds the header value.
pub fn authorization(
    mailbox: &str,
    password: &str,
    shared_key: &str,
    nonce: &str,
    nonce_count: u64,
    timestamp: &str,
) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(shared_key.as_bytes()).expect("HMAC accepts any key length");
    mac.update(format!("{mailbox}:{nonce}:{nonce_count}:{password}:{timestamp}").as_bytes());
    let digest: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("NHSMESH {mailbox}:{nonce}:{nonce_count}:{timestamp}:{digest}")
}

/// The header for a request now: fresh UUID4 nonce, count 0, UTC `yyyyMMddHHmm`.
pub fn authorization_now(mailbox: &str, password: &str, shared_key: &str) -> String {
    let nonce = uuid::Uuid::new_v4().to_string();
    let timestamp = chrono::Utc::now().format("%Y%m%d%H%M").to_string();
    authorization(mailbox, password, shared_key, &nonce, 0, &timestamp)
}

#[cfg(test)]
mod tests {
    use super::authorization;

    // Worked vectors from reference/mesh.md §6.2.
    #[test]
    fn mesh_reference_vectors() {
        let h = authorization("X26ABC1", "password", "TestKey", "abc", 0, "202401011200");
        assert!(
            h.ends_with(":5f9df29af235fcfdce5ac53ca16c617ea4c5c2c7ba9262b4890243380d66f02a"),
            "{h}"
        );
        assert_eq!(
            authorization(
                "X26ABC1",
                "password",
                "TestKey",
                "2c001608-5f09-4840-9611-bea43e666a30",
                0,
                "202401011200"
            ),
            "NHSMESH X26ABC1:2c001608-5f09-4840-9611-bea43e666a30:0:202401011200:c53fc1b837f4ab4c77d075386f89b5275b5888fa8198d9f191ddb55883ed6b6d"
        );
    }

    #[test]
    fn the_password_never_appears_in_the_header() {
        let h = super::authorization_now("X26ABC1", "s3cret-password", "TestKey");
        assert!(!h.contains("s3cret-password"));
        assert_eq!(h.split(':').count(), 5);
    }
}
