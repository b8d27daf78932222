//! A MESH API client over reqwest (rustls), API version 2.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use flate2::write::MultiGzDecoder;
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, Response, StatusCode};

use super::auth::authorization_now;
use super::tls::{ca_certificates, read_tls_file, tls_file_problems};
use crate::config::fetch::MeshFetch;
use crate::pull::landing::{Incoming, Scratch};
use crate::pull::{retry, secret};

const ACCEPT_V2: &str = "application/vnd.mesh.v2+json";

/// Why a MESH call failed. Messages never contain the password or the shared key.
#[derive(Debug, thiserror::Error)]
pub enum MeshError {
    /// Settings or secrets could not be read, or the client could not be built.
    #[error("{0}")]
    Setup(String),
    /// The request did not complete (connect, timeout, reset).
    #[error("request to {what} failed: {detail}")]
    Transport {
        /// The call.
        what: String,
        /// What failed.
        detail: String,
    },
    /// MESH answered with an error status.
    #[error("MESH answered {status} to {what}: {detail}")]
    Status {
        /// The call.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The error description from the body.
        detail: String,
    },
    /// The response did not follow the protocol.
    #[error("{0}")]
    Protocol(String),
    /// A transient failure (a connect error, a timeout, a body cut off, 429, 5xx) that
    /// lasted through every retry: MESH may be down ([`super::breaker`]).
    #[error("{0}")]
    GaveUp(Box<MeshError>),
    /// This machine failed while landing what MESH sent (a full disk): not the source's
    /// fault, and the pull exits as the error does ([`crate::pull::SourcePull::local`]).
    #[error("{}", crate::error::chain(.0))]
    Local(crate::error::Error),
}

/// Headers of a downloaded message that joinedup keeps.
#[derive(Debug, Clone, Default)]
pub struct MessageMeta {
    /// `mex-filename`.
    pub filename: Option<String>,
    /// `mex-workflowid`.
    pub workflow: Option<String>,
    /// Number of chunks.
    pub chunks: u32,
    /// For a delivery report (`mex-messagetype: REPORT`, e.g. a message that could not
    /// be delivered): its status code and description. It has no data.
    pub report: Option<String>,
    /// `mex-content-checksum`, as the sender set it (e.g. `md5:…`).
    pub checksum: Option<String>,
    /// When MESH received the message (`mex-statustimestamp`, `yyyymmddHHMMSS` UTC), as
    /// RFC 3339.
    pub received_at: Option<String>,
}

