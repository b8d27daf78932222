//! Drop folders: land files that have stopped growing, then move the originals aside.
//!
//! A file is taken when its size and modification time are the same before and after
//! `settle_seconds`; a file still being written is left for the next pull. The original
//! moves to the processed folder only after its landed copy and manifest line are
//! durable, so a crash in between lands it again on the next pull — recognised by its
//! SHA-256 and not landed twice. Office lock files (`~$name`) and hidden files are passed
//! over; a transfer's partial file and an empty file are left where they are and named.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::landing::{LandingZone, Origin};
use super::local::{is_hidden_or_lock, wildcard_match};
use super::report::SourcePull;
use crate::config::fetch::FileDropFetch;

fn snapshot(path: &Path) -> Option<(u64, SystemTime)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()?))
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
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !is_hidden_or_lock(n) && wildcard_match(&cfg.pattern, n))
        })
        .collect();
    files.sort();
    report.found = files.len() as u64;
    // Not data yet: a transfer's partial file (renamed when complete) and an empty file
    // (a stalled upload) are left where they are and named. Landed, they failed the run
    // as unreadable, and every run after it (landed files are kept).
    files.retain(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("file");
        let why = if is_partial(name) {
            "is a partial transfer (renamed when complete)"
        } else if std::fs::metadata(p).is_ok_and(|m| m.len() == 0) {
            "is empty (a stalled or failed upload?)"
        } else {
            return true;
        };
        report.note(format!(
            "{name} in the drop folder {why}: not landed, left for a later pull"
        ));
        false
    });
    let before: Vec<_> = files.iter().map(|p| snapshot(p)).collect();
    if !files.is_empty() && cfg.settle_seconds > 0 {
        tokio::time::sleep(Duration::from_secs(cfg.settle_seconds)).await;
    }
    for (path, was) in files.iter().zip(before) {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("file")
            .to_string();
        if was.is_none() || snapshot(path) != was {
            report.waiting += 1;
            continue;
        }
        match land_one(source, path, &name, zone) {
            Ok(new) => {
                if new {
                    report.landed += 1;
                } else {
                    report.already_had += 1;
                }
            }
            Err(e) => {
                report.fail(&name, e);
                continue;
            }
        }
        crate::fault::point("file_drop_before_move");
        // Written to after it settled (while it was being landed): what was landed is not
        // the whole file, so it stays for the next pull, whose copy supersedes this one.
        if snapshot(path) != was {
            report.waiting += 1;
            continue;
        }
        if let Err(e) = move_aside(path, &name, &cfg.processed_folder) {
            report.fail(
                &name,
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

fn land_one(source: &str, path: &Path, name: &str, zone: &LandingZone) -> Result<bool, String> {
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let mut incoming = zone.incoming(source).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match file.read(&mut buf) {
            Ok(n) => n,
            Err(e) => {
                incoming.discard();
                return Err(format!("cannot read: {e}"));
            }
        };
        if n == 0 {
            break;
        }
        if let Err(e) = incoming.append(&buf[..n]) {
            incoming.discard();
            return Err(e.to_string());
        }
    }
    let origin = Origin::FileDrop {
        path: path.display().to_string(),
    };
    match zone.commit(source, incoming, name, origin) {
        Ok(super::landing::Landed::New(_)) => Ok(true),
        Ok(super::landing::Landed::AlreadyHad { .. }) => Ok(false),
        Err(e) => Err(e.to_string()),
    }
}

fn move_aside(path: &Path, name: &str, processed: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(processed)?;
    let mut target = processed.join(name);
    let mut n = 1;
    while target.exists() {
        target = processed.join(format!("{name}.{n}"));
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
