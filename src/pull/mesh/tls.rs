//! The TLS files a MESH source names (`client_cert_file`, `client_key_file`, `ca_file`):
//! read, and checked before any pull, so that a file missing, holding no certificate or
//! key, or an encrypted key is a configuration error (exit 2) rather than a failed pull.

use std::path::Path;

use crate::config::fetch::MeshFetch;

/// A TLS file's bytes, or why it cannot be read.
pub(super) fn read_tls_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("no file {}", path.display()),
        _ => format!("cannot read {}: {e}", path.display()),
    })
}

/// The certificates of a CA file: at least one.
pub(super) fn ca_certificates(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = read_tls_file(path)?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).unwrap_or_default();
    if certs.is_empty() {
        return Err(format!(
            "{} holds no certificate (PEM \"-----BEGIN CERTIFICATE-----\"): the CA file replaces the system's trusted roots, so with none no MESH server would be trusted",
            path.display()
        ));
    }
    Ok(certs)
}

/// What is wrong with the TLS files a MESH source names, by key (`client_cert_file`,
/// `client_key_file`, `ca_file`): missing, unreadable, holding no certificate or no key,
/// or an encrypted key (no passphrase can be given). Configuration errors: checked
/// before a pull (`config::fetch::missing_settings`, exit 2) and by `validate`.
pub fn tls_file_problems(cfg: &MeshFetch) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    if let Some((cert, key)) = &cfg.client_identity {
        match read_tls_file(cert) {
            Err(e) => problems.push(("client_cert_file", e)),
            Ok(pem) if !pem_has(&pem, "CERTIFICATE") => problems.push((
                "client_cert_file",
                format!(
                    "{} holds no certificate (PEM \"-----BEGIN CERTIFICATE-----\")",
                    cert.display()
                ),
            )),
            Ok(_) => {}
        }
        match read_tls_file(key) {
            Err(e) => problems.push(("client_key_file", e)),
            Ok(pem) if encrypted_key(&pem) => problems.push((
                "client_key_file",
                format!(
                    "{} is an encrypted private key, and joinedup cannot be given its passphrase: decrypt it once with `openssl pkey -in {} -out <new file>` (it asks for the passphrase), keep the new file readable by the pipeline's user only (chmod 600), and name it in client_key_file",
                    key.display(),
                    key.display()
                ),
            )),
            Ok(pem)
                if !["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]
                    .iter()
                    .any(|label| pem_has(&pem, label)) =>
            {
                problems.push((
                    "client_key_file",
                    format!(
                        "{} holds no private key (PEM \"-----BEGIN PRIVATE KEY-----\", or RSA or EC PRIVATE KEY)",
                        key.display()
                    ),
                ))
            }
            Ok(_) => {}
        }
    }
    if let Some(ca) = &cfg.ca_file
        && let Err(e) = ca_certificates(ca)
    {
        problems.push(("ca_file", e));
    }
    problems
}

/// True when `pem` holds a block labelled `label` (`-----BEGIN <label>-----`).
fn pem_has(pem: &[u8], label: &str) -> bool {
    let begin = format!("-----BEGIN {label}-----");
    pem.windows(begin.len()).any(|w| w == begin.as_bytes())
}

/// True for an encrypted private key: PKCS #8 (`ENCRYPTED PRIVATE KEY`) or the older
/// OpenSSL form (`Proc-Type: 4,ENCRYPTED` in an RSA or EC key).
fn encrypted_key(pem: &[u8]) -> bool {
    let marker = b"Proc-Type: 4,ENCRYPTED";
    pem_has(pem, "ENCRYPTED PRIVATE KEY") || pem.windows(marker.len()).any(|w| w == marker)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (review): an encrypted client key failed the pull with "not usable PEM:
    /// builder error"; it is named as encrypted, with how to decrypt it.
    #[test]
    fn an_encrypted_key_is_told_apart() {
        assert!(encrypted_key(
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIF\n-----END ENCRYPTED PRIVATE KEY-----\n"
        ));
        assert!(encrypted_key(
            b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nMIIE\n-----END RSA PRIVATE KEY-----\n"
        ));
        assert!(!encrypted_key(
            b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
        ));
        assert!(pem_has(
            b"x\n-----BEGIN EC PRIVATE KEY-----\n",
            "EC PRIVATE KEY"
        ));
        assert!(!pem_has(b"-----BEGIN CERTIFICATE-----", "PRIVATE KEY"));
    }
}
