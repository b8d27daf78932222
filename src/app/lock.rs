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
}
