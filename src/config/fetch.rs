//! Checked settings for sources that are fetched into the landing zone: HTTP, MESH and
//! file drops. Secrets are only ever named here (an environment variable or a file) and
//! read when the pull runs; a secret written into a pipeline file is not accepted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::errors::ConfigErrors;
use super::raw::{RawFileDropSource, RawHttpSource, RawMeshSource};

/// A value given in the file or taken from an environment variable (URLs, mailbox ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    /// Written in the pipeline file.
    Literal(String),
    /// Read from this environment variable when the pull runs.
    Env(String),
}

impl std::fmt::Display for Setting {
    /// As `explain` shows it: the value, or where it will be read from.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Setting::Literal(v) => write!(f, "{v}"),
            Setting::Env(var) => write!(f, "from environment variable {var}"),
        }
    }
}

/// A secret: named, never written in the pipeline.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// Read from this environment variable.
    Env(String),
    /// Read from this file (trailing newline removed).
    File(PathBuf),
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::Env(v) => write!(f, "Secret::Env({v})"),
            Secret::File(p) => write!(f, "Secret::File({})", p.display()),
        }
    }
}

/// What to fetch for one source.
#[derive(Debug, Clone)]
pub struct FetchPlan {
    /// Source name (the landing folder).
    pub source: String,
    /// How.
    pub kind: Fetch,
}

/// The fetch kinds.
#[derive(Debug, Clone)]
pub enum Fetch {
    /// HTTP(S) downloads.
    Http(HttpFetch),
    /// A MESH mailbox.
    Mesh(MeshFetch),
    /// A drop folder.
    FileDrop(FileDropFetch),
}

/// HTTP settings.
#[derive(Debug, Clone)]
pub struct HttpFetch {
    /// URLs.
    pub urls: Vec<String>,
    /// Expected SHA-256 per URL.
    pub sha256: BTreeMap<String, String>,
    /// Bearer token, if any.
    pub bearer_token: Option<Secret>,
    /// Connect timeout, seconds.
    pub connect_timeout_seconds: u64,
    /// Read timeout between bytes, seconds.
    pub read_timeout_seconds: u64,
    /// Deadline for one download (a server sending a byte every few seconds never trips
    /// the read timeout), seconds.
    pub download_timeout_seconds: u64,
    /// Retries after the first attempt.
    pub retries: u32,
    /// Largest body accepted.
    pub max_bytes: u64,
    /// Downloads at once.
    pub max_concurrent: usize,
}

/// MESH settings.
#[derive(Debug, Clone)]
pub struct MeshFetch {
    /// Base URL.
    pub url: Setting,
    /// Mailbox id.
    pub mailbox: Setting,
    /// Mailbox password.
    pub password: Secret,
    /// Shared key for the authorization HMAC.
    pub shared_key: Secret,
    /// MESH workflow filter.
    pub workflow_filter: Option<String>,
    /// Client certificate and key (PEM) for mutual TLS.
    pub client_identity: Option<(PathBuf, PathBuf)>,
    /// CA bundle to trust.
    pub ca_file: Option<PathBuf>,
    /// Seconds allowed without a byte from MESH: for an answer, or between two bytes of
    /// one (connecting: at most 30 of them). Not a limit on a whole request.
    pub timeout_seconds: u64,
    /// Seconds the whole pull of the mailbox may take, retries and waits included (`None`:
    /// no limit).
    pub deadline_seconds: Option<u64>,
    /// Messages per inbox page.
    pub inbox_page_size: u32,
    /// Retries of a request (or of one chunk of a download) after a transient failure.
    pub retries: u32,
}

/// File-drop settings.
#[derive(Debug, Clone)]
pub struct FileDropFetch {
    /// The drop folder.
    pub folder: PathBuf,
    /// File-name pattern.
    pub pattern: String,
    /// Where originals go after landing.
    pub processed_folder: PathBuf,
    /// Seconds a file must stay unchanged.
    pub settle_seconds: u64,
}

fn one_of<T>(
    errors: &mut ConfigErrors,
    file: &Path,
    key: &str,
    options: [(&str, Option<T>); 2],
    required: bool,
) -> Option<T> {
    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
    let mut given: Vec<T> = options.into_iter().filter_map(|(_, v)| v).collect();
    match given.len() {
        1 => given.pop(),
        0 if !required => None,
        0 => {
            errors.push(
                file,
                key,
                format!("missing: set one of {}", names.join(", ")),
            );
            None
        }
        _ => {
            errors.push(file, key, format!("set only one of {}", names.join(", ")));
            None
        }
    }
}

