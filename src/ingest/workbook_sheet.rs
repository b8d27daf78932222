//! An Excel workbook sent where a contract reads delimited text (a council's extract saved
//! from Excel, `.xlsx`, `.xlsm`, `.xls` or `.ods`): the contract's `sheet` (else the
//! workbook's first) is written out as UTF-8 CSV and read like any other file, against
//! the same contract, with the same checks and quarantine.
//!
//! Cells become the text a person reading the sheet would type ([`super::workbook_cells`]).
//! Rows above the header, and rows that look empty (no value, or only `""` formula
//! results and spaces), are blank lines of the CSV, which ingest passes over, so line
//! numbers in messages and quarantine are the sheet's rows. The header is the first of
//! the first [`HEADER_SEARCH_ROWS`] rows with a value naming every required column.
//!
//! The copy is the only place a patient's values are written in plain text outside the
//! input: it is created owner-only (folder 0700, file 0600) and holds only the columns
//! ingest checks: columns the contract declares `sensitive`, columns it does not declare
//! and a column's ignored copies are withheld, written `*` (names, dates of birth, postcodes
//! never reach it). NHS numbers stay (they are pseudonymised from it); ingest removes the
//! copy once the rows are read.
//!
//! An `.xlsx` is read a cell at a time (values and formulas in one pass) and written a
//! row at a time, never held whole, whatever its extent. `.xls` and `.ods` workbooks are
//! read whole by calamine as they are opened; an `.ods` is measured first and refused
//! beyond [`super::workbook_extent::MAX_GRID_CELLS`] cells or its text budget (an `.xls`
//! sheet is at most 65,536 rows by 256 columns).
//!
//! Every cell read is checked against Excel's limits and counted against the workbook's
//! text budget ([`super::workbook_limits`]) before it is kept or anything is sized by its
//! position: a cell beyond row 1,048,576 or column XFD, or longer than 32,767
//! characters, or the cell at which the sheet's text passes the budget, refuses the
//! workbook, naming the sheet and the cell. An `.xlsx`'s shared strings, which calamine
//! holds whole as it opens the workbook, are measured against the budget first.

use std::io::Write;
use std::path::{Path, PathBuf};

use calamine::Data;

use super::workbook_cells::{CellText, cell_text, is_blank, one_line};
use super::workbook_limits as limits;
use super::workbook_merged::Merged;
use super::workbook_rows::{self as rows, quoted};
use crate::schema::{ColumnType, Contract, DriftPolicy};

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
    /// Formula cells whose result was never saved (read as blank): how many, and the
    /// first's address.
    pub uncalculated: Cells,
    /// Date and time cells no format of their column holds exactly (written in full, so
    /// their rows are quarantined): how many, and the first's address.
    pub unheld: Cells,
    /// Merged regions one column wide whose value fills every row they span: how many,
    /// and the first's first cell.
    pub filled_down: Cells,
    /// Merged regions wider than one column below the header, read as their first cell
    /// only: how many, and the first's first cell.
    pub merged_across: Cells,
    /// Merged regions wider than one column on the header row: the columns under all but
    /// a region's first cell have no name. How many, and the first's first cell.
    pub merged_header: Cells,
    /// Rows with a value in a column beyond the header's last name (not read): how many,
    /// and the first such cell.
    pub headless: Cells,
}

/// Cells of one kind: how many, and the first's address (`B2`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Cells {
    /// How many.
    pub count: u64,
    /// The first's address.
    pub first: Option<String>,
}

impl Cells {
    /// Counts the cell at sheet row `row`, column `col` (0-based).
    pub(super) fn add(&mut self, row: u32, col: u32) {
        self.count += 1;
        self.first
            .get_or_insert_with(|| super::nhse::workbook::a1(row, col));
    }
}

/// Writes the sheet of the workbook at `path` that `contract` reads into `dir`, as a CSV
/// file of the workbook's file name. The error says why the workbook cannot be read.
pub fn to_csv(path: &Path, contract: &Contract, dir: &Path) -> Result<SheetCsv, String> {
    to_csv_within(path, contract, dir, limits::budget_for)
}

