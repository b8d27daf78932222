//! `joinedup pull` of a MESH mailbox against a scripted stub of the MESH API on
//! 127.0.0.1 (no authentication checked): failures the mesh-sandbox cannot give, each
//! with an exact expected outcome: transient answers retried, a slow download, and
//! failures of this machine while landing.

use std::collections::HashMap;
use std::net::TcpStream;
use std::path::Path;

use crate::http_server::{Behaviour, Server, respond};
use crate::util::*;

const HANDSHAKE: &str = "/messageexchange/X26ABC2";
const INBOX: &str = "/messageexchange/X26ABC2/inbox?max_results=500";
const M1: &str = "/messageexchange/X26ABC2/inbox/M1";
const M1_ACK: &str = "/messageexchange/X26ABC2/inbox/M1/status/acknowledged";
const M2: &str = "/messageexchange/X26ABC2/inbox/M2";
const M2_ACK: &str = "/messageexchange/X26ABC2/inbox/M2/status/acknowledged";

fn ok(_: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    respond(s, "200 OK", &[], b"");
}
fn inbox_m1(_: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    respond(s, "200 OK", &[], br#"{"messages":["M1"]}"#);
}
fn inbox_m1_m2(_: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    respond(s, "200 OK", &[], br#"{"messages":["M1","M2"]}"#);
}
fn message(s: &mut TcpStream, name: &str, body: &[u8]) {
    respond(
        s,
        "200 OK",
        &[
            ("mex-filename", name),
            ("mex-chunk-range", "1:1"),
            ("mex-total-chunks", "1"),
            ("mex-statustimestamp", "20260801100000"),
        ],
        body,
    );
}
fn m1(_: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    message(s, "cld_901.csv", b"a,b\n1,2\n");
}
fn m2(_: usize, _: &HashMap<String, String>, s: &mut TcpStream) {
    message(s, "cld_902.csv", b"a,b\n3,4\n");
}

/// A stub mailbox X26ABC2: a handshake, an inbox and acknowledgements that answer 200,
/// and `routes` (which replace those of the same path).
fn stub(routes: Vec<(&'static str, Behaviour)>) -> Server {
    let mut all: Vec<(&'static str, Behaviour)> = vec![
        (HANDSHAKE, ok),
        (INBOX, inbox_m1),
        (M1, m1),
        (M1_ACK, ok),
        (M2, m2),
        (M2_ACK, ok),
    ];
    all.retain(|(p, _)| routes.iter().all(|(q, _)| q != p));
    all.extend(routes);
    Server::start(all)
}

/// Pulls the stub's mailbox into `dir/out` with the source settings `extra`.
fn pull(dir: &Path, server: &Server, extra: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    std::fs::write(dir.join("password"), "password\n").unwrap();
    std::fs::write(dir.join("key"), "TestKey\n").unwrap();
    let pipeline = dir.join("mesh.toml");
    std::fs::write(
        &pipeline,
        format!(
            "[pipeline]\nname = \"mesh-stub\"\nschemas = \"{}\"\n\n[sources.mesh]\nkind = \"mesh\"\nurl = \"{}\"\nmailbox = \"X26ABC2\"\npassword_file = \"password\"\nshared_key_file = \"key\"\n{extra}",
            root().join("schemas").display(),
            server.base
        ),
    )
    .unwrap();
    result(&joinedup_env(
        &[
            "pull",
            pipeline.to_str().unwrap(),
            "--out",
            dir.join("out").to_str().unwrap(),
        ],
        env,
    ))
}

/// The landed files of source `mesh`, by content.
fn landed(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<Vec<u8>> = std::fs::read_dir(dir.join("out/landing/mesh"))
        .map(|rd| {
            rd.map(|e| std::fs::read(e.unwrap().path()).unwrap())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Regression (review): a full disk while landing a MESH message was reported as the
/// source's failure (exit 4, "try again later"), its cause cut to "writing <path>", and
/// every later message was downloaded only to fail the same way. It is this machine's
/// failure: exit 5 with the OS's words, and the rest are left in the inbox.
#[test]
fn regression_a_full_disk_while_landing_a_mesh_message_is_this_machine_s_failure() {
    let server = stub(vec![(INBOX, inbox_m1_m2)]);
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = pull(
        dir.path(),
        &server,
        "",
        &[("JOINEDUP_FAULT", "enospc:landing_write")],
    );
    assert_eq!(code, 5, "{stdout}{stderr}");
    assert!(
        stderr.contains("No space left on device (os error 28)"),
        "{stderr}"
    );
    assert!(
        stdout.contains("failed: M1: writing ")
            && stdout.contains("No space left on device (os error 28)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "note: 1 message(s) left in the inbox for the next pull: landing failed on this machine"
        ),
        "{stdout}"
    );
    assert_eq!(
        [M1, M1_ACK, M2, M2_ACK].map(|p| server.hits(p)),
        [1, 0, 0, 0]
    );
    assert!(landed(dir.path()).is_empty());
}

/// Regression (review): a landing folder that could not be created (a file in its place)
/// failed the MESH source (exit 4) as "creating <path>", without the OS's reason. It is
/// a setting of this machine to fix (exit 2, as for HTTP), with the reason.
#[test]
fn regression_a_landing_folder_that_cannot_be_made_is_not_the_sources_failure() {
    let server = stub(vec![]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("out/landing")).unwrap();
    std::fs::write(dir.path().join("out/landing/mesh"), b"in the way").unwrap();
    let (code, stdout, stderr) = pull(dir.path(), &server, "", &[]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("landing/mesh") && stderr.contains("File exists (os error 17)"),
        "{stderr}"
    );
    assert_eq!(server.hits(M1_ACK), 0);
}