/// Checks an HTTP source.
pub fn http(
    name: &str,
    raw: &RawHttpSource,
    base: &Path,
    file: &Path,
    errors: &mut ConfigErrors,
) -> Option<FetchPlan> {
    let key = format!("sources.{name}");
    let before = errors.len();
    if raw.urls.is_empty() {
        errors.push(file, format!("{key}.urls"), "give at least one URL");
    }
    let token_given = raw.bearer_token_env.is_some() || raw.bearer_token_file.is_some();
    for (i, u) in raw.urls.iter().enumerate() {
        let at = format!("{key}.urls[{i}]");
        // Named by its place only: the URL itself may hold the secret.
        match reqwest::Url::parse(u) {
            Ok(p) if !p.username().is_empty() || p.password().is_some() => errors.push(
                file,
                at,
                "holds a user name or password (user:password@host): such a URL would be logged and recorded; give the credential with bearer_token_env or bearer_token_file".to_string(),
            ),
            Ok(p) if p.scheme() == "https" => {}
            Ok(p) if p.scheme() == "http" => {
                // A token in the clear, except to this machine (a local proxy or test server).
                let local = p.host_str().is_some_and(|h| {
                    h == "localhost"
                        || h.trim_matches(['[', ']'])
                            .parse::<std::net::IpAddr>()
                            .is_ok_and(|ip| ip.is_loopback())
                });
                if token_given && !local {
                    errors.push(
                        file,
                        at,
                        "is plain http:// and the source sends a bearer token: it would travel in the clear; use https://".to_string(),
                    );
                }
            }
            _ => errors.push(
                file,
                at,
                format!(
                    "\"{}\" is not an http:// or https:// URL",
                    crate::pull::http::shown_url(u)
                ),
            ),
        }
    }
    for (name, value) in [
        ("connect_timeout_seconds", raw.connect_timeout_seconds),
        ("read_timeout_seconds", raw.read_timeout_seconds),
        ("download_timeout_seconds", raw.download_timeout_seconds),
        ("max_bytes", raw.max_bytes),
    ] {
        if value == Some(0) {
            errors.push(file, format!("{key}.{name}"), "must be 1 or more");
        }
    }
    for (u, h) in &raw.sha256 {
        if !raw.urls.contains(u) {
            errors.push(
                file,
                format!("{key}.sha256"),
                format!("\"{u}\" is not one of the source's urls"),
            );
        }
        if h.len() != 64 || !h.chars().all(|c| c.is_ascii_hexdigit()) {
            errors.push(
                file,
                format!("{key}.sha256"),
                format!("\"{h}\" is not a SHA-256 (64 hex characters)"),
            );
        }
    }
    let bearer_token = one_of(
        errors,
        file,
        &format!("{key}.bearer_token"),
        [
            (
                "bearer_token_env",
                raw.bearer_token_env.clone().map(Secret::Env),
            ),
            (
                "bearer_token_file",
                raw.bearer_token_file
                    .as_ref()
                    .map(|f| Secret::File(base.join(f))),
            ),
        ],
        false,
    );
    let max_concurrent = raw.max_concurrent.unwrap_or(4);
    if max_concurrent == 0 {
        errors.push(file, format!("{key}.max_concurrent"), "must be 1 or more");
    }
    (errors.len() == before).then(|| FetchPlan {
        source: name.to_string(),
        kind: Fetch::Http(HttpFetch {
            urls: raw.urls.clone(),
            sha256: raw
                .sha256
                .iter()
                .map(|(k, v)| (k.clone(), v.to_ascii_lowercase()))
                .collect(),
            bearer_token,
            connect_timeout_seconds: raw.connect_timeout_seconds.unwrap_or(10),
            read_timeout_seconds: raw.read_timeout_seconds.unwrap_or(30),
            download_timeout_seconds: raw.download_timeout_seconds.unwrap_or(3600),
            retries: raw.retries.unwrap_or(6),
            max_bytes: raw.max_bytes.unwrap_or(2 << 30),
            max_concurrent,
        }),
    })
}

