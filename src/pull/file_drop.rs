//! Drop folders: land files that have stopped growing, then move the originals aside.
//!
//! A file is taken when its size and modification time are the same before and after
//! `settle_seconds`; a file still being written is left for the next pull. The original
//! moves to the processed folder only after its landed copy and manifest line are
//! durable, so a crash in between lands it again on the next pull — recognised by its
//! SHA-256 and not landed twice. Office lock files (`~$name`) and hidden files are passed
//! over; a transfer's partial file and an empty file are left where they are and named.
//! A file written to while it was being landed is not landed (compared before the
//! commit), but left for the next pull. A name that is not UTF-8 is taken with its other
//! bytes as `%XX`, and named in a note; a `%` in any name is taken as `%25`, so that a
//! file literally named `caf%E9.csv` is not taken for a Latin-1 `café.csv`. A failure of this machine while landing (a full
//! disk) is kept as [`SourcePull::local`], and the rest of the folder left for the next
//! pull.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::landing::{LandingZone, Origin};
use super::local::{is_hidden_or_lock, wildcard_match};
use super::report::SourcePull;
use crate::config::fetch::FileDropFetch;
use crate::ingest::quarantine::mask_file_name;

fn snapshot(path: &Path) -> Option<(u64, SystemTime)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()?))
}

/// What became of one settled file.
#[derive(Debug, PartialEq, Eq)]
enum Took {
    /// Landed.
    New,
    /// Its content was landed before under its name.
    AlreadyHad,
    /// Written to while it was being landed: not landed, left for the next pull.
    Changed,
}

/// Why a file was not landed: the drop folder's (it cannot be read), or this machine's
/// (the landing zone cannot be written: a full disk).
#[derive(Debug)]
enum Failed {
    Source(String),
    Local(crate::error::Error),
}

/// The name of a dropped file as shown and recorded: itself when it is UTF-8 without a
/// `%`, else its UTF-8 parts with every `%` as `%25` and every other byte as `%XX` (a
/// Latin-1 `cld_é.csv` is `cld_%E9.csv`, a file named `cld_%E9.csv` is `cld_%25E9.csv`),
/// so that no two names are recorded as one. `true` when it is not UTF-8.
pub(crate) fn shown_name(name: &OsStr) -> (String, bool) {
    let escape_percent = |s: &str| s.replace('%', "%25");
    if let Some(n) = name.to_str() {
        return (escape_percent(n), false);
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let mut shown = String::new();
        for chunk in name.as_bytes().utf8_chunks() {
            shown.push_str(&escape_percent(chunk.valid()));
            for b in chunk.invalid() {
                shown.push_str(&format!("%{b:02X}"));
            }
        }
        (shown, true)
    }
    #[cfg(not(unix))]
    (escape_percent(&name.to_string_lossy()), true)
}

/// The name a drop folder's `pattern` (and the hidden and lock file test) is matched
/// against: the file's own name, a byte that is not UTF-8 as `%XX` and `%` as itself.
pub(crate) fn matched_name(shown: &str, os_name: &OsStr) -> String {
    match os_name.to_str() {
        Some(n) => n.to_string(),
        None => shown.replace("%25", "%"),
    }
}

