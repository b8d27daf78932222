//! HTTP(S) downloads into the landing zone (reqwest + rustls on tokio).
//!
//! Each URL is fetched at most `max_concurrent` at a time, with connect and read
//! timeouts, a size limit, and retries with exponential backoff and jitter on connect
//! errors, timeouts, 429/5xx and truncated bodies. A body shorter than its
//! Content-Length, or whose SHA-256 differs from a pinned one, is a failure and never a
//! landed file. ETag and Last-Modified are kept per source and URL
//! (`landing/http_state.json`) and sent back, so a publication that has not changed
//! answers 304 and is not downloaded. An empty body (or one of only a BOM and whitespace), or an HTML page served as the file
//! ([`super::sniff`]), is refused, not landed. A failure of this machine after the body
//! arrived (syncing, renaming, the manifest line, `http_state.json`) is kept as
//! [`SourcePull::local`]: the pull exits as that error does, not as the source's.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, Semaphore};

use super::landing::{CommitError, Landed, LandingZone, Origin};
use super::report::SourcePull;
use super::sniff::{Blank, HtmlSniff};
use super::{retry, secret};
use crate::config::fetch::HttpFetch;

/// Validators remembered per URL.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Validators {
    /// The last ETag.
    pub etag: Option<String>,
    /// The last Last-Modified.
    pub last_modified: Option<String>,
}

/// The conditional-GET state of a data directory, by [`state_key`].
pub type HttpState = BTreeMap<String, Validators>;

/// The state's key of `url` fetched for `source`: per source, because the validators
/// say what that source's landing folder already holds (keyed by URL alone, a renamed
/// source, or a second pipeline's source in the same data directory, was answered 304
/// and never landed anything).
pub fn state_key(source: &str, url: &str) -> String {
    format!("{source} {url}")
}

fn state_path(zone: &LandingZone) -> PathBuf {
    zone.root().join("http_state.json")
}

/// Reads the saved validators (empty when none).
pub fn load_state(zone: &LandingZone) -> HttpState {
    std::fs::read_to_string(state_path(zone))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Saves validators atomically, the owner's only: it names every URL (queries
/// included), as the landing zone's files do. A failure leaves no temporary file.
pub fn save_state(zone: &LandingZone, state: &HttpState) -> crate::error::Result<()> {
    let json = serde_json::to_vec_pretty(state)
        .map_err(|e| crate::error::Error::Internal(e.to_string()))?;
    super::landing::write_private(&state_path(zone), &json)
}

enum Outcome {
    Landed(Box<Landed>, Validators),
    Unchanged,
}

enum Attempt {
    Done(Outcome),
    Retry(String, Option<Duration>),
    Fail(String),
    /// A failure of this machine (landing the bytes), not of the source.
    Local(crate::error::Error),
}

/// Downloads every URL of a source.
pub async fn pull_urls(source: &str, cfg: &HttpFetch, zone: Arc<LandingZone>) -> SourcePull {
    let mut report = SourcePull::new(source, "http");
    report.found = cfg.urls.len() as u64;
    let token = match cfg.bearer_token.as_ref().map(secret::secret).transpose() {
        Ok(t) => t,
        Err(e) => {
            report.fail("bearer token", e);
            return report;
        }
    };
    // A body sent gzip-compressed (`Content-Encoding: gzip`, as object stores serve
    // files stored so) is decoded as it arrives: `max_bytes` counts decoded bytes.
    let client = match reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(cfg.connect_timeout_seconds))
        .read_timeout(Duration::from_secs(cfg.read_timeout_seconds))
        .gzip(true)
        // A redirect never sends the URL (a pre-signed query) on as a Referer, and never
        // goes from https to plain http (patient-level data in the clear).
        .referer(false)
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            let downgrade = attempt.url().scheme() == "http"
                && attempt.previous().iter().any(|u| u.scheme() == "https");
            if downgrade {
                attempt.error("refused a redirect from https to plain http")
            } else if attempt.previous().len() > 5 {
                attempt.error("too many redirects")
            } else {
                attempt.follow()
            }
        }))
        .user_agent(concat!("joinedup/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            report.fail("client", e.to_string());
            return report;
        }
    };
    let state = Arc::new(Mutex::new(load_state(&zone)));
    let limit = Arc::new(Semaphore::new(cfg.max_concurrent));
    let mut tasks = tokio::task::JoinSet::new();
    for url in cfg.urls.clone() {
        let (client, zone, state, limit, token) = (
            client.clone(),
            zone.clone(),
            state.clone(),
            limit.clone(),
            token.clone(),
        );
        let (cfg, source) = (cfg.clone(), source.to_string());
        // In the caller's span: a download's events (retries) carry the run id.
        tasks.spawn(
            async move {
                let _permit = limit.acquire_owned().await;
                let key = state_key(&source, &url);
                let known = state.lock().await.get(&key).cloned().unwrap_or_default();
                let result = fetch_with_retries(
                    &client,
                    &url,
                    &cfg,
                    &source,
                    &zone,
                    token.as_deref(),
                    &known,
                )
                .await;
                if let Ok(Outcome::Landed(_, v)) = &result {
                    state.lock().await.insert(key, v.clone());
                }
                (url, result)
            }
            .in_current_span(),
        );
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((_, Ok(Outcome::Landed(l, _)))) => match *l {
                Landed::New(_) => report.landed += 1,
                Landed::AlreadyHad { .. } => report.already_had += 1,
            },
            Ok((_, Ok(Outcome::Unchanged))) => report.unchanged += 1,
            Ok((url, Err(Failed::Source(reason)))) => report.fail(&shown_url(&url), reason),
            Ok((url, Err(Failed::Local(e)))) => report.fail_local(&shown_url(&url), e),
            Err(e) => report.fail("download task", e.to_string()),
        }
    }
    // Failing to save it is this machine's failure (a full disk), not the source's.
    if let Err(e) = save_state(&zone, &*state.lock().await) {
        report.fail_local("http_state.json", e);
    }
    report
}