/// A MESH timestamp (`20260801100000`, UTC, as `mex-StatusTimestamp` gives it; or
/// RFC 3339) as RFC 3339 UTC (`2026-08-01T10:00:00Z`); `None` for anything else.
pub fn mesh_time(value: &str) -> Option<String> {
    let value = value.trim();
    let at = match chrono::NaiveDateTime::parse_from_str(value, "%Y%m%d%H%M%S") {
        Ok(t) if value.len() == 14 => t.and_utc(),
        _ => chrono::DateTime::parse_from_rfc3339(value)
            .ok()?
            .with_timezone(&chrono::Utc),
    };
    Some(at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// A MESH client for one mailbox.
pub struct MeshClient {
    http: reqwest::Client,
    base: String,
    mailbox: String,
    password: String,
    shared_key: String,
    page_size: u32,
    retries: u32,
    /// The source it is pulled for, named in its events.
    source: String,
    /// A call is tried once, not retried ([`MeshClient::set_probing`]).
    probing: std::sync::atomic::AtomicBool,
    /// The client certificate presented (its file), if any: named when a server closes
    /// the connection at the handshake ([`tls_refusal_hint`]).
    client_certificate: Option<PathBuf>,
}

/// A failed request, with the server it went to (scheme, host and port: the path holds
/// nothing a person needs) and every cause (connection refused, DNS, TLS), which
/// reqwest's own message leaves out.
fn transport(what: &str, e: reqwest::Error) -> MeshError {
    let server = e
        .url()
        .map(|u| {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!(" at {}://{}{port}", u.scheme(), u.host_str().unwrap_or(""))
        })
        .unwrap_or_default();
    // Connected, then closed without an answer (how it shows — a reset, no close_notify,
    // a cancelled request — depends on timing).
    let closed = !e.is_connect()
        && !e.is_timeout()
        && !e.is_builder()
        && !e.is_redirect()
        && !e.is_body()
        && !e.is_decode()
        && e.status().is_none();
    let mut detail = crate::error::chain(&e.without_url());
    if closed {
        detail.push_str(CLOSED);
    }
    MeshError::Transport {
        what: format!("{what}{server}"),
        detail,
    }
}

/// Said of a request whose connection the server closed without answering.
const CLOSED: &str = " (the server closed the connection without answering)";

/// `error` with a hint added when the server closed the connection without answering
/// ([`CLOSED`]) or sent a fatal TLS alert: what a MESH server does to a client
/// presenting no certificate, or one it does not accept.
fn tls_refusal_hint(error: MeshError, certificate: Option<&Path>) -> MeshError {
    match error {
        MeshError::GaveUp(inner) => {
            MeshError::GaveUp(Box::new(tls_refusal_hint(*inner, certificate)))
        }
        MeshError::Transport { what, detail }
            if detail.contains(CLOSED) || detail.contains("received fatal alert") =>
        {
            let hint = match certificate {
                None => "a MESH server closes the connection of a client that presents no \
                         certificate: set client_cert_file and client_key_file"
                    .to_string(),
                Some(cert) => format!(
                    "the server may not accept the client certificate {} (issued for \
                     another environment or mailbox, expired, or not signed by a CA it \
                     trusts)",
                    cert.display()
                ),
            };
            MeshError::Transport {
                what,
                detail: format!("{detail}; {hint}"),
            }
        }
        other => other,
    }
}

async fn check(what: &str, resp: Response) -> Result<Response, MeshError> {
    if resp.status().is_success() {
        return Ok(resp);
    }
    Err(status_error(what, resp).await)
}

/// An unsuccessful answer, with the error description of its body (either shape).
async fn status_error(what: &str, resp: Response) -> MeshError {
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap_or_default();
    let detail = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("errorDescription")
                .and_then(|d| d.as_str().map(String::from))
                .or_else(|| v.get("detail").map(|d| d.to_string()))
        })
        .unwrap_or_else(|| body.chars().take(200).collect());
    MeshError::Status {
        what: what.to_string(),
        status,
        detail,
    }
}

/// A failed attempt: worth another (with the wait the server asked for), or not.
enum Failure {
    Retry(MeshError, Option<Duration>),
    Stop(MeshError),
}

/// `error`, saying how many attempts were made when there were several.
fn gave_up(error: MeshError, attempts: u32) -> MeshError {
    if attempts < 2 {
        return error;
    }
    let after = format!(" (gave up after {attempts} attempts)");
    match error {
        MeshError::Transport { what, detail } => MeshError::Transport {
            what,
            detail: detail + &after,
        },
        MeshError::Status {
            what,
            status,
            detail,
        } => MeshError::Status {
            what,
            status,
            detail: detail + &after,
        },
        other => other,
    }
}

/// Receives a response's body into `scratch`. A body cut off or stalled is worth
/// another attempt; a scratch file that cannot be written is this machine's failure.
async fn body_into(what: &str, resp: &mut Response, scratch: &mut Scratch) -> Result<(), Failure> {
    loop {
        match resp.chunk().await {
            Ok(Some(bytes)) => scratch
                .append(&bytes)
                .map_err(|e| Failure::Stop(MeshError::Local(e)))?,
            Ok(None) => return Ok(()),
            Err(e) => {
                let e = e.with_url(resp.url().clone());
                return Err(Failure::Retry(transport(what, e), None));
            }
        }
    }
}

