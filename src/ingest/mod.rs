//! Stage 2, ingest: read each source's files against its contract.
//!
//! Per file: sniff the byte-order mark, match the header row to the contract (a missing
//! required column rejects the file), then check every row ([`row::RowChecker`]).
//! Accepted rows are written in batches to a staging Parquet file with identifiers
//! already pseudonymised; rejected rows go to the source's [`quarantine::Quarantine`]
//! with reason codes. Rows in = rows accepted + rows quarantined, per file and source.

pub mod batch;
pub mod dates;
pub mod decode;
pub mod header;
pub mod nhs_number;
pub mod nhse;
pub mod quarantine;
pub mod reason;
pub mod row;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::config::SourcePlan;
use crate::error::{Error, Location, Result};
use crate::normalise::pseudonym::Pseudonymiser;
use crate::pull::InputFile;
use crate::schema::{DriftPolicy, Encoding};
use batch::BatchBuilder;
use decode::{Bom, sniff_bom};
use quarantine::Quarantine;

/// Rows per staged batch.
const BATCH_ROWS: usize = 65_536;

/// What ingest did with one file.
#[derive(Debug, Clone)]
pub struct FileIngest {
    /// The file and its fingerprint.
    pub input: InputFile,
    /// Encoding used to decode it.
    pub encoding: &'static str,
    /// Data rows read (header excluded).
    pub rows_in: u64,
    /// Rows accepted.
    pub accepted: u64,
    /// Rows quarantined.
    pub quarantined: u64,
    /// Columns the contract does not declare.
    pub extra_columns: Vec<String>,
}

/// What ingest did with one source.
#[derive(Debug)]
pub struct SourceIngest {
    /// Source name.
    pub name: String,
    /// Per file.
    pub files: Vec<FileIngest>,
    /// Rejected rows.
    pub quarantine: Quarantine,
    /// Staging Parquet file of accepted rows.
    pub staged: PathBuf,
    /// Warnings for the run report (schema drift and the like).
    pub warnings: Vec<String>,
}

impl SourceIngest {
    /// Data rows read.
    pub fn rows_in(&self) -> u64 {
        self.files.iter().map(|f| f.rows_in).sum()
    }
    /// Rows accepted.
    pub fn accepted(&self) -> u64 {
        self.files.iter().map(|f| f.accepted).sum()
    }
    /// Rows quarantined.
    pub fn quarantined(&self) -> u64 {
        self.quarantine.len()
    }
}

/// Ingests every file of a source into `staging_dir/<source>.parquet`.
pub fn ingest_source(
    source: &SourcePlan,
    inputs: &[InputFile],
    pseudo: &Pseudonymiser,
    staging_dir: &Path,
) -> Result<SourceIngest> {
    let staged = staging_dir.join(format!("{}.parquet", source.name));
    let out = File::create(&staged).map_err(|e| Error::io("creating", &staged, e))?;
    let mut builder = BatchBuilder::new(&source.contract);
    let schema = builder
        .take_frame()
        .map_err(|e| Error::engine("building the staging schema", e))?
        .schema()
        .as_ref()
        .clone();
    let mut writer = ParquetWriter::new(out)
        .with_compression(ParquetCompression::Lz4Raw)
        .batched(&schema)
        .map_err(|e| Error::engine(format!("opening {}", staged.display()), e))?;
    let mut result = SourceIngest {
        name: source.name.clone(),
        files: Vec::new(),
        quarantine: Quarantine::default(),
        staged: staged.clone(),
        warnings: Vec::new(),
    };
    for input in inputs {
        let report = ingest_file(source, input, pseudo, &mut builder, &mut result, &mut |b| {
            let df = b
                .take_frame()
                .map_err(|e| Error::engine("building a batch", e))?;
            writer
                .write_batch(&df)
                .map_err(|e| Error::engine(format!("writing {}", staged.display()), e))
        })?;
        result.files.push(report);
    }
    if !builder.is_empty() {
        let df = builder
            .take_frame()
            .map_err(|e| Error::engine("building a batch", e))?;
        writer
            .write_batch(&df)
            .map_err(|e| Error::engine(format!("writing {}", staged.display()), e))?;
    }
    writer
        .finish()
        .map_err(|e| Error::engine(format!("finishing {}", staged.display()), e))?;
    Ok(result)
}

