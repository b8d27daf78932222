//! Writing a dataset as one Parquet file per month, rewriting only what changed.
//!
//! A dataset folder holds `<YYYY-MM>.parquet` files (by the dataset's month column;
//! `undated.parquet` for rows without one, `data.parquet` for datasets that are not
//! partitioned). Every partition is serialised in memory and compared with the
//! published file: an identical partition is hard-linked into the new version instead of
//! rewritten, so an incremental run leaves untouched months byte-for-byte and inode-for-
//! inode as they were. Serialisation is deterministic (sorted rows, no wall-clock values).

use std::io::Write;
use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::parquet::ROW_GROUP_ROWS;
use crate::error::{Error, Result};

/// What happened to one partition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartitionInfo {
    /// File name, e.g. `2026-08.parquet`.
    pub file: String,
    /// Rows.
    pub rows: u64,
    /// Size.
    pub bytes: u64,
    /// False when the published file was identical and kept.
    pub rewritten: bool,
}

fn to_bytes(df: &mut DataFrame) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .with_compression(ParquetCompression::Zstd(None))
        .with_row_group_size(Some(ROW_GROUP_ROWS))
        .finish(df)
        .map_err(|e| Error::engine("serialising a partition", e))?;
    Ok(buf)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = std::fs::File::create(path).map_err(|e| Error::io("creating", path, e))?;
    f.write_all(bytes)
        .map_err(|e| Error::io("writing", path, e))?;
    f.sync_all().map_err(|e| Error::io("syncing", path, e))
}

/// Writes `df` into `staged_dir`, one file per month of `month_column` (or one
/// `data.parquet` when `None`), reusing identical files from `current_dir`.
pub fn write_dataset(
    df: DataFrame,
    month_column: Option<&str>,
    staged_dir: &Path,
    current_dir: &Path,
) -> Result<Vec<PartitionInfo>> {
    std::fs::create_dir_all(staged_dir).map_err(|e| Error::io("creating", staged_dir, e))?;
    let parts: Vec<(String, DataFrame)> = match month_column {
        None => vec![("data".to_string(), df)],
        Some(c) => {
            split_by_month(df, c).map_err(|e| Error::engine(format!("partitioning by {c}"), e))?
        }
    };
    let mut infos = Vec::with_capacity(parts.len());
    for (name, mut part) in parts {
        let file = format!("{name}.parquet");
        let bytes = to_bytes(&mut part)?;
        let (target, current) = (staged_dir.join(&file), current_dir.join(&file));
        let same = std::fs::read(&current).is_ok_and(|old| old == bytes);
        if same {
            if std::fs::hard_link(&current, &target).is_err() {
                write_file(&target, &bytes)?;
            }
        } else {
            write_file(&target, &bytes)?;
        }
        infos.push(PartitionInfo {
            file,
            rows: part.height() as u64,
            bytes: bytes.len() as u64,
            rewritten: !same,
        });
    }
    Ok(infos)
}

/// Splits by the `YYYY-MM` of a date or datetime column; rows keep their order.
fn split_by_month(df: DataFrame, column: &str) -> PolarsResult<Vec<(String, DataFrame)>> {
    const KEY: &str = "__partition";
    let keyed = df
        .lazy()
        .with_column(
            col(column)
                .cast(DataType::Date)
                .dt()
                .strftime("%Y-%m")
                .fill_null(lit("undated"))
                .alias(KEY),
        )
        .collect()?;
    let mut keys: Vec<String> = keyed
        .column(KEY)?
        .str()?
        .iter()
        .flatten()
        .map(String::from)
        .collect();
    keys.sort();
    keys.dedup();
    if keys.is_empty() {
        // An empty dataset still has a schema: keep one empty file.
        return Ok(vec![("undated".to_string(), keyed.drop(KEY)?)]);
    }
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        let part = keyed
            .clone()
            .lazy()
            .filter(col(KEY).eq(lit(k.clone())))
            .drop(cols([KEY]))
            .collect()?;
        out.push((k, part));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_months_are_kept_and_changed_ones_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let (v1, v2) = (dir.path().join("v1"), dir.path().join("v2"));
        let df = |x: i64| {
            df!("month" => [Some("2026-07-01"), Some("2026-08-03"), None], "n" => [1i64, 2, x])
                .unwrap()
                .lazy()
                .with_column(col("month").cast(DataType::Date))
                .collect()
                .unwrap()
        };
        let first = write_dataset(df(3), Some("month"), &v1, &dir.path().join("none")).unwrap();
        assert_eq!(
            first
                .iter()
                .map(|p| (p.file.as_str(), p.rows, p.rewritten))
                .collect::<Vec<_>>(),
            [
                ("2026-07.parquet", 1, true),
                ("2026-08.parquet", 1, true),
                ("undated.parquet", 1, true)
            ]
        );
        let second = write_dataset(df(4), Some("month"), &v2, &v1).unwrap();
        assert_eq!(
            second.iter().map(|p| p.rewritten).collect::<Vec<_>>(),
            [false, false, true]
        );
        use std::os::unix::fs::MetadataExt;
        let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
        assert_eq!(
            ino(&v1.join("2026-07.parquet")),
            ino(&v2.join("2026-07.parquet"))
        );
        assert_ne!(
            ino(&v1.join("undated.parquet")),
            ino(&v2.join("undated.parquet"))
        );
    }
}
