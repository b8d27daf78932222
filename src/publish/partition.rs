//! Writing a dataset as one Parquet file per month, rewriting only what changed.
//!
//! A dataset folder holds `<YYYY-MM>.parquet` files (by the dataset's month column;
//! `undated.parquet` for rows without one, `data.parquet` for datasets that are not
//! partitioned). Every partition is serialised in memory and compared with the
//! published file: an identical partition is hard-linked into the new version instead of
//! rewritten, so an incremental run leaves untouched months byte-for-byte and inode-for-
//! inode as they were. Serialisation is deterministic (rows in a fixed order, no wall-clock
//! values). Each month's rows are gathered from the dataset by position (no sort of the
//! whole frame), and files are serialised on one thread per core.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::parquet::{ROW_GROUP_ROWS, compression};
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
    /// The month is closed and had no published file: its late rows were not staged, so
    /// there is no file (the run reports it; the manifest does not list it).
    #[serde(skip)]
    pub withheld: bool,
    /// The month is closed and has no rows now (its input removed): its published file
    /// is kept.
    #[serde(skip)]
    pub kept_without_rows: bool,
}

fn is_month(name: &str) -> bool {
    name.len() == 7
        && name.as_bytes()[4] == b'-'
        && name.bytes().filter(u8::is_ascii_digit).count() == 6
}

/// The month the look-back counts back from: the newest month with rows that is not
/// after `this_month` (the run's), and `this_month` when there is none. Months after the
/// run's are not counted: one row dated decades ahead by a typo closed every real month,
/// new ones included. A source emptied under `allow_empty` left no newest month, so
/// nothing was closed and every closed month's file was deleted.
fn reference_month<'n>(names: impl Iterator<Item = &'n str>, this_month: &str) -> String {
    names
        .filter(|n| is_month(n) && *n <= this_month)
        .max()
        .unwrap_or(this_month)
        .to_string()
}

/// The run's month (UTC, or `JOINEDUP_TODAY`'s: [`crate::run_date`]), `YYYY-MM`.
fn this_month() -> String {
    crate::run_date::this_month()
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

/// `df` as an output file's bytes: the run's encoder, compression, row groups and schema
/// (code columns declared as text).
pub(crate) fn to_bytes(df: &mut DataFrame, parallel: bool) -> Result<Vec<u8>> {
    let metadata = vec![super::encoder::string_schema(df.schema())];
    super::encoder::to_bytes(df, ROW_GROUP_ROWS, compression(), Some(metadata), parallel)
        .map_err(|e| Error::engine("serialising a partition", e))
}

/// Writes a staged file; it is synced to disk in the background before the run commits
/// ([`super::durable`]).
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let created = crate::interrupt::creating();
    let mut f = std::fs::File::create(path).map_err(|e| Error::io("creating", path, e))?;
    drop(created);
    crate::fault::io("dataset_write")
        .and_then(|()| f.write_all(bytes))
        .map_err(|e| Error::io("writing", path, e))?;
    super::durable::sync_later(f, path.to_path_buf())
}

/// The rows of one output file: all of them, or the positions of one month's rows.
enum Rows {
    All,
    Some(Vec<IdxSize>),
}

/// Writes `df` into `staged_dir`, one file per month of `month_column` (or one
/// `data.parquet` when `None`), reusing identical files from `current_dir`.
///
/// With `lookback_months`, months more than that many before the newest month of the
/// dataset are closed: a published file for a closed month is kept even if its content
/// would now differ (late data for it is reported in [`PartitionInfo::closed_changed`]).
///
/// Files are serialised on several threads at once (one per core); each file's bytes
/// depend only on its rows, so the outcome does not depend on the order of work.
pub fn write_dataset(
    df: DataFrame,
    month_column: Option<&str>,
    staged_dir: &Path,
    current_dir: &Path,
    lookback_months: Option<u32>,
) -> Result<Vec<PartitionInfo>> {
    write_dataset_with(
        df,
        month_column,
        staged_dir,
        current_dir,
        lookback_months,
        &|df| Ok(df),
    )
}

