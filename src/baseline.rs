//! `joinedup baseline`: the benchmark's lower bound. Reads every CSV file under a folder
//! with polars (every column as text, no validation, mapping, linkage or measures) and
//! writes each to Parquet with the same compression joinedup uses, synced to disk as a
//! run's outputs are (a run's files are durable before it reports them; a lower bound
//! left in the page cache would be timed for less I/O than the work it bounds). A full
//! run cannot be faster than this; `scripts/bench` reports the ratio between the two.
//!
//! Two parts of a floor under any implementation of the pipeline, measured beside it:
//! [`read_only`], the lower bound's reading alone (every CSV parsed, nothing written),
//! and [`rewrite_outputs`], writing the files a run wrote (its `restricted/` and
//! `published/` datasets, file for file) from memory as a run writes them, timed
//! without the reading. Every run must read its inputs and write those files, so the two
//! together say how much of a run's time no implementation can avoid.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::publish::parquet::ROW_GROUP_ROWS;

/// Every file under `dir` (nested too) whose extension is `ext`, in path order.
fn files_ending(dir: &Path, ext: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, ext, out);
                } else if p.extension().is_some_and(|x| x == ext) {
                    out.push(p);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, ext, &mut out);
    out.sort();
    out
}

/// `f` scanned as the lower bound reads it: a header, every column as text.
fn scan_csv(f: &Path) -> Result<LazyFrame> {
    LazyCsvReader::new(PlRefPath::new(f.to_string_lossy().as_ref()))
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_encoding(CsvEncoding::LossyUtf8)
        .finish()
        .map_err(|e| Error::engine(format!("scanning {}", f.display()), e))
}

/// Converts every CSV under `input` to Parquet under `out`; returns the rows read.
pub fn run(input: &Path, out: &Path) -> Result<u64> {
    let files = files_ending(input, "csv");
    std::fs::create_dir_all(out).map_err(|e| Error::io("creating", out, e))?;
    let mut rows = 0u64;
    for (i, f) in files.iter().enumerate() {
        let target = out.join(format!("{i:03}.parquet"));
        let lf = scan_csv(f)?;
        let options = ParquetWriteOptions {
            compression: crate::publish::parquet::compression(),
            row_group_size: Some(ROW_GROUP_ROWS),
            ..Default::default()
        };
        lf.sink(
            SinkDestination::File {
                target: SinkTarget::Path(PlRefPath::new(target.to_string_lossy().as_ref())),
            },
            FileWriteFormat::Parquet(std::sync::Arc::new(options)),
            UnifiedSinkArgs::default(),
        )
        .and_then(|lf| lf.collect())
        .map_err(|e| Error::engine(format!("writing {}", target.display()), e))?;
        std::fs::File::open(&target)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io("syncing", &target, e))?;
        let n = LazyFrame::scan_parquet(
            PlRefPath::new(target.to_string_lossy().as_ref()),
            ScanArgsParquet::default(),
        )
        .and_then(|lf| lf.select([len()]).collect())
        .map_err(|e| Error::engine("counting rows", e))?;
        rows += n
            .column("len")
            .ok()
            .and_then(|c| c.u32().ok())
            .and_then(|c| c.get(0))
            .unwrap_or(0) as u64;
    }
    std::fs::File::open(out)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("syncing", out, e))?;
    Ok(rows)
}

/// A name no CSV column of the benchmark's inputs has.
const LEN_COLUMN: &str = "__joinedup_rows";

/// Reads every CSV under `input` as [`run`] does (streamed, every column parsed as
/// text) and writes nothing; returns the rows read.
pub fn read_only(input: &Path) -> Result<u64> {
    let mut rows = 0u64;
    for f in files_ending(input, "csv") {
        // Streamed as the lower bound streams it; counting each column's nulls needs every
        // value of every column parsed, and holds none of them.
        let counts = scan_csv(&f)?
            .select([len().alias(LEN_COLUMN), all().as_expr().null_count()])
            .collect_with_engine(Engine::Streaming)
            .map(|r| r.unwrap_single())
            .map_err(|e| Error::engine(format!("reading {}", f.display()), e))?;
        let counted = counts
            .column(LEN_COLUMN)
            .and_then(|c| c.cast(&DataType::UInt64))
            .map_err(|e| Error::engine(format!("counting the rows of {}", f.display()), e))?;
        rows += counted
            .u64()
            .ok()
            .and_then(|c| c.get(0))
            .ok_or_else(|| Error::Internal(format!("no row count for {}", f.display())))?;
    }
    Ok(rows)
}

