//! Opening one sheet of a workbook and reading its rows, every cell checked against
//! Excel's limits and the workbook's text budget ([`super::workbook_limits`]) before it
//! is kept: what the run's sheet copy ([`super::workbook_sheet`]) and `joinedup draft`
//! share, so that a draft reads a workbook exactly as a run will.
//!
//! An `.ods` is measured before calamine builds its grid, and an `.xlsx`'s shared strings
//! before it is opened; an `.xlsx` sheet is then read a cell at a time, never held whole
//! (a whole number formatted with leading zeros read as shown: [`super::workbook_padding`]),
//! and `.xls` and `.ods` sheets from calamine's grid.

use std::io::Cursor;

use calamine::{Data, Reader, Sheets};

use super::workbook_limits::{self as limits, Budget};
use super::workbook_merged::Merged;
use super::workbook_padding::Padding;
use super::workbook_sheet::Cells;

/// Why a sheet cannot be opened.
#[derive(Debug)]
pub enum OpenError {
    /// The workbook has no sheet of the name asked for (the message lists its sheets).
    NoSuchSheet(String),
    /// The workbook cannot be read (why).
    Unreadable(String),
}

impl From<OpenError> for String {
    fn from(e: OpenError) -> String {
        match e {
            OpenError::NoSuchSheet(m) | OpenError::Unreadable(m) => m,
        }
    }
}

impl From<String> for OpenError {
    fn from(m: String) -> OpenError {
        OpenError::Unreadable(m)
    }
}

/// One sheet of a workbook, opened.
pub struct OpenSheet<'a> {
    workbook: Sheets<Cursor<&'a [u8]>>,
    /// The sheet read.
    pub sheet: String,
    /// The workbook's worksheets, in order.
    pub sheets: Vec<String>,
    /// Whether the workbook uses the 1904 date system.
    pub date1904: bool,
    /// The sheet's merged regions.
    pub merged: Merged,
    /// The workbook opened again to read its cells' styles beside their values, when a
    /// style pads whole numbers with zeros (`.xlsx`).
    padding: Option<Padding<'a>>,
    /// The cell text left to read.
    pub budget: Budget,
    /// Whether the sheet is read a cell at a time (`.xlsx`), else from calamine's grid.
    streamed: bool,
}

/// Opens sheet `wanted` of the workbook `content` (by name, ignoring case and the
/// spaces around it; else the first sheet a person opening the workbook sees), reading
/// at most `budget_bytes` of cell text. `wanted_by` says who names the sheet, for the
/// error when the workbook has none of that name. The error says why the workbook
/// cannot be read.
pub fn open<'a>(
    content: &'a [u8],
    wanted: Option<&str>,
    wanted_by: &str,
    budget_bytes: u64,
) -> Result<OpenSheet<'a>, OpenError> {
    // An `.ods` is measured before calamine builds its grid of every sheet; the same
    // reading lists its merged regions, which calamine does not.
    let ods_sheets = if super::workbook_extent::is_ods(content) {
        super::workbook_extent::check_ods(content, budget_bytes)?
    } else {
        Vec::new()
    };
    // The text calamine holds whole as it opens the workbook, measured first.
    limits::check_shared_strings(content, budget_bytes).map_err(|e| e.to_string())?;
    // The format from the content, not the name (a system's export named `.xls` is often
    // an `.xlsx`).
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(content))
        .map_err(|_| not_a_workbook(content))?;
    let worksheets = |visible_only: bool| -> Vec<String> {
        workbook
            .sheets_metadata()
            .iter()
            .filter(|m| m.typ == calamine::SheetType::WorkSheet)
            .filter(|m| !visible_only || m.visible == calamine::SheetVisible::Visible)
            .map(|m| m.name.clone())
            .collect()
    };
    let (sheets, visible) = (worksheets(false), worksheets(true));
    let sheet = match wanted {
        Some(wanted) => sheets
            .iter()
            .find(|n| n.trim().eq_ignore_ascii_case(wanted.trim()))
            .cloned()
            .ok_or_else(|| {
                OpenError::NoSuchSheet(format!(
                    "has no sheet \"{wanted}\" ({wanted_by}); its sheets: {}",
                    quoted(&sheets)
                ))
            })?,
        // The first sheet a person opening the workbook sees.
        None => visible
            .first()
            .or(sheets.first())
            .cloned()
            .ok_or_else(|| "is a workbook without worksheets".to_string())?,
    };
    // A plain number in a date column is a serial day of the workbook's date system.
    let date1904 = match &workbook {
        Sheets::Xlsx(x) => x.has_1904_epoch(),
        Sheets::Xls(x) => x.has_1904_epoch(),
        Sheets::Xlsb(x) => x.has_1904_epoch(),
        Sheets::Ods(_) => false,
    };
    let sheet_error = |e: String| format!("sheet \"{sheet}\" cannot be read: {}", reason(&e));
    let merged = match &mut workbook {
        // The merged regions come after the cells in the sheet's XML: read first, which
        // reads the XML twice, so only when the workbook has any.
        Sheets::Xlsx(x) if mentions_merged_cells(content) => Merged::new(
            x.merge_cells_by_sheet_name(&sheet)
                .map_err(|e| sheet_error(e.to_string()))?,
        ),
        Sheets::Xls(x) => Merged::new(
            x.merge_cells_by_sheet_name(&sheet)
                .map_err(|e| sheet_error(e.to_string()))?,
        ),
        Sheets::Ods(_) => {
            let regions = ods_sheets.into_iter().find(|e| e.sheet == sheet);
            Merged::new(regions.map(|e| e.merged).unwrap_or_default())
        }
        _ => Merged::default(),
    };
    // Whole numbers shown with leading zeros (`01`) are read as shown.
    let padding = match &mut workbook {
        Sheets::Xlsx(x) => Padding::of(x, content, &sheet).map_err(sheet_error)?,
        _ => None,
    };
    let streamed = matches!(workbook, Sheets::Xlsx(_));
    Ok(OpenSheet {
        padding,
        workbook,
        budget: Budget::of(&sheet, content.len() as u64, budget_bytes),
        sheet,
        sheets,
        date1904,
        merged,
        streamed,
    })
}

