//! Reading a workbook: its sheets as grids of typed cell values, with A1 addresses.
//!
//! calamine gives each sheet's used range; this module turns cells into the few kinds the
//! recognisers need (number, text, date, error, empty) and names positions the way a
//! person opening the file in a spreadsheet would (`'Table 2'!E5`).

use std::path::Path;

use calamine::{Data, Range, Reader};
use chrono::NaiveDate;

/// A cell's value, as the recognisers see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Nothing, or only whitespace.
    Empty,
    /// A number (integers included).
    Number(f64),
    /// Text, trimmed.
    Text(&'a str),
    /// A date (an Excel date cell, or an ISO date string written by the workbook).
    Date(NaiveDate),
    /// An Excel error value such as `#DIV/0!`.
    Error,
}

impl Value<'_> {
    /// True for [`Value::Empty`].
    pub fn is_empty(&self) -> bool {
        matches!(self, Value::Empty)
    }

    /// The text of a text cell.
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// One worksheet.
#[derive(Debug)]
pub struct Sheet {
    /// The sheet's name as written in the workbook.
    pub name: String,
    range: Range<Data>,
    /// Whether its workbook uses the 1904 date system (a plain number in a date's place
    /// is a serial day of it: [`serial_date_in`]).
    pub date1904: bool,
    /// Formula cells without a saved result (a workbook written by a script, not saved
    /// by Excel): how many, and the first (0-based row and column). Read, they are blank.
    pub uncalculated: Option<(usize, (u32, u32))>,
}

impl Sheet {
    /// A sheet built from a calamine range (used by the reader and by tests), of a
    /// workbook in the 1900 date system.
    pub fn new(name: impl Into<String>, range: Range<Data>) -> Self {
        Sheet {
            name: name.into(),
            range,
            date1904: false,
            uncalculated: None,
        }
    }

    /// Notes a formula cell without a saved result at `(row, col)`.
    fn uncalculated_at(&mut self, row: u32, col: u32) {
        match &mut self.uncalculated {
            Some((n, _)) => *n += 1,
            None => self.uncalculated = Some((1, (row, col))),
        }
    }

    /// The sheet, of a workbook in the 1904 date system when `date1904`.
    pub fn in_date_system(mut self, date1904: bool) -> Self {
        self.date1904 = date1904;
        self
    }

    /// The first and last used row (0-based, inclusive), or `None` for an empty sheet.
    pub fn rows(&self) -> Option<(u32, u32)> {
        Some((self.range.start()?.0, self.range.end()?.0))
    }

    /// The last used column (0-based), or 0 for an empty sheet.
    pub fn last_col(&self) -> u32 {
        self.range.end().map(|e| e.1).unwrap_or(0)
    }

    /// The first used column (0-based), or 0 for an empty sheet.
    pub fn first_col(&self) -> u32 {
        self.range.start().map(|s| s.1).unwrap_or(0)
    }

    /// The value at a 0-based row and column.
    pub fn value(&self, row: u32, col: u32) -> Value<'_> {
        match self.range.get_value((row, col)) {
            None | Some(Data::Empty) => Value::Empty,
            Some(Data::Int(i)) => Value::Number(*i as f64),
            Some(Data::Float(f)) => Value::Number(*f),
            Some(Data::Bool(b)) => Value::Text(if *b { "TRUE" } else { "FALSE" }),
            Some(Data::String(s)) | Some(Data::DurationIso(s)) => {
                let t = s.trim();
                if t.is_empty() {
                    Value::Empty
                } else {
                    Value::Text(t)
                }
            }
            Some(Data::DateTimeIso(s)) => match s.get(..10).and_then(parse_iso_date) {
                Some(d) => Value::Date(d),
                None => Value::Text(s.trim()),
            },
            Some(Data::DateTime(dt)) => {
                let (y, m, d, ..) = dt.to_ymd_hms_milli();
                match NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d)) {
                    Some(date) => Value::Date(date),
                    None => Value::Error,
                }
            }
            Some(Data::Error(_)) => Value::Error,
        }
    }

    /// The non-empty cells of a row from column `from` on, with their columns.
    pub fn row_cells(&self, row: u32, from: u32) -> impl Iterator<Item = (u32, Value<'_>)> {
        (from..=self.last_col())
            .map(move |c| (c, self.value(row, c)))
            .filter(|(_, v)| !v.is_empty())
    }

    /// `'Sheet name'!A1` for a 0-based row and column.
    pub fn cell_ref(&self, row: u32, col: u32) -> String {
        format!("'{}'!{}", self.name, a1(row, col))
    }
}

/// `A1`-style address of a 0-based row and column.
pub fn a1(row: u32, col: u32) -> String {
    let mut letters = Vec::new();
    let mut c = col + 1;
    while c > 0 {
        let rem = (c - 1) % 26;
        letters.push(b'A' + rem as u8);
        c = (c - 1) / 26;
    }
    letters.reverse();
    format!("{}{}", String::from_utf8_lossy(&letters), row + 1)
}