/// Picks up a drop folder.
pub async fn pull_folder(source: &str, cfg: &FileDropFetch, zone: &LandingZone) -> SourcePull {
    let mut report = SourcePull::new(source, "file_drop");
    let entries = match std::fs::read_dir(&cfg.folder) {
        Ok(e) => e,
        Err(e) => {
            report.fail(
                &cfg.folder.display().to_string(),
                format!("cannot list the drop folder: {e}"),
            );
            return report;
        }
    };
    // A name that is not UTF-8 (a Latin-1 name from an old Windows share) is taken under
    // its escaped form and named in a note: passed over, the file was never landed and
    // nothing said so.
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for path in entries.flatten().map(|e| e.path()).filter(|p| p.is_file()) {
        let Some(os_name) = path.file_name() else {
            continue;
        };
        let (name, escaped) = shown_name(os_name);
        let matched = matched_name(&name, os_name);
        if is_hidden_or_lock(&matched) || !wildcard_match(&cfg.pattern, &matched) {
            continue;
        }
        // Notes reach the manifest, the logs and the report: a name shows no NHS number.
        let (shown, shown_matched) = (mask_file_name(&name), mask_file_name(&matched));
        if escaped {
            report.note(format!(
                "{shown} in the drop folder has a name that is not UTF-8 (shown with its other bytes as %XX and % as %25): taken under that name"
            ));
        } else if name.contains("%25") {
            report.note(format!(
                "{shown_matched} in the drop folder has a % in its name: taken as {shown} (% as %25, so that it is not taken for a name that is not UTF-8)"
            ));
        }
        files.push((path, name));
    }
    files.sort();
    report.found = files.len() as u64;
    // Not data yet: a transfer's partial file (renamed when complete) and an empty file
    // (a stalled upload) are left where they are and named. Landed, they failed the run
    // as unreadable, and every run after it (landed files are kept).
    files.retain(|(p, name)| {
        let why = if is_partial(name) {
            "is a partial transfer (renamed when complete)"
        } else if std::fs::metadata(p).is_ok_and(|m| m.len() == 0) {
            "is empty (a stalled or failed upload?)"
        } else {
            return true;
        };
        report.note(format!(
            "{} in the drop folder {why}: not landed, left for a later pull",
            mask_file_name(name)
        ));
        false
    });
    let before: Vec<_> = files.iter().map(|(p, _)| snapshot(p)).collect();
    if !files.is_empty() && cfg.settle_seconds > 0 {
        tokio::time::sleep(Duration::from_secs(cfg.settle_seconds)).await;
    }
    let total = files.len();
    for (done, ((path, name), was)) in files.iter().zip(before).enumerate() {
        // This machine cannot land (a full disk): every later file would fail the same
        // way. They stay in the drop folder for the next pull.
        if report.local.is_some() {
            report.note(format!(
                "{} file(s) left in the drop folder for the next pull: landing failed on this machine",
                total - done
            ));
            break;
        }
        let was = match was {
            Some(w) if snapshot(path) == Some(w) => w,
            _ => {
                report.waiting += 1;
                continue;
            }
        };
        match land_one(source, path, name, was, zone) {
            Ok(Took::New) => report.landed += 1,
            Ok(Took::AlreadyHad) => report.already_had += 1,
            Ok(Took::Changed) => {
                report.waiting += 1;
                continue;
            }
            Err(Failed::Source(reason)) => {
                report.fail(name, reason);
                continue;
            }
            Err(Failed::Local(e)) => {
                report.fail_local(name, e);
                continue;
            }
        }
        crate::fault::point("file_drop_before_move");
        // Written to in the instant between landing and moving: what was landed is not
        // the whole file, so it stays for the next pull, whose copy supersedes this one.
        if snapshot(path) != Some(was) {
            report.waiting += 1;
            continue;
        }
        let os_name = path.file_name().unwrap_or(name.as_ref());
        if let Err(e) = move_aside(path, os_name, &cfg.processed_folder) {
            report.fail(
                name,
                format!("landed, but could not move it to the processed folder: {e}"),
            );
        }
    }
    report
}

/// Names transfer tools give a file while it is still arriving.
const PARTIAL_SUFFIXES: [&str; 7] = [
    ".part",
    ".partial",
    ".filepart",
    ".crdownload",
    ".download",
    ".tmp",
    ".temp",
];

/// Whether `name` is a file still arriving under a transfer tool's temporary name.
fn is_partial(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    PARTIAL_SUFFIXES.iter().any(|s| lower.ends_with(s))
}

/// Lands one settled file whose size and time were `was`. A file written to while it
/// was read is not landed (its Incoming is discarded) but left for the next pull: landed,
/// a part of it would have become the file's current version.
fn land_one(
    source: &str,
    path: &Path,
    name: &str,
    was: (u64, SystemTime),
    zone: &LandingZone,
) -> Result<Took, Failed> {
    let mut file =
        std::fs::File::open(path).map_err(|e| Failed::Source(format!("cannot open: {e}")))?;
    let mut incoming = zone.incoming(source).map_err(Failed::Local)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match file.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Failed::Source(format!("cannot read: {e}"))),
        };
        if n == 0 {
            break;
        }
        incoming.append(&buf[..n]).map_err(Failed::Local)?;
    }
    crate::fault::point("file_drop_before_commit");
    if snapshot(path) != Some(was) {
        incoming.discard();
        return Ok(Took::Changed);
    }
    let origin = Origin::FileDrop {
        path: path.display().to_string(),
    };
    match zone.commit(source, incoming, name, origin) {
        Ok(super::landing::Landed::New(_)) => Ok(Took::New),
        Ok(super::landing::Landed::AlreadyHad { .. }) => Ok(Took::AlreadyHad),
        Err(e) => Err(Failed::Local(e)),
    }
}

