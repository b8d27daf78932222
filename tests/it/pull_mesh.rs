//! `joinedup pull` against NHS England's mesh-sandbox on 127.0.0.1: plain, gzip and
//! chunked messages land byte-identical and exactly once, acknowledged only after they are
//! durable, including across crashes between landing and acknowledging.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::mesh_sandbox::Sandbox;
use crate::util::*;

fn sha(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn pull(sandbox: &Sandbox, out: &Path, fault: Option<&str>) -> (i32, String, String) {
    let mut env: Vec<(&str, String)> = sandbox.env("X26ABC2");
    if let Some(f) = fault {
        env.push(("JOINEDUP_FAULT", f.to_string()));
    }
    pull_with(&env, out)
}

/// `joinedup pull pipelines/mesh_inbox.toml --out OUT` with `env`.
fn pull_with(env: &[(&str, String)], out: &Path) -> (i32, String, String) {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    result(&joinedup_env(
        &[
            "pull",
            "pipelines/mesh_inbox.toml",
            "--out",
            out.to_str().unwrap(),
        ],
        &env,
    ))
}

/// `found landed already_had` from the summary line of source `mesh`.
fn counts(stdout: &str) -> (u64, u64, u64) {
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("mesh "))
        .unwrap_or_else(|| panic!("{stdout}"));
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(2)
        .map(|v| v.parse().unwrap())
        .collect();
    (f[0], f[1], f[2])
}