/// [`to_csv`], reading at most `budget(workbook bytes)` bytes of cell text
/// ([`limits::Budget`]).
fn to_csv_within(
    path: &Path,
    contract: &Contract,
    dir: &Path,
    budget: impl Fn(u64) -> u64,
) -> Result<SheetCsv, String> {
    let content = std::fs::read(path).map_err(|e| format!("cannot be read: {e}"))?;
    let budget_bytes = budget(content.len() as u64);
    let wanted_by = format!("contract \"{}\" reads it", contract.name);
    let mut open = rows::open(
        &content,
        contract.sheet.as_deref(),
        &wanted_by,
        budget_bytes,
    )?;
    let (sheet, sheets) = (open.sheet.clone(), open.sheets.clone());
    let out = dir.join(path.file_name().unwrap_or_default());
    let cannot_write = |e: std::io::Error| format!("cannot write {}: {e}", out.display());
    let mut writer = SheetWriter {
        file: std::io::BufWriter::new(owner_only_file(dir, &out).map_err(cannot_write)?),
        contract,
        path,
        kinds: Vec::new(),
        keep: Vec::new(),
        width: 0,
        next_row: 0,
        first_row: None,
        pending: Vec::new(),
        no_header: None,
        unheld: Cells::default(),
        date1904: open.date1904,
        merged: std::mem::take(&mut open.merged),
        filled: None,
        headless: Cells::default(),
    };
    let refused = |e: limits::Refused| e.to_string();
    let uncalculated = rows::each_row(&mut open, |r, cells, budget| {
        writer.row(r, cells).map_err(cannot_write)?;
        writer.charge_filled(budget).map_err(refused)?;
        Ok(writer.no_header.is_none())
    })?;
    // Rows still pending (no row named every required column) are written first, so
    // what they hold is counted.
    if writer.first_row.is_none() && writer.no_header.is_none() {
        writer.settle_header().map_err(cannot_write)?;
    }
    let unheld = std::mem::take(&mut writer.unheld);
    let merged = std::mem::take(&mut writer.merged);
    let headless = std::mem::take(&mut writer.headless);
    let finished = writer.finish().map_err(cannot_write)?;
    let has_header = matches!(finished, Ok(Some(_)));
    let first_row = match finished {
        Ok(Some(first_row)) => first_row,
        // No cell with a value: the first visible sheet of a workbook with others is
        // probably not the one holding the data, so refused naming them; the sheet the
        // contract names, or a workbook's only sheet, holds no rows, read as a CSV file
        // of zero bytes is (a warning; a source none of whose files hold rows is refused
        // unless it allows empty).
        Ok(None) if contract.sheet.is_none() && sheets.len() > 1 => {
            return Err(format!(
                "sheet \"{sheet}\" is empty (read as the first visible sheet; contract \"{}\" names none); its sheets: {}; a contract's `sheet` names the one to read",
                contract.name,
                quoted(&sheets)
            ));
        }
        Ok(None) => 0,
        Err(looked) => {
            let rows = match looked.rows {
                1 => format!("its one row with a value (row {})", looked.from + 1),
                n if n < HEADER_SEARCH_ROWS => format!(
                    "its {n} rows with a value (rows {}-{})",
                    looked.from + 1,
                    looked.to + 1
                ),
                n => format!(
                    "its first {n} rows with a value (rows {}-{}; a header further down is not looked for: remove the rows above it)",
                    looked.from + 1,
                    looked.to + 1
                ),
            };
            let others = if sheets.len() > 1 {
                format!(
                    "; its sheets: {}; a contract's `sheet` names the one to read",
                    quoted(&sheets)
                )
            } else {
                String::new()
            };
            return Err(format!(
                "sheet \"{sheet}\" has no header row naming the required columns of contract \"{}\" in {rows}{others}",
                contract.name
            ));
        }
    };
    if let (Some(first), DriftPolicy::Error) = (&headless.first, contract.on_extra_column) {
        return Err(format!(
            "sheet \"{sheet}\" has values in columns without a header (the first {first}), and contract \"{}\" refuses columns it does not declare (on_extra_column = \"error\")",
            contract.name
        ));
    }
    let bytes = std::fs::metadata(&out).map_err(cannot_write)?.len();
    Ok(SheetCsv {
        path: out,
        bytes,
        sheet,
        sheets,
        first_row: first_row + 1,
        uncalculated,
        unheld,
        merged_header: if has_header {
            merged.across_row(first_row)
        } else {
            Cells::default()
        },
        filled_down: merged.filled,
        merged_across: merged.wide,
        headless,
    })
}

