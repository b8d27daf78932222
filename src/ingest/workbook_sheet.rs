//! An Excel workbook sent where a contract reads delimited text (a council's extract saved
//! from Excel, `.xlsx`, `.xlsm`, `.xls` or `.ods`): the contract's `sheet` (else the
//! workbook's first) is written out as UTF-8 CSV and read like any other file, against
//! the same contract, with the same checks and quarantine.
//!
//! A cell becomes the text a person reading the sheet would type: a whole number without
//! a decimal point (`9434765919`, not `9434765919.0`), a date in the first format its
//! contract column declares (so `%d/%m/%Y` columns get `01/08/2026`), or ISO 8601 in a
//! column that is not a date; a date column holding a plain day number (a date cell
//! formatted as a number) is read as that day. An error cell keeps its text (`#N/A`), so
//! the row is quarantined for what it holds. Line numbers in messages and quarantine are
//! the sheet's rows counted from its first used row (a run warning says which row that
//! is, when it is not row 1).

use std::io::Write;
use std::path::{Path, PathBuf};

use calamine::{Data, Reader};
use chrono::NaiveDate;

use crate::schema::{ColumnType, Contract};

/// Whether a file starting with `head` is a workbook this can read: a zip archive (the
/// `.xlsx`, `.xlsm` and `.ods` container) or an OLE compound file (`.xls`).
pub fn is_workbook(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
}

/// A sheet written out as CSV.
#[derive(Debug)]
pub struct SheetCsv {
    /// The CSV file (UTF-8, comma-delimited).
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// The sheet read.
    pub sheet: String,
    /// The sheet row (1-based) of the CSV's first line, the header.
    pub first_row: u32,
}

/// Writes the sheet of the workbook at `path` that `contract` reads into `dir`, as a CSV
/// file of the workbook's file name. The error says why the workbook cannot be read.
pub fn to_csv(path: &Path, contract: &Contract, dir: &Path) -> Result<SheetCsv, String> {
    let mut wb = calamine::open_workbook_auto(path).map_err(|e| {
        format!(
            "is a zip or Office file but cannot be read as a workbook ({e}); save the sheet as CSV"
        )
    })?;
    let names = wb.sheet_names();
    let sheet = match &contract.sheet {
        Some(wanted) => names
            .iter()
            .find(|n| n.trim().eq_ignore_ascii_case(wanted.trim()))
            .cloned()
            .ok_or_else(|| {
                format!(
                    "has no sheet \"{wanted}\" (contract \"{}\" reads it); its sheets: {}",
                    contract.name,
                    quoted(&names)
                )
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| "is a workbook without sheets".to_string())?,
    };
    let range = wb
        .worksheet_range(&sheet)
        .map_err(|e| format!("sheet \"{sheet}\" cannot be read: {e}"))?;
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let rows: Vec<&[Data]> = range.rows().collect();
    let Some(header) = rows.first() else {
        return Err(format!(
            "sheet \"{sheet}\" is empty: expected a header row with the columns of contract \"{}\"",
            contract.name
        ));
    };
    let header: Vec<String> = header.iter().map(|c| cell_text(c, None)).collect();
    let kinds = column_kinds(contract, &header, path);
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let file_name = path.file_name().unwrap_or_default();
    let out = dir.join(file_name);
    let write = || -> std::io::Result<u64> {
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(std::io::BufWriter::new(std::fs::File::create(&out)?));
        w.write_record(&header)?;
        for row in &rows[1..] {
            let fields: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, c)| cell_text(c, kinds.get(i).copied().flatten()))
                .collect();
            w.write_record(&fields)?;
        }
        w.flush()?;
        let mut inner = w.into_inner().map_err(|e| e.into_error())?;
        inner.flush()?;
        Ok(std::fs::metadata(&out)?.len())
    };
    let bytes = write().map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    // Columns left of the first used one are not in the range; nothing to say of them.
    let _ = first_col;
    Ok(SheetCsv {
        path: out,
        bytes,
        sheet,
        first_row: first_row + 1,
    })
}