/// Where a message's chunks go once received: the landing file, through a gzip decoder
/// when MESH sent them compressed.
enum Sink<'a> {
    Raw(&'a mut Incoming),
    Gzip(Box<MultiGzDecoder<&'a mut Incoming>>),
}

impl Sink<'_> {
    fn write(&mut self, bytes: &[u8], id: &str, n: u32) -> Result<(), MeshError> {
        let written = match self {
            Sink::Raw(o) => o.write_all(bytes),
            Sink::Gzip(d) => d.write_all(bytes),
        };
        written.map_err(|e| self.failed(e, &format!("message {id} chunk {n}")))
    }

    /// Ends a gzip stream (a stream cut short is an error).
    fn finish(mut self, id: &str) -> Result<(), MeshError> {
        let finished = match &mut self {
            Sink::Raw(_) => Ok(()),
            Sink::Gzip(d) => d.try_finish(),
        };
        finished.map_err(|e| self.failed(e, &format!("message {id}: gzip stream incomplete")))
    }

    /// A write that failed: landing the bytes failed (this machine), or they are not
    /// gzip (MESH, or its sender).
    fn failed(&mut self, e: std::io::Error, context: &str) -> MeshError {
        let incoming = match self {
            Sink::Raw(o) => &mut **o,
            Sink::Gzip(d) => &mut **d.get_mut(),
        };
        match incoming.take_write_error() {
            Some(local) => MeshError::Local(local),
            None => MeshError::Protocol(format!("{context}: {e}")),
        }
    }
}

/// `value` percent-encoded for a query string: every byte but letters, digits and
/// `-._~` (a `+` would be read as a space, a `&` would start another parameter).
fn query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A header's value; bytes that are not UTF-8 (a sender's `mex-FileName` in Latin-1:
/// `Zo\xEB`) are read as Latin-1, not dropped.
fn header_text(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    let bytes = headers.get(name)?.as_bytes();
    Some(match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    })
}

