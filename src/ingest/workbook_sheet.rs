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
//! the row is quarantined for what it holds; a line break typed in a cell is a space.
//! Rows above the header and empty rows are blank lines of the CSV, which ingest passes
//! over, so line numbers in messages and quarantine are the sheet's rows. An `.xlsx` is
//! read a cell at a time and written a row at a time (never held whole); `.xls` and
//! `.ods` sheets are read whole (calamine), about 32 bytes a cell.

use std::io::Write;
use std::path::{Path, PathBuf};

use calamine::{Data, Reader};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

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
    /// The workbook's worksheets, in order.
    pub sheets: Vec<String>,
    /// The sheet row (1-based) of the header: rows above it are blank lines of the CSV,
    /// so its line numbers are the sheet's rows.
    pub first_row: u32,
    /// Formula cells whose result was never saved (read as blank), by address.
    pub uncalculated: Vec<String>,
}

/// Writes the sheet of the workbook at `path` that `contract` reads into `dir`, as a CSV
/// file of the workbook's file name. The error says why the workbook cannot be read.
pub fn to_csv(path: &Path, contract: &Contract, dir: &Path) -> Result<SheetCsv, String> {
    let content = std::fs::read(path).map_err(|e| format!("cannot be read: {e}"))?;
    // The format from the content, not the name (a system's export named `.xls` is often
    // an `.xlsx`).
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(&content[..]))
        .map_err(|_| not_a_workbook(&content))?;
    let worksheets = |visible_only: bool| -> Vec<String> {
        wb.sheets_metadata()
            .iter()
            .filter(|m| m.typ == calamine::SheetType::WorkSheet)
            .filter(|m| !visible_only || m.visible == calamine::SheetVisible::Visible)
            .map(|m| m.name.clone())
            .collect()
    };
    let (sheets, visible) = (worksheets(false), worksheets(true));
    let sheet = match &contract.sheet {
        Some(wanted) => sheets
            .iter()
            .find(|n| n.trim().eq_ignore_ascii_case(wanted.trim()))
            .cloned()
            .ok_or_else(|| {
                format!(
                    "has no sheet \"{wanted}\" (contract \"{}\" reads it); its sheets: {}",
                    contract.name,
                    quoted(&sheets)
                )
            })?,
        // The first sheet a person opening the workbook sees.
        None => visible
            .first()
            .or(sheets.first())
            .cloned()
            .ok_or_else(|| "is a workbook without worksheets".to_string())?,
    };
    // Formula cells, to name those with no saved result (a workbook written by a script,
    // not saved by Excel): they read as blank.
    let mut formulas: std::collections::BTreeSet<(u32, u32)> = match wb.worksheet_formula(&sheet) {
        Ok(f) => {
            let (r0, c0) = f.start().unwrap_or((0, 0));
            f.used_cells()
                .filter(|(_, _, text)| !text.is_empty())
                .map(|(r, c, _)| (r0 + r as u32, c0 + c as u32))
                .collect()
        }
        Err(_) => Default::default(),
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let out = dir.join(path.file_name().unwrap_or_default());
    let cannot_write = |e: std::io::Error| format!("cannot write {}: {e}", out.display());
    let mut writer = SheetWriter {
        file: std::io::BufWriter::new(std::fs::File::create(&out).map_err(cannot_write)?),
        contract,
        path,
        kinds: Vec::new(),
        width: 0,
        next_row: 0,
        first_row: None,
        pending: Vec::new(),
    };
    let sheet_error = |e: String| format!("sheet \"{sheet}\" cannot be read: {e}");
    if let calamine::Sheets::Xlsx(xlsx) = &mut wb {
        // Cell by cell, a row at a time: the sheet is never held whole.
        let mut reader = xlsx
            .worksheet_cells_reader(&sheet)
            .map_err(|e| sheet_error(e.to_string()))?;
        let mut row: Vec<Data> = Vec::new();
        let mut at_row = None;
        while let Some(cell) = reader.next_cell().map_err(|e| sheet_error(e.to_string()))? {
            let (r, c) = cell.get_position();
            let value: Data = cell.get_value().clone().into();
            if value == Data::Empty {
                continue;
            }
            formulas.remove(&(r, c));
            if at_row != Some(r) {
                if let Some(done) = at_row {
                    writer.row(done, &row).map_err(cannot_write)?;
                }
                row.clear();
                at_row = Some(r);
            }
            if row.len() <= c as usize {
                row.resize(c as usize + 1, Data::Empty);
            }
            row[c as usize] = value;
        }
        if let Some(done) = at_row {
            writer.row(done, &row).map_err(cannot_write)?;
        }
    } else {
        let range = wb
            .worksheet_range(&sheet)
            .map_err(|e| sheet_error(e.to_string()))?;
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let lead = vec![Data::Empty; c0 as usize];
        for (i, cells) in range.rows().enumerate() {
            let r = r0 + i as u32;
            for (c, v) in cells.iter().enumerate() {
                if *v != Data::Empty {
                    formulas.remove(&(r, c0 + c as u32));
                }
            }
            let row: Vec<Data> = lead.iter().chain(cells).cloned().collect();
            writer.row(r, &row).map_err(cannot_write)?;
        }
    }
    let Some(first_row) = writer.finish().map_err(cannot_write)? else {
        return Err(format!(
            "sheet \"{sheet}\" is empty: expected a header row with the columns of contract \"{}\"",
            contract.name
        ));
    };
    let bytes = std::fs::metadata(&out).map_err(cannot_write)?.len();
    Ok(SheetCsv {
        path: out,
        bytes,
        sheet,
        sheets,
        first_row: first_row + 1,
        uncalculated: formulas
            .into_iter()
            .map(|(r, c)| super::nhse::workbook::a1(r, c))
            .collect(),
    })
}