/// `"a", "b"`.
fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// For each column of the sheet, the contract column type it is read as (by the header,
/// as ingest matches it), if any. A header that does not match is reported by ingest.
fn column_kinds<'c>(
    contract: &'c Contract,
    header: &[String],
    path: &Path,
) -> Vec<Option<&'c ColumnType>> {
    let mut kinds = vec![None; header.len()];
    if let Ok(map) = super::header::match_header(contract, header, path) {
        for (column, at) in contract.columns.iter().zip(map.positions) {
            if let Some(at) = at.filter(|&at| at < kinds.len()) {
                kinds[at] = Some(&column.kind);
            }
        }
    }
    kinds
}

/// A cell as text, for a column read as `kind`.
fn cell_text(cell: &Data, kind: Option<&ColumnType>) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => match (kind, super::nhse::workbook::serial_date(*f)) {
            (Some(ColumnType::Date(formats)), Some(day)) if f.fract() == 0.0 => {
                day.format(formats[0].as_str()).to_string()
            }
            _ => number_text(*f),
        },
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::Error(e) => e.to_string(),
        Data::DateTime(dt) => {
            let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
            let at = NaiveDate::from_ymd_opt(i32::from(y), u32::from(mo), u32::from(d))
                .and_then(|day| day.and_hms_opt(u32::from(h), u32::from(mi), u32::from(s)));
            let Some(at) = at else {
                return number_text(dt.as_f64());
            };
            let format = match kind {
                Some(
                    ColumnType::Date(formats)
                    | ColumnType::DateTime(formats)
                    | ColumnType::Time(formats),
                ) if !formats.is_empty() => formats[0].as_str().to_string(),
                _ if (h, mi, s) == (0, 0, 0) => "%Y-%m-%d".to_string(),
                _ => "%Y-%m-%d %H:%M:%S".to_string(),
            };
            at.format(&format).to_string()
        }
    }
}

/// A number as typed: whole numbers without a decimal point.
fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.0}")
    } else {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_become_the_text_a_person_would_type() {
        assert_eq!(cell_text(&Data::Float(9434765919.0), None), "9434765919");
        assert_eq!(cell_text(&Data::Float(2.5), None), "2.5");
        assert_eq!(cell_text(&Data::Int(-3), None), "-3");
        assert_eq!(cell_text(&Data::Bool(true), None), "TRUE");
        assert_eq!(
            cell_text(&Data::Error(calamine::CellErrorType::NA), None),
            "#N/A"
        );
        assert_eq!(cell_text(&Data::String(" RXX ".into()), None), " RXX ");
        assert_eq!(cell_text(&Data::Empty, None), "");
    }

    #[test]
    fn dates_take_their_column_s_first_format_or_iso() {
        let date = ColumnType::Date(vec![
            crate::ingest::dates::DateFormat::compile("%d/%m/%Y").unwrap(),
        ]);
        let cell = |serial: f64| {
            Data::DateTime(calamine::ExcelDateTime::new(
                serial,
                calamine::ExcelDateTimeType::DateTime,
                false,
            ))
        };
        // 46235 is 2026-08-01; .5 is noon.
        assert_eq!(cell_text(&cell(46235.0), Some(&date)), "01/08/2026");
        assert_eq!(cell_text(&cell(46235.0), None), "2026-08-01");
        assert_eq!(cell_text(&cell(46235.5), None), "2026-08-01 12:00:00");
        // A date kept as a plain day number in a date column.
        assert_eq!(cell_text(&Data::Float(46235.0), Some(&date)), "01/08/2026");
    }

    #[test]
    fn zip_and_office_files_are_workbooks_and_text_is_not() {
        assert!(is_workbook(b"PK\x03\x04rest"));
        assert!(is_workbook(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1]));
        assert!(!is_workbook(b"spell_id,nhs_number\n"));
    }
}