impl MeshClient {
    /// Builds a client, reading the URL, mailbox and secrets the configuration names.
    pub fn from_config(cfg: &MeshFetch) -> Result<Self, MeshError> {
        let base = secret::setting(&cfg.url).map_err(MeshError::Setup)?;
        let mailbox = secret::setting(&cfg.mailbox)
            .map_err(MeshError::Setup)?
            .to_ascii_uppercase();
        let password = secret::secret(&cfg.password).map_err(MeshError::Setup)?;
        let shared_key = secret::secret(&cfg.shared_key).map_err(MeshError::Setup)?;
        // Timeouts on silence, not on the whole request: a download still flowing is never
        // cut off (a whole-request limit of 120 s made a chunk larger than 120 s of the
        // link's speed impossible to land), while a connection that stalls still fails
        // (and is retried). Connecting gets at most 30 s of it.
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(cfg.timeout_seconds.min(30)))
            .read_timeout(Duration::from_secs(cfg.timeout_seconds))
            .no_gzip()
            .user_agent(concat!("joinedup/", env!("CARGO_PKG_VERSION")));
        let problems = tls_file_problems(cfg);
        if !problems.is_empty() {
            let problems: Vec<String> = problems.into_iter().map(|(_, p)| p).collect();
            return Err(MeshError::Setup(problems.join("; ")));
        }
        if let Some((cert, key)) = &cfg.client_identity {
            let mut pem = read_tls_file(cert).map_err(MeshError::Setup)?;
            pem.push(b'\n');
            pem.extend(read_tls_file(key).map_err(MeshError::Setup)?);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                MeshError::Setup(format!(
                    "client certificate {} and key {} are not usable together: {}",
                    cert.display(),
                    key.display(),
                    crate::error::chain(&e)
                ))
            })?;
            builder = builder.identity(identity);
        }
        // The CA file replaces the system's roots: a MESH server is trusted only if the
        // CA file's certificates vouch for it (added to the system's, any CA the machine
        // trusts, or a proxy's inserted into its store, would do).
        if let Some(ca) = &cfg.ca_file {
            builder = builder.tls_built_in_root_certs(false);
            for cert in ca_certificates(ca).map_err(MeshError::Setup)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder
            .build()
            .map_err(|e| MeshError::Setup(format!("cannot build the HTTP client: {e}")))?;
        Ok(MeshClient {
            http,
            base: base.trim_end_matches('/').to_string(),
            mailbox,
            password,
            shared_key,
            page_size: cfg.inbox_page_size,
            retries: cfg.retries,
            source: String::new(),
            probing: std::sync::atomic::AtomicBool::new(false),
            client_certificate: cfg.client_identity.as_ref().map(|(cert, _)| cert.clone()),
        })
    }

    /// The client, naming `source` in its events (retries).
    pub fn for_source(mut self, source: &str) -> Self {
        self.source = source.to_string();
        self
    }

    /// While `on`, a call is tried once, a transient failure not retried: MESH has failed
    /// through one message's retries, and the next message probes whether it is back
    /// ([`super::breaker`]).
    pub fn set_probing(&self, on: bool) {
        self.probing.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// The mailbox id.
    pub fn mailbox(&self) -> &str {
        &self.mailbox
    }

    fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.http
            .request(method, url)
            .header(
                "Authorization",
                authorization_now(&self.mailbox, &self.password, &self.shared_key),
            )
            .header("Accept", ACCEPT_V2)
            .header(
                "mex-ClientVersion",
                concat!("joinedup/", env!("CARGO_PKG_VERSION")),
            )
            .header("mex-OSName", std::env::consts::OS)
            .header("mex-OSVersion", "unknown")
    }

    fn url(&self, path: &str) -> String {
        format!("{}/messageexchange/{}{path}", self.base, self.mailbox)
    }

    /// Validates the mailbox (the MESH handshake). A server that closes an HTTPS
    /// connection without an answer is said to be likely refusing the client's
    /// certificate (or its lack of one): the live MESH requires mutual TLS, and that is
    /// all rustls can tell of it.
    pub async fn handshake(&self) -> Result<(), MeshError> {
        let url = self.url("");
        self.call("handshake", None, || self.request(Method::POST, &url))
            .await
            .map(|_| ())
            .map_err(|e| {
                if self.base.starts_with("https://") {
                    tls_refusal_hint(e, self.client_certificate.as_deref())
                } else {
                    e
                }
            })
    }

    /// Every message id in the inbox, following `links.next` pages.
    pub async fn inbox(&self, workflow_filter: Option<&str>) -> Result<Vec<String>, MeshError> {
        let mut ids = Vec::new();
        let mut url = self.url(&format!("/inbox?max_results={}", self.page_size));
        if let Some(f) = workflow_filter {
            url.push_str("&workflow_filter=");
            url.push_str(&query_value(f));
        }
        for _page in 0..10_000 {
            let body = self
                .call("inbox", None, || self.request(Method::GET, &url))
                .await?;
            let body: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| MeshError::Protocol(format!("inbox listing is not JSON: {e}")))?;
            let messages = body
                .get("messages")
                .and_then(|m| m.as_array())
                .ok_or_else(|| MeshError::Protocol("inbox listing has no messages array".into()))?;
            for m in messages {
                match m
                    .as_str()
                    .or_else(|| m.get("message_id").and_then(|v| v.as_str()))
                {
                    Some(id) => ids.push(id.to_string()),
                    None => return Err(MeshError::Protocol(format!("unexpected inbox entry {m}"))),
                }
            }
            match body.pointer("/links/next").and_then(|n| n.as_str()) {
                Some(next) if !messages.is_empty() => {
                    url = if next.starts_with("http") {
                        next.to_string()
                    } else {
                        format!("{}{next}", self.base)
                    };
                }
                _ => return Ok(ids),
            }
        }
        Err(MeshError::Protocol("inbox paging did not end".into()))
    }

    /// Downloads a message (every chunk) into `out`, decoding gzip transfer encoding.
    /// Per-chunk gzip and one gzip stream split across chunks both decode, because the
    /// chunks are fed in order to one multi-member gzip decoder. Each chunk is received
    /// whole into a scratch file beside `out` before it is decoded, so a chunk that fails
    /// part-way (a 500, a connection reset) is fetched again on its own, with the chunks
    /// before it kept.
    pub async fn download(&self, id: &str, out: &mut Incoming) -> Result<MessageMeta, MeshError> {
        let mut meta = MessageMeta::default();
        let mut scratch = out.scratch().map_err(MeshError::Local)?;
        let mut out = Some(out);
        let mut sink: Option<Sink> = None;
        let mut n: u32 = 1;
        loop {
            let (status, headers) = self.fetch_chunk(id, n, &mut scratch).await?;
            let header = |name: &str| header_text(&headers, name);
            if n == 1 && header("mex-messagetype").is_some_and(|t| t.eq_ignore_ascii_case("REPORT"))
            {
                meta.report = Some(format!(
                    "status {}: {}",
                    header("mex-statuscode").unwrap_or_else(|| "?".into()),
                    header("mex-statusdescription").unwrap_or_default()
                ));
                return Ok(meta);
            }
            if n == 1 {
                meta.checksum = header("mex-content-checksum");
                meta.filename = header("mex-filename");
                meta.workflow = header("mex-workflowid");
                meta.received_at = header("mex-statustimestamp").and_then(|t| mesh_time(&t));
                let gzip =
                    header("content-encoding").is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
                sink = out.take().map(|o| {
                    if gzip {
                        Sink::Gzip(Box::new(MultiGzDecoder::new(o)))
                    } else {
                        Sink::Raw(o)
                    }
                });
            }
            let total: Option<u32> = header("mex-total-chunks")
                .and_then(|v| v.parse().ok())
                .or_else(|| {
                    header("mex-chunk-range").and_then(|r| r.split(':').nth(1)?.parse().ok())
                });
            if let Some(sink) = sink.as_mut() {
                scratch.replay(|bytes| sink.write(bytes, id, n), MeshError::Local)?;
            }
            meta.chunks = n;
            match status {
                StatusCode::OK => {
                    if total.is_some_and(|t| t != n) {
                        return Err(MeshError::Protocol(format!(
                            "message {id}: last chunk was {n} of {}",
                            total.unwrap_or(0)
                        )));
                    }
                    break;
                }
                StatusCode::PARTIAL_CONTENT => n += 1,
                other => {
                    return Err(MeshError::Protocol(format!(
                        "message {id}: unexpected status {other} for chunk {n}"
                    )));
                }
            }
            if n > 100_000 {
                return Err(MeshError::Protocol(format!(
                    "message {id}: too many chunks"
                )));
            }
        }
        if let Some(sink) = sink {
            sink.finish(id)?;
        }
        Ok(meta)
    }

    /// Chunk `n` of message `id`, its body received whole into `scratch`: its status and
    /// headers. A transient failure (see [`MeshClient::call`]) fetches this chunk again.
    async fn fetch_chunk(
        &self,
        id: &str,
        n: u32,
        scratch: &mut Scratch,
    ) -> Result<(StatusCode, HeaderMap), MeshError> {
        let what = format!("download of chunk {n}");
        let url = self.url(&if n == 1 {
            format!("/inbox/{id}")
        } else {
            format!("/inbox/{id}/{n}")
        });
        let mut attempt = 0;
        loop {
            scratch.clear().map_err(MeshError::Local)?;
            let request = self
                .request(Method::GET, &url)
                .header("Accept-Encoding", "gzip");
            let failure = match self.send_once(&what, request).await {
                Err(f) => f,
                Ok(mut resp) => {
                    let head = (resp.status(), resp.headers().clone());
                    match body_into(&what, &mut resp, scratch).await {
                        Ok(()) => return Ok(head),
                        Err(f) => f,
                    }
                }
            };
            self.wait_or_give_up(&what, Some(id), &mut attempt, failure)
                .await?;
        }
    }

    /// Acknowledges a message. Acknowledging is idempotent in MESH (a second
    /// acknowledgement answers 200 again: reference/mesh.md §5), so a failed one is
    /// retried like any other call, and one whose answer was lost does no harm.
    pub async fn acknowledge(&self, id: &str) -> Result<(), MeshError> {
        let url = self.url(&format!("/inbox/{id}/status/acknowledged"));
        self.call("acknowledge", Some(id), || self.request(Method::PUT, &url))
            .await
            .map(|_| ())
    }

    /// One call and its whole body, retried on a transient failure: a connect error, a
    /// timeout, a body cut off, 429 or 5xx. The wait is MESH's `Retry-After` (capped), or
    /// exponential backoff (the policy HTTP downloads use: [`crate::pull::retry`]); each
    /// attempt is a new request with a new authorization header (nonce and time).
    /// `message` is the message id the call is for, if any (named in its events).
    async fn call(
        &self,
        what: &str,
        message: Option<&str>,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Vec<u8>, MeshError> {
        let mut attempt = 0;
        loop {
            let failure = match self.send_once(what, build()).await {
                Err(f) => f,
                Ok(resp) => {
                    let url = resp.url().clone();
                    match resp.bytes().await {
                        Ok(body) => return Ok(body.to_vec()),
                        Err(e) => Failure::Retry(transport(what, e.with_url(url)), None),
                    }
                }
            };
            self.wait_or_give_up(what, message, &mut attempt, failure)
                .await?;
        }
    }

    /// Sends one request: its response when successful, else whether to retry.
    async fn send_once(&self, what: &str, request: RequestBuilder) -> Result<Response, Failure> {
        let resp = match request.send().await {
            Ok(r) => r,
            // A request that cannot be built, or a redirect loop, fails the same way
            // every time.
            Err(e) if e.is_builder() || e.is_redirect() => {
                return Err(Failure::Stop(transport(what, e)));
            }
            Err(e) => return Err(Failure::Retry(transport(what, e), None)),
        };
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let wait = retry::retry_after(resp.headers());
        let error = status_error(what, resp).await;
        if retry::transient(status) {
            Err(Failure::Retry(error, wait))
        } else {
            Err(Failure::Stop(error))
        }
    }

    /// After failed attempt `attempt` (from 0): waits and counts the attempt when the
    /// failure is transient and retries are left; otherwise the error to give (a
    /// transient one as [`MeshError::GaveUp`]). Each retry is an event naming the source,
    /// the mailbox, the message (`message_id`, for a download or an acknowledgement) and
    /// the call, its `attempt` the retry's number from 1, as HTTP's are.
    async fn wait_or_give_up(
        &self,
        what: &str,
        message: Option<&str>,
        attempt: &mut u32,
        failure: Failure,
    ) -> Result<(), MeshError> {
        let retries = if self.probing.load(std::sync::atomic::Ordering::Relaxed) {
            0
        } else {
            self.retries
        };
        match failure {
            Failure::Stop(e) => Err(e),
            Failure::Retry(e, wait) if *attempt < retries => {
                let wait = wait.unwrap_or_else(|| retry::backoff(*attempt));
                *attempt += 1;
                let wait_ms = wait.as_millis() as u64;
                match message {
                    Some(id) => tracing::info!(
                        stage = "pull",
                        source = %self.source,
                        mailbox = %self.mailbox,
                        message_id = %id,
                        call = %what,
                        attempt = *attempt,
                        wait_ms,
                        reason = %e,
                        "retrying"
                    ),
                    None => tracing::info!(
                        stage = "pull",
                        source = %self.source,
                        mailbox = %self.mailbox,
                        call = %what,
                        attempt = *attempt,
                        wait_ms,
                        reason = %e,
                        "retrying"
                    ),
                }
                tokio::time::sleep(wait).await;
                Ok(())
            }
            Failure::Retry(e, _) => Err(MeshError::GaveUp(Box::new(gave_up(e, *attempt + 1)))),
        }
    }

    /// Sends `data` to mailbox `to` in `chunks` chunks, each gzip-compressed on its own
    /// when `gzip` is set (what the official client does), declaring its MD5
    /// (`mex-Content-Checksum`). Returns the message id.
    pub async fn send(
        &self,
        to: &str,
        workflow: &str,
        filename: &str,
        data: &[u8],
        chunks: usize,
        gzip: bool,
    ) -> Result<String, MeshError> {
        let chunks = chunks.max(1);
        let size = data.len().div_ceil(chunks).max(1);
        let parts: Vec<&[u8]> = if data.is_empty() {
            vec![data]
        } else {
            data.chunks(size).collect()
        };
        let total = parts.len();
        let mut id = String::new();
        for (i, part) in parts.iter().enumerate() {
            let n = i + 1;
            let body = if gzip {
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                enc.write_all(part)
                    .and_then(|_| enc.finish())
                    .map_err(|e| MeshError::Protocol(e.to_string()))?
            } else {
                part.to_vec()
            };
            let url = if n == 1 {
                self.url("/outbox")
            } else {
                self.url(&format!("/outbox/{id}/{n}"))
            };
            let mut req = self
                .request(Method::POST, &url)
                .header("mex-Chunk-Range", format!("{n}:{total}"))
                .header("Content-Type", "application/octet-stream")
                .body(body);
            if n == 1 {
                use md5::Digest as _;
                let md5: String = md5::Md5::digest(data)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                req = req
                    .header("mex-To", to)
                    .header("mex-WorkflowID", workflow)
                    .header("mex-FileName", filename)
                    .header("mex-Content-Checksum", format!("md5:{md5}"));
            }
            if gzip {
                req = req.header("Content-Encoding", "gzip");
            }
            let resp = check("send", req.send().await.map_err(|e| transport("send", e))?).await?;
            if n == 1 {
                let v: serde_json::Value = resp
                    .json()
                    .await
                    .map_err(|e| MeshError::Protocol(format!("send reply is not JSON: {e}")))?;
                id = v
                    .get("message_id")
                    .or_else(|| v.get("messageID"))
                    .and_then(|m| m.as_str())
                    .ok_or_else(|| {
                        MeshError::Protocol(format!("send reply has no message id: {v}"))
                    })?
                    .to_string();
            }
        }
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (review): a `mex-FileName` that was not ASCII (`Zo\xEB`, Latin-1) was
    /// dropped, and the message landed under a made-up `<id>.dat`.
    #[test]
    fn a_header_that_is_not_utf8_is_read_as_latin_1() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(
            "mex-filename",
            reqwest::header::HeaderValue::from_bytes(b"cld_901_Zo\xEB.csv").unwrap(),
        );
        h.insert("mex-workflowid", "CLD_EXTRACT".parse().unwrap());
        assert_eq!(
            header_text(&h, "mex-filename").as_deref(),
            Some("cld_901_Zoë.csv")
        );
        assert_eq!(
            header_text(&h, "mex-workflowid").as_deref(),
            Some("CLD_EXTRACT")
        );
        assert_eq!(header_text(&h, "mex-subject"), None);
    }

    #[test]
    fn mesh_timestamps_are_read_as_utc() {
        assert_eq!(
            mesh_time("20260801100000").as_deref(),
            Some("2026-08-01T10:00:00Z")
        );
        assert_eq!(
            mesh_time("2026-08-01T11:00:00.250+01:00").as_deref(),
            Some("2026-08-01T10:00:00.250Z")
        );
        for bad in ["", "2026080110", "20261301100000", "yesterday"] {
            assert_eq!(mesh_time(bad), None, "{bad}");
        }
    }

    /// Regression (review): a workflow filter `A+B` was sent as `A+B` (read as `A B`),
    /// and one holding `&` added query parameters.
    #[test]
    fn a_workflow_filter_is_percent_encoded() {
        assert_eq!(query_value("A+B"), "A%2BB");
        assert_eq!(query_value("CLD&x=1"), "CLD%26x%3D1");
        assert_eq!(query_value("!*CLD_EXTRACT*"), "%21%2ACLD_EXTRACT%2A");
    }
}