/// Writes a sheet's rows as CSV as they are read: the first row with a value is the
/// header (rows above it, and empty rows below, are blank lines, which ingest passes
/// over, so line numbers are the sheet's rows); cells beyond the header's width are kept
/// (ingest quarantines such a row), and rows shorter than it are filled out.
struct SheetWriter<'a> {
    file: std::io::BufWriter<std::fs::File>,
    contract: &'a Contract,
    path: &'a Path,
    kinds: Vec<Option<&'a ColumnType>>,
    width: usize,
    /// The sheet row the next line of the CSV is.
    next_row: u32,
    /// The header's sheet row (0-based), once written.
    first_row: Option<u32>,
    /// Rows with a value before the header is found, kept until it is.
    pending: Vec<(u32, Vec<Data>)>,
}

/// Rows with a value looked at for the header: titles and notes above a table are a few.
const HEADER_SEARCH_ROWS: usize = 20;

impl SheetWriter<'_> {
    /// Takes sheet row `r` (0-based; rows come in order), its cells from column A. The
    /// header is the first row naming every required column of the contract (title rows
    /// above a table become blank lines), else the row naming most of its columns (which
    /// ingest then refuses, saying what it lacks).
    fn row(&mut self, r: u32, cells: &[Data]) -> std::io::Result<()> {
        if !cells.iter().any(|c| *c != Data::Empty) {
            return Ok(()); // an empty row: a blank line when the next row comes
        }
        if self.first_row.is_some() {
            return self.write_row(r, cells);
        }
        if super::header::match_header(self.contract, &texts(cells), self.path).is_ok() {
            self.pending.clear();
            return self.write_header(r, cells);
        }
        self.pending.push((r, cells.to_vec()));
        if self.pending.len() >= HEADER_SEARCH_ROWS {
            self.first_with_a_value()?;
        }
        Ok(())
    }

    /// No row named every required column: the header is the row naming most of the
    /// contract's columns (so ingest reports what it lacks), else the first row with a
    /// value; rows above it are blank lines, rows below it its rows.
    fn first_with_a_value(&mut self) -> std::io::Result<()> {
        let pending = std::mem::take(&mut self.pending);
        let named = |cells: &[Data]| super::header::columns_named(self.contract, &texts(cells));
        let mut at = 0;
        let mut best = 0;
        for (i, (_, cells)) in pending.iter().enumerate() {
            let n = named(cells);
            if n > best {
                (at, best) = (i, n);
            }
        }
        let mut rows = pending.into_iter().skip(at);
        if let Some((r, cells)) = rows.next() {
            self.write_header(r, &cells)?;
            for (r, cells) in rows {
                self.write_row(r, &cells)?;
            }
        }
        Ok(())
    }

    fn write_header(&mut self, r: u32, cells: &[Data]) -> std::io::Result<()> {
        let header = texts(cells);
        self.kinds = column_kinds(self.contract, &header, self.path);
        self.width = header.len();
        self.first_row = Some(r);
        self.write_line(r, &header)
    }

    fn write_row(&mut self, r: u32, cells: &[Data]) -> std::io::Result<()> {
        let last = cells.iter().rposition(|c| *c != Data::Empty).unwrap_or(0);
        let fields: Vec<String> = (0..self.width.max(last + 1))
            .map(|i| {
                let cell = cells.get(i).unwrap_or(&Data::Empty);
                one_line(cell_text(cell, self.kinds.get(i).copied().flatten()))
            })
            .collect();
        self.write_line(r, &fields)
    }

    /// Writes `fields` as sheet row `r`'s line, rows since the last line (above the
    /// header, or empty) as blank lines.
    fn write_line(&mut self, r: u32, fields: &[String]) -> std::io::Result<()> {
        for _ in self.next_row..r {
            self.file.write_all(b"\n")?;
        }
        self.next_row = r + 1;
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                self.file.write_all(b",")?;
            }
            write_field(&mut self.file, f)?;
        }
        self.file.write_all(b"\n")
    }

    /// Writes what is pending and flushes the file; the header's sheet row, if any.
    fn finish(mut self) -> std::io::Result<Option<u32>> {
        self.first_with_a_value()?;
        self.file.flush()?;
        Ok(self.first_row)
    }
}

