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
    let mut file = ParquetWriter::new(file)
        .with_compression(compression())
        .with_row_group_size(Some(ROW_GROUP_ROWS))
        .finish(df)
        .map_err(|e| Error::engine(format!("writing {}", path.display()), e))
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
