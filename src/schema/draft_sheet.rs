//! A workbook's sheet as the header and rows of text `joinedup draft` infers a contract
//! from: read as a run reads it ([`crate::ingest::workbook_rows`], with its limits), and
//! each cell written as the run's sheet copy writes it under the drafted contract.
//!
//! A run takes as the header the first row naming every required column; a draft has no
//! contract yet, so it takes the first of the first
//! [`HEADER_SEARCH_ROWS`](crate::ingest::workbook_sheet::HEADER_SEARCH_ROWS) rows with
//! a value whose cells are all text and that fills nearly as many cells as the widest of
//! them (all but one in ten, and at least two): a title, a note, a "Prepared by: | Jane
//! Smith" line or a row of group labels above a table fills fewer, and is never printed
//! as headers. The columns the draft makes required are named in that row, so a run
//! finds the same one.
//!
//! Date cells are written as a run writes them in a date column (`%Y-%m-%d`), a
//! date-time column (`%Y-%m-%d %H:%M:%S`) or a time column (`%H:%M:%S`): a column
//! whose date cells are all at midnight is a date column, all times of day (Excel holds
//! a time as a fraction of a day) a time column, else a date-time column. A draft then
//! declares those formats, and a run writes the cells in them.

use std::path::Path;

use calamine::Data;

use crate::ingest::dates::DateFormat;
use crate::ingest::workbook_cells::{cell_text, is_blank, one_line};
use crate::ingest::workbook_rows;
use crate::ingest::workbook_sheet::{Cells, HEADER_SEARCH_ROWS, texts};
use crate::schema::ColumnType;

/// Why a sheet cannot be drafted from.
#[derive(Debug)]
pub enum SheetError {
    /// The sheet named on the command line is not in the workbook.
    NoSuchSheet(String),
    /// The workbook or its sheet cannot be read, or holds no table.
    Refused(String),
}

/// The fewest columns a header names: a feed's table has more than one.
const MIN_HEADER_COLUMNS: usize = 2;

/// A sheet's header and rows, as text.
#[derive(Debug)]
pub struct SheetRows {
    /// The sheet read.
    pub sheet: String,
    /// The workbook's worksheets, in order.
    pub sheets: Vec<String>,
    /// The header's sheet row (1-based).
    pub header_row: u32,
    /// The header's cells, up to its last with a value.
    pub header: Vec<String>,
    /// The rows below the header with a value, at most the number asked for.
    pub rows: Vec<Vec<String>>,
    /// Whether the sheet has more rows than were read.
    pub cut: bool,
    /// Formula cells with no saved result, read as blank (as a run reads them).
    pub uncalculated: Cells,
}

/// How a column's date cells are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateStyle {
    Date,
    Time,
    DateTime,
}

impl DateStyle {
    /// The column type whose first format the run's sheet copy writes such cells in.
    fn kind(self) -> ColumnType {
        let format = |f: &str| vec![DateFormat::compile(f).expect("built-in format")];
        match self {
            DateStyle::Date => ColumnType::Date(format("%Y-%m-%d")),
            DateStyle::Time => ColumnType::Time(format("%H:%M:%S")),
            DateStyle::DateTime => ColumnType::DateTime(format("%Y-%m-%d %H:%M:%S")),
        }
    }

    /// The style of one date cell, `None` for a cell that is not a date.
    fn of(cell: &Data) -> Option<DateStyle> {
        match cell {
            // A duration of a day or more is written as such (`26:30:00`), no date.
            Data::DateTime(dt) if dt.is_duration() && dt.as_f64() >= 1.0 => None,
            Data::DateTime(dt) => Some(if dt.as_f64() < 1.0 {
                DateStyle::Time
            } else if dt.as_f64().fract() == 0.0 {
                DateStyle::Date
            } else {
                DateStyle::DateTime
            }),
            Data::DurationIso(_) => Some(DateStyle::Time),
            Data::DateTimeIso(s) => Some(match s.split_once('T') {
                Some((_, time)) if time.trim_start_matches(['0', ':', '.']).is_empty() => {
                    DateStyle::Date
                }
                Some(_) => DateStyle::DateTime,
                None => DateStyle::Date,
            }),
            _ => None,
        }
    }

    /// The style of a column holding cells of `self` and `other`: dates and date-times
    /// are date-times; times mixed with either are neither (written in ISO 8601).
    fn with(self, other: DateStyle) -> Option<DateStyle> {
        match (self, other) {
            (a, b) if a == b => Some(a),
            (DateStyle::Time, _) | (_, DateStyle::Time) => None,
            _ => Some(DateStyle::DateTime),
        }
    }
}

