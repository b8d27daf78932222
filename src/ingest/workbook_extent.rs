//! How large a grid calamine would build for an `.ods` workbook, measured before it is
//! opened.
//!
//! calamine reads an `.ods` (and an `.xls`) whole when it opens it: every sheet becomes a
//! grid spanning its first to its last filled cell, twice (values and formulas), about 80
//! bytes a cell. One stray value far from the data (row 100,000, column 1,000) makes that
//! grid billions of cells, and the process aborts for want of memory, taking every other
//! file with it. So `content.xml` is read once as a stream (no grid, a few kilobytes), the
//! extent of each sheet's filled cells worked out, and a workbook whose sheets add up to
//! more than [`MAX_GRID_CELLS`] is refused, naming the sheet and its extent. A cell's
//! text costs more than those 80 bytes, and one stored once is copied for each column and
//! row it is repeated across (`table:number-columns-repeated`, `…-rows-repeated`): a
//! 1 MB cell repeated across 2,000 columns is 2 GB. So the text each filled cell unpacks
//! to (its XML, times its repeats) is added up too, and a workbook beyond its budget
//! ([`super::workbook_limits::budget_for`]) refused, naming the sheet and the cell that
//! costs most. An `.xls` sheet cannot be larger than 65,536 rows by 256 columns (the
//! format's own limit).
//!
//! The same reading lists each sheet's merged regions (a cell's
//! `table:number-rows-spanned` and `…-columns-spanned`), which calamine does not give for
//! an `.ods`, so its merged cells are filled as an `.xlsx`'s are
//! ([`super::workbook_merged`]).

use std::io::{BufReader, Read, Seek};

use quick_xml::events::{BytesStart, Event};

use super::workbook_limits::size;

/// The most cells (rows × columns of filled extent, over every sheet) an `.ods` workbook
/// may span: about 160 MB as calamine holds them (80 bytes a cell); 80,000 rows of 25
/// columns.
pub const MAX_GRID_CELLS: u64 = 2_000_000;

/// One sheet's filled extent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extent {
    /// The sheet's name.
    pub sheet: String,
    /// Rows from the first to the last with a filled cell.
    pub rows: u64,
    /// Columns from the first to the last filled.
    pub cols: u64,
    /// The last filled cell's row and column (0-based), where the extent ends.
    pub last: (u64, u64),
    /// The bytes its filled cells unpack to: each cell's XML (its text, and a little
    /// more) and 8 bytes, times the columns and rows it is repeated across.
    pub bytes: u64,
    /// The cell that unpacks to most: how many bytes, its row and column (0-based).
    pub costliest: (u64, u64, u64),
    /// Its merged regions, as calamine lists an `.xlsx` sheet's (0-based, inclusive).
    pub merged: Vec<calamine::Dimensions>,
}

impl Extent {
    /// Cells in the extent.
    pub fn cells(&self) -> u64 {
        self.rows.saturating_mul(self.cols)
    }
}

/// Whether `content` starts as an OpenDocument spreadsheet does: a zip whose first entry
/// is `mimetype`, stored, holding the spreadsheet's media type.
pub fn is_ods(content: &[u8]) -> bool {
    content.starts_with(b"PK\x03\x04")
        && memchr::memmem::find(
            &content[..content.len().min(256)],
            b"application/vnd.oasis.opendocument.spreadsheet",
        )
        .is_some()
}