/// [`write_dataset`], with `finish` applied to each file's rows just before they are
/// serialised: for columns that are cheap to hold once for the whole dataset but costly
/// per row (pseudonyms: [`crate::link::person_index::Persons::restore`]).
pub fn write_dataset_with(
    mut df: DataFrame,
    month_column: Option<&str>,
    staged_dir: &Path,
    current_dir: &Path,
    lookback_months: Option<u32>,
    finish: &(dyn Fn(DataFrame) -> PolarsResult<DataFrame> + Sync),
) -> Result<Vec<PartitionInfo>> {
    crate::fault::point("staged_dataset_before_create");
    {
        let _created = crate::interrupt::creating();
        std::fs::create_dir_all(staged_dir).map_err(|e| Error::io("creating", staged_dir, e))?;
    }
    let parts: Vec<(String, Rows)> = match month_column {
        None => vec![("data".to_string(), Rows::All)],
        Some(c) => month_rows(&df, c)
            .map_err(|e| Error::engine(format!("partitioning by {c}"), e))?
            .into_iter()
            .map(|(n, r)| (n, Rows::Some(r)))
            .collect(),
    };
    if parts.len() > 1 {
        // Gathering each month's rows from one contiguous chunk per column is far cheaper
        // than from many (one per ingest batch).
        rechunk_lean(&mut df).map_err(|e| Error::engine("making columns contiguous", e))?;
    }
    let target = Target::new(
        staged_dir,
        current_dir,
        parts.iter().map(|(n, _)| n.as_str()),
        lookback_months,
        finish,
    );
    let one = |(name, rows): &(String, Rows), parallel: bool| -> Result<PartitionInfo> {
        let part = match rows {
            Rows::All => df.clone(),
            // A month's rows next to each other (a frame in month order,
            // [`into_month_order`]): a slice, shared, not a copy.
            Rows::Some(idx) if contiguous(idx) => {
                df.slice(i64::from(idx.first().copied().unwrap_or(0)), idx.len())
            }
            Rows::Some(idx) => {
                let idx = IdxCa::from_vec("idx".into(), idx.clone());
                df.take(&idx).map_err(|e| {
                    Error::engine(format!("gathering the rows of {name}.parquet"), e)
                })?
            }
        };
        target.write(name, part, parallel)
    };
    let kept = target.keep_closed_months_without_rows(parts.iter().map(|(n, _)| n.as_str()))?;
    let written = if parts.len() == 1 {
        vec![one(&parts[0], true)?]
    } else {
        let order: Vec<usize> = (0..parts.len()).collect();
        crate::parallel::map_in_order(&parts, &order, crate::parallel::cores(), |part| {
            one(part, false)
        })
        .into_iter()
        .collect::<Result<Vec<_>>>()?
    };
    Ok(with_kept(written, kept))
}

/// Where a dataset's files go and how each is finished: the staged and published
/// folders, the months closed by the look-back, and `finish`.
pub(crate) struct Target<'a> {
    staged_dir: &'a Path,
    current_dir: &'a Path,
    closed_before: Option<String>,
    finish: &'a (dyn Fn(DataFrame) -> PolarsResult<DataFrame> + Sync),
}

