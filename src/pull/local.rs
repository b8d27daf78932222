//! Local file and folder sources.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::folder_entry::{self, Entry};
use crate::error::{Error, Result};

/// One input file, fingerprinted.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct InputFile {
    /// Path as resolved.
    pub path: PathBuf,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// What the file system said of the file when it was hashed, to tell whether the file
    /// read later is still the file hashed ([`InputFile::changed_since_hashed`]). Not
    /// kept across runs, and not part of the file's identity.
    #[serde(skip)]
    pub stamp: Option<FileStamp>,
}

impl PartialEq for InputFile {
    fn eq(&self, other: &Self) -> bool {
        (&self.path, self.bytes, &self.sha256) == (&other.path, other.bytes, &other.sha256)
    }
}

impl Eq for InputFile {}

/// A file's size, modification time and inode: a file rewritten in place or replaced by
/// a rename changes at least one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

impl FileStamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        FileStamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode,
        }
    }
}

impl InputFile {
    /// Why the file at `path` is not the file hashed, if it is not: changed, replaced or
    /// removed since. A run that read it must not keep what it read under the earlier
    /// hash (the state and the ingest cache would take the rows for that content, and the
    /// next run would find nothing changed).
    pub fn changed_since_hashed(&self) -> Option<String> {
        let stamp = self.stamp.as_ref()?;
        match std::fs::metadata(&self.path) {
            Ok(meta) if FileStamp::of(&meta) == *stamp => None,
            Ok(_) => Some("changed while the run was reading it".into()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Some("was removed while the run was reading it".into())
            }
            Err(e) => Some(format!("cannot be checked after reading: {e}")),
        }
    }
}

/// Lists the files of a source (one file, or the folder's files matching `pattern`, in
/// name order) and fingerprints each.
pub fn list_inputs(source: &str, path: &Path, pattern: &str) -> Result<Vec<InputFile>> {
    list_paths(source, path, pattern)?
        .iter()
        .map(|p| fingerprint_input(source, p))
        .collect()
}

/// The size and SHA-256 of one input file of `source`.
pub fn fingerprint_input(source: &str, path: &Path) -> Result<InputFile> {
    fingerprint(path).map_err(|e| Error::SourceUnavailable {
        source_name: source.to_string(),
        message: format!(
            "cannot read {}: {e}",
            crate::ingest::quarantine::shown_path(path)
        ),
    })
}

/// The files of a source (one file, or the folder's files matching `pattern`, in name
/// order), not yet read; links leaving the folder not followed.
pub fn list_paths(source: &str, path: &Path, pattern: &str) -> Result<Vec<PathBuf>> {
    list_paths_with(source, path, pattern, false).map(|(paths, _)| paths)
}

/// [`list_paths`], following symbolic links out of the folder when
/// `follow_links_outside`, and with the entries the pattern matches but that are not read
/// ([`folder_entry`]; `app::inputs::refused_entries` warns of them).
pub fn list_paths_with(
    source: &str,
    path: &Path,
    pattern: &str,
    follow_links_outside: bool,
) -> Result<(Vec<PathBuf>, Vec<Refused>)> {
    let unavailable = |message: String| Error::SourceUnavailable {
        source_name: source.to_string(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| {
        unavailable(format!(
            "cannot open {}: {e}",
            crate::ingest::quarantine::shown_path(path)
        ))
    })?;
    let mut paths = Vec::new();
    let mut refused = Vec::new();
    if meta.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|e| {
            unavailable(format!(
                "cannot list {}: {e}",
                crate::ingest::quarantine::shown_path(path)
            ))
        })?;
        let folder = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        for entry in entries {
            let entry = entry.map_err(|e| {
                unavailable(format!(
                    "cannot list {}: {e}",
                    crate::ingest::quarantine::shown_path(path)
                ))
            })?;
            match folder_entry::classify(&folder, &entry, pattern, follow_links_outside) {
                Entry::Read(p) => paths.push(p),
                Entry::Skip => {}
                Entry::Refused { shown, why, broken } => {
                    refused.push(Refused { shown, why, broken });
                }
            }
        }
        paths.sort();
        refused.sort_by(|a, b| a.shown.cmp(&b.shown));
        if paths.is_empty() {
            let besides = match refused.first() {
                Some(r) => format!(" it can read ({} matches but {})", r.shown, r.why),
                None => String::new(),
            };
            return Err(unavailable(format!(
                "folder {} has no files matching \"{pattern}\"{besides}",
                crate::ingest::quarantine::shown_path(path)
            )));
        }
    } else if meta.is_file() {
        paths.push(path.to_path_buf());
    } else {
        // A FIFO or a device (`/dev/zero`) would hang the run or never end.
        return Err(unavailable(format!(
            "{} is not a file or a folder (a named pipe or a device): not read",
            crate::ingest::quarantine::shown_path(path)
        )));
    }
    Ok((paths, refused))
}

/// An entry of a source's folder its pattern matches but that is not read
/// ([`folder_entry::Entry::Refused`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The entry as shown.
    pub shown: String,
    /// Why it is not read.
    pub why: String,
    /// A symbolic link whose target cannot be reached.
    pub broken: bool,
}

