//! `joinedup baseline`: the benchmark's lower bound. Reads every CSV file under a folder
//! with polars (every column as text, no validation, mapping, linkage or measures) and
//! writes each to Parquet with the same compression joinedup uses. A full run cannot be
//! faster than this; `scripts/bench` reports the ratio between the two.

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
    Ok(rows)
}