/// Creates `file` in `dir` (made if missing) readable by its owner only: the copy holds
/// NHS numbers in plain text.
fn owner_only_file(dir: &Path, file: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    // Not created inside an ingest folder a signal is removing (it would be made again
    // and left behind, holding NHS numbers).
    let _creating = crate::interrupt::creating();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(file)
}

/// What the copy holds in place of a value it does not write (a `sensitive` or
/// undeclared column's, or one beyond the header): never read by ingest.
const WITHHELD: &str = "*";

/// Rows with a value looked at for the header: titles and notes above a table are a few.
pub const HEADER_SEARCH_ROWS: usize = 20;

/// The rows looked at for a header that none named: how many, the first and the last
/// (0-based sheet rows).
struct LookedAt {
    rows: usize,
    from: u32,
    to: u32,
}

/// Writes a sheet's rows as CSV as they are read: the first row with a value naming
/// every required column is the header (rows above it, and empty rows below, are blank
/// lines, which ingest passes over, so line numbers are the sheet's rows); values in
/// columns beyond the header's last name are a column without a header, not written
/// (counted, for the contract's `on_extra_column`: a cell's column is its own, so unlike
/// a CSV row's extra field it is no sign of a shifted row), and rows shorter than the
/// header are filled out.
struct SheetWriter<'a> {
    file: std::io::BufWriter<std::fs::File>,
    contract: &'a Contract,
    path: &'a Path,
    kinds: Vec<Option<&'a ColumnType>>,
    /// For each column of the sheet, whether its values are written (a contract column
    /// ingest checks); the others are withheld.
    keep: Vec<bool>,
    width: usize,
    /// The sheet row the next line of the CSV is.
    next_row: u32,
    /// The header's sheet row (0-based), once written.
    first_row: Option<u32>,
    /// Rows with a value before the header is found, kept until it is.
    pending: Vec<(u32, Vec<Data>)>,
    /// Set when no row looked at names any of the contract's columns.
    no_header: Option<LookedAt>,
    /// Date and time cells no format of their column holds exactly.
    unheld: Cells,
    /// Whether the workbook uses the 1904 date system.
    date1904: bool,
    /// Text bytes a merged region copied into rows since the budget last counted them,
    /// with the first such cell: charged to the sheet's budget as the file's own cells
    /// are (a region merged down a whole column would otherwise copy its text into every
    /// row uncounted).
    filled: Option<(u32, u32, u64)>,
    /// The sheet's merged regions.
    merged: Merged,
    /// Rows with a value in a column beyond the header's last name.
    headless: Cells,
}

