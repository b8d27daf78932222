//! One run at a time per data directory: an advisory lock on `<out>/.lock`.
//!
//! The operating system releases the lock when the process ends, however it ends, so a
//! killed run never leaves it stuck. A second run that finds the lock held exits at once
//! with code 6 and changes nothing.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use crate::error::{Error, Result};

/// The held lock; released on drop or process exit.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Creates the data directory `out` if need be and takes its lock. A data directory that
/// is a file, or that cannot be created, is a command-line error (exit 2), not a fault.
pub fn open_data_dir(out: &Path) -> Result<DataDirLock> {
    refuse_a_file(out)?;
    std::fs::create_dir_all(out).map_err(|e| {
        Error::Usage(format!(
            "--out {}: cannot create the data directory: {e}",
            out.display()
        ))
    })?;
    acquire(out)
}

/// A data directory that is a file is a command-line error.
pub fn refuse_a_file(out: &Path) -> Result<()> {
    if out.exists() && !out.is_dir() {
        return Err(Error::Usage(format!(
            "--out {}: is a file, not a data directory",
            out.display()
        )));
    }
    Ok(())
}

/// What [`open_data_dir`] would refuse, found without creating or locking anything (a
/// dry run, `explain` and `status` only read): a file, a directory this user cannot
/// read and write, or one that cannot be created (its nearest existing parent is not a
/// writable directory).
pub fn check_data_dir(out: &Path) -> Result<()> {
    use rustix::fs::{Access, access};
    refuse_a_file(out)?;
    let usage = |what: &str, e: &dyn std::fmt::Display| {
        Error::Usage(format!("--out {}: {what}: {e}", out.display()))
    };
    if out.is_dir() {
        return access(out, Access::READ_OK | Access::WRITE_OK | Access::EXEC_OK)
            .map_err(|e| usage("cannot be read and written", &std::io::Error::from(e)));
    }
    let parent = out
        .ancestors()
        .skip(1)
        .map(|a| {
            if a.as_os_str().is_empty() {
                Path::new(".")
            } else {
                a
            }
        })
        .find(|a| a.exists())
        .unwrap_or(Path::new("/"));
    if !parent.is_dir() {
        return Err(usage(
            "cannot create the data directory",
            &format!("{} is a file", parent.display()),
        ));
    }
    access(parent, Access::WRITE_OK | Access::EXEC_OK).map_err(|e| {
        usage(
            "cannot create the data directory",
            &format!("{}: {}", parent.display(), std::io::Error::from(e)),
        )
    })
}

/// Takes the lock of `out`, or fails with [`Error::Busy`].
pub fn acquire(out: &Path) -> Result<DataDirLock> {
    let path = out.join(".lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("opening", &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(DataDirLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(Error::Busy { lock: path }),
        Err(TryLockError::Error(e)) => Err(Error::io("locking", &path, e)),
    }
}

/// Whether another process holds the lock of `out`, found without taking it (Linux's
/// `/proc/locks`): `status`, `explain` and dry runs say a run now would exit 6, and a real
/// run starting that moment is never refused because of them. `false` where it cannot
/// tell (no `/proc/locks`, no lock file).
pub fn held_elsewhere(out: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(out.join(".lock")) else {
        return false;
    };
    let Ok(locks) = std::fs::read_to_string("/proc/locks") else {
        return false;
    };
    // glibc's major()/minor(); /proc/locks prints them in hex, the inode in decimal.
    let dev = meta.dev();
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let id = format!("{major:02x}:{minor:02x}:{}", meta.ino());
    let me = std::process::id().to_string();
    locks.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        // `1: FLOCK  ADVISORY  WRITE 5004 fe:00:10010985 0 EOF` (a blocked waiter's line
        // starts `1: ->`, and holds nothing).
        f.len() >= 6 && f[1] == "FLOCK" && f[5] == id && f[4] != me
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_held_by_another_process_is_seen_without_taking_it() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!held_elsewhere(dir.path()), "no lock file");
        std::fs::write(dir.path().join(".lock"), b"").unwrap();
        assert!(!held_elsewhere(dir.path()));
        // `-o`: the lock stays with flock itself, not the sleep it starts, so killing
        // flock releases it.
        let mut holder = std::process::Command::new("flock")
            .arg("-o")
            .arg(dir.path().join(".lock"))
            .args(["sleep", "30"])
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !held_elsewhere(dir.path()) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(held_elsewhere(dir.path()));
        // Seeing it did not take it: the holder still has it, and this process's own
        // lock is not "elsewhere".
        assert!(matches!(acquire(dir.path()), Err(Error::Busy { .. })));
        holder.kill().unwrap();
        holder.wait().unwrap();
        // The lock goes with the last descriptor of it: flock's child (`sleep`) holds one
        // until it closes it before exec, which on a loaded machine can come after flock
        // is killed (regression: this test failed once in CI with `Busy`).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mine = loop {
            match acquire(dir.path()) {
                Err(Error::Busy { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other.unwrap(),
            }
        };
        assert!(!held_elsewhere(dir.path()));
        drop(mine);
    }

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path()).unwrap();
        assert!(matches!(acquire(dir.path()), Err(Error::Busy { .. })));
        drop(first);
        assert!(acquire(dir.path()).is_ok());
    }

    #[test]
    fn regression_a_data_directory_that_is_a_file_is_a_usage_error() {
        // It was "creating afile: File exists", exit 5 (a bug or the environment).
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("afile");
        std::fs::write(&file, "x").unwrap();
        let e = open_data_dir(&file).unwrap_err();
        assert_eq!(e.exit_code(), crate::error::ExitCode::Config);
        assert!(
            e.to_string()
                .ends_with("afile: is a file, not a data directory"),
            "{e}"
        );
        let under = open_data_dir(&file.join("out")).unwrap_err();
        assert_eq!(under.exit_code(), crate::error::ExitCode::Config);
        assert!(open_data_dir(&dir.path().join("new/out")).is_ok());
    }
}
