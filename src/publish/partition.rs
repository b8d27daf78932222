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
    /// False when the published file was identical (or its month closed) and kept.
    pub rewritten: bool,
    /// The month is closed (older than the look-back) and new data would have changed it.
    #[serde(default)]
    pub closed_changed: bool,
}

fn is_month(name: &str) -> bool {
    name.len() == 7
        && name.as_bytes()[4] == b'-'
        && name.bytes().filter(u8::is_ascii_digit).count() == 6
}

/// `YYYY-MM` that is `n` months before `month`.
fn months_before(month: &str, n: u32) -> String {
    let (y, m): (i64, i64) = (
        month[..4].parse().unwrap_or(0),
        month[5..].parse().unwrap_or(1),
    );
    let total = y * 12 + (m - 1) - i64::from(n);
    format!(
        "{:04}-{:02}",
        total.div_euclid(12),
        total.rem_euclid(12) + 1
    )
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
///
/// With `lookback_months`, months more than that many before the newest month of the
/// dataset are closed: a published file for a closed month is kept even if its content
/// would now differ (late data for it is reported in [`PartitionInfo::closed_changed`]).
pub fn write_dataset(
    df: DataFrame,
    month_column: Option<&str>,
    staged_dir: &Path,
    current_dir: &Path,
    lookback_months: Option<u32>,
) -> Result<Vec<PartitionInfo>> {
    std::fs::create_dir_all(staged_dir).map_err(|e| Error::io("creating", staged_dir, e))?;
    let parts: Vec<(String, DataFrame)> = match month_column {
        None => vec![("data".to_string(), df)],
        Some(c) => {
            split_by_month(df, c).map_err(|e| Error::engine(format!("partitioning by {c}"), e))?
        }
    };
    let newest = parts
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| is_month(n))
        .max()
        .map(String::from);
    let closed_before = lookback_months
        .zip(newest)
        .map(|(n, newest)| months_before(&newest, n));
    let mut infos = Vec::with_capacity(parts.len());
    for (name, mut part) in parts {
        let file = format!("{name}.parquet");
        let bytes = to_bytes(&mut part)?;
        let (target, current) = (staged_dir.join(&file), current_dir.join(&file));
        let old = std::fs::read(&current).ok();
        let same = old.as_ref().is_some_and(|old| *old == bytes);
        let closed = is_month(&name)
            && closed_before.as_deref().is_some_and(|c| name.as_str() < c)
            && old.is_some();
        if same || closed {
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
            rewritten: !same && !closed,
            closed_changed: closed && !same,
        });
    }
    Ok(infos)
}

/// Splits by the `YYYY-MM` of a date or datetime column; rows keep their order within a
/// month. One stable sort by month, then contiguous slices: O(n log n), however many
/// months there are.
fn split_by_month(df: DataFrame, column: &str) -> PolarsResult<Vec<(String, DataFrame)>> {
    const KEY: &str = "__partition";
    // An integer month key (year × 12 + month; null last) sorts and compares cheaply; the
    // `YYYY-MM` names are made once per month, not once per row.
    let date = col(column).cast(DataType::Date);
    let keyed = df
        .lazy()
        .with_column(
            (date.clone().dt().year().cast(DataType::Int32) * lit(12i32)
                + date.dt().month().cast(DataType::Int32)
                - lit(1i32))
            .fill_null(lit(i32::MAX))
            .alias(KEY),
        )
        .sort(
            [KEY],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?;
    let name = |k: i32| {
        if k == i32::MAX {
            "undated".to_string()
        } else {
            format!("{:04}-{:02}", k.div_euclid(12), k.rem_euclid(12) + 1)
        }
    };
    if keyed.height() == 0 {
        // An empty dataset still has a schema: keep one empty file.
        return Ok(vec![("undated".to_string(), keyed.drop(KEY)?)]);
    }
    let keys: Vec<i32> = keyed
        .column(KEY)?
        .i32()?
        .iter()
        .map(|k| k.unwrap_or(i32::MAX))
        .collect();
    let data = keyed.drop(KEY)?;
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=keys.len() {
        if i == keys.len() || keys[i] != keys[start] {
            out.push((name(keys[start]), data.slice(start as i64, i - start)));
            start = i;
        }
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
        let first =
            write_dataset(df(3), Some("month"), &v1, &dir.path().join("none"), None).unwrap();
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
        let second = write_dataset(df(4), Some("month"), &v2, &v1, None).unwrap();
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

    #[test]
    fn months_before_the_lookback_are_closed() {
        assert_eq!(months_before("2026-03", 2), "2026-01");
        assert_eq!(months_before("2026-01", 1), "2025-12");
        assert_eq!(months_before("2026-01", 13), "2024-12");
        let dir = tempfile::tempdir().unwrap();
        let (v1, v2) = (dir.path().join("v1"), dir.path().join("v2"));
        let df = |x: i64| {
            df!("month" => ["2026-06-01", "2026-07-01", "2026-08-01"], "n" => [x, x, x])
                .unwrap()
                .lazy()
                .with_column(col("month").cast(DataType::Date))
                .collect()
                .unwrap()
        };
        write_dataset(df(1), Some("month"), &v1, &dir.path().join("none"), Some(1)).unwrap();
        let second = write_dataset(df(2), Some("month"), &v2, &v1, Some(1)).unwrap();
        // June is closed (more than one month before August): kept, the change reported.
        assert_eq!(
            second
                .iter()
                .map(|p| (p.file.as_str(), p.rewritten, p.closed_changed))
                .collect::<Vec<_>>(),
            [
                ("2026-06.parquet", false, true),
                ("2026-07.parquet", true, false),
                ("2026-08.parquet", true, false)
            ]
        );
    }
}