/// Checks an `.ods` workbook's extent against [`MAX_GRID_CELLS`], and the text its cells
/// unpack to against `budget` bytes; the error says which sheet is too large. A workbook
/// whose `content.xml` cannot be read passes (no extents): calamine then says what is
/// wrong with it. Returns the extents (with each sheet's merged regions).
pub fn check_ods(content: &[u8], budget: u64) -> Result<Vec<Extent>, String> {
    let Ok(extents) = ods_extents(std::io::Cursor::new(content)) else {
        return Ok(Vec::new());
    };
    let bytes = extents.iter().fold(0u64, |n, e| n.saturating_add(e.bytes));
    if let Some(e) = extents
        .iter()
        .max_by_key(|e| e.bytes)
        .filter(|_| bytes > budget)
    {
        let (cost, r, c) = e.costliest;
        return Err(format!(
            "is a workbook too large to read: its cells unpack to about {} of text, more than the {} read from a workbook of {} (100 times its size, at least 256 MiB, at most 4 GiB; an `.ods` is read whole); sheet \"{}\" cell {}, with its repeats across columns and rows, unpacks to about {}: a value repeated by the sheet's XML does this; save the sheet as CSV",
            size(bytes),
            size(budget),
            size(content.len() as u64),
            e.sheet,
            a1(r, c),
            size(cost),
        ));
    }
    let total: u64 = extents.iter().map(Extent::cells).sum();
    if total <= MAX_GRID_CELLS {
        return Ok(extents);
    }
    let largest = extents.iter().max_by_key(|e| e.cells()).cloned();
    let Some(e) = largest else {
        return Ok(extents);
    };
    Err(format!(
        "is a workbook too large to read: sheet \"{}\" spans {} rows by {} columns to its last filled cell {} ({} cells; at most {MAX_GRID_CELLS} are read, as an `.ods` is read whole); a stray value far from the table does this: delete the rows and columns after the table, or save the sheet as CSV",
        e.sheet,
        e.rows,
        e.cols,
        a1(e.last.0, e.last.1),
        e.cells()
    ))
}

/// A cell's address.
fn a1(row: u64, col: u64) -> String {
    let at = |n: u64| n.min(u64::from(u32::MAX)) as u32;
    super::nhse::workbook::a1(at(row), at(col))
}

