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
}

impl Sheet {
    /// A sheet built from a calamine range (used by the reader and by tests).
    pub fn new(name: impl Into<String>, range: Range<Data>) -> Self {
        Sheet {
            name: name.into(),
            range,
        }
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

/// The date of an Excel serial day number (1900 date system), for date cells whose
/// format calamine does not recognise as a date (they arrive as plain numbers).
pub fn serial_date(serial: f64) -> Option<NaiveDate> {
    if !(1.0..=2_958_465.0).contains(&serial) {
        return None;
    }
    let dt = calamine::ExcelDateTime::new(serial, calamine::ExcelDateTimeType::DateTime, false);
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

/// Reads every sheet of a workbook (`.xlsx`, `.xlsm`, `.xls`, `.ods`), in workbook order.
pub fn read_workbook(path: &Path) -> Result<Vec<Sheet>, OpenError> {
    let mut wb = calamine::open_workbook_auto(path).map_err(|e| OpenError(e.to_string()))?;
    let mut sheets = Vec::new();
    for name in wb.sheet_names() {
        let range = wb
            .worksheet_range(&name)
            .map_err(|e| OpenError(format!("sheet \"{name}\": {e}")))?;
        sheets.push(Sheet::new(name, range));
    }
    Ok(sheets)
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
        assert_eq!(serial_date(45170.0), NaiveDate::from_ymd_opt(2023, 9, 1));
        assert_eq!(serial_date(0.0), None);
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