async fn fetch_with_retries(
    client: &reqwest::Client,
    url: &str,
    cfg: &HttpFetch,
    source: &str,
    zone: &LandingZone,
    token: Option<&str>,
    known: &Validators,
) -> Result<Outcome, Failed> {
    let mut last = String::new();
    // One deadline for the whole download, retries and waits included: a server that
    // is slow every time would otherwise hold the run (and the data directory's lock)
    // for the deadline once per attempt.
    let limit = Duration::from_secs(cfg.download_timeout_seconds);
    let deadline = tokio::time::Instant::now() + limit;
    let over = |attempts: u32, last: &str| {
        format!(
            "timed out: the download took longer than download_timeout_seconds ({} s) over {attempts} attempt{}{}",
            cfg.download_timeout_seconds,
            if attempts == 1 { "" } else { "s" },
            if last.is_empty() {
                String::new()
            } else {
                format!("; last: {last}")
            }
        )
    };
    for attempt in 0..=cfg.retries {
        if attempt > 0 {
            tracing::info!(stage = "pull", source = %source, url = %shown_url(url), attempt, reason = %last, "retrying");
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        // Dropped at the deadline, the attempt's partial download is removed with it.
        let outcome = tokio::time::timeout(
            left,
            fetch_once(client, url, cfg, source, zone, token, known),
        )
        .await;
        match outcome {
            Err(_) => return Err(Failed::Source(over(attempt + 1, &last))),
            Ok(Attempt::Done(o)) => return Ok(o),
            Ok(Attempt::Fail(reason)) => return Err(Failed::Source(reason)),
            Ok(Attempt::Local(e)) => return Err(Failed::Local(e)),
            Ok(Attempt::Retry(reason, wait)) => {
                last = reason;
                if attempt < cfg.retries {
                    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                    let wait = wait.unwrap_or_else(|| retry::backoff(attempt));
                    if wait >= left {
                        return Err(Failed::Source(over(attempt + 1, &last)));
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
    Err(Failed::Source(format!(
        "gave up after {} attempts: {last}",
        cfg.retries + 1
    )))
}

/// Why a URL was not pulled: the source (its answer, its bytes), or this machine.
enum Failed {
    Source(String),
    Local(crate::error::Error),
}

async fn fetch_once(
    client: &reqwest::Client,
    url: &str,
    cfg: &HttpFetch,
    source: &str,
    zone: &LandingZone,
    token: Option<&str>,
    known: &Validators,
) -> Attempt {
    let mut req = client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(etag) = &known.etag {
        req = req.header("If-None-Match", etag);
    }
    if let Some(lm) = &known.last_modified {
        req = req.header("If-Modified-Since", lm);
    }
    let mut resp = match req.send().await {
        Ok(r) => r,
        // A request that cannot be built (a token with a control character) or a redirect
        // loop fails the same way every time: not retried.
        Err(e) if e.is_builder() || e.is_redirect() => return Attempt::Fail(describe(e)),
        Err(e) => return Attempt::Retry(describe(e), None),
    };
    let status = resp.status();
    if status == StatusCode::NOT_MODIFIED {
        return Attempt::Done(Outcome::Unchanged);
    }
    if retry::transient(status) {
        return Attempt::Retry(format!("HTTP {status}"), retry::retry_after(resp.headers()));
    }
    if !status.is_success() {
        return Attempt::Fail(format!("HTTP {status}"));
    }
    let expected_len = resp.content_length();
    if expected_len.is_some_and(|n| n > cfg.max_bytes) {
        return Attempt::Fail(format!(
            "{} bytes is over the limit of {} bytes (max_bytes)",
            bytes_count(expected_len.unwrap_or(0)),
            bytes_count(cfg.max_bytes)
        ));
    }
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let validators = Validators {
        etag: header("etag"),
        last_modified: header("last-modified"),
    };
    let content_type = header("content-type");
    let original = header("content-disposition")
        .and_then(|d| disposition_filename(&d))
        .unwrap_or_else(|| url_filename(url));
    let mut incoming = match zone.incoming(source) {
        Ok(i) => i,
        Err(e) => return Attempt::Local(e),
    };
    // A login or error page served with 200 (a proxy, an expired link) is not the file:
    // landed, it would replace the good version. Its start may come after a BOM, or
    // after a first chunk of whitespace only.
    let mut sniff = HtmlSniff::new(content_type.as_deref());
    let mut blank = Blank::default();
    loop {
        match resp.chunk().await {
            Ok(Some(bytes)) => {
                blank.feed(&bytes);
                if sniff.feed(&bytes) {
                    return Attempt::Fail(if sniff.declared() {
                        "the server sent an HTML page (Content-Type text/html), not the file: a login or error page?"
                            .to_string()
                    } else {
                        format!(
                            "the server sent an HTML page (it starts like one, though served as {}), not the file: a login or error page?",
                            content_type.as_deref().unwrap_or("no Content-Type")
                        )
                    });
                }
                if incoming.len() + bytes.len() as u64 > cfg.max_bytes {
                    incoming.discard();
                    return Attempt::Fail(format!(
                        "body is over the limit of {} bytes (max_bytes)",
                        bytes_count(cfg.max_bytes)
                    ));
                }
                if let Err(e) = incoming.append(&bytes) {
                    incoming.discard();
                    return Attempt::Local(e);
                }
            }
            Ok(None) => break,
            Err(e) => {
                let got = incoming.len();
                incoming.discard();
                let reason = match expected_len {
                    // A stall or the download's deadline, not a closed connection.
                    _ if e.is_timeout() => format!(
                        "timed out after {got}{} bytes",
                        expected_len.map(|n| format!(" of {n}")).unwrap_or_default()
                    ),
                    Some(n) if got < n => {
                        format!("truncated body: {got} of {n} bytes (connection closed early)")
                    }
                    _ => format!("body interrupted after {got} bytes: {}", describe(e)),
                };
                return Attempt::Retry(reason, None);
            }
        }
    }
    if let Some(n) = expected_len
        && incoming.len() != n
    {
        let got = incoming.len();
        incoming.discard();
        return Attempt::Retry(format!("truncated body: {got} of {n} bytes"), None);
    }
    // An empty 200 (a publisher's failed export, a proxy) is not the file: landed, it
    // became the URL's current version, and its validators answered 304 every night
    // after, until the publisher changed the file. Not landed, as an empty drop file is.
    if incoming.is_empty() {
        return Attempt::Fail(
            "the server sent an empty body (HTTP 200, no bytes): not landed; the version landed before stays current"
                .to_string(),
        );
    }
    // Nor is a body of only a byte order mark and whitespace: no rows either.
    if blank.is_blank() {
        return Attempt::Fail(format!(
            "the server sent a body of only a byte order mark or whitespace (HTTP 200, {} bytes): not landed; the version landed before stays current",
            incoming.len()
        ));
    }
    let landed = match zone.commit_checked(
        source,
        incoming,
        &original,
        Origin::Http {
            url: shown_url(url),
            url_sha256: Some(super::landing::hex_sha256(url.as_bytes())),
        },
        cfg.sha256.get(url).map(String::as_str),
    ) {
        Ok(l) => l,
        Err(e @ CommitError::Mismatch { .. }) => return Attempt::Fail(e.to_string()),
        // Syncing, renaming, the manifest line: this machine's failure, not the source's.
        Err(CommitError::Local(e)) => return Attempt::Local(e),
    };
    Attempt::Done(Outcome::Landed(Box::new(landed), validators))
}

/// A count of bytes with thousands separators, `2,147,483,648` (the report's
/// [`crate::report::format::int`]): a ten-digit number written whole may pass Modulus 11
/// and would be withheld from messages as an NHS number.
fn bytes_count(n: u64) -> String {
    crate::report::format::int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// A reqwest error in words, without its URL (which may hold a secret; the caller names
/// the URL as shown).
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "body error"
    } else {
        "request failed"
    };
    format!("{kind} ({})", crate::error::chain(&e))
}

/// The file name a `Content-Disposition` header offers (RFC 6266), verbatim.
pub fn disposition_filename(header: &str) -> Option<String> {
    let mut plain = None;
    for part in header.split(';').map(str::trim) {
        if let Some(v) = part.strip_prefix("filename*=") {
            // RFC 5987: charset'lang'percent-encoded
            let encoded = v.splitn(3, '\'').nth(2)?;
            return Some(percent_decode(encoded));
        }
        if let Some(v) = part.strip_prefix("filename=") {
            plain = Some(v.trim_matches('"').to_string());
        }
    }
    plain
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A URL as it may be shown in logs, messages and manifests: without a user name or
/// password, and with its query string replaced by `?…` (a pre-signed URL's signature,
/// an API key: secrets; they stay in the pipeline file and in memory only).
pub fn shown_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let had_query = u.query().is_some();
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            let mut s = u.to_string();
            if had_query {
                s.push_str("?…");
            }
            s
        }
        Err(_) => url.split(['?', '#']).next().unwrap_or("").to_string(),
    }
}

/// The last path segment of a URL, or `download`.
pub fn url_filename(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let after_host = path.splitn(4, '/').nth(3).unwrap_or("");
    after_host
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .unwrap_or_else(|| "download".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_byte_counts_in_messages_are_grouped_not_withheld() {
        // 2147483648, the default limit, passes Modulus 11: a message said "over the
        // limit of <withheld>".
        assert_eq!(bytes_count(2_147_483_648), "2,147,483,648");
        assert_eq!(bytes_count(999), "999");
        assert_eq!(bytes_count(1_000), "1,000");
        let message = format!("over the limit of {}", bytes_count(2_147_483_648));
        let shown = crate::ingest::quarantine::mask_nhs_numbers(&message);
        assert!(shown.contains("2,147,483,648"), "{shown}");
    }

    #[test]
    fn regression_a_url_is_shown_without_credentials_or_query() {
        assert_eq!(
            shown_url("https://alice:Pa55@h.example/a/b.csv?sig=SECRET&x=1#frag"),
            "https://h.example/a/b.csv?…"
        );
        assert_eq!(shown_url("http://h/a.csv"), "http://h/a.csv");
    }

    #[test]
    fn content_disposition_names() {
        assert_eq!(
            disposition_filename("attachment; filename=\"a.csv\"").as_deref(),
            Some("a.csv")
        );
        assert_eq!(
            disposition_filename("attachment; filename=\"../../etc/passwd\"").as_deref(),
            Some("../../etc/passwd")
        );
        assert_eq!(
            disposition_filename("attachment; filename*=UTF-8''na%C3%AFve%20file.csv").as_deref(),
            Some("naïve file.csv")
        );
        assert_eq!(disposition_filename("inline"), None);
    }

    #[test]
    fn url_names() {
        assert_eq!(
            url_filename("https://host/stats/Daily-discharge.xlsx?x=1"),
            "Daily-discharge.xlsx"
        );
        assert_eq!(url_filename("https://host/"), "download");
        assert_eq!(url_filename("https://host"), "download");
    }
}
