//! Starts NHS England's `mesh-sandbox` (mesh-sandbox==1.0.137, AUTH_MODE=full,
//! STORE_MODE=file, SHARED_KEY=TestKey) on a free loopback port for one test, and stops
//! it on drop. The virtual environment is `.venv-mesh/` (scripts/test creates it), or
//! `JOINEDUP_MESH_SANDBOX_VENV`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use joinedup::config::fetch::{MeshFetch, Secret, Setting};
use joinedup::pull::mesh::client::MeshClient;

use crate::util::root;

pub const SHARED_KEY: &str = "TestKey";
pub const PASSWORD: &str = "password";

/// The files a sandbox serving HTTPS uses (PEM).
struct Tls<'a> {
    cert: &'a Path,
    key: &'a Path,
    /// The CA that signed `cert`, which the readiness probes trust.
    ca: &'a Path,
    /// Mutual TLS: the CA client certificates must be signed by, and the probes'
    /// (certificate, key).
    clients: Option<(&'a Path, (&'a Path, &'a Path))>,
}

pub struct Sandbox {
    child: Child,
    pub url: String,
    _store: tempfile::TempDir,
    secrets: tempfile::TempDir,
}

fn venv() -> PathBuf {
    std::env::var_os("JOINEDUP_MESH_SANDBOX_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv-mesh"))
}

/// GET over a raw socket; returns the status code.
fn get_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    buf.split_whitespace().nth(1)?.parse().ok()
}

impl Sandbox {
    /// Starts a sandbox, or returns `None` (with a printed reason) when the virtual
    /// environment is missing and `JOINEDUP_REQUIRE_MESH_SANDBOX` is not set.
    pub fn start() -> Option<Sandbox> {
        Sandbox::start_with(None)
    }

    /// Starts a sandbox serving HTTPS with `tls` (`cert`, `key` and the CA that signed
    /// the certificate, PEM files), as [`Sandbox::start`] does otherwise.
    pub fn start_tls(cert: &Path, key: &Path, ca: &Path) -> Option<Sandbox> {
        Sandbox::start_with(Some(Tls {
            cert,
            key,
            ca,
            clients: None,
        }))
    }

    /// Starts a sandbox serving HTTPS as [`Sandbox::start_tls`] does, that also requires
    /// every client to present a certificate `client_ca` signed (mutual TLS, as the live
    /// MESH does); its own readiness probes present `probe` (certificate, key).
    pub fn start_mutual_tls(
        cert: &Path,
        key: &Path,
        ca: &Path,
        client_ca: &Path,
        probe: (&Path, &Path),
    ) -> Option<Sandbox> {
        Sandbox::start_with(Some(Tls {
            cert,
            key,
            ca,
            clients: Some((client_ca, probe)),
        }))
    }

    /// The virtual environment's Python, when there is one (as [`Sandbox::start`] says).
    pub fn python() -> Option<PathBuf> {
        let python = venv().join("bin/python");
        if python.exists() {
            return Some(python);
        }
        if std::env::var_os("JOINEDUP_REQUIRE_MESH_SANDBOX").is_some() {
            panic!(
                "mesh-sandbox venv missing at {}; run scripts/test to create it",
                venv().display()
            );
        }
        eprintln!(
            "SKIPPED: mesh-sandbox venv missing at {} (scripts/test creates it)",
            venv().display()
        );
        None
    }