/// Reads sheet `wanted` (else the first visible sheet) of the workbook at `path`: its
/// header and up to `max_rows` rows below it. The error says why it cannot be drafted
/// from.
pub fn read(path: &Path, wanted: Option<&str>, max_rows: usize) -> Result<SheetRows, SheetError> {
    read_rows(path, wanted, max_rows).map_err(|e| match e {
        workbook_rows::OpenError::NoSuchSheet(m) => SheetError::NoSuchSheet(m),
        workbook_rows::OpenError::Unreadable(m) => SheetError::Refused(m),
    })
}

fn read_rows(
    path: &Path,
    wanted: Option<&str>,
    max_rows: usize,
) -> Result<SheetRows, workbook_rows::OpenError> {
    let refused = workbook_rows::OpenError::Unreadable;
    let content = std::fs::read(path).map_err(|e| refused(format!("cannot be read: {e}")))?;
    let budget = crate::ingest::workbook_limits::budget_for(content.len() as u64);
    let mut open = workbook_rows::open(&content, wanted, "--sheet names it", budget)?;
    let (sheet, open_sheets) = (open.sheet.clone(), open.sheets.clone());
    // Rows with a value: the first ones looked at for the header, then enough below it.
    let mut kept: Vec<(u32, Vec<Data>)> = Vec::new();
    let mut header_at: Option<usize> = None;
    let mut cut = false;
    let uncalculated = workbook_rows::each_row(&mut open, |r, cells, _| {
        if cells.iter().all(is_blank) {
            return Ok(true);
        }
        if let Some(at) = header_at
            && kept.len() > at + max_rows
        {
            cut = true;
            return Ok(false);
        }
        kept.push((r, cells.to_vec()));
        if header_at.is_none() && kept.len() == HEADER_SEARCH_ROWS {
            header_at =
                Some(header_of(&kept).ok_or_else(|| no_header(&sheet, &kept, &open_sheets))?);
        }
        Ok(true)
    })
    .map_err(refused)?;
    if kept.is_empty() {
        return Err(refused(format!(
            "sheet \"{sheet}\" holds no value{}",
            others(&open_sheets, &sheet)
        )));
    }
    let at = match header_at {
        Some(at) => at,
        None => header_of(&kept).ok_or_else(|| refused(no_header(&sheet, &kept, &open_sheets)))?,
    };
    let mut rows = kept.split_off(at);
    let (header_row, header_cells) = rows.remove(0);
    if rows.len() > max_rows {
        rows.truncate(max_rows);
        cut = true;
    }
    // The first visible sheet of a workbook with others may well not be the one holding
    // the table (a notes sheet): refused naming them, not drafted from a title.
    if rows.is_empty() && wanted.is_none() && open_sheets.len() > 1 {
        return Err(refused(format!(
            "sheet \"{sheet}\" has no rows below its header (read as the first visible sheet){}",
            others(&open_sheets, &sheet)
        )));
    }
    let header = texts(&header_cells);
    // Merged regions fill their rows below the header, as in a run.
    let merged = &mut open.merged;
    if !merged.is_empty() {
        for (r, cells) in rows.iter_mut() {
            if merged.reaches(*r) {
                merged.fill(*r, header_row, cells);
            }
        }
    }
    let styles = date_styles(header.len(), &rows);
    let kinds: Vec<Option<ColumnType>> = styles.iter().map(|s| s.map(DateStyle::kind)).collect();
    let rows = rows
        .iter()
        .map(|(_, cells)| {
            (0..header.len())
                .map(|i| {
                    let cell = cells.get(i).unwrap_or(&Data::Empty);
                    one_line(cell_text(cell, kinds[i].as_ref(), open.date1904).text())
                })
                .collect()
        })
        .collect();
    Ok(SheetRows {
        sheets: open_sheets,
        sheet,
        header_row: header_row + 1,
        header,
        rows,
        cut,
        uncalculated,
    })
}

/// Which of `rows` (the first rows with a value) is the header: the first whose cells
/// are all text and that fills all but one in ten of the cells the widest fills, and at
/// least [`MIN_HEADER_COLUMNS`].
fn header_of(rows: &[(u32, Vec<Data>)]) -> Option<usize> {
    let filled = |cells: &[Data]| cells.iter().filter(|c| !is_blank(c)).count();
    let looked = &rows[..rows.len().min(HEADER_SEARCH_ROWS)];
    let widest = looked.iter().map(|(_, c)| filled(c)).max()?;
    let least = (widest - (widest / 10).max(1)).max(MIN_HEADER_COLUMNS);
    looked.iter().position(|(_, cells)| {
        filled(cells) >= least
            && cells
                .iter()
                .all(|c| is_blank(c) || matches!(c, Data::String(_)))
    })
}