/// `df` (read from `file`) with its code columns as categoricals, as a run holds them
/// (`normalise::held_dtype`): every text column but the pseudonyms whose values repeat
/// (at most one distinct value per two rows). A run holds identifiers (spell and
/// attendance numbers) as text, and so does this: they seldom repeat.
fn held_as_a_run_holds(mut df: DataFrame, file: &Path) -> Result<DataFrame> {
    let failed =
        |name: &PlSmallStr, e| Error::engine(format!("holding {} of {}", name, file.display()), e);
    let text: Vec<PlSmallStr> = df
        .schema()
        .iter()
        .filter(|(name, dtype)| {
            **dtype == DataType::String
                && !crate::publish::encoder::PSEUDONYM_FIELDS.contains(&name.as_str())
        })
        .map(|(name, _)| name.clone())
        .collect();
    for name in text {
        let column = df.column(&name).map_err(|e| failed(&name, e))?;
        let distinct = column.n_unique().map_err(|e| failed(&name, e))?;
        if distinct * 2 > df.height() {
            continue;
        }
        let held = column
            .cast(&crate::normalise::categorical())
            .map_err(|e| failed(&name, e))?;
        df.with_column(held).map_err(|e| failed(&name, e))?;
    }
    Ok(df)
}

/// What [`rewrite_outputs`] wrote, and how long the writing took.
#[derive(Debug, serde::Serialize)]
pub struct Rewrite {
    /// Files written.
    pub files: usize,
    /// Rows in them.
    pub rows: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Seconds spent writing and syncing them (not reading them).
    pub write_seconds: f64,
    /// CPU seconds (user and system, every thread) the writing took, when the system
    /// says (`/proc/self/stat`).
    pub write_cpu_seconds: Option<f64>,
}

/// The datasets' files a run wrote under `data` (`restricted/` and `published/`), each
/// read into memory, then written under `out` at the same relative path the way a run
/// writes its files (`publish::partition`'s encoding and writing: polars' own encoding
/// functions with one zstd context per thread, columns on every core, each file synced
/// by background threads, [`crate::publish::durable`]). Code columns are held as
/// categoricals first, as a run holds them ([`held_as_a_run_holds`]), so they are
/// written from their codes. Only the writing is timed.
pub fn rewrite_outputs(data: &Path, out: &Path) -> Result<Rewrite> {
    let files: Vec<PathBuf> = ["restricted", "published"]
        .iter()
        .flat_map(|part| files_ending(&data.join(part), "parquet"))
        .collect();
    if files.is_empty() {
        return Err(Error::Usage(format!(
            "no Parquet files under {}/restricted or {}/published: give the data directory of a run",
            data.display(),
            data.display()
        )));
    }
    let mut frames = Vec::with_capacity(files.len());
    for f in &files {
        let df = LazyFrame::scan_parquet(
            PlRefPath::new(f.to_string_lossy().as_ref()),
            ScanArgsParquet::default(),
        )
        .and_then(|lf| lf.collect())
        .map_err(|e| Error::engine(format!("reading {}", f.display()), e))?;
        let relative = f.strip_prefix(data).unwrap_or(f).to_path_buf();
        frames.push((relative, held_as_a_run_holds(df, f)?));
    }
    let began = std::time::Instant::now();
    let cpu_before = crate::telemetry::cpu_seconds();
    let mut done = Rewrite {
        files: frames.len(),
        rows: 0,
        bytes: 0,
        write_seconds: 0.0,
        write_cpu_seconds: None,
    };
    let mut folders = std::collections::BTreeSet::new();
    for (relative, mut df) in frames {
        let target = out.join(&relative);
        let folder = target.parent().unwrap_or(out).to_path_buf();
        std::fs::create_dir_all(&folder).map_err(|e| Error::io("creating", &folder, e))?;
        // Encoded and written as a run writes an output file, synced in the background.
        let bytes = crate::publish::partition::to_bytes(&mut df, true)?;
        crate::publish::partition::write_file(&target, &bytes)?;
        let bytes = bytes.len() as u64;
        done.rows += df.height() as u64;
        done.bytes += bytes;
        folders.insert(folder);
    }
    crate::publish::durable::wait()?;
    for folder in folders {
        std::fs::File::open(&folder)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io("syncing", &folder, e))?;
    }
    done.write_seconds = began.elapsed().as_secs_f64();
    done.write_cpu_seconds = cpu_before
        .zip(crate::telemetry::cpu_seconds())
        .map(|(before, after)| after - before);
    Ok(done)
}

#[cfg(test)]
mod tests {
    use parquet::file::reader::{FileReader, SerializedFileReader};