/// Reads the rows of `open`'s sheet in order, giving `take` each (its 0-based sheet row
/// and its cells from column A; an `.xlsx` gives only rows with a cell, others every row
/// of the sheet's extent) with the budget, until `take` returns `false`. Returns the
/// formula cells with no saved result (read as blank).
pub fn each_row(
    open: &mut OpenSheet<'_>,
    mut take: impl FnMut(u32, &[Data], &mut Budget) -> Result<bool, String>,
) -> Result<Cells, String> {
    let mut uncalculated = Cells::default();
    let sheet = open.sheet.clone();
    // The last cell read, which the reader's error follows.
    let mut last: Option<(u32, u32)> = None;
    let sheet_error = |e: String, last: Option<(u32, u32)>| {
        let after = last.map_or_else(String::new, |(r, c)| {
            format!(" (after cell {})", super::nhse::workbook::a1(r, c))
        });
        format!("sheet \"{sheet}\" cannot be read: {}{after}", reason(&e))
    };
    let refused = |e: limits::Refused| e.to_string();
    let budget = &mut open.budget;
    if let (true, Sheets::Xlsx(xlsx)) = (open.streamed, &mut open.workbook) {
        // Cell by cell, values and formulas in one pass, a row at a time: the sheet is
        // never held whole, however far its last cell is.
        let mut reader = xlsx
            .worksheet_cells_reader(&sheet)
            .map_err(|e| sheet_error(e.to_string(), None))?;
        let mut padded = open
            .padding
            .as_mut()
            .map(|p| p.cells(&sheet))
            .transpose()
            .map_err(|e| sheet_error(e, None))?;
        let mut row: Vec<Data> = Vec::new();
        let mut at_row = None;
        while let Some(cell) = reader
            .next_cell_with_formula_metadata()
            .map_err(|e| sheet_error(e.to_string(), last))?
        {
            let (r, c) = cell.pos;
            last = Some((r, c));
            budget.position(r, c).map_err(refused)?;
            // Every cell's style is read beside it, an empty one's too.
            let pad = match &mut padded {
                Some(p) => p.pad_at(r, c).map_err(|e| sheet_error(e, last))?,
                None => None,
            };
            if cell.value == calamine::DataRef::Empty {
                // A formula written by a script (not saved by Excel) has no result.
                if cell.formula.is_some() {
                    uncalculated.add(r, c);
                }
                continue;
            }
            budget
                .cell(r, c, limits::ref_text(&cell.value))
                .map_err(refused)?;
            let value = super::workbook_padding::read(cell.value, pad);
            if at_row != Some(r) {
                if let Some(done) = at_row
                    && !take(done, &row, budget)?
                {
                    return Ok(uncalculated);
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
            take(done, &row, budget)?;
        }
        return Ok(uncalculated);
    }
    let range = open
        .workbook
        .worksheet_range(&sheet)
        .map_err(|e| sheet_error(e.to_string(), None))?;
    // Formula cells without a result; calamine already holds them (as it holds the
    // values), within the extent checked before it was opened.
    if let Ok(f) = open.workbook.worksheet_formula(&sheet) {
        for (r, c) in super::nhse::workbook::uncalculated_cells(&range, &f) {
            uncalculated.add(r, c);
        }
    }
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let lead = vec![Data::Empty; c0 as usize];
    for (i, cells) in range.rows().enumerate() {
        let r = r0 + i as u32;
        for (j, cell) in cells.iter().enumerate() {
            if *cell != Data::Empty {
                let c = c0 + j as u32;
                budget.position(r, c).map_err(refused)?;
                budget
                    .cell(r, c, limits::data_text(cell))
                    .map_err(refused)?;
            }
        }
        let row: Vec<Data> = lead.iter().chain(cells).cloned().collect();
        if !take(r, &row, budget)? {
            break;
        }
    }
    Ok(uncalculated)
}

/// The reader's reason without what follows its first `:` or quote: the reader quotes
/// the cell it could not read (`Unrecognized boolean cell value: Jane Smith`), and a
/// cell's value never reaches a message.
fn reason(e: &str) -> &str {
    e.split([':', '\'', '"']).next().unwrap_or_default().trim()
}

/// Whether any XML part of the `.xlsx` archive `content` mentions `mergeCell`: one that
/// does not (most workbooks) has no merged region, and its sheet's XML is not read a
/// second time for them. A mention elsewhere (a cell's text) costs only that read; an
/// archive that cannot be read here is taken to have some (calamine says what is wrong).
pub(super) fn mentions_merged_cells(content: &[u8]) -> bool {
    use std::io::Read;
    const WORD: &[u8] = b"mergeCell";
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(content)) else {
        return true;
    };
    let finder = memchr::memmem::Finder::new(WORD);
    let mut buf = vec![0u8; 1 << 16];
    for i in 0..zip.len() {
        let Ok(mut entry) = zip.by_index(i) else {
            return true;
        };
        if !entry.name().is_ok_and(|n| n.ends_with(".xml")) {
            continue;
        }
        // A chunk at a time, keeping the end of the last in case the word spans two.
        let mut carry = 0;
        loop {
            let n = match entry.read(&mut buf[carry..]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(_) => return true,
            };
            let filled = carry + n;
            if finder.find(&buf[..filled]).is_some() {
                return true;
            }
            carry = (WORD.len() - 1).min(filled);
            buf.copy_within(filled - carry..filled, 0);
        }
    }
    false
}

/// Why a file that starts like a zip archive or an Office file is not a workbook, with
/// calamine's reason when it is one it cannot read (damaged, password-protected).
pub(super) fn not_a_workbook(content: &[u8]) -> String {
    let cursor = || Cursor::new(content);
    if super::workbook_extent::is_ods(content) {
        let why = calamine::open_workbook_from_rs::<calamine::Ods<_>, _>(cursor())
            .err()
            .map_or_else(String::new, |e| format!(": {e}"));
        format!(
            "is an OpenDocument spreadsheet that cannot be read (damaged, or password-protected{why}); save the sheet as CSV"
        )
    } else if memchr::memmem::find(content, b"[Content_Types].xml").is_some() {
        // An Office Open XML package calamine cannot read: say what it said.
        let why = calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(cursor())
            .err()
            .map_or_else(String::new, |e| format!(": Xlsx error: {e}"));
        format!(
            "is an Excel workbook that cannot be read (damaged, or not saved by Excel{why}); save the sheet as CSV"
        )
    } else if content.starts_with(b"PK") {
        "is a zip archive, not a workbook: unzip it and give the file inside".into()
    } else {
        let why = calamine::open_workbook_from_rs::<calamine::Xls<_>, _>(cursor())
            .err()
            .map_or_else(String::new, |e| format!(" ({e})"));
        format!(
            "is an Office file that cannot be read as a workbook{why} (a password-protected workbook is one: save it without a password, or as CSV)"
        )
    }
}

/// `"a", "b"`.
pub fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}
