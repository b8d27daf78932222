//! The landing zone: fetched files, written once, durably, under names joinedup chooses.
//!
//! A file is streamed to `landing/<source>/.incoming-<uuid>`, fsynced, then renamed to
//! `<safe stem>__<sha256 prefix>.<ext>` and recorded in `landing/manifest.jsonl` (one JSON
//! object per line, fsynced) with its origin, SHA-256, size, time and original name. The
//! original name is only metadata: the landed name keeps only `[A-Za-z0-9._-]` from its
//! last path component, so no name (`../../etc/passwd`, `/abs`, NUL, 10 kB long) can choose
//! where a file is written. Content already landed for a source (same SHA-256) under the
//! same name is not landed again (nor a MESH message without a file name, or a URL's,
//! under any name); under another name a drop-folder file or a named MESH message is
//! another file, as in a local folder. A MESH message id already recorded is not
//! downloaded again. Because
//! the landed name is derived from the content, re-landing after a crash between the
//! rename and the manifest line overwrites the same file with the same bytes.
//!
//! Landed files are never changed, but they are superseded: a file republished at the
//! same URL, or dropped or sent again under the same name, replaces the earlier version
//! for ingest ([`current_files`]), as a local file rewritten in place does. Otherwise
//! every version would be read, and a night's error page would fail every later run.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Where a landed file came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// An HTTP(S) download.
    Http {
        /// The URL as shown (`http::shown_url`: no credentials, the query string left
        /// out: a pre-signed URL's signature is a secret).
        url: String,
        /// SHA-256 of the whole URL: a URL's versions are told apart from another's by
        /// it. Records made before it was kept held the whole URL in `url`, whose hash
        /// is the same.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url_sha256: Option<String>,
    },
    /// A MESH message.
    Mesh {
        /// The mailbox it was sent to.
        mailbox: String,
        /// Its message id.
        message_id: String,
        /// When MESH received it (its `mex-StatusTimestamp`), UTC, RFC 3339: of the
        /// versions of a file sent under one name, the one received last is current,
        /// whatever order they landed in ([`current_files`]). Records made before it was
        /// kept have none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        received_at: Option<String>,
    },
    /// A drop-folder file.
    FileDrop {
        /// Where it was picked up.
        path: String,
    },
}

/// One line of the landing manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LandingRecord {
    /// Source name.
    pub source: String,
    /// File name under `landing/<source>/`.
    pub file: String,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
    /// UTC time of landing, RFC 3339.
    pub landed_at: String,
    /// The name the sender gave, verbatim (metadata only).
    pub original_name: String,
    /// Where it came from.
    pub origin: Origin,
}

/// The outcome of landing one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Landed {
    /// Newly landed.
    New(LandingRecord),
    /// The same content was already landed for this source.
    AlreadyHad {
        /// Its SHA-256.
        sha256: String,
    },
}

#[derive(Debug, Default)]
struct Index {
    shas: HashSet<(String, String)>,
    messages: HashSet<(String, String)>,
}

/// Why [`LandingZone::commit_checked`] did not land a file: the source's bytes, or this
/// machine.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// The content is not the pinned one (the source's).
    #[error("SHA-256 {got} differs from the pinned {want}; not landed")]
    Mismatch {
        /// The content's SHA-256.
        got: String,
        /// The pinned one.
        want: String,
    },
    /// Syncing, renaming or recording failed (a full disk): this machine's failure.
    #[error("{}", crate::error::chain(.0))]
    Local(Error),
}

/// The landing zone of one data directory.
#[derive(Debug)]
pub struct LandingZone {
    root: PathBuf,
    index: Mutex<Index>,
}

/// A file being written into the landing zone, hashed as it is written.
pub struct Incoming {
    path: PathBuf,
    file: File,
    hasher: Sha256,
    bytes: u64,
    /// The error a write through [`Write`] met (a full disk), kept whole: a gzip decoder
    /// writing through it passes on only its message, which would read as the sender's
    /// fault ([`Incoming::take_write_error`]).
    write_error: Option<std::io::Error>,
    /// Removes the file if a signal stops the process mid-download.
    _guard: crate::interrupt::StagingGuard,
}