/// The files of folder `path` that none of `patterns` matches (hidden files and Excel's
/// lock files aside), names as the file system has them (lossy where not UTF-8), in
/// name order: what a source reading the folder leaves unread. Empty for a file or a
/// folder that cannot be listed.
pub fn unmatched(path: &Path, patterns: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_file())
        .filter_map(|e| {
            // A name that is not UTF-8 is matched and shown with its other bytes as
            // `%XX`, as a source's listing matches it (it was said to match no pattern).
            let os_name = e.file_name();
            let (shown, _) = super::file_drop::shown_name(&os_name);
            let n = super::file_drop::matched_name(&shown, &os_name);
            if is_hidden_or_lock(&n) || patterns.iter().any(|p| wildcard_match(p, &n)) {
                None
            } else {
                Some(shown)
            }
        })
        .collect();
    names.sort();
    names
}

/// Hidden files (`.name`), and the owner files Excel and other Office programs leave
/// beside a document while it is open (`~$name.xlsx`): a few bytes naming the user, not
/// data, and gone once the document is closed.
pub(crate) fn is_hidden_or_lock(name: &str) -> bool {
    name.starts_with('.') || name.starts_with("~$")
}

/// The bytes read from `file` to its end, and their SHA-256 in lower-case hex: input
/// fingerprints and the ingest cache's record of its files.
pub(crate) fn sha256_to_end(file: &mut impl Read) -> std::io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        hasher.update(&buf[..n]);
    }
    let sha256 = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((bytes, sha256))
}

fn fingerprint(path: &Path) -> std::io::Result<InputFile> {
    // Opened without blocking, and refused unless a regular file: a FIFO put in a file's
    // place after the listing would otherwise wait for a writer for ever.
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        rustix::fs::OFlags::NONBLOCK.bits() as i32,
    );
    let mut file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other(
            "it is not a regular file (a named pipe, a device or a folder)",
        ));
    }
    let before = FileStamp::of(&meta);
    let (bytes, sha256) = sha256_to_end(&mut file)?;
    // Still being written (or rewritten) while hashed: the hash is of no one version.
    let after = FileStamp::of(&std::fs::metadata(path)?);
    if after != before || bytes != after.len {
        return Err(std::io::Error::other(
            "it changed while it was being hashed (is it still being written? run again once it is complete)",
        ));
    }
    Ok(InputFile {
        path: path.to_path_buf(),
        bytes,
        sha256,
        stamp: Some(after),
    })
}

/// `*` matches any run of characters, `?` one character; everything else literally, but
/// regardless of ASCII case: files come from Windows, where `ACUTE_OCT.XLSX` and
/// `acute_oct.xlsx` are one name, and a `*.xlsx` pattern that skipped the first without a
/// word lost a month.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi].eq_ignore_ascii_case(&n[ni])) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*.csv", "cld_901.csv"));
        assert!(!wildcard_match("*.csv", "cld_901.csv.bak"));
        assert!(wildcard_match("cld_9??_*.csv", "cld_902_2026Q3.csv"));
        assert!(!wildcard_match("cld_9??_*.csv", "cld_92_2026Q3.csv"));
        assert!(wildcard_match("*", ""));
        // Regression: an upper-case extension was skipped without a word.
        assert!(wildcard_match("*.xlsx", "ACUTE_OCT.XLSX"));
        assert!(wildcard_match("cld_*.csv", "CLD_902.Csv"));
    }

    #[test]
    fn folder_listing_is_sorted_and_fingerprinted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.csv"), "x").unwrap();
        std::fs::write(dir.path().join("a.csv"), "abc").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let files = list_inputs("s", dir.path(), "*.csv").unwrap();
        assert_eq!(files.len(), 2);
        assert!(files[0].path.ends_with("a.csv"));
        assert_eq!(files[0].bytes, 3);
        assert_eq!(
            files[0].sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn excel_lock_files_are_not_inputs() {
        // Regression: a workbook open in Excel leaves `~$<name>.xlsx` beside it, which
        // matched `*.xlsx` and was read as a (failing) sitrep workbook.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("june.xlsx"), "workbook").unwrap();
        std::fs::write(dir.path().join("~$june.xlsx"), "owner").unwrap();
        let files = list_inputs("sitrep", dir.path(), "*.xlsx").unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["june.xlsx"]);
        // A folder holding only a lock file has no inputs.
        std::fs::remove_file(dir.path().join("june.xlsx")).unwrap();
        let e = list_inputs("sitrep", dir.path(), "*.xlsx").unwrap_err();
        assert!(matches!(e, Error::SourceUnavailable { .. }), "{e}");
    }

    #[test]
    fn missing_source_is_unavailable() {
        let e = list_inputs("apc", Path::new("/nonexistent/x.csv"), "*.csv").unwrap_err();
        assert!(matches!(e, Error::SourceUnavailable { .. }));
        assert!(e.to_string().contains("/nonexistent/x.csv"), "{e}");
    }
}