/// The date of an Excel serial day number in a workbook's date system: day 0 is
/// 1900-01-00 (1899-12-31, with Excel's 29 February 1900), or 1904-01-01 when the
/// workbook uses the 1904 date system (`date1904`, saved by older Excel for Mac), where
/// the same number is a date four years and a day later.
pub fn serial_date_in(serial: f64, date1904: bool) -> Option<NaiveDate> {
    let last = if date1904 { 2_957_003.0 } else { 2_958_465.0 };
    if !(1.0..=last).contains(&serial) {
        return None;
    }
    let dt = calamine::ExcelDateTime::new(serial, calamine::ExcelDateTimeType::DateTime, date1904);
    let (y, m, d, ..) = dt.to_ymd_hms_milli();
    NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d))
}

/// `yyyy-mm-dd`.
pub fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// Why a workbook could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot be read as a workbook: {0}")]
pub struct OpenError(String);

/// Rows and columns of a sheet that are read: NHS England's tables are a few hundred
/// rows by a hundred or so columns. A cell beyond them (a stray value at `XFD1048576`)
/// is ignored with a warning: read, it would make the sheet a grid of 17 billion cells
/// and the process abort for want of memory, taking every other file with it.
pub const MAX_ROWS: u32 = 20_000;
/// See [`MAX_ROWS`].
pub const MAX_COLS: u32 = 1_000;

/// Reads every sheet of a workbook (`.xlsx`, `.xlsm`, `.xls`, `.ods`), in workbook order.
/// In `.xlsx`/`.xlsm` files a merged cell's value fills every cell it covers (as a
/// person reading the sheet sees it), and cells beyond [`MAX_ROWS`] × [`MAX_COLS`] are
/// ignored.
pub fn read_workbook(path: &Path) -> Result<Vec<Sheet>, OpenError> {
    let is_xlsx = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx") || e.eq_ignore_ascii_case("xlsm"));
    if is_xlsx {
        return read_xlsx(path);
    }
    let mut wb = calamine::open_workbook_auto(path).map_err(|e| OpenError(e.to_string()))?;
    let date1904 = match &wb {
        calamine::Sheets::Xlsx(x) => x.has_1904_epoch(),
        calamine::Sheets::Xls(x) => x.has_1904_epoch(),
        calamine::Sheets::Xlsb(x) => x.has_1904_epoch(),
        calamine::Sheets::Ods(_) => false,
    };
    let mut sheets = Vec::new();
    for name in wb.sheet_names() {
        let range = wb
            .worksheet_range(&name)
            .map_err(|e| OpenError(format!("sheet \"{name}\": {e}")))?;
        let formulas = wb.worksheet_formula(&name).ok();
        let mut sheet = Sheet::new(name, range).in_date_system(date1904);
        if let Some(f) = formulas {
            for (r, c) in uncalculated_cells(&sheet.range, &f).collect::<Vec<_>>() {
                sheet.uncalculated_at(r, c);
            }
        }
        sheets.push(sheet);
    }
    Ok(sheets)
}

/// The cells (0-based row and column) of `formulas` with a formula but no value in
/// `values`: formulas without a saved result, as calamine gives `.xls` and `.ods` sheets.
pub fn uncalculated_cells<'a>(
    values: &'a Range<Data>,
    formulas: &'a Range<String>,
) -> impl Iterator<Item = (u32, u32)> + 'a {
    let (r0, c0) = formulas.start().unwrap_or((0, 0));
    formulas
        .used_cells()
        .filter(|(_, _, text)| !text.is_empty())
        .map(move |(r, c, _)| (r0 + r as u32, c0 + c as u32))
        .filter(|&(r, c)| values.get_value((r, c)).is_none_or(|v| *v == Data::Empty))
}

/// [`read_workbook`] for `.xlsx`/`.xlsm`: each sheet's cells one at a time.
fn read_xlsx(path: &Path) -> Result<Vec<Sheet>, OpenError> {
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook(path).map_err(|e: calamine::XlsxError| OpenError(e.to_string()))?;
    let date1904 = wb.has_1904_epoch();
    let mut sheets = Vec::new();
    for name in wb.sheet_names() {
        let sheet_error = |e: calamine::XlsxError| OpenError(format!("sheet \"{name}\": {e}"));
        let mut cells = Vec::new();
        let mut beyond: Option<(u32, u32)> = None;
        let mut uncalculated = Vec::new();
        {
            let mut reader = match wb.worksheet_cells_reader(&name) {
                // A chart sheet has no cells.
                Err(calamine::XlsxError::NotAWorksheet(_)) => continue,
                other => other.map_err(sheet_error)?,
            };
            while let Some(cell) = reader
                .next_cell_with_formula_metadata()
                .map_err(sheet_error)?
            {
                let (row, col) = cell.pos;
                if cell.value == calamine::DataRef::Empty {
                    // Beyond the cells read, a formula is ignored as a value would be.
                    if cell.formula.is_some() && row < MAX_ROWS && col < MAX_COLS {
                        uncalculated.push((row, col));
                    }
                    continue;
                }
                let value: Data = cell.value.into();
                if row >= MAX_ROWS || col >= MAX_COLS {
                    beyond.get_or_insert((row, col));
                    continue;
                }
                cells.push(calamine::Cell::new((row, col), value));
            }
        }
        if let Some((row, col)) = beyond {
            tracing::warn!(
                file = %path.display(),
                cell = %format!("'{name}'!{}", a1(row, col)),
                "cells beyond row {MAX_ROWS} or column {MAX_COLS} of a sheet ignored"
            );
        }
        let merged = wb.merge_cells_by_sheet_name(&name).map_err(sheet_error)?;
        fill_merged(&mut cells, &merged);
        let mut sheet = Sheet::new(name, Range::from_sparse(cells)).in_date_system(date1904);
        for (row, col) in uncalculated {
            sheet.uncalculated_at(row, col);
        }
        sheets.push(sheet);
    }
    Ok(sheets)
}

