//! Stage 3, normalise: map each source's accepted rows onto its shared entity.
//!
//! A mapping (`pipelines/mappings/*.toml`) fills every entity field from a contract
//! column, a code's label or group, a date + time pair, a constant, or lineage (the
//! input file name); fields it does not
//! fill are null, and `source` is set to the source name. Several sources may feed one
//! entity (two trusts' APC extracts, several councils' CLD); their rows are stacked.
//! NHS numbers were already replaced by pseudonyms at ingest ([`pseudonym`]).

pub mod pseudonym;
pub mod repeated;

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::config::SourcePlan;
use crate::config::plan::{FieldSource, Via};
use crate::error::{Error, Result};
use crate::schema::{ColumnType, Entity, ValueType};

/// The polars type of a stored value type.
pub fn dtype(kind: ValueType) -> DataType {
    match kind {
        ValueType::String => DataType::String,
        ValueType::Integer | ValueType::Time => DataType::Int64,
        ValueType::Date => DataType::Date,
        ValueType::DateTime => DataType::Datetime(TimeUnit::Milliseconds, None),
        ValueType::Float => DataType::Float64,
        ValueType::Boolean => DataType::Boolean,
    }
}

/// The polars type an entity field is held as between normalise and publish: its stored
/// type, except that a string field which is not an identifier is a categorical. A
/// string costs 16 bytes per row in memory even for a two-letter code; a categorical
/// costs 4. Files hold strings again ([`crate::publish::partition`] casts back).
pub fn held_dtype(field: &crate::schema::Field) -> DataType {
    match field.kind {
        ValueType::String if !field.identifier => categorical(),
        kind => dtype(kind),
    }
}

/// The categorical type every held code column uses (one process-wide set of
/// categories, so columns of different frames compare and join directly).
pub fn categorical() -> DataType {
    DataType::from_categories(Categories::global())
}

/// An empty frame with the entity's columns, for entities no source feeds.
pub fn empty_entity(entity: &Entity) -> LazyFrame {
    let cols: Vec<Column> = entity
        .fields
        .iter()
        .map(|f| Column::new_empty(f.name.as_str().into(), &held_dtype(f)))
        .collect();
    DataFrame::new(0, cols)
        .map(|df| df.lazy())
        .unwrap_or_default()
}

/// Parquet files with one schema, stacked in order (lazy). At least one file.
pub fn scan_stacked(files: &[PathBuf]) -> PolarsResult<LazyFrame> {
    let scans = files
        .iter()
        .map(|p| {
            LazyFrame::scan_parquet(
                PlRefPath::new(p.to_string_lossy().as_ref()),
                ScanArgsParquet::default(),
            )
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    concat(scans, UnionArgs::default())
}

/// One staged file of the source's rows, mapped onto `entity` (lazy). `input_file` is the
/// name of the input file the rows were read from (a staged file holds one input file's
/// rows, so the name is not stored per row); `submission`, when given, is the file's
/// place in submission order by that name, kept as
/// [`crate::link::social_care::SUBMISSION`] (the name is shown with any NHS number
/// withheld, which can change its order).
pub fn normalise_source(
    source: &SourcePlan,
    entity: &Entity,
    staged: &Path,
    input_file: &str,
    submission: Option<i64>,
) -> Result<LazyFrame> {
    let reading = |e| {
        Error::engine(
            format!("reading staged rows of source `{}`", source.name),
            e,
        )
    };
    let lf = scan_stacked(&[staged.to_path_buf()]).map_err(reading)?;
    let contract = &source.contract;
    let mut exprs = Vec::with_capacity(entity.fields.len());
    for (field, (name, how)) in entity.fields.iter().zip(&source.mapping.fields) {
        debug_assert_eq!(&field.name, name);
        let target = dtype(field.kind);
        let held = held_dtype(field);
        let e = match how {
            Some(FieldSource::Column { index, via }) => {
                let col_def = &contract.columns[*index];
                let base = col(col_def.name.as_str());
                match (via, &col_def.kind) {
                    (Some(via), ColumnType::Code(list)) => {
                        let (old, new): (Vec<&str>, Vec<Option<&str>>) = list
                            .codes
                            .iter()
                            .map(|c| {
                                let v = match via {
                                    Via::Label => c.label.as_deref(),
                                    Via::Group => c.group.as_deref(),
                                };
                                (c.code.as_str(), v)
                            })
                            .unzip();
                        base.replace_strict(
                            lit(Series::new("old".into(), old)),
                            lit(Series::new("new".into(), new)),
                            Some(lit(NULL).cast(DataType::String)),
                            Some(DataType::String),
                        )
                    }
                    _ => base,
                }
            }
            Some(FieldSource::DateTime { date, time }) => {
                let d = col(contract.columns[*date].name.as_str())
                    .cast(DataType::Int32)
                    .cast(DataType::Int64);
                let t = col(contract.columns[*time].name.as_str());
                (d * lit(86_400_000i64) + t).cast(target.clone())
            }
            Some(FieldSource::Value(v)) => lit(v.clone()),
            // Lineage keeps the file's name, but never an NHS number written in it.
            Some(FieldSource::SourceFile) => {
                lit(crate::ingest::quarantine::mask_file_name(input_file))
            }
            None if field.name == "source" => lit(source.name.clone()),
            None => lit(NULL),
        };
        exprs.push(e.cast(target).cast(held).alias(field.name.as_str()));
    }
    if let Some(place) = submission {
        exprs.push(lit(place).alias(crate::link::social_care::SUBMISSION));
    }
    Ok(lf.select(exprs))
}