/// A row's cells as text, up to its last value (a header).
fn texts(cells: &[Data]) -> Vec<String> {
    let last = cells
        .iter()
        .rposition(|c| *c != Data::Empty)
        .map_or(0, |l| l + 1);
    cells[..last]
        .iter()
        .map(|c| one_line(cell_text(c, None)))
        .collect()
}

/// One CSV field: quoted (quotes doubled) when it holds a comma or a quote. Line breaks
/// are already spaces ([`one_line`]).
fn write_field(out: &mut impl Write, field: &str) -> std::io::Result<()> {
    if field.contains([',', '"']) {
        write!(out, "\"{}\"", field.replace('"', "\"\""))
    } else {
        out.write_all(field.as_bytes())
    }
}

/// Why a file that starts like a zip archive or an Office file is not a workbook.
fn not_a_workbook(content: &[u8]) -> String {
    let package = memchr::memmem::find(content, b"[Content_Types].xml").is_some();
    if package {
        // An Office Open XML package calamine cannot read: say what it said.
        let why =
            calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(std::io::Cursor::new(content))
                .err()
                .map_or_else(String::new, |e| format!(": Xlsx error: {e}"));
        format!(
            "is an Excel workbook that cannot be read (damaged, or not saved by Excel{why}); save the sheet as CSV"
        )
    } else if content.starts_with(b"PK") {
        "is a zip archive, not a workbook: unzip it and give the file inside".into()
    } else {
        "is an Office file that cannot be read as a workbook (a password-protected workbook is one: save it without a password, or as CSV)".into()
    }
}

/// A cell's text on one line: a line break typed in a cell (Alt+Enter) is a space, as
/// the row is one record.
fn one_line(text: String) -> String {
    if text.contains(['\n', '\r']) {
        text.replace("\r\n", " ").replace(['\n', '\r'], " ")
    } else {
        text
    }
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
        Data::String(s) => s.clone(),
        // Dates an `.ods` file (or an `.xlsx` saved with ISO dates) holds as text.
        Data::DateTimeIso(s) => {
            iso_datetime(s).map_or_else(|| s.clone(), |at| datetime_text(at, kind))
        }
        Data::DurationIso(s) => iso_time(s).map_or_else(|| s.clone(), |at| datetime_text(at, kind)),
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
            NaiveDate::from_ymd_opt(i32::from(y), u32::from(mo), u32::from(d))
                .and_then(|day| day.and_hms_opt(u32::from(h), u32::from(mi), u32::from(s)))
                .map_or_else(|| number_text(dt.as_f64()), |at| datetime_text(at, kind))
        }
    }
}