/// Gives every cell of a merged region its top-left cell's value (the others are empty
/// in the file).
fn fill_merged(cells: &mut Vec<calamine::Cell<Data>>, merged: &[calamine::Dimensions]) {
    let starts: std::collections::HashMap<(u32, u32), Data> = merged
        .iter()
        .filter_map(|m| {
            cells
                .iter()
                .find(|c| c.get_position() == m.start)
                .map(|c| (m.start, c.get_value().clone()))
        })
        .collect();
    for m in merged {
        let Some(value) = starts.get(&m.start) else {
            continue;
        };
        for row in m.start.0..=m.end.0.min(MAX_ROWS - 1) {
            for col in m.start.1..=m.end.1.min(MAX_COLS - 1) {
                if (row, col) != m.start {
                    cells.push(calamine::Cell::new((row, col), value.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a1_addresses() {
        assert_eq!(a1(0, 0), "A1");
        assert_eq!(a1(4, 25), "Z5");
        assert_eq!(a1(2, 26), "AA3");
        assert_eq!(a1(9, 94), "CQ10");
        assert_eq!(a1(0, 16383), "XFD1");
    }

    #[test]
    fn serial_dates() {
        assert_eq!(
            serial_date_in(45170.0, false),
            NaiveDate::from_ymd_opt(2023, 9, 1)
        );
        assert_eq!(serial_date_in(0.0, false), None);
        // The 1904 date system: the same number is 1,462 days later.
        assert_eq!(
            serial_date_in(45170.0, true),
            NaiveDate::from_ymd_opt(2027, 9, 2)
        );
        assert_eq!(
            serial_date_in(1.0, true),
            NaiveDate::from_ymd_opt(1904, 1, 2)
        );
        assert_eq!(serial_date_in(2_957_004.0, true), None);
    }

    #[test]
    fn regression_a_stray_far_off_cell_is_ignored_and_merged_cells_fill_their_region() {
        // A value at XFD1048576 made calamine allocate the whole grid (512 GiB) and the
        // process abort; a merged region's value was on its first cell only, so the
        // region column of the ICBs below it read as blank.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("book.xlsx");
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet().set_name("Table 2").unwrap();
        sheet.write_string(0, 0, "Region").unwrap();
        sheet
            .merge_range(1, 0, 3, 0, "North", &rust_xlsxwriter::Format::new())
            .unwrap();
        sheet.write_number(1, 1, 7.0).unwrap();
        sheet.write_string(1_048_575, 16_383, "x").unwrap();
        book.save(&path).unwrap();
        let sheets = read_workbook(&path).unwrap();
        let t = &sheets[0];
        assert_eq!(t.rows(), Some((0, 3)));
        assert_eq!(t.last_col(), 1);
        for row in 1..=3 {
            assert_eq!(t.value(row, 0), Value::Text("North"), "row {row}");
        }
        assert_eq!(t.value(1, 1), Value::Number(7.0));
    }

    #[test]
    fn cell_values_are_typed() {
        let mut r = Range::new((0, 0), (0, 5));
        r.set_value((0, 0), Data::String("  - ".into()));
        r.set_value((0, 1), Data::Int(12));
        r.set_value((0, 2), Data::String("   ".into()));
        r.set_value((0, 3), Data::DateTimeIso("2023-06-01T00:00:00".into()));
        r.set_value((0, 4), Data::Error(calamine::CellErrorType::Div0));
        let s = Sheet::new("T", r);
        assert_eq!(s.value(0, 0), Value::Text("-"));
        assert_eq!(s.value(0, 1), Value::Number(12.0));
        assert_eq!(s.value(0, 2), Value::Empty);
        assert_eq!(
            s.value(0, 3),
            Value::Date(NaiveDate::from_ymd_opt(2023, 6, 1).unwrap())
        );
        assert_eq!(s.value(0, 4), Value::Error);
        assert_eq!(s.value(0, 5), Value::Empty);
        assert_eq!(s.cell_ref(0, 1), "'T'!B1");
    }
}