/// A download not committed (failed, abandoned at a deadline, or dropped with its task)
/// leaves nothing in the landing zone.
impl Drop for Incoming {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Write for Incoming {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Err(e) = self.put(buf) {
            let passed_on = std::io::Error::new(e.kind(), e.to_string());
            self.write_error = Some(e);
            return Err(passed_on);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Incoming {
    fn put(&mut self, data: &[u8]) -> std::io::Result<()> {
        crate::fault::io("landing_write")?;
        self.hasher.update(data);
        self.bytes += data.len() as u64;
        self.file.write_all(data)
    }

    /// Appends bytes.
    pub fn append(&mut self, data: &[u8]) -> Result<()> {
        self.put(data)
            .map_err(|e| Error::io("writing", &self.path, e))
    }

    /// The error the last failed write through [`Write`] met, as a failure of this
    /// machine (`writing <path>: No space left on device`), taken out.
    pub fn take_write_error(&mut self) -> Option<Error> {
        self.write_error
            .take()
            .map(|e| Error::io("writing", &self.path, e))
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.bytes
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// The SHA-256 of what was written so far, lower-case hex.
    pub fn sha256(&self) -> String {
        hex(&self.hasher.clone().finalize())
    }

    /// The MD5 of what was written, lower-case hex (read back from disk: only for a
    /// message whose sender declared one).
    pub fn md5_hex(&mut self) -> Result<String> {
        use md5::Digest as _;
        self.file
            .flush()
            .map_err(|e| Error::io("writing", &self.path, e))?;
        let mut f = File::open(&self.path).map_err(|e| Error::io("reading", &self.path, e))?;
        let mut h = md5::Md5::new();
        std::io::copy(&mut f, &mut h).map_err(|e| Error::io("reading", &self.path, e))?;
        Ok(hex(&h.finalize()))
    }

    /// Removes the partial file (a failed download); dropping it does the same.
    pub fn discard(self) {}

    /// A new scratch file beside this one, for a part of the download that may have to
    /// be fetched again (a MESH chunk).
    pub fn scratch(&self) -> Result<Scratch> {
        let path = self
            .path
            .with_file_name(format!(".incoming-{}.part", uuid::Uuid::new_v4().simple()));
        let mut options = OpenOptions::new();
        options.read(true).write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&path)
            .map_err(|e| Error::io("creating", &path, e))?;
        Ok(Scratch {
            _guard: crate::interrupt::StagingGuard::new(path.clone()),
            path,
            file,
        })
    }
}

/// A scratch file beside an [`Incoming`] one (`.incoming-<uuid>.part`, the owner's
/// only): a part of a download received whole before it is written on, so that a part
/// that fails half-way is fetched again from its start. Removed on drop, by a signal,
/// and after a crash by the next [`LandingZone::open`].
pub struct Scratch {
    path: PathBuf,
    file: File,
    _guard: crate::interrupt::StagingGuard,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Scratch {
    /// Empties it, to receive a part again.
    pub fn clear(&mut self) -> Result<()> {
        use std::io::Seek;
        self.file
            .set_len(0)
            .and_then(|_| self.file.rewind())
            .map_err(|e| Error::io("emptying", &self.path, e))
    }

    /// Appends bytes.
    pub fn append(&mut self, data: &[u8]) -> Result<()> {
        crate::fault::io("landing_write")
            .and_then(|_| self.file.write_all(data))
            .map_err(|e| Error::io("writing", &self.path, e))
    }

    /// Reads what was appended back from the start, in pieces handed to `piece`; a
    /// failure to read is given to `local` (this machine's).
    pub fn replay<E>(
        &mut self,
        mut piece: impl FnMut(&[u8]) -> std::result::Result<(), E>,
        local: impl Fn(Error) -> E,
    ) -> std::result::Result<(), E> {
        use std::io::Seek;
        self.file
            .rewind()
            .map_err(|e| local(Error::io("reading", &self.path, e)))?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match self.file.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(local(Error::io("reading", &self.path, e))),
            };
            piece(&buf[..n])?;
        }
    }
}

impl LandingZone {
    /// Opens (creating) `<out>/landing`, reading its manifest, with the data directory's
    /// lock held. A torn last line left by a crash is cut off, leftover `.incoming-*`
    /// files are removed, and the zone is made the owner's only (folders 0700, the
    /// manifest 0600).
    pub fn open(out: &Path) -> Result<Self> {
        let root = out.join("landing");
        std::fs::create_dir_all(&root).map_err(|e| Error::io("creating", &root, e))?;
        owner_only(&root, 0o700);
        let manifest = root.join("manifest.jsonl");
        owner_only(&manifest, 0o600);
        // What a killed pull was downloading: no other pull runs (the data directory's
        // lock is held), so every `.incoming-*` file is a leftover, raw data included; so
        // is a `.<name>.<uuid>.tmp` in the root (`http_state.json` being saved).
        for folder in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let name = folder.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.ends_with(".tmp") {
                let _ = std::fs::remove_file(folder.path());
                continue;
            }
            for entry in std::fs::read_dir(folder.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".incoming-")
                {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        let mut index = Index::default();
        if manifest.exists() {
            let mut text = String::new();
            File::open(&manifest)
                .and_then(|mut f| f.read_to_string(&mut text))
                .map_err(|e| Error::io("reading", &manifest, e))?;
            if !text.is_empty() && !text.ends_with('\n') {
                let keep = text.rfind('\n').map(|i| i + 1).unwrap_or(0);
                tracing::warn!(path = %manifest.display(), "cutting off a torn last line left by an interrupted pull");
                let f = OpenOptions::new()
                    .write(true)
                    .open(&manifest)
                    .map_err(|e| Error::io("opening", &manifest, e))?;
                f.set_len(keep as u64)
                    .map_err(|e| Error::io("truncating", &manifest, e))?;
                f.sync_all()
                    .map_err(|e| Error::io("syncing", &manifest, e))?;
                text.truncate(keep);
            }
            for (n, line) in text.lines().enumerate() {
                let r: LandingRecord =
                    serde_json::from_str(line).map_err(|e| Error::InputRejected {
                        location: crate::error::Location {
                            file: manifest.clone(),
                            line: Some(n as u64 + 1),
                            column: None,
                        },
                        message: format!("landing manifest line is not a landing record: {e}"),
                    })?;
                index.shas.insert((r.source.clone(), r.sha256.clone()));
                if let Origin::Mesh { message_id, .. } = &r.origin {
                    index
                        .messages
                        .insert((r.source.clone(), message_id.clone()));
                }
            }
        }
        Ok(LandingZone {
            root,
            index: Mutex::new(index),
        })
    }

    /// The folder a source's files land in.
    pub fn folder(&self, source: &str) -> PathBuf {
        self.root.join(source)
    }

    /// The landing root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// True when a MESH message of this source was already landed.
    pub fn has_message(&self, source: &str, message_id: &str) -> bool {
        self.index
            .lock()
            .map(|i| {
                i.messages
                    .contains(&(source.to_string(), message_id.to_string()))
            })
            .unwrap_or(false)
    }

    /// Starts a new incoming file for `source`.
    pub fn incoming(&self, source: &str) -> Result<Incoming> {
        let dir = self.folder(source);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
        owner_only(&dir, 0o700);
        let path = dir.join(format!(".incoming-{}", uuid::Uuid::new_v4().simple()));
        // Landed files hold raw identifiers: readable by the owner only, whatever the
        // umask (a drop file of mode 0600 landed as 0644).
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&path)
            .map_err(|e| Error::io("creating", &path, e))?;
        Ok(Incoming {
            _guard: crate::interrupt::StagingGuard::new(path.clone()),
            path,
            file,
            hasher: Sha256::new(),
            bytes: 0,
            write_error: None,
        })
    }