impl SheetWriter<'_> {
    /// Charges `budget` with the text merged regions copied into rows since the last
    /// call ([`SheetWriter::filled`]).
    fn charge_filled(&mut self, budget: &mut limits::Budget) -> Result<(), limits::Refused> {
        match self.filled.take() {
            Some((r, c, bytes)) => budget.spend(r, c, bytes),
            None => Ok(()),
        }
    }

    /// Takes sheet row `r` (0-based; rows come in order), its cells from column A. The
    /// header is the first row naming every required column of the contract (title rows
    /// above a table become blank lines), else the row naming most of its columns (which
    /// ingest then refuses, saying what it lacks); when none of the first
    /// [`HEADER_SEARCH_ROWS`] rows with a value names any, there is no header.
    fn row(&mut self, r: u32, cells: &[Data]) -> std::io::Result<()> {
        if self.no_header.is_some() || cells.iter().all(is_blank) {
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
            self.settle_header()?;
        }
        Ok(())
    }

    /// No row named every required column: the header is the row naming most of the
    /// contract's columns (so ingest reports what it lacks), and rows above it are blank
    /// lines, rows below it its rows; when no row names any, there is no header.
    fn settle_header(&mut self) -> std::io::Result<()> {
        let pending = std::mem::take(&mut self.pending);
        let (Some(first), Some(last)) = (pending.first(), pending.last()) else {
            return Ok(());
        };
        let named = |cells: &[Data]| super::header::columns_named(self.contract, &texts(cells));
        let mut at = None;
        let mut best = 0;
        for (i, (_, cells)) in pending.iter().enumerate() {
            let n = named(cells);
            if n > best {
                (at, best) = (Some(i), n);
            }
        }
        let Some(at) = at else {
            self.no_header = Some(LookedAt {
                rows: pending.len(),
                from: first.0,
                to: last.0,
            });
            return Ok(());
        };
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
        (self.kinds, self.keep) = column_kinds(self.contract, &header);
        self.width = header.len();
        self.first_row = Some(r);
        self.write_line(r, &header)
    }

    fn write_row(&mut self, r: u32, cells: &[Data]) -> std::io::Result<()> {
        if let Some(c) = cells
            .iter()
            .enumerate()
            .skip(self.width)
            .find(|(_, c)| !is_blank(c))
            .map(|(c, _)| c)
        {
            self.headless.add(r, c as u32);
        }
        let filled;
        // Copied only for a row a merged region reaches.
        let cells = if self.merged.is_empty() || !self.merged.reaches(r) {
            cells
        } else {
            let mut row = cells.to_vec();
            self.merged
                .fill(r, self.first_row.unwrap_or_default(), &mut row);
            for (c, value) in row.iter().enumerate() {
                if *value != Data::Empty && cells.get(c).is_none_or(|v| *v == Data::Empty) {
                    let bytes = limits::data_text(value).map_or(0, str::len) as u64;
                    let (_, _, total) = self.filled.get_or_insert((r, c as u32, 0));
                    *total += bytes + limits::CELL_COST;
                }
            }
            filled = row;
            &filled[..]
        };
        let mut fields = Vec::with_capacity(self.width);
        for i in 0..self.width {
            let cell = cells.get(i).unwrap_or(&Data::Empty);
            if !self.keep.get(i).copied().unwrap_or(false) {
                // A value not written is marked, so a row holding only such values is
                // still a row (quarantined, as before) and not a blank line.
                fields.push(if is_blank(cell) { "" } else { WITHHELD }.to_string());
                continue;
            }
            let text = match cell_text(cell, self.kinds.get(i).copied().flatten(), self.date1904) {
                CellText::Typed(t) => t,
                CellText::Unheld(t) => {
                    self.unheld.add(r, i as u32);
                    t
                }
            };
            fields.push(one_line(text));
        }
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

    /// Writes what is pending and flushes the file: the header's sheet row, if any, or
    /// the rows looked at for a header none named.
    fn finish(mut self) -> std::io::Result<Result<Option<u32>, LookedAt>> {
        if self.first_row.is_none() && self.no_header.is_none() {
            self.settle_header()?;
        }
        self.file.flush()?;
        Ok(match self.no_header {
            Some(looked) => Err(looked),
            None => Ok(self.first_row),
        })
    }
}

/// A row's cells as text, up to its last value (a header), as a run reads a header.
pub fn texts(cells: &[Data]) -> Vec<String> {
    let last = cells
        .iter()
        .rposition(|c| !is_blank(c))
        .map_or(0, |l| l + 1);
    cells[..last]
        .iter()
        .map(|c| one_line(cell_text(c, None, false).text()))
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

/// For each column of the sheet, the contract column type it is read as (by the header,
/// as ingest matches it), if any, and whether its values are written: those of contract
/// columns ingest checks, not a `sensitive` column, an undeclared one or a column's
/// ignored copy. A header that does not match is reported by ingest.
fn column_kinds<'c>(
    contract: &'c Contract,
    header: &[String],
) -> (Vec<Option<&'c ColumnType>>, Vec<bool>) {
    let mut kinds = vec![None; header.len()];
    let mut keep = vec![false; header.len()];
    let at = super::header::columns_at(contract, header);
    for (column, at) in contract.columns.iter().zip(at) {
        if let Some(at) = at.filter(|&at| at < kinds.len()) {
            kinds[at] = Some(&column.kind);
            keep[at] = !matches!(column.kind, ColumnType::Sensitive);
        }
    }
    (kinds, keep)
}

#[cfg(test)]
mod hostile;

#[cfg(test)]
mod tests {
    use super::*;