impl<'a> Target<'a> {
    /// `names` are every file the dataset will have (months, `undated`, `data`).
    pub(crate) fn new<'n>(
        staged_dir: &'a Path,
        current_dir: &'a Path,
        names: impl Iterator<Item = &'n str>,
        lookback_months: Option<u32>,
        finish: &'a (dyn Fn(DataFrame) -> PolarsResult<DataFrame> + Sync),
    ) -> Self {
        // A dataset with no published folder (new, or deleted by hand) has nothing to keep:
        // every month is written (closed months would otherwise be withheld for good).
        let closed_before = lookback_months
            .filter(|_| current_dir.is_dir())
            .map(|n| months_before(&reference_month(names, &this_month()), n));
        Target {
            staged_dir,
            current_dir,
            closed_before,
            finish,
        }
    }

    /// Finishes and serialises one file's rows, and writes the file into the staged
    /// folder, or hard-links the published one when it is identical (or its month is
    /// closed).
    pub(crate) fn write(
        &self,
        name: &str,
        part: DataFrame,
        parallel: bool,
    ) -> Result<PartitionInfo> {
        let file = format!("{name}.parquet");
        let mut part = (self.finish)(part)
            .map_err(|e| Error::engine(format!("finishing the rows of {file}"), e))?;
        let bytes = to_bytes(&mut part, parallel)?;
        let (target, current) = (self.staged_dir.join(&file), self.current_dir.join(&file));
        let old = std::fs::read(&current).ok();
        let same = old.as_ref().is_some_and(|old| *old == bytes);
        let closed = self.is_closed(name);
        match (&old, same || closed) {
            (Some(old), true) => {
                let linked = {
                    let _created = crate::interrupt::creating();
                    std::fs::hard_link(&current, &target).is_ok()
                };
                if !linked {
                    write_file(&target, old)?;
                }
                // What is published: the kept file, not the rows that would have replaced it.
                Ok(PartitionInfo {
                    rows: if same {
                        part.height() as u64
                    } else {
                        rows_in(&current)?
                    },
                    bytes: old.len() as u64,
                    rewritten: false,
                    closed_changed: !same,
                    withheld: false,
                    kept_without_rows: false,
                    file,
                })
            }
            // Late rows for a closed month nothing was published for: withheld too.
            (None, true) => Ok(PartitionInfo {
                file,
                rows: 0,
                bytes: 0,
                rewritten: false,
                closed_changed: true,
                withheld: true,
                kept_without_rows: false,
            }),
            (_, false) => {
                write_file(&target, &bytes)?;
                Ok(PartitionInfo {
                    file,
                    rows: part.height() as u64,
                    bytes: bytes.len() as u64,
                    rewritten: true,
                    closed_changed: false,
                    withheld: false,
                    kept_without_rows: false,
                })
            }
        }
    }

    /// Whether a file of this name is a month closed by the look-back.
    fn is_closed(&self, name: &str) -> bool {
        is_month(name) && self.closed_before.as_deref().is_some_and(|c| name < c)
    }

    /// Keeps the published file of every closed month that `names` (the months this run
    /// has rows for) lacks: a closed month whose input was removed stays as published
    /// until a full refresh, as late data for it would (switched away with the folder, it
    /// was deleted while the datasets built from the same rows kept it).
    pub(crate) fn keep_closed_months_without_rows<'n>(
        &self,
        names: impl Iterator<Item = &'n str>,
    ) -> Result<Vec<PartitionInfo>> {
        let present: std::collections::BTreeSet<&str> = names.collect();
        let mut kept = Vec::new();
        let Ok(entries) = std::fs::read_dir(self.current_dir) else {
            return Ok(kept);
        };
        let mut files: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        files.sort();
        for file in files {
            let Some(name) = file.strip_suffix(".parquet") else {
                continue;
            };
            if present.contains(name) || !self.is_closed(name) {
                continue;
            }
            let (current, target) = (self.current_dir.join(&file), self.staged_dir.join(&file));
            let _created = crate::interrupt::creating();
            if std::fs::hard_link(&current, &target).is_err() {
                std::fs::copy(&current, &target).map_err(|e| Error::io("keeping", &current, e))?;
            }
            let bytes = std::fs::metadata(&current)
                .map_err(|e| Error::io("reading", &current, e))?
                .len();
            kept.push(PartitionInfo {
                rows: rows_in(&current)?,
                bytes,
                rewritten: false,
                closed_changed: true,
                withheld: false,
                kept_without_rows: true,
                file,
            });
        }
        Ok(kept)
    }
}

/// The rows of a published Parquet file, from its footer.
fn rows_in(path: &Path) -> Result<u64> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("opening", path, e))?;
    ParquetReader::new(file)
        .num_rows()
        .map(|n| n as u64)
        .map_err(|e| Error::engine(format!("reading the footer of {}", path.display()), e))
}

/// A dataset's partitions in file order, with the closed months kept without rows.
pub(crate) fn with_kept(
    mut written: Vec<PartitionInfo>,
    kept: Vec<PartitionInfo>,
) -> Vec<PartitionInfo> {
    written.extend(kept);
    written.sort_by(|a, b| a.file.cmp(&b.file));
    written
}