    /// Makes an incoming file durable and records it (or recognises its content).
    pub fn commit(
        &self,
        source: &str,
        incoming: Incoming,
        original_name: &str,
        origin: Origin,
    ) -> Result<Landed> {
        let mut incoming = incoming;
        incoming
            .file
            .sync_all()
            .map_err(|e| Error::io("syncing", &incoming.path, e))?;
        // Taken out: the file is renamed into place or removed below, not on drop.
        let path = std::mem::take(&mut incoming.path);
        let hasher = std::mem::take(&mut incoming.hasher);
        let bytes = incoming.bytes;
        drop(incoming);
        let sha256 = hex(&hasher.finalize());
        let mut index = self
            .index
            .lock()
            .map_err(|_| Error::Internal("landing index lock poisoned".into()))?;
        let key = (source.to_string(), sha256.clone());
        // Drop-folder files and MESH messages are files by name, as a local folder's are:
        // content seen before under another name (a council's resubmission reverting to
        // its first version as `-v3`) lands under the new name, so it becomes current (it
        // was not landed, and the version in between stayed in force). Both names are then
        // read, as in a local folder: the CLD rule keeps the latest submission, and
        // records repeated across files are named in a warning.
        let dir = self.folder(source);
        let existing = on_disk_name(&dir, &landed_name(original_name, &sha256));
        let new_name = existing.is_none() && origin.names_a_file(original_name);
        if index.shas.contains(&key) && !new_name {
            let _ = std::fs::remove_file(&path);
            // Content seen before under this name (a file put back as it was, a MESH
            // message re-sending an earlier version): recorded again, so it is the current
            // version once more. A MESH record also remembers the message id, so the
            // message is never downloaded again.
            let kept_as = match existing {
                Some(name) => name,
                // A URL's versions are the URL's, whatever names it gives them: a URL
                // going back to earlier bytes under a new name makes the file holding
                // them its current version again (it stayed on the version in between).
                None if matches!(origin, Origin::Http { .. }) => {
                    self.file_holding(source, &sha256)?.unwrap_or_default()
                }
                None => String::new(),
            };
            let file = kept_as.as_str();
            // A MESH record with no file still remembers the message id across pulls.
            if !file.is_empty() || matches!(origin, Origin::Mesh { .. }) {
                let record =
                    self.record(source, file, &sha256, bytes, original_name, origin.clone());
                self.append(&record, true)?;
            }
            if let Origin::Mesh { message_id, .. } = &origin {
                index
                    .messages
                    .insert((source.to_string(), message_id.clone()));
            }
            return Ok(Landed::AlreadyHad { sha256 });
        }
        let name = landed_name(original_name, &sha256);
        let dir = self.folder(source);
        let target = dir.join(&name);
        std::fs::rename(&path, &target).map_err(|e| Error::io("landing", &target, e))?;
        sync_dir(&dir);
        crate::fault::point("landing_before_manifest");
        let record = self.record(source, &name, &sha256, bytes, original_name, origin);
        self.append(&record, false)?;
        index.shas.insert(key);
        if let Origin::Mesh { message_id, .. } = &record.origin {
            index
                .messages
                .insert((source.to_string(), message_id.clone()));
        }
        Ok(Landed::New(record))
    }

    /// Like [`LandingZone::commit`], but a content whose SHA-256 differs from `expected`
    /// is discarded and reported, never landed.
    pub fn commit_checked(
        &self,
        source: &str,
        incoming: Incoming,
        original_name: &str,
        origin: Origin,
        expected: Option<&str>,
    ) -> std::result::Result<Landed, CommitError> {
        if let Some(want) = expected {
            let got = incoming.sha256();
            if got != want {
                incoming.discard();
                return Err(CommitError::Mismatch {
                    got,
                    want: want.to_string(),
                });
            }
        }
        self.commit(source, incoming, original_name, origin)
            .map_err(CommitError::Local)
    }

    fn record(
        &self,
        source: &str,
        file: &str,
        sha256: &str,
        bytes: u64,
        original_name: &str,
        origin: Origin,
    ) -> LandingRecord {
        LandingRecord {
            source: source.to_string(),
            file: file.to_string(),
            sha256: sha256.to_string(),
            bytes,
            landed_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            original_name: original_name.to_string(),
            origin,
        }
    }

    /// Appends one record durably. `duplicate` records (content already landed) name the
    /// file holding it, or none (a MESH message without a file name whose content is
    /// held under another: the record keeps its id).
    fn append(&self, record: &LandingRecord, duplicate: bool) -> Result<()> {
        let manifest = self.root.join("manifest.jsonl");
        let mut line = serde_json::to_string(record)
            .map_err(|e| Error::Internal(format!("landing record: {e}")))?;
        line.push('\n');
        // It names the files as sent (a name may hold an NHS number): the owner's only.
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options
            .open(&manifest)
            .map_err(|e| Error::io("opening", &manifest, e))?;
        crate::fault::io("landing_manifest")
            .and_then(|_| f.write_all(line.as_bytes()))
            .map_err(|e| Error::io("writing", &manifest, e))?;
        f.sync_data()
            .map_err(|e| Error::io("syncing", &manifest, e))?;
        if !duplicate {
            tracing::debug!(source = %record.source, file = %record.file, bytes = record.bytes, "landed");
        }
        Ok(())
    }

    /// Every record of the manifest.
    pub fn records(&self) -> Result<Vec<LandingRecord>> {
        read_records(&self.root)
    }