fn ingest_file(
    source: &SourcePlan,
    input: &InputFile,
    pseudo: &Pseudonymiser,
    builder: &mut BatchBuilder,
    result: &mut SourceIngest,
    flush: &mut dyn FnMut(&mut BatchBuilder) -> Result<()>,
) -> Result<FileIngest> {
    let path = &input.path;
    let rejected = |line: Option<u64>, message: String| Error::InputRejected {
        location: Location {
            file: path.clone(),
            line,
            column: None,
        },
        message,
    };
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let head = reader
        .fill_buf()
        .map_err(|e| Error::io("reading", path, e))?;
    let mut contract = source.contract.as_ref().clone();
    match sniff_bom(head) {
        Bom::Utf8 => {
            reader.consume(3);
            if contract.encoding != Encoding::Utf8 {
                result.warnings.push(format!(
                    "{}: starts with a UTF-8 byte-order mark, so it was read as UTF-8 although contract \"{}\" says windows-1252",
                    path.display(),
                    contract.name
                ));
                contract.encoding = Encoding::Utf8;
            }
        }
        Bom::Utf16 => {
            return Err(rejected(
                Some(1),
                "is UTF-16 (byte-order mark FF FE or FE FF); save it as UTF-8 or Windows-1252"
                    .into(),
            ));
        }
        Bom::None => {}
    }
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(contract.delimiter)
        .from_reader(reader);
    let mut record = csv::ByteRecord::new();
    let has_header = csv
        .read_byte_record(&mut record)
        .map_err(|e| rejected(None, format!("cannot read the header row: {e}")))?;
    if !has_header {
        return Err(rejected(
            None,
            format!(
                "is empty: expected a header row with the columns of contract \"{}\"",
                contract.name
            ),
        ));
    }
    let mut headers = Vec::with_capacity(record.len());
    for (i, field) in record.iter().enumerate() {
        match decode::decode(contract.encoding, field) {
            Ok(h) => headers.push(h.trim().to_string()),
            Err(offset) => {
                return Err(rejected(
                    Some(1),
                    format!(
                        "header field {} has bytes that are not valid {} (byte {} of the field); check the contract's encoding",
                        i + 1,
                        if contract.encoding == Encoding::Utf8 {
                            "UTF-8"
                        } else {
                            "Windows-1252"
                        },
                        offset + 1
                    ),
                ));
            }
        }
    }
    let header = header::match_header(&contract, &headers, path)?;
    if !header.extra.is_empty() {
        let cols = header
            .extra
            .iter()
            .map(|h| format!("\"{h}\""))
            .collect::<Vec<_>>()
            .join(", ");
        match contract.on_extra_column {
            DriftPolicy::Error => {
                return Err(rejected(
                    Some(1),
                    format!(
                        "has column(s) {cols} that contract \"{}\" does not declare, and its on_extra_column policy is \"error\"",
                        contract.name
                    ),
                ));
            }
            DriftPolicy::Warn => {
                let msg = format!(
                    "{}: ignored column(s) {cols} not declared in contract \"{}\"",
                    path.display(),
                    contract.name
                );
                tracing::warn!(source = %source.name, file = %path.display(), columns = %cols, "ignored undeclared columns");
                result.warnings.push(msg);
            }
            DriftPolicy::Ignore => {}
        }
    }
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("?")
        .to_string();
    builder.set_file(&file_name);
    let checker = row::RowChecker {
        contract: &contract,
        header: &header,
        pseudo,
        file_name: &file_name,
    };
    let mut report = FileIngest {
        input: input.clone(),
        encoding: if contract.encoding == Encoding::Utf8 {
            "utf-8"
        } else {
            "windows-1252"
        },
        rows_in: 0,
        accepted: 0,
        quarantined: 0,
        extra_columns: header.extra.clone(),
    };
    let progress =
        crate::telemetry::FileProgress::start(&format!("{} {file_name}", source.name), input.bytes);
    loop {
        let more = csv
            .read_byte_record(&mut record)
            .map_err(|e| Error::io("reading", path, std::io::Error::other(e.to_string())))?;
        if !more {
            break;
        }
        // A line holding only whitespace is not a row.
        if record.len() == 1 && record[0].iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        report.rows_in += 1;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        match checker.check(&record, line, report.rows_in) {
            Ok(cells) => {
                report.accepted += 1;
                builder.push(report.rows_in, cells);
                if builder.len() >= BATCH_ROWS {
                    flush(builder)?;
                    progress.set(record.position().map(|p| p.byte()).unwrap_or(0));
                }
            }
            Err(q) => {
                report.quarantined += 1;
                result.quarantine.push(q);
            }
        }
    }
    Ok(report)
}