/// Checks a MESH source.
pub fn mesh(
    name: &str,
    raw: &RawMeshSource,
    base: &Path,
    file: &Path,
    errors: &mut ConfigErrors,
) -> Option<FetchPlan> {
    let key = format!("sources.{name}");
    let before = errors.len();
    let url = one_of(
        errors,
        file,
        &format!("{key}.url"),
        [
            ("url", raw.url.clone().map(Setting::Literal)),
            ("url_env", raw.url_env.clone().map(Setting::Env)),
        ],
        true,
    );
    let mailbox = one_of(
        errors,
        file,
        &format!("{key}.mailbox"),
        [
            ("mailbox", raw.mailbox.clone().map(Setting::Literal)),
            ("mailbox_env", raw.mailbox_env.clone().map(Setting::Env)),
        ],
        true,
    );
    let password = one_of(
        errors,
        file,
        &format!("{key}.password"),
        [
            ("password_env", raw.password_env.clone().map(Secret::Env)),
            (
                "password_file",
                raw.password_file
                    .as_ref()
                    .map(|f| Secret::File(base.join(f))),
            ),
        ],
        true,
    );
    let shared_key = one_of(
        errors,
        file,
        &format!("{key}.shared_key"),
        [
            (
                "shared_key_env",
                raw.shared_key_env.clone().map(Secret::Env),
            ),
            (
                "shared_key_file",
                raw.shared_key_file
                    .as_ref()
                    .map(|f| Secret::File(base.join(f))),
            ),
        ],
        true,
    );
    if raw
        .inbox_page_size
        .is_some_and(|n| !(10..=5000).contains(&n))
    {
        errors.push(
            file,
            format!("{key}.inbox_page_size"),
            "must be between 10 and 5000 (the MESH API's limits)",
        );
    }
    // As HTTP's: 0 would time every call out at once.
    for (name, value) in [
        ("timeout_seconds", raw.timeout_seconds),
        ("deadline_seconds", raw.deadline_seconds),
    ] {
        if value == Some(0) {
            errors.push(file, format!("{key}.{name}"), "must be 1 or more");
        }
    }
    let client_identity = match (&raw.client_cert_file, &raw.client_key_file) {
        (Some(c), Some(k)) => Some((base.join(c), base.join(k))),
        (None, None) => None,
        _ => {
            errors.push(
                file,
                format!("{key}.client_cert_file"),
                "mutual TLS needs both client_cert_file and client_key_file",
            );
            None
        }
    };
    // MESH refuses a filter under two characters (`*` alone matches everything: leave
    // the filter out instead), at pull time, as a source failure.
    if let Some(f) = &raw.workflow_filter
        && f.trim_start_matches('!').trim_matches('*').chars().count() < 2
    {
        errors.push(
            file,
            format!("{key}.workflow_filter"),
            format!(
                "\"{f}\" names no workflow: MESH needs at least two characters besides ! and *, as in \"CLD_EXTRACT\", \"CLD*\" or \"!TEST*\"; leave it out to take every message"
            ),
        );
    }
    if errors.len() != before {
        return None;
    }
    Some(FetchPlan {
        source: name.to_string(),
        kind: Fetch::Mesh(MeshFetch {
            url: url?,
            mailbox: mailbox?,
            password: password?,
            shared_key: shared_key?,
            workflow_filter: raw.workflow_filter.clone(),
            client_identity,
            ca_file: raw.ca_file.as_ref().map(|f| base.join(f)),
            timeout_seconds: raw.timeout_seconds.unwrap_or(120),
            deadline_seconds: raw.deadline_seconds,
            inbox_page_size: raw.inbox_page_size.unwrap_or(500),
            retries: raw.retries.unwrap_or(6),
        }),
    })
}

/// Checks a file-drop source.
pub fn file_drop(name: &str, raw: &RawFileDropSource, base: &Path) -> FetchPlan {
    let folder = base.join(&raw.folder);
    FetchPlan {
        source: name.to_string(),
        kind: Fetch::FileDrop(FileDropFetch {
            processed_folder: raw
                .processed_folder
                .as_ref()
                .map(|p| base.join(p))
                .unwrap_or_else(|| folder.join("processed")),
            folder,
            pattern: raw.pattern.clone().unwrap_or_else(|| "*".to_string()),
            settle_seconds: raw.settle_seconds.unwrap_or(5),
        }),
    }
}

/// Every environment variable or secret file a fetched source names that is not there,
/// and every TLS file a MESH source names that is missing or unusable (no certificate in
/// it, an encrypted key: [`crate::pull::mesh::tls::tls_file_problems`]), as
/// configuration errors (exit 2: it will not appear by retrying, unlike an unreachable
/// server), checked before anything is fetched, and by `validate` as warnings.
pub fn missing_settings(plan: &super::Plan) -> ConfigErrors {
    let mut errors = ConfigErrors::default();
    let check_setting = |source: &str, key: &str, s: &Setting, errors: &mut ConfigErrors| {
        if let Setting::Env(var) = s
            && std::env::var(var).map_or(true, |v| v.is_empty())
        {
            errors.push(
                &plan.file,
                format!("sources.{source}.{key}_env"),
                format!("environment variable {var} is not set"),
            );
        }
    };
    let check_secret = |source: &str, key: &str, s: &Secret, errors: &mut ConfigErrors| match s {
        Secret::Env(var) if std::env::var(var).map_or(true, |v| v.is_empty()) => errors.push(
            &plan.file,
            format!("sources.{source}.{key}_env"),
            format!("environment variable {var} is not set"),
        ),
        Secret::File(path) if !path.is_file() => errors.push(
            &plan.file,
            format!("sources.{source}.{key}_file"),
            format!("no secret file {}", path.display()),
        ),
        _ => {}
    };
    for f in &plan.fetches {
        match &f.kind {
            Fetch::Mesh(m) => {
                check_setting(&f.source, "url", &m.url, &mut errors);
                check_setting(&f.source, "mailbox", &m.mailbox, &mut errors);
                check_secret(&f.source, "password", &m.password, &mut errors);
                check_secret(&f.source, "shared_key", &m.shared_key, &mut errors);
                for (key, problem) in crate::pull::mesh::tls::tls_file_problems(m) {
                    errors.push(&plan.file, format!("sources.{}.{key}", f.source), problem);
                }
            }
            Fetch::Http(h) => {
                if let Some(token) = &h.bearer_token {
                    check_secret(&f.source, "bearer_token", token, &mut errors);
                }
            }
            Fetch::FileDrop(_) => {}
        }
    }
    errors
}