    /// The record of the current version of the file `record` is a version of, when it is
    /// another (`record` landed, but a version MESH received later is current); `None`
    /// when `record` is current.
    pub fn superseded_by(&self, record: &LandingRecord) -> Result<Option<LandingRecord>> {
        let records: Vec<LandingRecord> = read_records(&self.root)?
            .into_iter()
            .filter(|r| r.source == record.source && !r.file.is_empty())
            .collect();
        let key = version_of(record);
        Ok(current_versions(&records)
            .remove(&key)
            .filter(|current| current.file != record.file)
            .cloned())
    }
}

/// Restricts `path` to its owner (`mode`), best effort: the landing zone holds raw
/// extracts and the names they were sent under, whatever the umask or an older build left.
/// Sets `path`'s permission bits to `mode` (Unix), when it exists.
pub fn owner_only(path: &Path, mode: u32) {
    #[cfg(unix)]
    if path.exists() {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    }
}

/// A digest as lower-case hex.
fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn hex_sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

impl LandingZone {
    /// The landed file of `source` holding content `sha256`, if one is still there.
    fn file_holding(&self, source: &str, sha256: &str) -> Result<Option<String>> {
        Ok(read_records(&self.root)?
            .into_iter()
            .filter(|r| r.source == source && r.sha256 == sha256 && !r.file.is_empty())
            .map(|r| r.file)
            .find(|f| self.folder(source).join(f).is_file()))
    }
}

impl Origin {
    /// Whether `original_name`, the name a file came under, names a file of the sender's,
    /// so that bytes landed before under another name are another file: a drop-folder
    /// file's name and a MESH message's `mex-FileName`; not a MESH message without one
    /// (named after its id: a re-sent extract is the same content, not a second file),
    /// nor a URL's (its versions are the URL's).
    fn names_a_file(&self, original_name: &str) -> bool {
        match self {
            Origin::FileDrop { .. } => true,
            Origin::Mesh { message_id, .. } => original_name != format!("{message_id}.dat"),
            Origin::Http { .. } => false,
        }
    }
}

/// What makes two landed files versions of one file: the URL of a download; the name a
/// dropped file or a MESH message was sent under.
fn version_of(r: &LandingRecord) -> String {
    match &r.origin {
        Origin::Http { url, url_sha256 } => format!(
            "url {}",
            url_sha256
                .clone()
                .unwrap_or_else(|| hex_sha256(url.as_bytes()))
        ),
        // Names as Windows compares them (where extracts are made): `CLD_903.CSV` is a
        // new version of `cld_903.csv`, not a second file beside it.
        Origin::Mesh { .. } | Origin::FileDrop { .. } => {
            let name = r.original_name.rsplit(['/', '\\']).next().unwrap_or("");
            format!("name {}", name.to_lowercase())
        }
    }
}

/// When MESH received the message a record is of, if it was kept.
fn received_at(r: &LandingRecord) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    match &r.origin {
        Origin::Mesh {
            received_at: Some(t),
            ..
        } => chrono::DateTime::parse_from_rfc3339(t).ok(),
        _ => None,
    }
}

/// The current version of each file ([`version_of`]) among `records` (in landing order):
/// the one recorded last, except that a MESH message received by MESH before the current
/// version's message does not replace it, whatever order they landed in (a download that
/// failed and landed a night late; two versions listed out of order). When either has no
/// time (records made before times were kept), or both were received in the same second,
/// the order of landing decides.
fn current_versions<'a>(
    records: impl IntoIterator<Item = &'a LandingRecord>,
) -> std::collections::HashMap<String, &'a LandingRecord> {
    let mut latest: std::collections::HashMap<String, &LandingRecord> =
        std::collections::HashMap::new();
    for r in records {
        let key = version_of(r);
        let older = latest
            .get(&key)
            .and_then(|current| Some(received_at(r)? < received_at(current)?))
            .unwrap_or(false);
        if !older {
            latest.insert(key, r);
        }
    }
    latest
}

/// The landed files of `source` to ingest, in name order: of each file's versions
/// ([`version_of`]) the current one ([`current_versions`]: the one recorded last, or for
/// MESH the one MESH received last); files in the folder with no record yet (a crash
/// between landing and recording; the next pull records them) are kept. `pattern` is
/// matched against the name the file was sent under (its landed name when unrecorded).
/// Reads only: `explain` and `status` list inputs through a dry run.
pub fn current_files(out: &Path, source: &str, pattern: &str) -> Result<Vec<PathBuf>> {
    let root = out.join("landing");
    let folder = root.join(source);
    let records: Vec<LandingRecord> = read_records(&root)?
        .into_iter()
        .filter(|r| r.source == source && !r.file.is_empty())
        .collect();
    let latest = current_versions(&records);
    let current: HashSet<&str> = latest.values().map(|r| r.file.as_str()).collect();
    let recorded: std::collections::HashMap<&str, &LandingRecord> =
        records.iter().map(|r| (r.file.as_str(), r)).collect();
    let entries = std::fs::read_dir(&folder).map_err(|e| Error::SourceUnavailable {
        source_name: source.to_string(),
        message: if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "nothing has landed for it yet ({} does not exist): its pull found nothing to land (a drop-folder file still being written waits for the next run)",
                folder.display()
            )
        } else {
            format!("cannot open {}: {e}", folder.display())
        },
    })?;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') || !entry.path().is_file() {
            continue;
        }
        let sent_as = match recorded.get(name) {
            Some(_) if !current.contains(name) => continue,
            Some(r) => r.original_name.rsplit(['/', '\\']).next().unwrap_or(name),
            None => name,
        };
        if super::wildcard_match(pattern, sent_as) {
            files.push(entry.path());
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(Error::SourceUnavailable {
            source_name: source.to_string(),
            message: format!(
                "folder {} has no files matching \"{pattern}\"",
                folder.display()
            ),
        });
    }
    Ok(files)
}

/// The records of the landing manifest under `root`, read only (a torn last line, which
/// [`LandingZone::open`] cuts off, is skipped).
fn read_records(root: &Path) -> Result<Vec<LandingRecord>> {
    let manifest = root.join("manifest.jsonl");
    let text = match std::fs::read_to_string(&manifest) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("reading", &manifest, e)),
    };
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

/// The name under which `dir` holds the landed file `name`, if it does: `name`, or on a
/// file system that ignores letter case (macOS, Windows) the spelling on disk, which the
/// record must carry (listing the folder gives that spelling, and a record naming
/// another would leave the file out of the inputs).
fn on_disk_name(dir: &Path, name: &str) -> Option<String> {
    if !dir.join(name).is_file() {
        return None;
    }
    let entries = std::fs::read_dir(dir).ok()?;
    let mut folded = None;
    for e in entries.flatten() {
        let Ok(on_disk) = e.file_name().into_string() else {
            continue;
        };
        if on_disk == name {
            return Some(on_disk);
        }
        if on_disk.eq_ignore_ascii_case(name) {
            folded = Some(on_disk);
        }
    }
    folded.or_else(|| Some(name.to_string()))
}