/// Whether ascending row positions are one run (`5, 6, 7`): a slice, not a gather.
fn contiguous(idx: &[IdxSize]) -> bool {
    match (idx.first(), idx.last()) {
        (Some(&a), Some(&b)) => (b - a) as usize + 1 == idx.len(),
        _ => true,
    }
}

/// `df` with its rows in order of the month of `column` (the month files' order), rows of
/// one month in their own order, so each month file is a slice of it, not a gather: for
/// a frame written as several datasets by the same month (the spells, and the journey
/// built in their order), one gather here instead of one per dataset. Files are the same
/// bytes either way: a month's rows keep their order. Columns are gathered one at a
/// time, so only one is ever held twice.
pub fn into_month_order(mut df: DataFrame, column: &str) -> PolarsResult<DataFrame> {
    let order: Vec<IdxSize> = month_rows(&df, column)?
        .into_iter()
        .flat_map(|(_, rows)| rows)
        .collect();
    if order.iter().enumerate().all(|(i, &r)| r as usize == i) {
        return Ok(df);
    }
    let order = IdxCa::from_vec("order".into(), order);
    for i in 0..df.width() {
        let moved = df.columns()[i].take(&order)?;
        df.replace_column(i, moved)?;
    }
    Ok(df)
}

/// Makes every column one contiguous chunk, a column at a time: only one column is ever
/// held twice (rechunking all columns at once holds the whole frame twice).
pub fn rechunk_lean(df: &mut DataFrame) -> PolarsResult<()> {
    for i in 0..df.width() {
        if df.columns()[i].n_chunks() > 1 {
            let one = df.columns()[i].rechunk();
            df.replace_column(i, one)?;
        }
    }
    Ok(())
}

/// The positions of each month's rows (by the `YYYY-MM` of a date or datetime column),
/// months in order, rows in their order within a month; `undated` (rows without a date)
/// last. One pass over an integer month key; no row is moved until a file is written.
pub(crate) fn month_rows(
    df: &DataFrame,
    column: &str,
) -> PolarsResult<Vec<(String, Vec<IdxSize>)>> {
    // An integer month key (year × 12 + month; null last) groups cheaply; the `YYYY-MM`
    // names are made once per month, not once per row.
    let keys = month_keys(df.column(column)?)?;
    let name = |k: i32| {
        if k == i32::MAX {
            "undated".to_string()
        } else {
            format!("{:04}-{:02}", k.div_euclid(12), k.rem_euclid(12) + 1)
        }
    };
    if df.height() == 0 {
        // An empty dataset still has a schema: keep one empty file.
        return Ok(vec![("undated".to_string(), Vec::new())]);
    }
    let mut months: BTreeMap<i32, Vec<IdxSize>> = BTreeMap::new();
    let mut last: Option<(i32, Vec<IdxSize>)> = None;
    for (i, k) in keys.into_iter().enumerate() {
        // Runs of one month (data sorted by date) append without a map lookup.
        match &mut last {
            Some((lk, v)) if *lk == k => v.push(i as IdxSize),
            _ => {
                if let Some((lk, v)) = last.take() {
                    months.entry(lk).or_default().extend(v);
                }
                last = Some((k, vec![i as IdxSize]));
            }
        }
    }
    if let Some((lk, v)) = last {
        months.entry(lk).or_default().extend(v);
    }
    Ok(months.into_iter().map(|(k, v)| (name(k), v)).collect())
}

/// Each row's month as year × 12 + month − 1, `i32::MAX` where the date is null, from
/// the column's days or time stamps by integer arithmetic (polars' `dt().year()` and
/// `dt().month()` make a calendar date of every row: ~4 % of the CPU after ingest).
fn month_keys(column: &Column) -> PolarsResult<Vec<i32>> {
    let key = |days: Option<i64>| days.map_or(i32::MAX, month_of_day);
    Ok(match column.dtype() {
        DataType::Date => column
            .date()?
            .physical()
            .iter()
            .map(|d| key(d.map(i64::from)))
            .collect(),
        DataType::Datetime(unit, _) => {
            let per_day: i64 = match unit {
                TimeUnit::Milliseconds => 86_400_000,
                TimeUnit::Microseconds => 86_400_000_000,
                TimeUnit::Nanoseconds => 86_400_000_000_000,
            };
            column
                .datetime()?
                .physical()
                .iter()
                .map(|t| key(t.map(|t| t.div_euclid(per_day))))
                .collect()
        }
        other => polars_bail!(
            InvalidOperation: "month files need a date or datetime column, not {other}"
        ),
    })
}

