//! A MESH API client over reqwest (rustls), API version 2.

use std::io::Write;
use std::time::Duration;

use flate2::write::MultiGzDecoder;
use reqwest::{Method, RequestBuilder, Response, StatusCode};

use super::auth::authorization_now;
use crate::config::fetch::MeshFetch;
use crate::pull::landing::Incoming;
use crate::pull::secret;

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
}

/// A MESH client for one mailbox.
pub struct MeshClient {
    http: reqwest::Client,
    base: String,
    mailbox: String,
    password: String,
    shared_key: String,
    page_size: u32,
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
    MeshError::Transport {
        what: format!("{what}{server}"),
        detail: crate::error::chain(&e.without_url()),
    }
}

async fn check(what: &str, resp: Response) -> Result<Response, MeshError> {
    if resp.status().is_success() {
        return Ok(resp);
    }
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
    Err(MeshError::Status {
        what: what.to_string(),
        status,
        detail,
    })
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
fn header(resp: &Response, name: &str) -> Option<String> {
    header_text(resp.headers(), name)
}

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
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(cfg.timeout_seconds.min(30)))
            .timeout(Duration::from_secs(cfg.timeout_seconds))
            .no_gzip()
            .user_agent(concat!("joinedup/", env!("CARGO_PKG_VERSION")));
        if let Some((cert, key)) = &cfg.client_identity {
            let mut pem = std::fs::read(cert).map_err(|e| {
                MeshError::Setup(format!(
                    "cannot read client certificate {}: {e}",
                    cert.display()
                ))
            })?;
            pem.extend(std::fs::read(key).map_err(|e| {
                MeshError::Setup(format!("cannot read client key {}: {e}", key.display()))
            })?);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                MeshError::Setup(format!("client certificate or key is not usable PEM: {e}"))
            })?;
            builder = builder.identity(identity);
        }
        if let Some(ca) = &cfg.ca_file {
            let pem = std::fs::read(ca).map_err(|e| {
                MeshError::Setup(format!("cannot read CA file {}: {e}", ca.display()))
            })?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| MeshError::Setup(format!("CA file is not PEM: {e}")))?
            {
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
        })
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

    /// Validates the mailbox (the MESH handshake).
    pub async fn handshake(&self) -> Result<(), MeshError> {
        let resp = self
            .request(Method::POST, &self.url(""))
            .send()
            .await
            .map_err(|e| transport("handshake", e))?;
        check("handshake", resp).await.map(|_| ())
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
            let resp = self
                .request(Method::GET, &url)
                .send()
                .await
                .map_err(|e| transport("inbox", e))?;
            let body: serde_json::Value = check("inbox", resp)
                .await?
                .json()
                .await
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
    /// chunks are fed in order to one multi-member gzip decoder.
    pub async fn download(&self, id: &str, out: &mut Incoming) -> Result<MessageMeta, MeshError> {
        let mut meta = MessageMeta::default();
        let mut decoder: Option<MultiGzDecoder<&mut Incoming>> = None;
        let mut raw_out = Some(out);
        let mut n: u32 = 1;
        loop {
            let what = format!("download of chunk {n}");
            let path = if n == 1 {
                format!("/inbox/{id}")
            } else {
                format!("/inbox/{id}/{n}")
            };
            let resp = self
                .request(Method::GET, &self.url(&path))
                .header("Accept-Encoding", "gzip")
                .send()
                .await
                .map_err(|e| transport(&what, e))?;
            let mut resp = check(&what, resp).await?;
            let status = resp.status();
            if n == 1
                && header(&resp, "mex-messagetype")
                    .is_some_and(|t| t.eq_ignore_ascii_case("REPORT"))
            {
                meta.report = Some(format!(
                    "status {}: {}",
                    header(&resp, "mex-statuscode").unwrap_or_else(|| "?".into()),
                    header(&resp, "mex-statusdescription").unwrap_or_default()
                ));
                return Ok(meta);
            }
            if n == 1 {
                meta.checksum = header(&resp, "mex-content-checksum");
                meta.filename = header(&resp, "mex-filename");
                meta.workflow = header(&resp, "mex-workflowid");
                let gzip = header(&resp, "content-encoding")
                    .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
                if gzip {
                    decoder = raw_out.take().map(MultiGzDecoder::new);
                }
            }
            let total: Option<u32> = header(&resp, "mex-total-chunks")
                .and_then(|v| v.parse().ok())
                .or_else(|| {
                    header(&resp, "mex-chunk-range").and_then(|r| r.split(':').nth(1)?.parse().ok())
                });
            while let Some(bytes) = resp.chunk().await.map_err(|e| transport(&what, e))? {
                let written = match (&mut decoder, &mut raw_out) {
                    (Some(d), _) => d.write_all(&bytes),
                    (None, Some(o)) => o.write_all(&bytes),
                    (None, None) => Ok(()),
                };
                if let Err(e) = written {
                    // Landing the bytes failed (this machine), or they are not gzip (MESH).
                    let local = match (&mut decoder, &mut raw_out) {
                        (Some(d), _) => d.get_mut().take_write_error(),
                        (None, Some(o)) => o.take_write_error(),
                        (None, None) => None,
                    };
                    return Err(match local {
                        Some(l) => MeshError::Local(l),
                        None => MeshError::Protocol(format!("message {id} chunk {n}: {e}")),
                    });
                }
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
        if let Some(mut d) = decoder
            && let Err(e) = d.try_finish()
        {
            return Err(match d.get_mut().take_write_error() {
                Some(l) => MeshError::Local(l),
                None => MeshError::Protocol(format!("message {id}: gzip stream incomplete: {e}")),
            });
        }
        Ok(meta)
    }

    /// Acknowledges a message (idempotent).
    pub async fn acknowledge(&self, id: &str) -> Result<(), MeshError> {
        let resp = self
            .request(
                Method::PUT,
                &self.url(&format!("/inbox/{id}/status/acknowledged")),
            )
            .send()
            .await
            .map_err(|e| transport("acknowledge", e))?;
        check("acknowledge", resp).await.map(|_| ())
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

    /// Regression (review): a workflow filter `A+B` was sent as `A+B` (read as `A B`),
    /// and one holding `&` added query parameters.
    #[test]
    fn a_workflow_filter_is_percent_encoded() {
        assert_eq!(query_value("A+B"), "A%2BB");
        assert_eq!(query_value("CLD&x=1"), "CLD%26x%3D1");
        assert_eq!(query_value("!*CLD_EXTRACT*"), "%21%2ACLD_EXTRACT%2A");
    }
}
