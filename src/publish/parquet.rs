//! Writing one DataFrame as a Parquet file, durably.
//!
//! Compression is zstd at level 1: end to end zstd costs little over uncompressed and the
//! files are ~40% smaller; level 3 compresses about 2.2× slower for ~1% smaller output
//! (reference/performance.md §6). Every Parquet file joinedup writes uses [`compression`],
//! and so does the benchmark's lower bound (`joinedup baseline`).

use std::fs::File;
use std::io::Write;
use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Result};

/// Rows per row group: small groups keep readers' memory low.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// The codec of every published, restricted and quarantine file: zstd level 1.
pub fn compression() -> ParquetCompression {
    ParquetCompression::Zstd(polars_utils::compression::ZstdLevel::try_new(1).ok())
}

/// Writes `df` to `path` (zstd), syncs it to disk, and returns the file size.
pub fn write_parquet(df: &mut DataFrame, path: &Path) -> Result<u64> {
    let created = crate::interrupt::creating();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    }
    let file = File::create(path).map_err(|e| Error::io("creating", path, e))?;
    drop(created);
    let (file, io_error) = KeepsIoError::new(file);
    let mut file = ParquetWriter::new(file)
        .with_compression(compression())
        .with_row_group_size(Some(ROW_GROUP_ROWS))
        .finish(df)
        .map_err(|e| io_error.or_engine("writing", path, e))
        .and_then(|_| {
            File::options()
                .append(true)
                .open(path)
                .map_err(|e| Error::io("reopening", path, e))
        })?;
    file.flush().map_err(|e| Error::io("flushing", path, e))?;
    file.sync_all().map_err(|e| Error::io("syncing", path, e))?;
    let len = file
        .metadata()
        .map_err(|e| Error::io("reading size of", path, e))?
        .len();
    Ok(len)
}

/// A sink that keeps the first I/O error it gave its writer. The Parquet writer reports
/// a sink's failure as its own ("Invalid thrift: transport error" for a full disk), so
/// the cause is taken from here ([`IoErrorSlot::or_engine`]).
pub struct KeepsIoError<W> {
    inner: W,
    first: std::sync::Arc<std::sync::OnceLock<std::io::Error>>,
}

/// Where a [`KeepsIoError`] keeps its sink's first I/O error.
pub struct IoErrorSlot(std::sync::Arc<std::sync::OnceLock<std::io::Error>>);

impl<W: Write> KeepsIoError<W> {
    /// `inner`, and the slot its first error will be in.
    pub fn new(inner: W) -> (Self, IoErrorSlot) {
        let first = std::sync::Arc::new(std::sync::OnceLock::new());
        let slot = IoErrorSlot(first.clone());
        (KeepsIoError { inner, first }, slot)
    }

    fn kept<T>(&self, r: std::io::Result<T>) -> std::io::Result<T> {
        r.inspect_err(|e| {
            let _ = self.first.set(std::io::Error::new(e.kind(), e.to_string()));
        })
    }
}

impl<W: Write> Write for KeepsIoError<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.inner.write(buf);
        self.kept(r)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.inner.flush();
        self.kept(r)
    }
}

impl IoErrorSlot {
    /// The error of a write of `path` that failed with `e`: the sink's I/O error when it
    /// gave one (its cause: "No space left on device"), else the engine's.
    pub fn or_engine(&self, action: &'static str, path: &Path, e: PolarsError) -> Error {
        match self.0.get() {
            Some(io) => Error::io(action, path, std::io::Error::new(io.kind(), io.to_string())),
            None => Error::engine(format!("{action} {}", path.display()), e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (review): on a full disk a run exited 5 with "parquet: File out of
    /// specification: Invalid thrift: transport error", without the cause.
    #[test]
    fn regression_a_full_disk_is_named_as_such() {
        let mut df = df!("a" => (0..100_000i64).collect::<Vec<_>>()).unwrap();
        let e = write_parquet(&mut df, Path::new("/dev/full")).unwrap_err();
        assert_eq!(
            crate::error::chain(&e),
            "writing /dev/full: No space left on device (os error 28)"
        );
    }
}
