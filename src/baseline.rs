//! `joinedup baseline`: the benchmark's lower bound. Reads every CSV file under a folder
//! with polars (every column as text, no validation, mapping, linkage or measures) and
//! writes each to Parquet with the same compression joinedup uses, synced to disk as a
//! run's outputs are (a run's files are durable before it reports them; a lower bound
//! left in the page cache would be timed for less I/O than the work it bounds). A full
//! run cannot be faster than this; `scripts/bench` reports the ratio between the two.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::publish::parquet::ROW_GROUP_ROWS;

fn csv_files(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                csv_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "csv") {
                out.push(p);
            }
        }
    }
}

/// Converts every CSV under `input` to Parquet under `out`; returns the rows read.
pub fn run(input: &Path, out: &Path) -> Result<u64> {
    let mut files = Vec::new();
    csv_files(input, &mut files);
    files.sort();
    std::fs::create_dir_all(out).map_err(|e| Error::io("creating", out, e))?;
    let mut rows = 0u64;
    for (i, f) in files.iter().enumerate() {
        let target = out.join(format!("{i:03}.parquet"));
        let lf = LazyCsvReader::new(PlRefPath::new(f.to_string_lossy().as_ref()))
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_encoding(CsvEncoding::LossyUtf8)
            .finish()
            .map_err(|e| Error::engine(format!("scanning {}", f.display()), e))?;
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

#[cfg(test)]
mod tests {
    use parquet::file::reader::{FileReader, SerializedFileReader};

    /// Every CSV under the folder (nested too, in path order) becomes one Parquet file of
    /// its rows, every column as text (leading zeros and blanks kept as written), with
    /// joinedup's zstd compression; other files are not read.
    #[test]
    fn every_csv_becomes_a_zstd_parquet_file_of_its_rows_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in");
        std::fs::create_dir_all(input.join("b")).unwrap();
        std::fs::write(input.join("a.csv"), "id,code\n007,X\n008,\n").unwrap();
        std::fs::write(input.join("b/c.csv"), "n\n1\n2\n3\n").unwrap();
        std::fs::write(input.join("notes.txt"), "not,a\ncsv,file\n").unwrap();
        let out = dir.path().join("out");
        assert_eq!(super::run(&input, &out).unwrap(), 5);
        let mut names: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["000.parquet", "001.parquet"]);
        let rows = |name: &str| -> Vec<String> {
            let reader =
                SerializedFileReader::new(std::fs::File::open(out.join(name)).unwrap()).unwrap();
            for g in reader.metadata().row_groups() {
                for c in g.columns() {
                    assert!(
                        matches!(c.compression(), parquet::basic::Compression::ZSTD(_)),
                        "{:?}",
                        c.compression()
                    );
                }
            }
            reader
                .get_row_iter(None)
                .unwrap()
                .map(|r| r.unwrap().to_string())
                .collect()
        };
        assert_eq!(
            rows("000.parquet"),
            [r#"{id: "007", code: "X"}"#, r#"{id: "008", code: null}"#]
        );
        assert_eq!(
            rows("001.parquet"),
            [r#"{n: "1"}"#, r#"{n: "2"}"#, r#"{n: "3"}"#]
        );
    }
}