    fn start_with(tls: Option<Tls<'_>>) -> Option<Sandbox> {
        let python = Sandbox::python()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let store = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(store.path().join("sandbox.log")).unwrap();
        let mut command = Command::new(&python);
        command.args([
            "-m",
            "uvicorn",
            "mesh_sandbox.api:app",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--workers",
            "1",
        ]);
        if let Some(tls) = &tls {
            command
                .arg("--ssl-certfile")
                .arg(tls.cert)
                .arg("--ssl-keyfile")
                .arg(tls.key);
            if let Some((client_ca, _)) = tls.clients {
                // ssl.CERT_REQUIRED: a client without a certificate client_ca signed
                // is refused in the handshake.
                command
                    .arg("--ssl-ca-certs")
                    .arg(client_ca)
                    .args(["--ssl-cert-reqs", "2"]);
            }
        }
        // Probes over TLS trust only the sandbox's CA (and present the probe's
        // certificate when the sandbox requires one).
        let https = tls.as_ref().map(|tls| {
            let ca = reqwest::Certificate::from_pem(&std::fs::read(tls.ca).unwrap()).unwrap();
            let identity = tls.clients.map(|(_, (cert, key))| {
                let mut pem = std::fs::read(cert).unwrap();
                pem.push(b'\n');
                pem.extend(std::fs::read(key).unwrap());
                reqwest::Identity::from_pem(&pem).unwrap()
            });
            let rt = tokio::runtime::Runtime::new().unwrap();
            let client = rt.block_on(async {
                let mut builder = reqwest::Client::builder()
                    .tls_built_in_root_certs(false)
                    .add_root_certificate(ca)
                    .timeout(Duration::from_secs(2));
                if let Some(identity) = identity {
                    builder = builder.identity(identity);
                }
                builder.build().unwrap()
            });
            (rt, client)
        });
        let probe = |path: &str| match &https {
            None => get_status(port, path),
            Some((rt, client)) => rt
                .block_on(async {
                    client
                        .get(format!("https://127.0.0.1:{port}{path}"))
                        .send()
                        .await
                })
                .ok()
                .map(|r| r.status().as_u16()),
        };
        let mut child = command
            .env("AUTH_MODE", "full")
            .env("STORE_MODE", "file")
            .env("SHARED_KEY", SHARED_KEY)
            .env("MAILBOXES_DATA_DIR", store.path())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start mesh-sandbox");
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let log =
                    std::fs::read_to_string(store.path().join("sandbox.log")).unwrap_or_default();
                panic!("mesh-sandbox exited with {status}:\n{log}");
            }
            if probe("/health") == Some(200) && probe("/admin/mailbox/X26ABC2") == Some(200) {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "mesh-sandbox did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let secrets = tempfile::tempdir().unwrap();
        std::fs::write(secrets.path().join("password"), format!("{PASSWORD}\n")).unwrap();
        std::fs::write(secrets.path().join("key"), SHARED_KEY).unwrap();
        Some(Sandbox {
            child,
            url: format!(
                "{}://127.0.0.1:{port}",
                if tls.is_some() { "https" } else { "http" }
            ),
            _store: store,
            secrets,
        })
    }

    /// Where the sandbox keeps mailboxes and messages (`STORE_MODE=file`).
    pub fn store(&self) -> &std::path::Path {
        self._store.path()
    }

    /// A client for a mailbox, using secret files.
    pub fn client(&self, mailbox: &str) -> MeshClient {
        self.client_paged(mailbox, 500)
    }

    /// A client whose inbox listing asks for `page_size` messages per page.
    pub fn client_paged(&self, mailbox: &str, page_size: u32) -> MeshClient {
        self.client_with(mailbox, page_size, None, None)
    }

    /// A client for a mailbox of a sandbox serving HTTPS: trusting only `ca`, and
    /// presenting `identity` (certificate, key) when given.
    pub fn client_tls(
        &self,
        mailbox: &str,
        ca: &Path,
        identity: Option<(PathBuf, PathBuf)>,
    ) -> MeshClient {
        self.client_with(mailbox, 500, Some(ca.to_path_buf()), identity)
    }

    fn client_with(
        &self,
        mailbox: &str,
        page_size: u32,
        ca_file: Option<PathBuf>,
        client_identity: Option<(PathBuf, PathBuf)>,
    ) -> MeshClient {
        MeshClient::from_config(&MeshFetch {
            url: Setting::Literal(self.url.clone()),
            mailbox: Setting::Literal(mailbox.to_string()),
            password: Secret::File(self.secrets.path().join("password")),
            shared_key: Secret::File(self.secrets.path().join("key")),
            workflow_filter: None,
            client_identity,
            ca_file,
            timeout_seconds: 30,
            deadline_seconds: Some(600),
            inbox_page_size: page_size,
            retries: 0,
        })
        .unwrap()
    }

    /// The environment `pipelines/mesh_inbox.toml` reads, for a mailbox.
    pub fn env(&self, mailbox: &str) -> Vec<(&'static str, String)> {
        vec![
            ("JOINEDUP_MESH_URL", self.url.clone()),
            ("JOINEDUP_MESH_MAILBOX", mailbox.to_string()),
            ("JOINEDUP_MESH_PASSWORD", PASSWORD.to_string()),
            ("JOINEDUP_MESH_SHARED_KEY", SHARED_KEY.to_string()),
        ]
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