/// A date and time in the first format of its column, else ISO 8601 (the date alone at
/// midnight).
fn datetime_text(at: NaiveDateTime, kind: Option<&ColumnType>) -> String {
    let format = match kind {
        Some(
            ColumnType::Date(formats) | ColumnType::DateTime(formats) | ColumnType::Time(formats),
        ) if !formats.is_empty() => formats[0].as_str(),
        _ if at.time() == NaiveTime::MIN => "%Y-%m-%d",
        _ => "%Y-%m-%d %H:%M:%S",
    };
    at.format(format).to_string()
}

/// An ISO 8601 date or date and time (`2026-07-01`, `2026-07-15T00:00:00`).
fn iso_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .map(|d| d.and_time(NaiveTime::MIN))
        })
}

/// An ISO 8601 duration within a day as a time of day (`PT01H06M00S` is 01:06), on
/// Excel's day 0.
fn iso_time(s: &str) -> Option<NaiveDateTime> {
    let rest = s.trim().strip_prefix("PT")?;
    let (mut h, mut m, mut sec, mut number) = (0u32, 0u32, 0f64, String::new());
    for ch in rest.chars() {
        match ch {
            'H' => h = std::mem::take(&mut number).parse().ok()?,
            'M' => m = std::mem::take(&mut number).parse().ok()?,
            'S' => sec = std::mem::take(&mut number).parse().ok()?,
            c if c.is_ascii_digit() || c == '.' => number.push(c),
            _ => return None,
        }
    }
    let time = NaiveTime::from_hms_opt(h, m, sec as u32)?;
    Some(NaiveDate::from_ymd_opt(1899, 12, 30)?.and_time(time))
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

    /// The sample pipeline's SUS APC contract.
    fn apc_contract() -> std::sync::Arc<Contract> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let plan = crate::config::load_plan(&root.join("pipelines/sample.toml"), &[]).unwrap();
        let apc = plan.sources.into_iter().find(|s| s.name == "apc").unwrap();
        apc.contract
    }

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
        // Regression (review): dates an `.ods` holds as ISO text, and times as
        // durations, were passed on as written and every row quarantined.
        let time = ColumnType::Time(vec![
            crate::ingest::dates::DateFormat::compile("%H:%M:%S").unwrap(),
        ]);
        let iso = |s: &str| Data::DateTimeIso(s.into());
        assert_eq!(cell_text(&iso("2026-07-01"), Some(&date)), "01/07/2026");
        assert_eq!(
            cell_text(&iso("2026-07-15T00:00:00"), Some(&date)),
            "15/07/2026"
        );
        assert_eq!(
            cell_text(&iso("2026-07-15T10:30:00"), None),
            "2026-07-15 10:30:00"
        );
        assert_eq!(
            cell_text(&Data::DurationIso("PT01H06M00S".into()), Some(&time)),
            "01:06:00"
        );
        assert_eq!(cell_text(&iso("not a date"), Some(&date)), "not a date");
    }

    /// Regression (review): a formula written by a script (openpyxl here) has no saved
    /// result and read as a blank cell, silently; it is named.
    #[test]
    fn formulas_without_a_saved_result_are_named() {
        let (root, apc) = (Path::new(env!("CARGO_MANIFEST_DIR")), apc_contract());
        let dir = tempfile::tempdir().unwrap();
        let sheet = to_csv(
            &root.join("tests/fixtures/workbooks/formula_without_result.xlsx"),
            &apc,
            dir.path(),
        )
        .unwrap();
        assert_eq!(sheet.uncalculated, ["B2"]);
        assert_eq!((sheet.sheet.as_str(), sheet.first_row), ("Data", 1));
        assert_eq!(
            std::fs::read_to_string(&sheet.path).unwrap(),
            "Hospital Provider Spell Number,Treatment Function Code\nRX19000001,\nRX19000002,300\n"
        );
    }

    /// The sheet as CSV: rows above the header and empty rows are blank lines (so line
    /// numbers are the sheet's rows), text with a comma or a quote is quoted, short rows
    /// are filled out, and a value beyond the header's width is kept (for ingest to
    /// quarantine the row).
    #[test]
    fn a_sheet_is_written_row_for_row() {
        let (sheet, text) = sheet_of(&[
            (1, 0, "Hospital Provider Spell Number"),
            (1, 1, "Notes"),
            (2, 0, "RX1"),
            (2, 1, "said \"no\", twice"),
            (4, 0, "RX2"),
            (5, 0, "RX3"),
            (5, 1, "b"),
            (5, 2, "beyond"),
        ]);
        assert_eq!((sheet.sheet.as_str(), sheet.first_row), ("Sheet1", 2));
        assert_eq!(
            text,
            "\nHospital Provider Spell Number,Notes\nRX1,\"said \"\"no\"\", twice\"\n\nRX2,\nRX3,b,beyond\n"
        );
        assert!(sheet.uncalculated.is_empty());
    }

    /// A workbook of text cells (row, column, text) read under the APC contract: the
    /// sheet written out, and its text.
    fn sheet_of(cells: &[(u32, u16, &str)]) -> (SheetCsv, String) {
        let dir = tempfile::tempdir().unwrap();
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for &(r, c, v) in cells {
            ws.write_string(r, c, v).unwrap();
        }
        let book = dir.path().join("in.xlsx");
        wb.save(&book).unwrap();
        let sheet = to_csv(&book, &apc_contract(), &dir.path().join("out")).unwrap();
        let text = std::fs::read_to_string(&sheet.path).unwrap();
        (sheet, text)
    }

    /// Regression (review): a title row above the table made the file refused ("the
    /// first line is not a header row"); the header is the first row naming the
    /// contract's required columns, and the title a blank line.
    #[test]
    fn title_rows_above_the_table_are_passed_over() {
        let apc = apc_contract();
        let csv = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad/apc/valid.csv"),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "APC extract for the ICB, produced 01/11/2026")
            .unwrap();
        for (r, line) in csv.lines().enumerate() {
            for (c, v) in line.split(',').enumerate() {
                ws.write_string(2 + r as u32, c as u16, v).unwrap();
            }
        }
        let book = dir.path().join("in.xlsx");
        wb.save(&book).unwrap();
        let sheet = to_csv(&book, &apc, &dir.path().join("out")).unwrap();
        assert_eq!(sheet.first_row, 3);
        assert_eq!(
            std::fs::read_to_string(&sheet.path).unwrap(),
            format!("\n\n{csv}")
        );
    }

    /// Regression (review): with a title row above a header lacking a required column,
    /// the title was taken for the header ("none of its columns is there"), hiding what
    /// the header lacks.
    #[test]
    fn a_header_lacking_a_column_is_still_the_header() {
        let (sheet, text) = sheet_of(&[
            (0, 0, "Title"),
            (2, 0, "Hospital Provider Spell Number"),
            (2, 1, "NHS No"),
            (3, 0, "RX1"),
        ]);
        assert_eq!(sheet.first_row, 3);
        assert_eq!(text, "\n\nHospital Provider Spell Number,NHS No\nRX1,\n");
    }

    /// Regression (review): a line break typed in a cell (Alt+Enter) split the row in
    /// two in the CSV, quarantining both halves and shifting every later line number.
    #[test]
    fn a_line_break_in_a_cell_is_a_space() {
        assert_eq!(one_line("RX1\nRX1".into()), "RX1 RX1");
        assert_eq!(
            one_line("Start Date\r\n(Spell)".into()),
            "Start Date (Spell)"
        );
        assert_eq!(one_line("plain".into()), "plain");
    }

    #[test]
    fn zip_and_office_files_are_workbooks_and_text_is_not() {
        assert!(is_workbook(b"PK\x03\x04rest"));
        assert!(is_workbook(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1]));
        assert!(!is_workbook(b"spell_id,nhs_number\n"));
        // Regression (review): a zip holding a CSV was "a zip or Office file but cannot
        // be read as a workbook (Cannot detect file format)".
        assert_eq!(
            not_a_workbook(b"PK\x03\x04rest"),
            "is a zip archive, not a workbook: unzip it and give the file inside"
        );
        assert!(not_a_workbook(&[0xD0, 0xCF, 0x11, 0xE0]).contains("password-protected"));
    }
}