/// The month key (year × 12 + month − 1) of a day counted from 1970-01-01.
fn month_of_day(days: i64) -> i32 {
    let (year, month, _) = crate::ingest::dates::civil_from_days(days);
    i32::try_from(year * 12 + i64::from(month) - 1).unwrap_or(i32::MAX - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_in_month_order_keeps_each_month_s_rows_in_order_and_months_are_slices() {
        let day = |d: i32| Some(d);
        let df = df!(
            "n" => [0i64, 1, 2, 3, 4, 5],
            // 2024-02, 2024-01, 2024-02, null, 2024-01, 2024-01
            "d" => [day(19_754), day(19_723), day(19_760), None, day(19_724), day(19_730)],
        )
        .unwrap()
        .lazy()
        .with_column(col("d").cast(DataType::Date))
        .collect()
        .unwrap();
        let sorted = into_month_order(df, "d").unwrap();
        let n: Vec<Option<i64>> = sorted.column("n").unwrap().i64().unwrap().iter().collect();
        assert_eq!(n, [Some(1), Some(4), Some(5), Some(0), Some(2), Some(3)]);
        let months = month_rows(&sorted, "d").unwrap();
        let names: Vec<&str> = months.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(names, ["2024-01", "2024-02", "undated"]);
        assert!(months.iter().all(|(_, rows)| contiguous(rows)));
        assert!(!contiguous(&[1, 3]) && contiguous(&[]) && contiguous(&[7]));
    }

    #[test]
    fn month_files_are_the_same_bytes_from_a_frame_in_month_order() {
        let n = 5_000i64;
        let df = df!(
            "n" => (0..n).collect::<Vec<_>>(),
            "code" => (0..n).map(|i| ["A", "B", "C"][(i % 3) as usize]).collect::<Vec<_>>(),
            "text" => (0..n).map(|i| (i % 7 != 0).then(|| format!("row {i}"))).collect::<Vec<_>>(),
            "d" => (0..n).map(|i| (19_723 + (i * 37) % 200) as i32).collect::<Vec<_>>(),
        )
        .unwrap()
        .lazy()
        .with_columns([
            col("d").cast(DataType::Date),
            col("code").cast(crate::normalise::categorical()),
        ])
        .collect()
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let write = |df: DataFrame, name: &str| {
            let staged = dir.path().join(name);
            write_dataset_with(df, Some("d"), &staged, &dir.path().join("none"), None, &Ok)
                .unwrap();
            crate::publish::pieces::tests::files(&staged)
        };
        let gathered = write(df.clone(), "gathered");
        let sliced = write(into_month_order(df, "d").unwrap(), "sliced");
        assert_eq!(gathered.len(), 7, "months");
        assert!(gathered == sliced);
    }

    /// The spells are put in month order once for both datasets written from them
    /// (`app::person_level`): that only pays while both are written by the same month.
    #[test]
    fn the_spells_and_the_journey_are_written_by_the_same_month() {
        use crate::publish::Dataset;
        assert_eq!(
            Dataset::HospitalSpell.month_column(),
            Dataset::PatientJourney.month_column()
        );
    }

    #[test]
    fn month_keys_agree_with_the_calendar_for_every_day_of_five_centuries() {
        use chrono::{Datelike, NaiveDate};
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for days in -150_000i64..40_000 {
            let d = epoch + chrono::Duration::days(days);
            assert_eq!(
                month_of_day(days),
                d.year() * 12 + d.month() as i32 - 1,
                "{d}"
            );
        }
    }

    #[test]
    fn month_keys_of_dates_and_time_stamps_in_every_unit_with_nulls() {
        // 1969-12-31 23:59:59.999 is December 1969, not January 1970: time stamps before
        // the epoch round down to their day.
        let dates = Column::new("d".into(), [Some(-1i32), None, Some(0), Some(19_723)])
            .cast(&DataType::Date)
            .unwrap();
        let december_1969 = 1969 * 12 + 11;
        let january_1970 = 1970 * 12;
        let january_2024 = 2024 * 12;
        assert_eq!(
            month_keys(&dates).unwrap(),
            [december_1969, i32::MAX, january_1970, january_2024]
        );
        for (unit, per_ms) in [
            (TimeUnit::Milliseconds, 1i64),
            (TimeUnit::Microseconds, 1_000),
            (TimeUnit::Nanoseconds, 1_000_000),
        ] {
            let stamps = Column::new("t".into(), [Some(-per_ms), None, Some(0)])
                .cast(&DataType::Datetime(unit, None))
                .unwrap();
            assert_eq!(
                month_keys(&stamps).unwrap(),
                [december_1969, i32::MAX, january_1970],
                "{unit:?}"
            );
        }
        let text = Column::new("s".into(), ["2024-01-01"]);
        assert!(month_keys(&text).is_err(), "text is not a date");
    }

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

    /// Regression: the look-back counted back from the newest month with rows, so one
    /// row dated 2062 by a typo closed every real month, and a dataset with no dated rows
    /// closed none (its closed months' files were deleted).
    #[test]
    fn the_lookback_counts_back_from_the_newest_month_but_not_beyond_this_month() {
        assert_eq!(
            reference_month(["2026-03", "undated", "2026-04"].into_iter(), "2026-11"),
            "2026-04"
        );
        assert_eq!(
            reference_month(["2026-04", "2062-04"].into_iter(), "2026-11"),
            "2026-04",
            "data that lags the run's month by more than the look-back keeps its new months open"
        );
        assert_eq!(
            reference_month(["2062-04"].into_iter(), "2026-11"),
            "2026-11"
        );
        assert_eq!(
            reference_month(["undated"].into_iter(), "2026-11"),
            "2026-11"
        );
        assert_eq!(reference_month(std::iter::empty(), "2026-11"), "2026-11");
        assert_eq!(this_month().len(), 7);
        assert!(is_month(&this_month()));
    }

    /// One row (`n` = 1) per date in `months`, a `Date` column `month`.
    fn month_rows_of(months: &[&str]) -> DataFrame {
        let n = vec![1i64; months.len()];
        df!("month" => months, "n" => n)
            .unwrap()
            .lazy()
            .with_column(col("month").cast(DataType::Date))
            .collect()
            .unwrap()
    }

    /// Regression: with a look-back, an input emptied (`allow_empty`) deleted every
    /// closed month's file with no warning.
    #[test]
    fn a_dataset_left_without_rows_keeps_its_closed_months() {
        let dir = tempfile::tempdir().unwrap();
        let (v1, v2) = (dir.path().join("v1"), dir.path().join("v2"));
        let df = month_rows_of;
        let one = ["2025-06-01", "2025-07-01"];
        write_dataset(df(&one), Some("month"), &v1, &dir.path().join("none"), None).unwrap();
        let second = write_dataset(df(&[]), Some("month"), &v2, &v1, Some(1)).unwrap();
        assert_eq!(
            second
                .iter()
                .map(|p| (p.file.as_str(), p.rows, p.kept_without_rows))
                .collect::<Vec<_>>(),
            [
                ("2025-06.parquet", 1, true),
                ("2025-07.parquet", 1, true),
                ("undated.parquet", 0, false),
            ]
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
        write_dataset(df(1), Some("month"), &v1, &dir.path().join("none"), None).unwrap();
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

    /// Regression: with a look-back, a closed month whose input was removed lost its file
    /// (the datasets built from the same rows kept theirs), late rows for a closed month
    /// that had no file were published at once, and a kept month was described by the
    /// rows that would have replaced it.
    #[test]
    fn a_closed_month_keeps_its_file_without_rows_and_gets_none_for_late_rows() {
        let dir = tempfile::tempdir().unwrap();
        let (v1, v2) = (dir.path().join("v1"), dir.path().join("v2"));
        let df = month_rows_of;
        let one = ["2026-06-01", "2026-06-02", "2026-08-01"];
        write_dataset(df(&one), Some("month"), &v1, &dir.path().join("none"), None).unwrap();
        // June's rows gone and May's late: both months closed (August is the newest).
        let two = ["2026-05-01", "2026-07-01", "2026-08-01"];
        let second = write_dataset(df(&two), Some("month"), &v2, &v1, Some(1)).unwrap();
        assert_eq!(
            second
                .iter()
                .map(|p| (
                    p.file.as_str(),
                    p.rows,
                    p.rewritten,
                    p.closed_changed,
                    p.withheld
                ))
                .collect::<Vec<_>>(),
            [
                ("2026-05.parquet", 0, false, true, true),
                ("2026-06.parquet", 2, false, true, false),
                ("2026-07.parquet", 1, true, false, false),
                ("2026-08.parquet", 1, false, false, false),
            ]
        );
        let mut staged: Vec<String> = std::fs::read_dir(&v2)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        staged.sort();
        assert_eq!(
            staged,
            ["2026-06.parquet", "2026-07.parquet", "2026-08.parquet"]
        );
        assert_eq!(
            std::fs::read(v2.join("2026-06.parquet")).unwrap(),
            std::fs::read(v1.join("2026-06.parquet")).unwrap()
        );
        assert!(second[1].kept_without_rows && !second[0].kept_without_rows);
        // Regression: a dataset folder deleted by hand (no published folder) lost its
        // closed months for good; with nothing published, every month is written.
        let v3 = dir.path().join("v3");
        let third = write_dataset(
            df(&one),
            Some("month"),
            &v3,
            &dir.path().join("gone"),
            Some(1),
        )
        .unwrap();
        assert!(
            third.iter().all(|p| p.rewritten && !p.withheld),
            "{third:?}"
        );
        assert_eq!(third.len(), 2);
    }

    #[test]
    fn categorical_columns_are_written_as_strings() {
        let dir = tempfile::tempdir().unwrap();
        let df = df!("code" => [Some("A"), None, Some("B")], "n" => [1i64, 2, 3])
            .unwrap()
            .lazy()
            .with_column(col("code").cast(crate::normalise::categorical()))
            .collect()
            .unwrap();
        write_dataset(df, None, dir.path(), &dir.path().join("none"), None).unwrap();
        let back =
            ParquetReader::new(std::fs::File::open(dir.path().join("data.parquet")).unwrap())
                .finish()
                .unwrap();
        assert_eq!(back.column("code").unwrap().dtype(), &DataType::String);
        let codes: Vec<Option<&str>> = back.column("code").unwrap().str().unwrap().iter().collect();
        assert_eq!(codes, [Some("A"), None, Some("B")]);
    }

    /// Categorical columns go into Parquet dictionary pages without being cast back to
    /// text, but the file is byte-for-byte the one the text column gives, and an
    /// independent Arrow reader (arrow-rs) sees a plain string column, not a dictionary.
    #[test]
    fn categorical_columns_give_the_bytes_of_text_columns_and_arrow_reads_strings() {
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let text = df!(
            "code" => [Some("B"), None, Some("A"), Some("B"), Some("C")],
            "n" => [1i64, 2, 3, 4, 5],
        )
        .unwrap();
        let categorical = text
            .clone()
            .lazy()
            .with_column(col("code").cast(crate::normalise::categorical()))
            .collect()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let none = dir.path().join("none");
        let (a, b) = (dir.path().join("text"), dir.path().join("categorical"));
        write_dataset(text, None, &a, &none, None).unwrap();
        write_dataset(categorical, None, &b, &none, None).unwrap();
        let bytes = |d: &Path| std::fs::read(d.join("data.parquet")).unwrap();
        assert!(
            bytes(&a) == bytes(&b),
            "the categorical column's file differs"
        );
        let reader = ParquetRecordBatchReaderBuilder::try_new(
            std::fs::File::open(b.join("data.parquet")).unwrap(),
        )
        .unwrap();
        let field = reader.schema().field_with_name("code").unwrap().clone();
        assert!(
            matches!(
                field.data_type(),
                arrow_schema::DataType::Utf8
                    | arrow_schema::DataType::LargeUtf8
                    | arrow_schema::DataType::Utf8View
            ),
            "{field:?}"
        );
    }
}