    /// A contract of the sample pipeline (`apc`, `cld`).
    pub(super) fn contract(source: &str) -> std::sync::Arc<Contract> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let plan = crate::config::load_plan(&root.join("pipelines/sample.toml"), &[]).unwrap();
        let found = plan.sources.into_iter().find(|s| s.name == source);
        found.unwrap().contract
    }

    pub(super) fn apc_contract() -> std::sync::Arc<Contract> {
        contract("apc")
    }

    /// The APC fixture's header and rows.
    fn valid_apc() -> Vec<Vec<String>> {
        let csv = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad/apc/valid.csv"),
        )
        .unwrap();
        csv.lines()
            .map(|l| l.split(',').map(String::from).collect())
            .collect()
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
        assert_eq!(
            sheet.uncalculated,
            Cells {
                count: 1,
                first: Some("B2".into())
            }
        );
        assert_eq!((sheet.sheet.as_str(), sheet.first_row), ("Data", 1));
        assert_eq!(
            std::fs::read_to_string(&sheet.path).unwrap(),
            "Hospital Provider Spell Number,Treatment Function Code\nRX19000001,\nRX19000002,300\n"
        );
    }

    /// The sheet as CSV: rows above the header and empty rows are blank lines (so line
    /// numbers are the sheet's rows), text with a comma or a quote is quoted, short rows
    /// are filled out, and a value beyond the header's width (a column without a header)
    /// is not written, but counted.
    #[test]
    fn a_sheet_is_written_row_for_row() {
        let (sheet, text) = sheet_of(&[
            (1, 0, "Hospital Provider Spell Number"),
            (1, 1, "Organisation code  Sender of transaction"),
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
            "\nHospital Provider Spell Number,Organisation code  Sender of transaction\nRX1,\"said \"\"no\"\", twice\"\n\nRX2,\nRX3,b\n"
        );
        assert_eq!(sheet.uncalculated, Cells::default());
        assert_eq!(
            sheet.headless,
            Cells {
                count: 1,
                first: Some("C6".into())
            }
        );
    }

    /// The workbook at `book` saved again in the 1904 date system (`date1904` on its
    /// `workbookPr`, as older Excel for Mac saves it): the same serial numbers, other dates.
    fn in_1904_date_system(book: &Path) -> PathBuf {
        use std::io::{Read, Write};
        let mut archive = zip::ZipArchive::new(std::fs::File::open(book).unwrap()).unwrap();
        let out = book.with_file_name("in_1904.xlsx");
        let mut w = zip::ZipWriter::new(std::fs::File::create(&out).unwrap());
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            let name = entry.name().unwrap().to_string();
            if name == "xl/workbook.xml" {
                let xml = String::from_utf8(bytes).unwrap();
                assert!(xml.contains("<workbookPr "), "{xml}");
                bytes = xml
                    .replace("<workbookPr ", "<workbookPr date1904=\"1\" ")
                    .into_bytes();
            }
            w.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(&bytes).unwrap();
        }
        w.finish().unwrap();
        out
    }

    /// Regression: a workbook saved in the 1904 date system had a date typed as a number
    /// in a date column (a cell formatted as a number, or in a format calamine does not
    /// take for a date) read in the 1900 system, four years and a day early, and accepted.
    /// Both kinds of date cell are read in the workbook's own system.
    #[test]
    fn regression_dates_of_a_1904_workbook_are_read_in_its_date_system() {
        let dir = tempfile::tempdir().unwrap();
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        let as_date = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
        ws.write_string(0, 0, "Hospital Provider Spell Number")
            .unwrap();
        ws.write_string(0, 1, "Start Date (Hospital Provider Spell)")
            .unwrap();
        ws.write_string(1, 0, "RX1").unwrap();
        ws.write_number_with_format(1, 1, 45170.0, &as_date)
            .unwrap();
        ws.write_string(2, 0, "RX2").unwrap();
        ws.write_number(2, 1, 45170.0).unwrap();
        let book = dir.path().join("in.xlsx");
        wb.save(&book).unwrap();
        let read = |book: &Path, out: &str| {
            let sheet = to_csv(book, &apc_contract(), &dir.path().join(out)).unwrap();
            std::fs::read_to_string(&sheet.path).unwrap()
        };
        let header = "Hospital Provider Spell Number,Start Date (Hospital Provider Spell)\n";
        assert_eq!(
            read(&book, "out1900"),
            format!("{header}RX1,01/09/2023\nRX2,01/09/2023\n")
        );
        assert_eq!(
            read(&in_1904_date_system(&book), "out1904"),
            format!("{header}RX1,02/09/2027\nRX2,02/09/2027\n")
        );
    }

    /// A workbook's merged regions are looked for only when its XML mentions them.
    #[test]
    fn merged_cells_are_looked_for_only_in_a_workbook_that_has_them() {
        let dir = tempfile::tempdir().unwrap();
        let save = |merge: bool| {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet();
            ws.write_string(0, 0, "a").unwrap();
            if merge {
                ws.merge_range(1, 0, 3, 0, "x", &rust_xlsxwriter::Format::new())
                    .unwrap();
            }
            let path = dir.path().join(format!("{merge}.xlsx"));
            wb.save(&path).unwrap();
            std::fs::read(path).unwrap()
        };
        assert!(!rows::mentions_merged_cells(&save(false)));
        assert!(rows::mentions_merged_cells(&save(true)));
        assert!(rows::mentions_merged_cells(b"not a zip"));
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

    /// An `.ods` workbook of one sheet, "Spells", of `rows` (each cell's XML), under
    /// one empty row; the archive as LibreOffice writes it, as calamine needs it.
    fn ods_book(dir: &Path, rows: &[Vec<String>]) -> PathBuf {
        use std::io::Write;
        let book = dir.join("in.ods");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&book).unwrap());
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        zip.start_file("mimetype", stored).unwrap();
        zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
            .unwrap();
        zip.start_file("META-INF/manifest.xml", stored).unwrap();
        zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#).unwrap();
        zip.start_file("content.xml", stored).unwrap();
        let body: String = rows
            .iter()
            .map(|cells| format!("<table:table-row>{}</table:table-row>", cells.concat()))
            .collect();
        write!(
            zip,
            r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3"><office:body><office:spreadsheet><table:table table:name="Spells"><table:table-row><table:table-cell/></table:table-row>{body}</table:table></office:spreadsheet></office:body></office:document-content>"#
        )
        .unwrap();
        zip.finish().unwrap();
        book
    }

    /// A text cell of an `.ods` sheet, with `attrs` (a span) on it.
    fn ods_cell(value: &str, attrs: &str) -> String {
        format!(
            r#"<table:table-cell office:value-type="string" {attrs}><text:p>{value}</text:p></table:table-cell>"#
        )
    }

    /// Regression (known limit: an `.ods` sheet's merged cells were not filled, as
    /// calamine does not list an `.ods`'s merged regions): a provider merged down the
    /// rows (B3:B5) and a value merged across two columns (M4:N4) read as the same sheet
    /// saved as `.xlsx` reads — the provider given to every row, the wide region left in
    /// its first column — and are counted for the run's warnings.
    #[test]
    fn regression_an_ods_sheets_merged_cells_are_read_as_an_xlsxs() {
        let dir = tempfile::tempdir().unwrap();
        let apc = valid_apc();
        let rows: Vec<Vec<String>> = apc
            .iter()
            .enumerate()
            .map(|(r, row)| {
                row.iter()
                    .enumerate()
                    .map(|(c, v)| match (r, c) {
                        (1, 1) => ods_cell(v, r#"table:number-rows-spanned="3""#),
                        (2 | 3, 1) | (2, 13) => "<table:covered-table-cell/>".to_string(),
                        (2, 12) => ods_cell(v, r#"table:number-columns-spanned="2""#),
                        _ => ods_cell(v, ""),
                    })
                    .collect()
            })
            .collect();
        let ods = to_csv(
            &ods_book(dir.path(), &rows),
            &apc_contract(),
            &dir.path().join("ods"),
        )
        .unwrap();
        let (_xlsx_dir, xlsx_book) = apc_book(1, |ws| {
            let plain = rust_xlsxwriter::Format::new();
            ws.merge_range(2, 1, 4, 1, "RX1", &plain).unwrap();
            ws.merge_range(3, 12, 3, 13, &apc[2][12], &plain).unwrap();
        });
        let xlsx = to_csv(&xlsx_book, &apc_contract(), &dir.path().join("xlsx")).unwrap();
        let text = |s: &SheetCsv| std::fs::read_to_string(&s.path).unwrap();
        assert_eq!(text(&ods), text(&xlsx));
        assert_eq!(
            text(&ods)
                .lines()
                .skip(2)
                .map(|l| l.split(',').nth(1).unwrap())
                .collect::<Vec<_>>(),
            ["RX1", "RX1", "RX1"]
        );
        let cells = |count, first: &str| Cells {
            count,
            first: Some(first.into()),
        };
        assert_eq!(
            (&ods.filled_down, &ods.merged_across, ods.first_row),
            (&cells(1, "B3"), &cells(1, "M4"), 2)
        );
        assert_eq!(
            (&xlsx.filled_down, &xlsx.merged_across),
            (&ods.filled_down, &ods.merged_across)
        );
    }

    /// The APC fixture on a sheet from row `top` (0-based), under rows written by `more`.
    pub(super) fn apc_book(
        top: u32,
        more: impl Fn(&mut rust_xlsxwriter::Worksheet),
    ) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("Spells").unwrap();
        for (r, row) in valid_apc().iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(top + r as u32, c as u16, v).unwrap();
            }
        }
        more(ws);
        let book = dir.path().join("in.xlsx");
        wb.save(&book).unwrap();
        (dir, book)
    }

    /// Regression (review): a title row above the table made the file refused ("the
    /// first line is not a header row"); the header is the first row naming the
    /// contract's required columns, and the title a blank line.
    #[test]
    fn title_rows_above_the_table_are_passed_over() {
        let (dir, book) = apc_book(2, |ws| {
            ws.write_string(0, 0, "APC extract for the ICB, produced 01/11/2026")
                .unwrap();
        });
        let sheet = to_csv(&book, &apc_contract(), &dir.path().join("out")).unwrap();
        assert_eq!(sheet.first_row, 3);
        let csv = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad/apc/valid.csv"),
        )
        .unwrap();
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

    /// Regression (review): rows whose cells are only a formula's `""` result (here
    /// `=IF(B5="","",B5)` filled down to row 10 by xlsxwriter) or a space left in a cell
    /// were data rows, quarantined; they are blank lines.
    #[test]
    fn regression_rows_of_empty_formula_results_and_spaces_are_blank_lines() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        let sheet = to_csv(
            &root.join("tests/fixtures/workbooks/formula_empty_string_rows.xlsx"),
            &apc_contract(),
            dir.path(),
        )
        .unwrap();
        let text = std::fs::read_to_string(&sheet.path).unwrap();
        assert_eq!(text.lines().count(), 4, "{text}");
        assert_eq!(sheet.uncalculated, Cells::default());
        let (dir, book) = apc_book(0, |ws| {
            ws.write_string(6, 3, " ").unwrap();
            ws.write_formula(
                7,
                0,
                rust_xlsxwriter::Formula::new("=\" \"").set_result(" "),
            )
            .unwrap();
            ws.write_string(8, 0, "RX19000009").unwrap();
        });
        let sheet = to_csv(&book, &apc_contract(), &dir.path().join("out")).unwrap();
        let text = std::fs::read_to_string(&sheet.path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 9);
        assert_eq!(lines[4..8], ["", "", "", ""]);
        assert!(lines[8].starts_with("RX19000009,,"), "{}", lines[8]);
    }

    /// Regression (review): a formula far from the data (`XFD1048576`) made calamine's
    /// formula grid span the whole sheet, and the run abort (exit 134, "memory allocation
    /// of 411913814400 bytes failed"). Values and formulas are read a cell at a time.
    #[test]
    fn regression_a_stray_formula_far_from_the_data_is_read_a_row_at_a_time() {
        let (dir, book) = apc_book(0, |ws| {
            ws.write_formula(1, 16, rust_xlsxwriter::Formula::new("=1+1").set_result("2"))
                .unwrap();
            ws.write_formula(1_048_575, 16_383, "=1+1").unwrap();
        });
        let sheet = to_csv(&book, &apc_contract(), &dir.path().join("out")).unwrap();
        let text = std::fs::read_to_string(&sheet.path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1_048_576);
        // The helper column beside the data, and the stray cell, are beyond the header:
        // columns without a header, not written but counted.
        assert!(lines[1].ends_with(",11/08/2026"), "{}", lines[1]);
        assert_eq!(lines[1_048_575], ",".repeat(15));
        assert_eq!(
            sheet.headless,
            Cells {
                count: 2,
                first: Some("Q2".into())
            }
        );
    }

    /// Regression (review): a header below 20 rows of notes gave "the first line is not
    /// a header row … it may be a patient's row"; it says no header row naming the
    /// required columns was found, where it was looked for, and in which sheet.
    #[test]
    fn regression_a_header_below_the_rows_looked_at_is_said_not_found() {
        let (dir, book) = apc_book(23, |ws| {
            for r in 0..22 {
                ws.write_string(r, 0, format!("Note {}: data dictionary line", r + 1))
                    .unwrap();
            }
        });
        let err = to_csv(&book, &apc_contract(), &dir.path().join("out")).unwrap_err();
        assert_eq!(
            err,
            "sheet \"Spells\" has no header row naming the required columns of contract \"sus_apc\" in its first 20 rows with a value (rows 1-20; a header further down is not looked for: remove the rows above it)"
        );
    }

    /// Regression (review): the copy of a council's sheet held names, dates of birth and
    /// postcodes in plain text, readable by every user (0644), left behind by a killed
    /// run. `sensitive` and undeclared columns are withheld (`*`), and the copy and its
    /// folder are its owner's only.
    #[test]
    fn regression_the_copy_holds_no_sensitive_values_and_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let cld = contract("cld");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let sample = crate::pull::list_paths("cld", &root.join("data-samples/cld"), "*.csv")
            .unwrap()
            .remove(0);
        let bytes = std::fs::read(&sample).unwrap();
        let text: String = bytes.iter().map(|&b| b as char).collect();
        let rows: Vec<Vec<&str>> = text
            .lines()
            .take(3)
            .map(|l| l.split(',').collect())
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
        ws.write_string(0, rows[0].len() as u16, "Keyworker")
            .unwrap();
        ws.write_string(1, rows[0].len() as u16, "Ann Other")
            .unwrap();
        let book = dir.path().join("cld.xlsx");
        wb.save(&book).unwrap();
        let out = dir.path().join("out");
        let sheet = to_csv(&book, &cld, &out).unwrap();
        let copy = std::fs::read_to_string(&sheet.path).unwrap();
        let header: Vec<&str> = copy.lines().next().unwrap().split(',').collect();
        assert_eq!(header.len(), rows[0].len() + 1);
        let first: Vec<&str> = copy.lines().nth(1).unwrap().split(',').collect();
        let at = sensitive_at(&cld, &header);
        assert_eq!(at.len(), 4, "{header:?}");
        for &i in &at {
            assert!(!rows[1][i].is_empty(), "{}", header[i]);
            assert_eq!(first[i], WITHHELD, "{}", header[i]);
        }
        assert_eq!(first[rows[0].len()], WITHHELD, "an undeclared column");
        assert!(!copy.contains("Ann Other"));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&out), mode(&sheet.path)), (0o700, 0o600));
    }

    /// Where `contract`'s `sensitive` columns are in `header`.
    fn sensitive_at(contract: &Contract, header: &[&str]) -> Vec<usize> {
        let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
        let at = crate::ingest::header::columns_at(contract, &header);
        contract
            .columns
            .iter()
            .zip(at)
            .filter(|(c, _)| matches!(c.kind, ColumnType::Sensitive))
            .filter_map(|(_, at)| at)
            .collect()
    }

    #[test]
    fn zip_and_office_files_are_workbooks_and_text_is_not() {
        assert!(is_workbook(b"PK\x03\x04rest"));
        assert!(is_workbook(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1]));
        assert!(!is_workbook(b"spell_id,nhs_number\n"));
        // Regression (review): a zip holding a CSV was "a zip or Office file but cannot
        // be read as a workbook (Cannot detect file format)".
        assert_eq!(
            rows::not_a_workbook(b"PK\x03\x04rest"),
            "is a zip archive, not a workbook: unzip it and give the file inside"
        );
        assert!(rows::not_a_workbook(&[0xD0, 0xCF, 0x11, 0xE0]).contains("password-protected"));
    }

    /// Regression (review): an `.ods` calamine could not read was "a zip archive, not a
    /// workbook: unzip it"; it is named an OpenDocument spreadsheet, with calamine's
    /// reason.
    #[test]
    fn regression_an_unreadable_ods_is_named_as_one_with_the_reason() {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        zip.start_file("mimetype", stored).unwrap();
        zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
            .unwrap();
        let book = zip.finish().unwrap().into_inner();
        assert_eq!(
            rows::not_a_workbook(&book),
            "is an OpenDocument spreadsheet that cannot be read (damaged, or password-protected: 'META-INF/manifest.xml' file not found in archive); save the sheet as CSV"
        );
    }
}