/// Moves a landed file to the processed folder under its own name (its bytes as they
/// are, UTF-8 or not), `<name>.<n>` beside one of the same name.
fn move_aside(path: &Path, name: impl AsRef<OsStr>, processed: &Path) -> std::io::Result<()> {
    let name = name.as_ref();
    std::fs::create_dir_all(processed)?;
    let mut target = processed.join(name);
    let mut n = 1;
    while target.exists() {
        let mut numbered = name.to_os_string();
        numbered.push(format!(".{n}"));
        target = processed.join(numbered);
        n += 1;
    }
    match std::fs::rename(path, &target) {
        // The processed folder is on another file system: copy, sync, then remove.
        Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {
            std::fs::copy(path, &target)?;
            std::fs::File::open(&target)?.sync_all()?;
            std::fs::remove_file(path)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn regression_a_file_name_that_is_not_utf8_is_shown_escaped() {
        use std::os::unix::ffi::OsStrExt;
        assert_eq!(
            shown_name(OsStr::from_bytes(b"cld_901_\xE9\xFF.csv")),
            ("cld_901_%E9%FF.csv".to_string(), true)
        );
        assert_eq!(
            shown_name(OsStr::new("cld_901_é.csv")),
            ("cld_901_é.csv".to_string(), false)
        );
    }

    /// Regression (review): `b"caf\xE9.csv"` and a file literally named `caf%E9.csv`
    /// were both recorded as `caf%E9.csv`, so one became an older version of the other
    /// and was never read. A `%` is escaped too: the mapping is one to one.
    #[cfg(unix)]
    #[test]
    fn regression_an_escaped_name_is_not_taken_for_a_name_literally_like_it() {
        use std::os::unix::ffi::OsStrExt;
        let latin1 = OsStr::from_bytes(b"caf\xE9.csv");
        let literal = OsStr::new("caf%E9.csv");
        assert_eq!(shown_name(latin1), ("caf%E9.csv".to_string(), true));
        assert_eq!(shown_name(literal), ("caf%25E9.csv".to_string(), false));
        assert_eq!(
            shown_name(OsStr::from_bytes(b"50%_\xE9.csv")),
            ("50%25_%E9.csv".to_string(), true)
        );
        // The pattern still sees the file's own name.
        assert_eq!(matched_name("caf%25E9.csv", literal), "caf%E9.csv");
        assert_eq!(
            matched_name("50%25_%E9.csv", OsStr::from_bytes(b"50%_\xE9.csv")),
            "50%_%E9.csv"
        );
    }

    #[test]
    fn regression_the_processed_folder_may_be_on_another_file_system() {
        // rename fails across file systems (EXDEV): every pull failed after landing.
        // /dev/shm is a tmpfs on Linux, so a different file system from the temp dir.
        let dir = tempfile::tempdir().unwrap();
        let original = dir.path().join("cld.csv");
        std::fs::write(&original, "a,b\n").unwrap();
        let Ok(shm) = tempfile::tempdir_in("/dev/shm") else {
            // No /dev/shm: the same-file-system move is still checked.
            move_aside(&original, "cld.csv", &dir.path().join("processed")).unwrap();
            assert!(dir.path().join("processed/cld.csv").exists());
            return;
        };
        let processed = shm.path().join("processed");
        move_aside(&original, "cld.csv", &processed).unwrap();
        assert!(!original.exists());
        assert_eq!(
            std::fs::read_to_string(processed.join("cld.csv")).unwrap(),
            "a,b\n"
        );
        // A second file of the same name is kept beside the first.
        std::fs::write(&original, "a,b\n1,2\n").unwrap();
        move_aside(&original, "cld.csv", &processed).unwrap();
        assert!(processed.join("cld.csv.1").exists());
    }
}