fn no_header(sheet: &str, rows: &[(u32, Vec<Data>)], sheets: &[String]) -> String {
    let looked = rows.len().min(HEADER_SEARCH_ROWS);
    let rows = if looked == HEADER_SEARCH_ROWS {
        format!(
            "its first {looked} rows with a value (a header further down is not looked for, by a run either: remove the rows above it)"
        )
    } else {
        format!("its {looked} row(s) with a value")
    };
    format!(
        "sheet \"{sheet}\" has no header row: none of {rows} is a row of text naming at least {MIN_HEADER_COLUMNS} columns and nearly as many as the widest{}",
        others(sheets, sheet)
    )
}

/// `; its sheets: "a", "b"` when the workbook has others than `sheet`.
fn others(sheets: &[String], sheet: &str) -> String {
    if sheets.iter().any(|s| s != sheet) {
        format!(
            "; its sheets: {}; --sheet names the one to draft from",
            workbook_rows::quoted(sheets)
        )
    } else {
        String::new()
    }
}

/// Each column's date style, from its date cells (`None`: no date cell, or times mixed
/// with dates).
fn date_styles(width: usize, rows: &[(u32, Vec<Data>)]) -> Vec<Option<DateStyle>> {
    (0..width)
        .map(|i| {
            let mut cells = rows
                .iter()
                .filter_map(|(_, c)| c.get(i).and_then(DateStyle::of));
            let first = cells.next()?;
            cells.try_fold(first, DateStyle::with)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Data {
        Data::String(s.into())
    }

    #[test]
    fn the_header_is_the_first_row_of_text_naming_most_columns() {
        let rows = vec![
            (0, vec![text("Discharges, October 2026")]),
            (1, vec![text("Source: council")]),
            (
                3,
                vec![text("Id"), text("Council"), Data::Empty, text("Start")],
            ),
            (4, vec![Data::Float(1.0), text("902"), text("x"), text("y")]),
        ];
        assert_eq!(header_of(&rows), Some(2));
        // A row holding a number is data, not a header.
        let rows = vec![(0, vec![Data::Float(1.0), text("902")])];
        assert_eq!(header_of(&rows), None);
        // Regressions (review): a "Prepared by: | Jane Smith" line and a row of group
        // labels above a table of eight columns are not its header; nor is a notes
        // sheet's line of one cell.
        let row = |cells: &[&str]| -> Vec<Data> {
            cells
                .iter()
                .map(|c| if c.is_empty() { Data::Empty } else { text(c) })
                .collect()
        };
        let header = row(&["A", "B", "C", "D", "E", "F", "G", "H"]);
        let data: Vec<Data> = (0..8).map(|i| Data::Float(f64::from(i))).collect();
        let rows = vec![
            (0, row(&["Report:", "Delays", "Run by:", "Jane Smith"])),
            (
                1,
                row(&["Person", "", "", "Referral", "", "", "Outcome", ""]),
            ),
            (2, header),
            (3, data),
        ];
        assert_eq!(header_of(&rows), Some(2));
        let notes = vec![(0, row(&["About this extract"])), (1, row(&["Jane Smith"]))];
        assert_eq!(header_of(&notes), None);
    }

    #[test]
    fn a_column_of_dates_at_midnight_is_a_date_column_and_times_mixed_with_dates_are_neither() {
        let at = |f: f64| {
            Data::DateTime(calamine::ExcelDateTime::new(
                f,
                calamine::ExcelDateTimeType::DateTime,
                false,
            ))
        };
        // A duration of a day or more (`[h]:mm`) is no date cell: written as a duration.
        let long = Data::DateTime(calamine::ExcelDateTime::new(
            1.5,
            calamine::ExcelDateTimeType::TimeDelta,
            false,
        ));
        let mut first = vec![at(46000.0), at(46000.5), at(0.25), at(46000.0), text("x")];
        let mut second = vec![at(46001.0), at(46001.0), at(0.5), at(0.5), Data::Empty];
        first.push(long.clone());
        second.push(long);
        let rows = vec![(1, first), (2, second)];
        assert_eq!(
            date_styles(6, &rows),
            [
                Some(DateStyle::Date),
                Some(DateStyle::DateTime),
                Some(DateStyle::Time),
                None,
                None,
                None
            ]
        );
    }
}