fn landed(out: &Path) -> BTreeSet<String> {
    std::fs::read_dir(out.join("landing/mesh"))
        .map(|rd| {
            rd.map(|e| sha(&std::fs::read(e.unwrap().path()).unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

fn manifest_ids(out: &Path) -> Vec<String> {
    std::fs::read_to_string(out.join("landing/manifest.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["origin"]["message_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn payload(tag: &str, rows: usize) -> Vec<u8> {
    let mut s = String::from("LA Code,Event Type,Event Start Date\r\n");
    for i in 0..rows {
        s.push_str(&format!("90{},{tag},{:02}/08/2026\r\n", i % 3, 1 + i % 28));
    }
    s.into_bytes()
}

#[test]
fn mesh_messages_land_exactly_once_and_are_acknowledged_after_landing() {
    let Some(sandbox) = Sandbox::start() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sender = sandbox.client("X26ABC1");
    let receiver = sandbox.client("X26ABC2");
    let send = |name: &str, data: &[u8], chunks: usize, gzip: bool| {
        rt.block_on(sender.send("X26ABC2", "CLD_EXTRACT", name, data, chunks, gzip))
            .unwrap()
    };

    let messages = [
        ("plain.csv", payload("plain", 10), 1, false),
        ("gzip.csv", payload("gzip", 200), 1, true),
        ("chunked.csv", payload("chunked", 20_000), 2, true),
        (
            "chunked_plain.csv",
            payload("chunked-plain", 5_000),
            2,
            false,
        ),
    ];
    let mut sent_ids = BTreeSet::new();
    for (name, data, chunks, gzip) in &messages {
        sent_ids.insert(send(name, data, *chunks, *gzip));
    }
    let sent: BTreeSet<String> = messages.iter().map(|m| sha(&m.1)).collect();

    let out = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = pull(&sandbox, out.path(), None);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(counts(&stdout), (4, 4, 0), "{stdout}");
    assert_eq!(landed(out.path()), sent);
    assert_eq!(
        manifest_ids(out.path())
            .into_iter()
            .collect::<BTreeSet<_>>(),
        sent_ids
    );
    assert!(
        rt.block_on(receiver.inbox(None)).unwrap().is_empty(),
        "inbox not empty after the pull"
    );

    // Nothing new: nothing lands.
    let (code, stdout, _) = pull(&sandbox, out.path(), None);
    assert_eq!((code, counts(&stdout)), (0, (0, 0, 0)));

    // A crash after landing, before acknowledging: landed once, acknowledged next time.
    let crash = payload("crash-before-ack", 50);
    let crash_id = send("crash.csv", &crash, 1, false);
    let (code, _, stderr) = pull(&sandbox, out.path(), Some("mesh_before_ack"));
    assert_ne!(code, 0, "the fault should abort: {stderr}");
    assert!(
        stderr.contains("fault injected at mesh_before_ack"),
        "{stderr}"
    );
    assert_eq!(
        rt.block_on(receiver.inbox(None)).unwrap(),
        vec![crash_id.clone()]
    );
    assert_eq!(landed(out.path()).len(), 5);
    let (code, stdout, stderr) = pull(&sandbox, out.path(), None);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(counts(&stdout), (1, 0, 1), "{stdout}");
    assert!(rt.block_on(receiver.inbox(None)).unwrap().is_empty());
    assert_eq!(landed(out.path()).len(), 5);
    assert_eq!(
        manifest_ids(out.path())
            .iter()
            .filter(|id| **id == crash_id)
            .count(),
        1
    );

    // A crash after the rename, before the manifest line: landed again, same file, once.
    let torn = payload("crash-before-manifest", 60);
    let torn_id = send("torn.csv", &torn, 1, false);
    let (code, _, _) = pull(&sandbox, out.path(), Some("landing_before_manifest"));
    assert_ne!(code, 0);
    assert!(!manifest_ids(out.path()).contains(&torn_id));
    let (code, stdout, stderr) = pull(&sandbox, out.path(), None);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(counts(&stdout), (1, 1, 0), "{stdout}");
    assert_eq!(landed(out.path()).len(), 6);
    assert_eq!(
        std::fs::read_dir(out.path().join("landing/mesh"))
            .unwrap()
            .count(),
        6
    );
    assert_eq!(
        manifest_ids(out.path())
            .iter()
            .filter(|id| **id == torn_id)
            .count(),
        1
    );
    assert!(landed(out.path()).contains(&sha(&torn)));
}

#[test]
fn a_hostile_mex_filename_cannot_choose_where_the_file_lands() {
    let Some(sandbox) = Sandbox::start() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let data = payload("hostile", 3);
    rt.block_on(sandbox.client("X26ABC1").send(
        "X26ABC2",
        "WF",
        "../../etc/passwd",
        &data,
        1,
        false,
    ))
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = pull(&sandbox, out.path(), None);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let names: Vec<String> = std::fs::read_dir(out.path().join("landing/mesh"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec![format!("passwd__{}", &sha(&data)[..12])]);
    // Nothing was written outside the data directory's landing folder.
    let all = files_under(out.path());
    assert!(
        all.iter()
            .all(|p| p.starts_with(out.path().join("landing")) || p.ends_with(".lock")),
        "{all:?}"
    );
    let record: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(out.path().join("landing/manifest.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(record["original_name"], "../../etc/passwd");
}

#[test]
fn a_wrong_password_fails_the_source_without_revealing_it() {
    let Some(sandbox) = Sandbox::start() else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let mut env = sandbox.env("X26ABC2");
    env[2].1 = "not-the-password-9f3k".to_string();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (code, stdout, stderr) = result(&joinedup_env(
        &[
            "pull",
            "pipelines/mesh_inbox.toml",
            "--out",
            out.path().to_str().unwrap(),
        ],
        &env,
    ));
    assert_eq!(code, 4, "{stdout}{stderr}");
    assert!(stdout.contains("handshake: MESH answered 403"), "{stdout}");
    assert!(!stdout.contains("not-the-password-9f3k") && !stderr.contains("not-the-password-9f3k"));
}

/// Regression: a missing setting failed the source as unavailable (exit 4, "try again"),
/// one variable at a time, although no retry will set it.
#[test]
fn missing_mesh_settings_are_configuration_errors_all_at_once() {
    let out = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = result(&joinedup_env(
        &[
            "pull",
            "pipelines/mesh_inbox.toml",
            "--out",
            out.path().to_str().unwrap(),
        ],
        &[("JOINEDUP_MESH_MAILBOX", "X26ABC1")],
    ));
    assert_eq!(code, 2, "{stdout}{stderr}");
    for e in [
        "3 configuration errors found",
        "mesh_inbox.toml: sources.mesh.url_env: environment variable JOINEDUP_MESH_URL is not set",
        "mesh_inbox.toml: sources.mesh.password_env: environment variable JOINEDUP_MESH_PASSWORD is not set",
        "mesh_inbox.toml: sources.mesh.shared_key_env: environment variable JOINEDUP_MESH_SHARED_KEY is not set",
    ] {
        assert!(stderr.contains(e), "missing {e:?} in:\n{stderr}");
    }
}

/// Regression: a MESH server that could not be reached was reported as "request to
/// handshake failed: error sending request", with neither the server nor the cause.
#[test]
fn an_unreachable_mesh_server_is_named_with_the_cause() {
    let out = tempfile::tempdir().unwrap();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let pipeline = mesh_inbox_with(out.path(), "retries = 1\n");
    let (code, stdout, stderr) = result(&joinedup_env(
        &[
            "pull",
            pipeline.to_str().unwrap(),
            "--out",
            out.path().join("out").to_str().unwrap(),
        ],
        &[
            ("JOINEDUP_MESH_URL", &url),
            ("JOINEDUP_MESH_MAILBOX", "X26ABC1"),
            ("JOINEDUP_MESH_PASSWORD", "not-the-password-9f3k"),
            ("JOINEDUP_MESH_SHARED_KEY", "not-the-key"),
        ],
    ));
    assert_eq!(code, 4, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!(
            "request to handshake at http://127.0.0.1:{port} failed"
        )) && stdout.to_lowercase().contains("connection refused"),
        "{stdout}"
    );
    // A connect error is retried (`retries`), and the message says so.
    assert!(stdout.contains("(gave up after 2 attempts)"), "{stdout}");
}

/// `pipelines/mesh_inbox.toml` written into `dir`, its source given `extra` settings
/// (replacing those of the same keys).
fn mesh_inbox_with(dir: &Path, extra: &str) -> std::path::PathBuf {
    let keys: Vec<&str> = extra
        .lines()
        .filter_map(|l| l.split('=').next())
        .map(str::trim)
        .collect();
    let text: String = std::fs::read_to_string(root().join("pipelines/mesh_inbox.toml"))
        .unwrap()
        .replace(
            "schemas = \"../schemas\"",
            &format!("schemas = \"{}\"", root().join("schemas").display()),
        )
        .lines()
        .filter(|l| !keys.contains(&l.split('=').next().unwrap_or("").trim()))
        .map(|l| format!("{l}\n"))
        .collect();
    let path = dir.join("mesh_inbox.toml");
    std::fs::write(&path, format!("{text}{extra}")).unwrap();
    path
}

#[test]
fn the_inbox_is_listed_page_by_page() {
    let Some(sandbox) = Sandbox::start() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sender = sandbox.client("X26ABC1");
    let mut sent = BTreeSet::new();
    for i in 0..23 {
        sent.insert(
            rt.block_on(sender.send(
                "X26ABC2",
                "WF",
                &format!("m{i}.csv"),
                format!("m,{i}\n").as_bytes(),
                1,
                false,
            ))
            .unwrap(),
        );
    }
    let listed: BTreeSet<String> = rt
        .block_on(sandbox.client_paged("X26ABC2", 10).inbox(None))
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(listed, sent);
}

/// Regression (review): a MESH delivery report (`mex-messagetype: REPORT`, no chunks)
/// failed its download ("last chunk was 1 of 0"), was never acknowledged, and so failed
/// every pull and every run after it. It is acknowledged, said, and not landed.
#[test]
fn a_delivery_report_is_acknowledged_and_said_not_landed() {
    let Some(sandbox) = Sandbox::start() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sender = sandbox.client("X26ABC1");
    let receiver = sandbox.client("X26ABC2");
    let data = payload("data", 10);
    rt.block_on(sender.send("X26ABC2", "CLD_EXTRACT", "data.csv", &data, 1, false))
        .unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{}/messageexchange/admin/report", sandbox.url))
            .header("Content-Type", "application/json")
            .body(
                r#"{"mailbox_id":"X26ABC2","code":"14","description":"Message not collected","workflow_id":"CLD_EXTRACT","status":"undeliverable"}"#,
            )
            .send()
            .await
            .unwrap()
            .status()
    });
    assert!(status.is_success(), "{status}");
    let out = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = pull(&sandbox, out.path(), None);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(counts(&stdout), (2, 1, 0), "{stdout}");
    assert!(
        stdout.contains("is a MESH delivery report (status 14: Message not collected by recipient after 5 days), not data: acknowledged, not landed"),
        "{stdout}"
    );
    assert_eq!(landed(out.path()), [sha(&data)].into());
    assert!(
        rt.block_on(receiver.inbox(None)).unwrap().is_empty(),
        "the report is acknowledged too"
    );
    let (code, stdout, _) = pull(&sandbox, out.path(), None);
    assert_eq!((code, counts(&stdout)), (0, (0, 0, 0)));
}

/// Regression (review): a message whose stored bytes no longer matched the MD5 its sender
/// declared (`mex-Content-Checksum`) was landed and acknowledged. It is neither; the
/// next pull downloads it again.
#[test]
fn a_message_not_matching_its_declared_md5_is_not_landed_or_acknowledged() {
    let Some(sandbox) = Sandbox::start() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sender = sandbox.client("X26ABC1");
    let receiver = sandbox.client("X26ABC2");
    let data = payload("checked", 50);
    let id = rt
        .block_on(sender.send("X26ABC2", "CLD_EXTRACT", "checked.csv", &data, 1, false))
        .unwrap();
    // The stored chunk, cut short behind the sandbox's back.
    let chunk = files_under(sandbox.store())
        .into_iter()
        .find(|p| p.to_string_lossy().contains(&id) && p.ends_with("1"))
        .unwrap_or_else(|| {
            panic!(
                "no stored chunk for {id}: {:?}",
                files_under(sandbox.store())
            )
        });
    std::fs::write(&chunk, &data[..data.len() / 2]).unwrap();
    let out = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = pull(&sandbox, out.path(), None);
    assert_eq!(code, 4, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("(mex-Content-Checksum): not landed, not acknowledged"),
        "{stdout}"
    );
    assert!(landed(out.path()).is_empty());
    assert_eq!(rt.block_on(receiver.inbox(None)).unwrap(), [id]);
}

/// Pulls mailbox X26ABC2 through `url` (a proxy in front of the sandbox).
fn pull_through(sandbox: &Sandbox, url: &str, out: &Path) -> (i32, String, String) {
    let mut env = sandbox.env("X26ABC2");
    env[0].1 = url.to_string();
    pull_with(&env, out)
}

/// Regression (review), the reviewer's reproduction: two versions of `cld_901.csv` sent
/// over MESH, v1 then v2; v1's download answers 503 for the whole of the first pull, so
/// v2 lands first and v1 lands on the next pull. The run then ingested v1 (older, 10
/// rows) and dropped v2, with exit 0 and no warning. The version MESH received last (its
/// `mex-StatusTimestamp`, kept in the landing manifest) is current, whatever order they
/// land in, and the late one is named in a note.
#[test]
fn regression_the_version_mesh_received_last_stays_current_when_an_older_one_lands_late() {
    let Some(sandbox) = Sandbox::start() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sender = sandbox.client("X26ABC1");
    let v1 = payload("v1", 10);
    let v2 = payload("v2", 20);
    let id1 = rt
        .block_on(sender.send("X26ABC2", "CLD_EXTRACT", "cld_901.csv", &v1, 1, false))
        .unwrap();
    // mex-StatusTimestamp counts whole seconds.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let id2 = rt
        .block_on(sender.send("X26ABC2", "CLD_EXTRACT", "cld_901.csv", &v2, 1, false))
        .unwrap();
    let proxy = crate::fault_proxy::FaultProxy::start(&sandbox.url);
    let v1_path = format!("/messageexchange/X26ABC2/inbox/{id1}");
    proxy.fail("GET", &v1_path, "503 Service Unavailable", usize::MAX);

    let out = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = pull_through(&sandbox, &proxy.url, out.path());
    assert_eq!(code, 4, "{stdout}\n{stderr}");
    assert_eq!(counts(&stdout), (2, 1, 0), "{stdout}");
    // Retried (`Retry-After: 0`), then given up: the default 6 retries.
    assert_eq!(proxy.hits("GET", &v1_path), 7);
    assert!(
        stdout.contains("MESH answered 503 to download of chunk 1: injected by the test's proxy (gave up after 7 attempts)"),
        "{stdout}"
    );

    proxy.clear();
    let (code, stdout, stderr) = pull_through(&sandbox, &proxy.url, out.path());
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(counts(&stdout), (1, 1, 0), "{stdout}");
    assert!(
        stdout.contains(&format!("note: message {id1} reached MESH at ")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            ", before message {id2} ("
        )) && stdout.contains(") sent under the same file name, which has landed already: landed for the record; the later version stays the one read"),
        "{stdout}"
    );

    // What a run ingests: v2, 20 rows.
    let files = joinedup::pull::landing::current_files(out.path(), "mesh", "*").unwrap();
    let contents: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert_eq!(contents, std::slice::from_ref(&v2));
    // Both landed, each with the time MESH received it, v1's the earlier.
    assert_eq!(landed(out.path()), [sha(&v1), sha(&v2)].into());
    let received: HashMap<String, String> =
        std::fs::read_to_string(out.path().join("landing/manifest.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["origin"]["message_id"].as_str().unwrap().to_string(),
                    v["origin"]["received_at"].as_str().unwrap().to_string(),
                )
            })
            .collect();
    assert!(received[&id1] < received[&id2], "{received:?}");

    // Acknowledging again (a retry after a lost answer) is harmless: MESH answers 200.
    let receiver = sandbox.client("X26ABC2");
    rt.block_on(receiver.acknowledge(&id1)).unwrap();
    rt.block_on(receiver.acknowledge(&id1)).unwrap();
    assert!(rt.block_on(receiver.inbox(None)).unwrap().is_empty());
}

/// Writes into `dir` two throw-away CAs, `ca_a.pem` and `ca_b.pem`, a server
/// certificate for 127.0.0.1 signed by A (`server.pem`, `server.key`), and a client
/// certificate signed by each (`client_a.pem`/`.key`, `client_b.pem`/`.key`), with the
/// `cryptography` package the sandbox's virtual environment holds.
fn make_certificates(python: &Path, dir: &Path) {
    const SCRIPT: &str = r#"
import datetime, ipaddress, sys
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
out = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)
def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
def pem(path, data):
    open(f"{out}/{path}", "wb").write(data)
def ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(cn))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
            content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256()))
    return key, cert
a_key, a = ca("joinedup test CA A")
b_key, b = ca("joinedup test CA B")
pem("ca_a.pem", a.public_bytes(serialization.Encoding.PEM))
pem("ca_b.pem", b.public_bytes(serialization.Encoding.PEM))
key = ec.generate_private_key(ec.SECP256R1())
cert = (x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(a.subject)
    .public_key(key.public_key()).serial_number(x509.random_serial_number())
    .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
    .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    .sign(a_key, hashes.SHA256()))
pem("server.pem", cert.public_bytes(serialization.Encoding.PEM))
pem("server.key", key.private_bytes(serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
for tag, issuer, issuer_key in (("a", a, a_key), ("b", b, b_key)):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name(f"X26ABC2.client.{tag}"))
        .issuer_name(issuer.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(issuer_key, hashes.SHA256()))
    pem(f"client_{tag}.pem", cert.public_bytes(serialization.Encoding.PEM))
    pem(f"client_{tag}.key", key.private_bytes(serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
"#;
    let status = std::process::Command::new(python)
        .args(["-c", SCRIPT])
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Regression (review): `ca_file`, documented as the CA bundle to trust *instead of* the
/// system roots, was added to them, so a MESH server any system-trusted CA vouched for
/// (or a proxy whose CA was installed) was trusted too. Here the system roots
/// (`SSL_CERT_FILE`) hold CA A, which signed the sandbox's certificate: with
/// `ca_file` = CA B the handshake must fail; with CA A it succeeds.
#[test]
fn regression_ca_file_replaces_the_system_roots() {
    let Some(python) = Sandbox::python() else {
        return;
    };
    let certs = tempfile::tempdir().unwrap();
    make_certificates(&python, certs.path());
    let c = |f: &str| certs.path().join(f);
    let Some(sandbox) = Sandbox::start_tls(&c("server.pem"), &c("server.key"), &c("ca_a.pem"))
    else {
        return;
    };
    let no_dirs = tempfile::tempdir().unwrap();
    let pull_trusting = |ca: &str| {
        let dir = tempfile::tempdir().unwrap();
        let pipeline = mesh_inbox_with(
            dir.path(),
            &format!("ca_file = \"{}\"\nretries = 0\n", c(ca).display()),
        );
        let mut env = sandbox.env("X26ABC2");
        env.push(("SSL_CERT_FILE", c("ca_a.pem").display().to_string()));
        env.push(("SSL_CERT_DIR", no_dirs.path().display().to_string()));
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        result(&joinedup_env(
            &[
                "pull",
                pipeline.to_str().unwrap(),
                "--out",
                dir.path().join("out").to_str().unwrap(),
            ],
            &env,
        ))
    };
    let (code, stdout, stderr) = pull_trusting("ca_b.pem");
    assert_eq!(code, 4, "{stdout}{stderr}");
    assert!(
        stdout.contains("failed: handshake: request to handshake at https://127.0.0.1:")
            && stdout.contains("UnknownIssuer"),
        "{stdout}"
    );
    let (code, stdout, stderr) = pull_trusting("ca_a.pem");
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(counts(&stdout), (0, 0, 0), "{stdout}");
}

/// Mutual TLS, as the live MESH requires: a server that demands a client certificate
/// signed by CA B refuses a pull presenting none, and one presenting a certificate CA A
/// signed (exit 4, the handshake named as what failed with a hint at the certificate,
/// nothing landed or acknowledged); a pull presenting CA B's lands the message and
/// acknowledges it.
#[test]
fn mutual_tls_the_client_certificate_is_presented() {
    let Some(python) = Sandbox::python() else {
        return;
    };
    let certs = tempfile::tempdir().unwrap();
    make_certificates(&python, certs.path());
    let c = |f: &str| certs.path().join(f);
    let Some(sandbox) = Sandbox::start_mutual_tls(
        &c("server.pem"),
        &c("server.key"),
        &c("ca_a.pem"),
        &c("ca_b.pem"),
        (&c("client_b.pem"), &c("client_b.key")),
    ) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let identity = Some((c("client_b.pem"), c("client_b.key")));
    let sender = sandbox.client_tls("X26ABC1", &c("ca_a.pem"), identity.clone());
    let data = payload("mtls", 5);
    rt.block_on(sender.send("X26ABC2", "CLD_EXTRACT", "data.csv", &data, 1, false))
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let pull_presenting = |client: Option<&str>| {
        let mut settings = format!("ca_file = \"{}\"\nretries = 0\n", c("ca_a.pem").display());
        if let Some(tag) = client {
            settings.push_str(&format!(
                "client_cert_file = \"{}\"\nclient_key_file = \"{}\"\n",
                c(&format!("client_{tag}.pem")).display(),
                c(&format!("client_{tag}.key")).display()
            ));
        }
        let pipeline = mesh_inbox_with(out.path(), &settings);
        let env = sandbox.env("X26ABC2");
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        result(&joinedup_env(
            &[
                "pull",
                pipeline.to_str().unwrap(),
                "--out",
                out.path().join("out").to_str().unwrap(),
            ],
            &env,
        ))
    };
    for refused in [None, Some("a")] {
        let (code, stdout, stderr) = pull_presenting(refused);
        assert_eq!(code, 4, "{refused:?}: {stdout}{stderr}");
        assert!(
            stdout.contains("failed: handshake: request to handshake at https://127.0.0.1:"),
            "{refused:?}: {stdout}"
        );
        let hint = match refused {
            None => "a MESH server closes the connection of a client that presents no \
                     certificate: set client_cert_file and client_key_file"
                .to_string(),
            Some(_) => format!(
                "the server may not accept the client certificate {} (issued for another \
                 environment or mailbox, expired, or not signed by a CA it trusts)",
                c("client_a.pem").display()
            ),
        };
        assert!(stdout.contains(&hint), "{refused:?}: {stdout}");
        assert!(landed(&out.path().join("out")).is_empty(), "{refused:?}");
    }
    let (code, stdout, stderr) = pull_presenting(Some("b"));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(counts(&stdout), (1, 1, 0), "{stdout}");
    assert_eq!(
        landed(&out.path().join("out")),
        BTreeSet::from([sha(&data)])
    );
    let receiver = sandbox.client_tls("X26ABC2", &c("ca_a.pem"), identity);
    assert!(
        rt.block_on(receiver.inbox(None)).unwrap().is_empty(),
        "acknowledged"
    );
}

/// Regression (review): a MESH source's TLS files were not checked until the pull,
/// which failed them as the source (exit 4): a missing client certificate; an encrypted
/// key ("not usable PEM: builder error"); a CA file with no certificate. `validate`
/// said "ok". They are configuration errors, all reported at once: warnings from
/// `validate`, exit 2 from `pull` before anything is fetched.
#[test]
fn regression_unusable_mesh_tls_files_are_configuration_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("key.pem"),
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("ca.pem"), "# the bundle goes here\n").unwrap();
    let pipeline = mesh_inbox_with(
        dir.path(),
        "client_cert_file = \"cert.pem\"\nclient_key_file = \"key.pem\"\nca_file = \"ca.pem\"\n",
    );
    let p = |f: &str| dir.path().join(f).display().to_string();
    let expected = [
        format!(
            "mesh_inbox.toml: sources.mesh.client_cert_file: no file {}",
            p("cert.pem")
        ),
        format!(
            "mesh_inbox.toml: sources.mesh.client_key_file: {} is an encrypted private key, and joinedup cannot be given its passphrase: decrypt it once with `openssl pkey -in {} -out <new file>`",
            p("key.pem"),
            p("key.pem")
        ),
        format!(
            "mesh_inbox.toml: sources.mesh.ca_file: {} holds no certificate (PEM \"-----BEGIN CERTIFICATE-----\"): the CA file replaces the system's trusted roots, so with none no MESH server would be trusted",
            p("ca.pem")
        ),
    ];
    let env = [
        ("JOINEDUP_MESH_URL", "http://127.0.0.1:9"),
        ("JOINEDUP_MESH_MAILBOX", "X26ABC2"),
        ("JOINEDUP_MESH_PASSWORD", "password"),
        ("JOINEDUP_MESH_SHARED_KEY", "TestKey"),
    ];
    let (code, stdout, stderr) = result(&joinedup_env(
        &["validate", pipeline.to_str().unwrap()],
        &env,
    ));
    assert_eq!(code, 0, "{stdout}{stderr}");
    for e in &expected {
        assert!(stderr.contains(e.as_str()), "missing {e:?} in:\n{stderr}");
    }
    assert_eq!(
        stderr.matches("(a run here would stop, exit 2)").count(),
        3,
        "{stderr}"
    );
    let (code, stdout, stderr) = result(&joinedup_env(
        &[
            "pull",
            pipeline.to_str().unwrap(),
            "--out",
            dir.path().join("out").to_str().unwrap(),
        ],
        &env,
    ));
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("3 configuration errors found"), "{stderr}");
    for e in &expected {
        assert!(stderr.contains(e.as_str()), "missing {e:?} in:\n{stderr}");
    }
}

/// Regression (review): `timeout_seconds = 0` passed `validate`, and every MESH call then
/// timed out at once (exit 4); HTTP's timeouts of 0 are refused. So is MESH's, and a
/// `deadline_seconds` of 0, in the same report.
#[test]
fn regression_a_mesh_timeout_of_zero_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = mesh_inbox_with(dir.path(), "timeout_seconds = 0\ndeadline_seconds = 0\n");
    let (code, _, stderr) = result(&joinedup(&["validate", pipeline.to_str().unwrap()]));
    assert_eq!(code, 2, "{stderr}");
    for key in ["timeout_seconds", "deadline_seconds"] {
        assert!(
            stderr.contains(&format!(
                "mesh_inbox.toml: sources.mesh.{key}: must be 1 or more"
            )),
            "{key}: {stderr}"
        );
    }
}