    /// Every CSV under the folder (nested too, in path order) becomes one Parquet file of
    /// its rows, every column as text (leading zeros and blanks kept as written), with
    /// joinedup's zstd compression; other files are not read.
    #[test]
    fn every_csv_becomes_a_zstd_parquet_file_of_its_rows_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let input = inputs(dir.path());
        let out = dir.path().join("out");
        assert_eq!(super::run(&input, &out).unwrap(), 5);
        let mut names: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["000.parquet", "001.parquet"]);
        let rows = |name: &str| zstd_rows(&out.join(name));
        assert_eq!(
            rows("000.parquet"),
            [r#"{id: "007", code: "X"}"#, r#"{id: "008", code: null}"#]
        );
        assert_eq!(
            rows("001.parquet"),
            [r#"{n: "1"}"#, r#"{n: "2"}"#, r#"{n: "3"}"#]
        );
    }

    /// The reading part of the floor: every CSV the lower bound reads (nested too, other
    /// files not), every value parsed; nothing written.
    #[test]
    fn read_only_parses_every_csv_the_lower_bound_reads_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let input = inputs(dir.path());
        assert_eq!(super::read_only(&input).unwrap(), 5);
        let mut left: Vec<_> = walk_names(dir.path());
        left.sort();
        assert_eq!(left, ["in/a.csv", "in/b/c.csv", "in/notes.txt"]);
    }

    /// The writing part of the floor: each Parquet file of a run's `restricted/` and
    /// `published/` is written again at the same relative path, with the same rows (a code
    /// column, held as a categorical for the writing, written as text), zstd; other folders (the run's records, the
    /// quarantine) are not rewritten, and a folder without outputs is refused.
    #[test]
    fn rewrite_outputs_writes_each_output_file_again_at_its_path() {
        use polars::prelude::*;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let write = |rel: &str, mut df: DataFrame| {
            let path = data.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            ParquetWriter::new(std::fs::File::create(&path).unwrap())
                .finish(&mut df)
                .unwrap();
        };
        write(
            "restricted/spells/2024-01.parquet",
            df!(
                "person_id" => ["A", "B", "C", "E"],
                "provider" => ["R1", "R1", "R2", "R1"],
                "days" => [1i64, 2, 3, 5]
            )
            .unwrap(),
        );
        write(
            "restricted/spells/2024-02.parquet",
            df!("person_id" => ["D"], "provider" => ["R2"], "days" => [4i64]).unwrap(),
        );
        write(
            "published/flow/2024-01.parquet",
            df!("count" => [10i64, 15]).unwrap(),
        );
        write("quarantine/apc/rows.parquet", df!("x" => [1i64]).unwrap());
        let out = dir.path().join("again");
        let done = super::rewrite_outputs(&data, &out).unwrap();
        assert_eq!((done.files, done.rows), (3, 7));
        let mut names = walk_names(&out);
        names.sort();
        assert_eq!(
            names,
            [
                "published/flow/2024-01.parquet",
                "restricted/spells/2024-01.parquet",
                "restricted/spells/2024-02.parquet"
            ]
        );
        let on_disk: u64 = names
            .iter()
            .map(|n| std::fs::metadata(out.join(n)).unwrap().len())
            .sum();
        assert_eq!(done.bytes, on_disk);
        assert_eq!(
            zstd_rows(&out.join("restricted/spells/2024-01.parquet")),
            [
                r#"{person_id: "A", provider: "R1", days: 1}"#,
                r#"{person_id: "B", provider: "R1", days: 2}"#,
                r#"{person_id: "C", provider: "R2", days: 3}"#,
                r#"{person_id: "E", provider: "R1", days: 5}"#
            ]
        );
        let err =
            super::rewrite_outputs(&out.join("published/flow"), &dir.path().join("x")).unwrap_err();
        assert!(
            err.to_string().contains("give the data directory of a run"),
            "{err}"
        );
    }

    /// A run holds code columns as categoricals and identifiers as text: text columns
    /// whose values repeat (at most one distinct value per two rows) are held as
    /// categoricals, others and pseudonyms (however often they repeat) stay text.
    #[test]
    fn code_columns_are_held_as_categoricals_and_identifiers_as_text() {
        use polars::prelude::*;
        let df = df!(
            "person_id" => ["A", "A", "A", "A"],
            "spell_id" => ["S1", "S2", "S3", "S3"],
            "provider" => ["R1", "R1", "R2", "R1"],
            "days" => [1i64, 2, 3, 4],
        )
        .unwrap();
        let held = super::held_as_a_run_holds(df, std::path::Path::new("f.parquet")).unwrap();
        let types: Vec<String> = held.dtypes().iter().map(|t| t.to_string()).collect();
        assert_eq!(types, ["str", "str", "cat", "i64"]);
    }

    /// A folder of inputs under `dir`: two CSV files (one nested) of 5 rows in all, and a
    /// file that is not CSV.
    fn inputs(dir: &std::path::Path) -> std::path::PathBuf {
        let input = dir.join("in");
        std::fs::create_dir_all(input.join("b")).unwrap();
        std::fs::write(input.join("a.csv"), "id,code\n007,X\n008,\n").unwrap();
        std::fs::write(input.join("b/c.csv"), "n\n1\n2\n3\n").unwrap();
        std::fs::write(input.join("notes.txt"), "not,a\ncsv,file\n").unwrap();
        input
    }

    /// The rows of a Parquet file read with arrow-rs' reader, each column chunk checked to
    /// be zstd.
    fn zstd_rows(path: &std::path::Path) -> Vec<String> {
        let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
        for g in reader.metadata().row_groups() {
            for c in g.columns() {
                let compression = c.compression();
                assert!(
                    matches!(compression, parquet::basic::Compression::ZSTD(_)),
                    "{compression:?}"
                );
            }
        }
        reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap().to_string())
            .collect()
    }

    /// Every file under `dir`, as paths relative to it.
    fn walk_names(dir: &std::path::Path) -> Vec<String> {
        fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(root, &p, out);
                } else {
                    out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
                }
            }
        }
        let mut out = Vec::new();
        walk(dir, dir, &mut out);
        out
    }
}