/// The filled extent of every sheet of an `.ods` archive, read from `content.xml` as a
/// stream.
pub fn ods_extents<R: Read + Seek>(archive: R) -> Result<Vec<Extent>, String> {
    let mut zip = zip::ZipArchive::new(archive).map_err(|e| e.to_string())?;
    let content = zip.by_name("content.xml").map_err(|e| e.to_string())?;
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(content));
    let (mut buf, mut skip) = (Vec::new(), Vec::new());
    let mut out = Vec::new();
    let mut sheet: Option<Sheet> = None;
    loop {
        buf.clear();
        let event = xml.read_event_into(&mut buf).map_err(|e| e.to_string())?;
        let (e, open) = match &event {
            Event::Start(e) => (e, true),
            Event::Empty(e) => (e, false),
            Event::End(e) => {
                match e.name().as_ref() {
                    "table:table" => out.extend(sheet.take().and_then(Sheet::extent)),
                    "table:table-row" => {
                        if let Some(s) = sheet.as_mut() {
                            s.end_row();
                        }
                    }
                    _ => {}
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        match e.name().as_ref() {
            "table:table" => {
                let name = attr(e, "table:name").unwrap_or_default();
                sheet = open.then(|| Sheet::new(name));
            }
            "table:table-row" => {
                if let Some(s) = sheet.as_mut() {
                    s.start_row(repeated(e, "table:number-rows-repeated"));
                    if !open {
                        s.end_row();
                    }
                }
            }
            "table:table-cell" | "table:covered-table-cell" => {
                let Some(s) = sheet.as_mut() else { continue };
                // A cell with a value, a formula or content (its paragraphs) is filled.
                let filled = open
                    || e.try_get_attribute("office:value-type")
                        .ok()
                        .flatten()
                        .is_some()
                    || e.try_get_attribute("table:formula")
                        .ok()
                        .flatten()
                        .is_some();
                let repeats = repeated(e, "table:number-columns-repeated");
                if matches!(e.name().as_ref(), "table:table-cell") {
                    s.merge(
                        repeated(e, "table:number-rows-spanned"),
                        repeated(e, "table:number-columns-spanned"),
                    );
                }
                // The cell's XML: its attributes (a value) and its content (text).
                let mut size = e.len() as u64;
                if open {
                    let end = e.to_end().into_owned();
                    skip.clear();
                    let content = xml
                        .read_to_end_into(end.name(), &mut skip)
                        .map_err(|e| e.to_string())?;
                    size += content.end.saturating_sub(content.start);
                }
                s.cells(repeats, filled, size);
            }
            _ => {}
        }
    }
    Ok(out)
}

/// An attribute's value as text.
fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    let a = e.try_get_attribute(name).ok().flatten()?;
    Some(a.value.into_owned())
}

/// A repeat count (`table:number-rows-repeated`, `…-columns-repeated`), 1 when absent.
fn repeated(e: &BytesStart<'_>, name: &str) -> u64 {
    attr(e, name)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(1)
        .max(1)
}

/// One sheet being measured.
struct Sheet {
    name: String,
    /// The row the next `table:table-row` starts at, and the current row's repeats.
    row: u64,
    repeats: u64,
    /// The next cell's column in the current row, and whether the row has a filled cell.
    col: u64,
    row_filled: bool,
    /// First and last filled rows and columns.
    rows: Option<(u64, u64)>,
    cols: Option<(u64, u64)>,
    /// The last filled cell seen.
    last: (u64, u64),
    /// What its filled cells unpack to, and the cell that unpacks to most.
    bytes: u64,
    costliest: (u64, u64, u64),
    merged: Vec<calamine::Dimensions>,
}

impl Sheet {
    fn new(name: String) -> Self {
        Sheet {
            name,
            row: 0,
            repeats: 1,
            col: 0,
            row_filled: false,
            rows: None,
            cols: None,
            last: (0, 0),
            bytes: 0,
            costliest: (0, 0, 0),
            merged: Vec::new(),
        }
    }

    /// A region starting at the next cell, `rows` by `cols` (1 by 1 is no region). A
    /// region beyond the largest sheet calamine reads is left out.
    fn merge(&mut self, rows: u64, cols: u64) {
        if rows == 1 && cols == 1 {
            return;
        }
        let at = |n: u64| u32::try_from(n).ok();
        let (Some(r0), Some(c0), Some(r1), Some(c1)) = (
            at(self.row),
            at(self.col),
            at(self.row.saturating_add(rows - 1)),
            at(self.col.saturating_add(cols - 1)),
        ) else {
            return;
        };
        self.merged
            .push(calamine::Dimensions::new((r0, c0), (r1, c1)));
    }

    fn start_row(&mut self, repeats: u64) {
        (self.repeats, self.col, self.row_filled) = (repeats, 0, false);
    }

    /// Counts a cell of `size` bytes of XML repeated across `repeats` columns.
    fn cells(&mut self, repeats: u64, filled: bool, size: u64) {
        if filled {
            let cost = size
                .saturating_add(8)
                .saturating_mul(repeats)
                .saturating_mul(self.repeats);
            self.bytes = self.bytes.saturating_add(cost);
            if cost > self.costliest.0 {
                self.costliest = (cost, self.row, self.col);
            }
            let (first, last) = (self.col, self.col.saturating_add(repeats - 1));
            self.cols = Some(
                self.cols
                    .map_or((first, last), |(a, b)| (a.min(first), b.max(last))),
            );
            self.row_filled = true;
            self.last = (self.row.saturating_add(self.repeats - 1), last);
        }
        self.col = self.col.saturating_add(repeats);
    }

    fn end_row(&mut self) {
        if self.row_filled {
            let last = self.row.saturating_add(self.repeats - 1);
            self.rows = Some(self.rows.map_or((self.row, last), |(a, _)| (a, last)));
        }
        self.row = self.row.saturating_add(self.repeats);
        (self.repeats, self.col, self.row_filled) = (1, 0, false);
    }

    fn extent(self) -> Option<Extent> {
        let ((r0, r1), (c0, c1)) = (self.rows?, self.cols?);
        Some(Extent {
            sheet: self.name,
            rows: r1 - r0 + 1,
            cols: c1 - c0 + 1,
            last: self.last,
            bytes: self.bytes,
            costliest: self.costliest,
            merged: self.merged,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An `.ods` archive holding `table` (the body of one `table:table`).
    fn ods(table: &str) -> Vec<u8> {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        zip.start_file("mimetype", stored).unwrap();
        zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
            .unwrap();
        zip.start_file("content.xml", stored).unwrap();
        write!(
            zip,
            r#"<?xml version="1.0"?><office:document-content xmlns:office="o" xmlns:table="t" xmlns:text="x"><office:body><office:spreadsheet><table:table table:name="Spells">{table}</table:table></office:spreadsheet></office:body></office:document-content>"#
        )
        .unwrap();
        zip.finish().unwrap().into_inner()
    }

    const CELL: &str =
        r#"<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>"#;

    #[test]
    fn the_extent_runs_from_the_first_to_the_last_filled_cell() {
        let book = ods(&format!(
            r#"<table:table-row table:number-rows-repeated="2"><table:table-cell table:number-columns-repeated="5"/></table:table-row><table:table-row><table:table-cell/>{CELL}{CELL}<table:table-cell table:number-columns-repeated="1000"/></table:table-row><table:table-row table:number-rows-repeated="3">{CELL}</table:table-row><table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>"#
        ));
        assert!(is_ods(&book));
        assert_eq!(
            ods_extents(std::io::Cursor::new(&book[..])).unwrap(),
            [Extent {
                sheet: "Spells".into(),
                rows: 4,
                cols: 3,
                last: (5, 0),
                // 69 bytes a cell of `CELL`, the last repeated over three rows.
                bytes: 345,
                costliest: (207, 3, 0),
                merged: vec![],
            }]
        );
        assert!(check_ods(&book, 1 << 20).is_ok());
    }

    /// Regression (review): a stray value at row 20,000, column 200 of an `.ods` made a
    /// grid of 4 million cells (313 MB), and one further off aborted the run; the extent
    /// is measured first and a workbook beyond the limit refused, naming the sheet.
    #[test]
    fn regression_a_stray_value_far_from_the_table_refuses_the_workbook() {
        let book = ods(&format!(
            r#"<table:table-row>{CELL}</table:table-row><table:table-row table:number-rows-repeated="99998"><table:table-cell/></table:table-row><table:table-row><table:table-cell table:number-columns-repeated="999"/>{CELL}</table:table-row>"#
        ));
        assert_eq!(
            check_ods(&book, 1 << 20).unwrap_err(),
            "is a workbook too large to read: sheet \"Spells\" spans 100000 rows by 1000 columns to its last filled cell ALL100000 (100000000 cells; at most 2000000 are read, as an `.ods` is read whole); a stray value far from the table does this: delete the rows and columns after the table, or save the sheet as CSV"
        );
    }

    /// A cell of 1,000 characters, repeated as `repeats` says (`table:number-…`).
    fn long_cell(repeats: &str) -> String {
        format!(
            r#"<table:table-cell office:value-type="string" {repeats}><text:p>{}</text:p></table:table-cell>"#,
            "y".repeat(1000)
        )
    }

    /// Regression (review, F3): one 1 MB cell repeated across 2,000 columns
    /// (`table:number-columns-repeated`) in a 2.5 KB `.ods` peaked at 6.2 GB as calamine
    /// copied it into every column; its text is measured first, and the workbook refused
    /// beyond its budget, naming the cell (here 1,000 characters across 2,000 columns
    /// against a budget of 1 MiB).
    #[test]
    fn regression_a_cell_repeated_across_columns_is_measured_by_its_text() {
        let header = format!("<table:table-row>{CELL}</table:table-row>");
        let book = ods(&format!(
            r#"{header}<table:table-row>{CELL}{}</table:table-row>"#,
            long_cell(r#"table:number-columns-repeated="2000""#)
        ));
        let extents = ods_extents(std::io::Cursor::new(&book[..])).unwrap();
        assert!(extents[0].bytes > 2_000_000, "{extents:?}");
        assert!(check_ods(&book, 4_000_000).is_ok());
        let err = check_ods(&book, 1 << 20).unwrap_err();
        assert!(
            err.starts_with("is a workbook too large to read: its cells unpack to about "),
            "{err}"
        );
        assert!(
            err.contains("more than the 1 MiB read from a workbook of ")
                && err.contains("sheet \"Spells\" cell B2, with its repeats across columns and rows, unpacks to about "),
            "{err}"
        );
        assert!(!err.contains("yyy"), "{err}");
    }

    /// Regression (review, F3): the same cell in a row repeated 3,000 times
    /// (`table:number-rows-repeated`) peaked at 6.2 GB; rows' repeats count as columns'.
    #[test]
    fn regression_a_row_repeated_down_the_sheet_is_measured_by_its_text() {
        let book = ods(&format!(
            r#"<table:table-row>{CELL}</table:table-row><table:table-row table:number-rows-repeated="3000">{CELL}{}</table:table-row>"#,
            long_cell("")
        ));
        let err = check_ods(&book, 1 << 20).unwrap_err();
        assert!(
            err.contains("sheet \"Spells\" cell B2, with its repeats"),
            "{err}"
        );
        // Within the cell count: the text is what refuses it.
        let extents = ods_extents(std::io::Cursor::new(&book[..])).unwrap();
        assert!(extents[0].cells() <= MAX_GRID_CELLS);
    }
}
