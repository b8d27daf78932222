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
    if out.exists() && !out.is_dir() {
        return Err(Error::Usage(format!(
            "--out {}: is a file, not a data directory",
            out.display()
        )));
    }
    std::fs::create_dir_all(out).map_err(|e| {
        Error::Usage(format!(
            "--out {}: cannot create the data directory: {e}",
            out.display()
        ))
    })?;
    acquire(out)
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

#[cfg(test)]
mod tests {
    use super::*;

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
