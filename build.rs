//! Build identity: a hash of the crate's Rust sources (`src/**/*.rs`), manifest and lock
//! file, as
//! `JOINEDUP_BUILD` (16 hex digits). The configuration fingerprint carries it
//! (`app::state::fingerprint`), so a data directory written by another build of joinedup
//! — a different commit under the same crate version — is rebuilt from its inputs, and
//! its ingest cache not reused: rows checked or mapped by other code are never mixed in.
//! The manifest records it beside the version.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            // Sources only: an editor's swap file or a patch's .orig/.rej left beside
            // them would make two builds of one commit differ (code review).
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut files = vec![root.join("Cargo.toml"), root.join("Cargo.lock")];
    files_under(&root.join("src"), &mut files);
    files.sort();
    let mut h = Sha256::new();
    for f in &files {
        let Ok(bytes) = std::fs::read(f) else {
            continue;
        };
        let name = f
            .strip_prefix(&root)
            .unwrap_or(f)
            .to_string_lossy()
            .replace('\\', "/");
        h.update(name.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    let hex: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    println!("cargo:rustc-env=JOINEDUP_BUILD={hex}");
    for watched in ["src", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={watched}");
    }
}