/// Writes `bytes` to `path` atomically, the owner's only (a landing zone file naming
/// URLs or files: `http_state.json`): to `.<name>.<uuid>.tmp` beside it, created 0600,
/// fsynced, renamed into place. A step that fails (a full disk) removes the temporary
/// file; one a crash leaves is removed by the next [`LandingZone::open`].
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        uuid::Uuid::new_v4().simple()
    ));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(&tmp)
        .map_err(|e| Error::io("creating", &tmp, e))?;
    let written = crate::fault::io("landing_state_write")
        .and_then(|_| f.write_all(bytes))
        .map_err(|e| Error::io("writing", &tmp, e))
        .and_then(|_| f.sync_all().map_err(|e| Error::io("syncing", &tmp, e)))
        .and_then(|_| std::fs::rename(&tmp, path).map_err(|e| Error::io("renaming into", path, e)));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    // An older build's file, made under the umask.
    owner_only(path, 0o600);
    sync_dir(dir);
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

/// The landed name: a safe stem and extension from the original name's last component
/// without any NHS-number shape (a file named after its patient: the landed name reaches
/// `source_file`, the manifest and logs; the hash keeps files apart), and the first 12
/// hex digits of the SHA-256.
pub fn landed_name(original: &str, sha256: &str) -> String {
    let last = original.rsplit(['/', '\\']).next().unwrap_or("");
    let last = crate::ingest::quarantine::withhold_in_name(last);
    let safe: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim_start_matches(['.', '-']);
    let (stem, ext) = match safe.rsplit_once('.') {
        Some((s, e))
            if !s.is_empty()
                && !e.is_empty()
                && e.len() <= 10
                && e.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            (s, Some(e))
        }
        _ => (safe, None),
    };
    let stem: String = stem.chars().take(80).collect();
    let stem = if stem.trim_matches(['.', '_']).is_empty() {
        "file".to_string()
    } else {
        stem
    };
    let hash = &sha256[..12.min(sha256.len())];
    match ext {
        Some(e) => format!("{stem}__{hash}.{}", e.to_ascii_lowercase()),
        None => format!("{stem}__{hash}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn hostile_names_cannot_choose_the_path() {
        assert_eq!(
            landed_name("cld_902_2026Q3.csv", SHA),
            "cld_902_2026Q3__0123456789ab.csv"
        );
        assert_eq!(landed_name("../../etc/passwd", SHA), "passwd__0123456789ab");
        assert_eq!(landed_name("/etc/shadow", SHA), "shadow__0123456789ab");
        assert_eq!(
            landed_name("..\\..\\windows\\system.ini", SHA),
            "system__0123456789ab.ini"
        );
        assert_eq!(landed_name("..", SHA), "file__0123456789ab");
        assert_eq!(landed_name("", SHA), "file__0123456789ab");
        assert_eq!(landed_name("a\0b.csv", SHA), "a_b__0123456789ab.csv");
        assert_eq!(landed_name(".bashrc", SHA), "bashrc__0123456789ab");
        // Regression: a spaced NHS number became `943_476_5919` and reached source_file,
        // the manifest and logs unmasked.
        assert_eq!(
            landed_name("apc 943 476 5919.csv", SHA),
            "apc__withheld___0123456789ab.csv"
        );
        assert_eq!(
            landed_name("apc_9434765919.csv", SHA),
            "apc__withheld___0123456789ab.csv"
        );
        assert_eq!(
            landed_name("extract 2026 (v2).CSV", SHA),
            "extract_2026__v2___0123456789ab.csv"
        );
        let long = "x".repeat(10_000) + ".csv";
        assert_eq!(landed_name(&long, SHA).len(), 80 + 2 + 12 + 4);
        for n in ["../../etc/passwd", "/etc/shadow", "..", "a/../../b"] {
            let name = landed_name(n, SHA);
            assert!(
                !name.contains('/') && !name.contains('\\') && !name.starts_with('.'),
                "{name}"
            );
        }
    }

    /// Regression (review): a name holding an NHS number under two spaces, or under the
    /// escapes of a drop-folder name that is not UTF-8 (`%A0`), landed with it: the
    /// escapes became `_A0`, whose hex digits hid the number from every later mask. The
    /// name is masked before it is made safe; a number failing Modulus 11
    /// (`999 244 9634`) is not an NHS number and stays, as in any file name.
    #[test]
    fn regression_landed_names_lose_nhs_numbers_under_any_short_run_of_separators() {
        for name in [
            "apc_999  395  3768.csv",
            "apc_999%A0893%A04850.csv",
            "apc_999%96819%963036.csv",
            // A URL's `%A0`, decoded as UTF-8.
            "apc_999\u{FFFD}893\u{FFFD}4850.csv",
            "apc_9-9-9-3-0-5-6-4-1-3.csv",
        ] {
            assert_eq!(
                landed_name(name, SHA),
                "apc__withheld___0123456789ab.csv",
                "{name}"
            );
        }
        assert_eq!(
            landed_name("apc_999 244 9634.csv", SHA),
            "apc_999_244_9634__0123456789ab.csv"
        );
        // The hash's digits are not read as part of a number before it (9993 95 3768).
        let sha = "3768abcdef12".to_string() + &SHA[12..];
        let landed = landed_name("cld_9993 95.csv", &sha);
        assert_eq!(landed, "cld_9993_95__3768abcdef12.csv");
        assert_eq!(crate::ingest::quarantine::mask_file_name(&landed), landed);
    }

    #[test]
    fn same_content_lands_once_and_message_ids_are_remembered() {
        let out = tempfile::tempdir().unwrap();
        let zone = LandingZone::open(out.path()).unwrap();
        let mut a = zone.incoming("cld").unwrap();
        a.append(b"hello").unwrap();
        let origin = Origin::Mesh {
            mailbox: "X26ABC2".into(),
            message_id: "M1".into(),
            received_at: None,
        };
        let Landed::New(r) = zone.commit("cld", a, "../../x.csv", origin).unwrap() else {
            panic!()
        };
        assert_eq!(r.file, format!("x__{}.csv", &r.sha256[..12]));
        assert!(zone.folder("cld").join(&r.file).exists());
        // Regression: landed files followed the umask (0644), raw NHS numbers and all.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(zone.folder("cld").join(&r.file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let mut b = zone.incoming("cld").unwrap();
        b.append(b"hello").unwrap();
        let origin2 = Origin::Mesh {
            mailbox: "X26ABC2".into(),
            message_id: "M2".into(),
            received_at: None,
        };
        assert!(matches!(
            zone.commit("cld", b, "x.csv", origin2).unwrap(),
            Landed::AlreadyHad { .. }
        ));
        // Reopened, the zone still knows both messages and the content.
        let zone = LandingZone::open(out.path()).unwrap();
        assert!(zone.has_message("cld", "M1") && zone.has_message("cld", "M2"));
        let files: Vec<_> = std::fs::read_dir(zone.folder("cld")).unwrap().collect();
        assert_eq!(files.len(), 1);
        // Regression (review): the same bytes under another name are another file, as in
        // a local folder (a resubmission reverting to its first version as `-v3` was not
        // landed, so the version in between stayed in force).
        let mut c = zone.incoming("cld").unwrap();
        c.append(b"hello").unwrap();
        let origin3 = Origin::Mesh {
            mailbox: "X26ABC2".into(),
            message_id: "M3".into(),
            received_at: None,
        };
        assert!(matches!(
            zone.commit("cld", c, "y.csv", origin3).unwrap(),
            Landed::New(_)
        ));
        assert_eq!(
            names(&current_files(out.path(), "cld", "*").unwrap()).len(),
            2
        );
        // Regression (review): a message without a file name is named after its id, so
        // every re-send of an extract was a new name, landed and read again.
        let mut d = zone.incoming("cld").unwrap();
        d.append(b"hello").unwrap();
        let origin4 = Origin::Mesh {
            mailbox: "X26ABC2".into(),
            message_id: "M4".into(),
            received_at: None,
        };
        assert!(matches!(
            zone.commit("cld", d, "M4.dat", origin4).unwrap(),
            Landed::AlreadyHad { .. }
        ));
        assert_eq!(
            names(&current_files(out.path(), "cld", "*").unwrap()).len(),
            2
        );
        assert!(
            LandingZone::open(out.path())
                .unwrap()
                .has_message("cld", "M4")
        );
    }

    #[test]
    fn a_torn_manifest_line_is_cut_off() {
        let out = tempfile::tempdir().unwrap();
        let zone = LandingZone::open(out.path()).unwrap();
        let mut a = zone.incoming("s").unwrap();
        a.append(b"x").unwrap();
        zone.commit(
            "s",
            a,
            "a.csv",
            Origin::Http {
                url: "http://h/a.csv".into(),
                url_sha256: None,
            },
        )
        .unwrap();
        let manifest = out.path().join("landing/manifest.jsonl");
        let mut f = OpenOptions::new().append(true).open(&manifest).unwrap();
        f.write_all(b"{\"source\":\"s\",\"fi").unwrap();
        let zone = LandingZone::open(out.path()).unwrap();
        assert_eq!(zone.records().unwrap().len(), 1);
        assert!(std::fs::read_to_string(&manifest).unwrap().ends_with('\n'));
    }

    fn land(zone: &LandingZone, source: &str, bytes: &[u8], name: &str, origin: Origin) {
        let mut a = zone.incoming(source).unwrap();
        a.append(bytes).unwrap();
        zone.commit(source, a, name, origin).unwrap();
    }

    fn names(files: &[PathBuf]) -> Vec<String> {
        files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn regression_a_file_republished_at_its_url_replaces_the_earlier_version() {
        // Every landed version was ingested: a changed file at the same URL doubled the
        // rows, and a night's error page failed every later run.
        let out = tempfile::tempdir().unwrap();
        let zone = LandingZone::open(out.path()).unwrap();
        let url = |u: &str| Origin::Http {
            url: u.into(),
            url_sha256: None,
        };
        land(&zone, "apc", b"v1", "apc.csv", url("http://h/apc.csv"));
        land(&zone, "apc", b"other", "ae.csv", url("http://h/ae.csv"));
        land(
            &zone,
            "apc",
            b"<html>session expired",
            "apc.csv",
            url("http://h/apc.csv"),
        );
        let files = current_files(out.path(), "apc", "*").unwrap();
        assert_eq!(files.len(), 2);
        assert!(std::fs::read(&files[1]).unwrap().starts_with(b"<html>"));
        // The good file is back, with the bytes it had: it is current again.
        land(&zone, "apc", b"v1", "apc.csv", url("http://h/apc.csv"));
        let files = current_files(out.path(), "apc", "*").unwrap();
        let contents: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
        assert_eq!(contents, [b"other".to_vec(), b"v1".to_vec()]);
        // Nothing landed was changed or removed.
        assert_eq!(std::fs::read_dir(zone.folder("apc")).unwrap().count(), 3);
    }

    #[test]
    fn files_sent_again_under_their_name_replace_and_patterns_see_the_name_sent() {
        let out = tempfile::tempdir().unwrap();
        let zone = LandingZone::open(out.path()).unwrap();
        let drop = |p: &str| Origin::FileDrop { path: p.into() };
        let mesh = |id: &str| Origin::Mesh {
            mailbox: "X26ABC1".into(),
            message_id: id.into(),
            received_at: None,
        };
        land(
            &zone,
            "cld",
            b"q3",
            "cld 902 Q3.CSV",
            drop("/in/cld 902 Q3.CSV"),
        );
        land(
            &zone,
            "cld",
            b"q3 resubmitted",
            "cld 902 Q3.CSV",
            drop("/in/cld 902 Q3.CSV"),
        );
        land(&zone, "cld", b"m1", "cld_903.csv", mesh("M1"));
        land(&zone, "cld", b"m2", "cld_904.csv", mesh("M2"));
        let files = current_files(out.path(), "cld", "*").unwrap();
        let contents: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
        assert_eq!(
            contents,
            [b"q3 resubmitted".to_vec(), b"m1".to_vec(), b"m2".to_vec()]
        );
        // Regression: the pattern was matched against the landed name
        // (cld_902_Q3__<sha>.csv), not the name the file was sent under.
        let sent = current_files(out.path(), "cld", "cld 902 *.CSV").unwrap();
        assert_eq!(names(&sent).len(), 1);
        assert!(names(&sent)[0].starts_with("cld_902_Q3__"));
        assert!(current_files(out.path(), "cld", "*.xlsx").is_err());
    }

    /// Regression (review): a council's resubmission reverting to its first version under
    /// a new name (`-v3` holding `v1`'s bytes) was not landed from a drop folder (content
    /// seen before), so `-v2` stayed in force; now it lands under its name and every name
    /// is current, as in a local folder (the CLD rule then keeps `-v3`), also after the
    /// first version is sent again as it was.
    #[test]
    fn a_drop_file_sent_again_under_a_new_name_is_current_under_that_name() {
        let out = tempfile::tempdir().unwrap();
        let zone = LandingZone::open(out.path()).unwrap();
        let drop = |p: &str| Origin::FileDrop { path: p.into() };
        land(&zone, "cld", b"v1", "cld_902.csv", drop("/in/cld_902.csv"));
        land(
            &zone,
            "cld",
            b"v2",
            "cld_902-v2.csv",
            drop("/in/cld_902-v2.csv"),
        );
        land(
            &zone,
            "cld",
            b"v1",
            "cld_902-v3.csv",
            drop("/in/cld_902-v3.csv"),
        );
        land(&zone, "cld", b"v1", "cld_902.csv", drop("/in/cld_902.csv"));
        let files = current_files(out.path(), "cld", "*").unwrap();
        let got: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|f| {
                let name = f.file_name().unwrap().to_string_lossy();
                (
                    name[..name.find("__").unwrap()].to_string(),
                    std::fs::read(f).unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("cld_902-v2".to_string(), b"v2".to_vec()),
                ("cld_902-v3".to_string(), b"v1".to_vec()),
                ("cld_902".to_string(), b"v1".to_vec()),
            ]
        );
    }

    #[test]
    fn the_on_disk_spelling_of_a_landed_file_is_the_one_recorded() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cld_903__abc.csv"), "x").unwrap();
        assert_eq!(
            on_disk_name(dir.path(), "cld_903__abc.csv").as_deref(),
            Some("cld_903__abc.csv")
        );
        assert_eq!(on_disk_name(dir.path(), "cld_904__abc.csv"), None);
    }

    /// Regression (review): a drop file sent again under its name in other letter case
    /// (`CLD_903.CSV` after `cld_903.csv`, one name on Windows) was a second file beside
    /// the first, whose rows stayed published.
    #[test]
    fn a_drop_file_sent_again_in_other_letter_case_replaces_the_first() {
        let out = tempfile::tempdir().unwrap();
        let zone = LandingZone::open(out.path()).unwrap();
        let drop = |p: &str| Origin::FileDrop { path: p.into() };
        land(
            &zone,
            "cld",
            b"first",
            "cld_903.csv",
            drop("/in/cld_903.csv"),
        );
        land(
            &zone,
            "cld",
            b"second",
            "CLD_903.CSV",
            drop("/in/CLD_903.CSV"),
        );
        let files = current_files(out.path(), "cld", "*").unwrap();
        let contents: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
        assert_eq!(contents, [b"second".to_vec()]);
    }

    /// Regression (review): a MESH message re-sending an earlier version of a file under
    /// its name was only remembered by id, so the version in between stayed current and
    /// was ingested.
    #[test]
    fn a_mesh_message_re_sending_an_earlier_version_makes_it_current_again() {
        let out = tempfile::tempdir().unwrap();
        let zone = LandingZone::open(out.path()).unwrap();
        let mesh = |id: &str| Origin::Mesh {
            mailbox: "X26ABC1".into(),
            message_id: id.into(),
            received_at: None,
        };
        land(&zone, "cld", b"v1", "cld_901.csv", mesh("M1"));
        land(&zone, "cld", b"v2", "cld_901.csv", mesh("M2"));
        land(&zone, "cld", b"v1", "cld_901.csv", mesh("M3"));
        let files = current_files(out.path(), "cld", "*").unwrap();
        let contents: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
        assert_eq!(contents, [b"v1".to_vec()]);
        // Every message id is remembered, the re-sent one included.
        let zone = LandingZone::open(out.path()).unwrap();
        for id in ["M1", "M2", "M3"] {
            assert!(zone.has_message("cld", id), "{id}");
        }
    }

    /// Regression (review): which version of a MESH file was current was decided by the
    /// order they landed: v1 failing to download (503) one night landed after v2 the
    /// next, and the run ingested v1 (older) and dropped v2, with no warning. The version
    /// MESH received last is current, whatever order they land in.
    #[test]
    fn regression_the_version_mesh_received_last_is_current_whatever_order_it_landed_in() {
        let out = tempfile::tempdir().unwrap();
        let zone = LandingZone::open(out.path()).unwrap();
        let mesh = |id: &str, at: Option<&str>| Origin::Mesh {
            mailbox: "X26ABC2".into(),
            message_id: id.into(),
            received_at: at.map(String::from),
        };
        let current = || -> Vec<Vec<u8>> {
            current_files(out.path(), "cld", "*")
                .unwrap()
                .iter()
                .map(|f| std::fs::read(f).unwrap())
                .collect()
        };
        // v2 (received 11:00) lands first, v1 (received 10:00) the night after.
        land(
            &zone,
            "cld",
            b"v2",
            "cld_901.csv",
            mesh("M2", Some("2026-08-01T11:00:00Z")),
        );
        land(
            &zone,
            "cld",
            b"v1",
            "cld_901.csv",
            mesh("M1", Some("2026-08-01T10:00:00Z")),
        );
        assert_eq!(current(), [b"v2".to_vec()]);
        let v1 = zone
            .records()
            .unwrap()
            .into_iter()
            .find(|r| matches!(&r.origin, Origin::Mesh { message_id, .. } if message_id == "M1"))
            .unwrap();
        let newer = zone.superseded_by(&v1).unwrap().unwrap();
        assert_eq!(newer.sha256, hex_sha256(b"v2"));
        // Letter case aside, as names are compared.
        land(
            &zone,
            "cld",
            b"v3",
            "CLD_901.CSV",
            mesh("M3", Some("2026-08-02T09:00:00Z")),
        );
        assert_eq!(current(), [b"v3".to_vec()]);
        // v2 sent again (a new message, received later still): current once more.
        land(
            &zone,
            "cld",
            b"v2",
            "cld_901.csv",
            mesh("M4", Some("2026-08-03T09:00:00Z")),
        );
        assert_eq!(current(), [b"v2".to_vec()]);
        // Received in the same second: the order of landing decides.
        land(
            &zone,
            "cld",
            b"v5",
            "cld_901.csv",
            mesh("M5", Some("2026-08-03T09:00:00Z")),
        );
        assert_eq!(current(), [b"v5".to_vec()]);
        // No time (a server that gave none): the order of landing decides.
        land(&zone, "cld", b"v6", "cld_901.csv", mesh("M6", None));
        assert_eq!(current(), [b"v6".to_vec()]);
        assert_eq!(
            zone.superseded_by(&v1).unwrap().unwrap().sha256,
            hex_sha256(b"v6")
        );
    }

    /// Landing manifests written before MESH receipt times were kept are read as they
    /// are: their versions in landing order, as before.
    #[test]
    fn a_landing_manifest_without_receipt_times_is_still_read() {
        let out = tempfile::tempdir().unwrap();
        let zone = LandingZone::open(out.path()).unwrap();
        // As an older build wrote them: no `received_at`.
        let mut lines = String::new();
        for (id, bytes) in [("M1", b"v1"), ("M2", b"v2")] {
            let mut a = zone.incoming("cld").unwrap();
            a.append(bytes).unwrap();
            let sha = a.sha256();
            let name = landed_name("cld_901.csv", &sha);
            let path = a.path.clone();
            std::mem::forget(a);
            std::fs::rename(&path, zone.folder("cld").join(&name)).unwrap();
            lines.push_str(&format!(
                "{{\"source\":\"cld\",\"file\":\"{name}\",\"sha256\":\"{sha}\",\"bytes\":2,\"landed_at\":\"2026-08-01T10:00:00.000Z\",\"original_name\":\"cld_901.csv\",\"origin\":{{\"kind\":\"mesh\",\"mailbox\":\"X26ABC2\",\"message_id\":\"{id}\"}}}}\n"
            ));
        }
        drop(zone);
        std::fs::write(out.path().join("landing/manifest.jsonl"), lines).unwrap();
        let zone = LandingZone::open(out.path()).unwrap();
        assert!(zone.has_message("cld", "M1") && zone.has_message("cld", "M2"));
        let records = zone.records().unwrap();
        assert_eq!(records.len(), 2);
        assert!(matches!(
            &records[0].origin,
            Origin::Mesh {
                received_at: None,
                ..
            }
        ));
        let files = current_files(out.path(), "cld", "*").unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(std::fs::read(&files[0]).unwrap(), b"v2");
        // A record written now names the time, and only when there is one.
        let r = zone.record(
            "cld",
            "f",
            "s",
            1,
            "n",
            Origin::Mesh {
                mailbox: "X".into(),
                message_id: "M".into(),
                received_at: None,
            },
        );
        assert!(!serde_json::to_string(&r).unwrap().contains("received_at"));
    }

    /// Regression (review): a download a SIGKILL interrupted stayed as `.incoming-…`
    /// (raw data) for a day; the landing manifest, naming files as sent, was 0644.
    /// Regression (review): saving `http_state.json` on a full disk left
    /// `.http_state.json.<uuid>.tmp` (0644, naming every URL) in the landing root for
    /// good. A failed save removes it, one a crash left is removed on open, and the file
    /// is written 0600 from the start.
    #[test]
    fn regression_a_stray_state_temp_file_is_removed_and_state_is_written_owner_only() {
        let out = tempfile::tempdir().unwrap();
        let root = out.path().join("landing");
        std::fs::create_dir_all(&root).unwrap();
        let stray = root.join(".http_state.json.0123abcd.tmp");
        std::fs::write(&stray, "{}").unwrap();
        std::fs::write(root.join("keep.tmp"), "not ours").unwrap();
        let zone = LandingZone::open(out.path()).unwrap();
        assert!(!stray.exists());
        assert!(root.join("keep.tmp").exists());
        let state = zone.root().join("http_state.json");
        write_private(&state, b"{\"a\": 1}").unwrap();
        assert_eq!(std::fs::read(&state).unwrap(), b"{\"a\": 1}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&state).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let names: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert_eq!(names, ["keep.tmp"]);
    }

    #[test]
    fn reopening_removes_leftover_downloads_and_the_zone_is_the_owner_s_only() {
        use std::os::unix::fs::PermissionsExt;
        let out = tempfile::tempdir().unwrap();
        let zone = LandingZone::open(out.path()).unwrap();
        land(
            &zone,
            "cld",
            b"v1",
            "cld_901.csv",
            Origin::FileDrop {
                path: "/in/a".into(),
            },
        );
        let left = zone.incoming("cld").unwrap();
        let path = left.path.clone();
        // A SIGKILL runs no destructor: the file stays.
        std::mem::forget(left);
        assert!(path.exists());
        let root = out.path().join("landing");
        std::fs::set_permissions(
            root.join("manifest.jsonl"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let _zone = LandingZone::open(out.path()).unwrap();
        assert!(!path.exists(), "the leftover download is removed");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root.join("manifest.jsonl")), 0o600);
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&root.join("cld")), 0o700);
    }

    #[test]
    fn listing_the_current_files_writes_nothing() {
        // `explain` and `status` list inputs through a dry run: no landing folder made,
        // no torn manifest line cut off.
        let out = tempfile::tempdir().unwrap();
        assert!(current_files(out.path(), "apc", "*").is_err());
        assert!(!out.path().join("landing").exists());
        let zone = LandingZone::open(out.path()).unwrap();
        land(
            &zone,
            "apc",
            b"v1",
            "apc.csv",
            Origin::Http {
                url: "http://h/a".into(),
                url_sha256: None,
            },
        );
        let manifest = out.path().join("landing/manifest.jsonl");
        let mut f = OpenOptions::new().append(true).open(&manifest).unwrap();
        f.write_all(b"{\"source\":\"apc\",\"fi").unwrap();
        let before = std::fs::read(&manifest).unwrap();
        assert_eq!(current_files(out.path(), "apc", "*").unwrap().len(), 1);
        assert_eq!(std::fs::read(&manifest).unwrap(), before);
    }
}
