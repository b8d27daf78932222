//! What a workbook's sheet may hold before it is refused: Excel's own limits on a cell's
//! position and text, and a byte budget for the text its cells unpack to.
//!
//! A workbook is compressed, and its cells can repeat what is stored once: an `.xlsx`
//! cell refers to a shared string by number, an `.ods` cell or row carries a repeat
//! count, an `.xls` cell refers to its shared-string table. A few kilobytes can so stand
//! for gigabytes of cell text, and one cell's address for a row billions of columns
//! wide. Nothing Excel saves goes beyond its limits ([`MAX_ROWS`], [`MAX_COLS`],
//! [`MAX_CELL_CHARS`]), so a cell beyond them refuses the workbook, naming the sheet and
//! the cell; and the cell text read from a sheet (what its copy and the rows read from it
//! hold) is counted against a [`Budget`] set by the workbook's size, refusing it once
//! spent.
//!
//! Counting cells as they are read bounds what joinedup holds and writes, not what
//! calamine holds before a cell reaches it. So what calamine reads whole is measured
//! first: an `.xlsx`'s shared strings ([`check_shared_strings`]) and an `.ods`'s cells
//! with their repeats ([`super::workbook_extent`]). Not bounded beforehand: an `.xls`,
//! which calamine expands as it opens it (each cell referring to the shared-string table
//! a copy of its string: bounded only by the format, 65,536 × 256 cells a sheet of up to
//! 32,767 characters, until its cells are counted here), and one `.xlsx` cell's inline
//! text (`<is>`), held whole before its length is checked (at most what the archive
//! unpacks to, about 1,000 times its size). A cell address whose column or row overflows
//! 32 bits is wrapped by calamine's parser (a release build) and may land inside the
//! limits, in the wrong place; only a hostile file has one.

/// Excel's last row (1,048,576).
pub const MAX_ROWS: u32 = 1 << 20;
/// Excel's last column (XFD, 16,384).
pub const MAX_COLS: u32 = 1 << 14;
/// The most characters Excel holds in a cell.
pub const MAX_CELL_CHARS: usize = 32_767;

/// Cell text any workbook may unpack to, however small: 256 MiB.
pub const BUDGET_FLOOR: u64 = 256 << 20;
/// Cell text a workbook may unpack to, per byte of the workbook: a sheet's text is
/// rarely ten times its compressed size.
pub const BUDGET_PER_BYTE: u64 = 100;
/// Cell text no workbook may unpack to, however large: 4 GiB.
pub const BUDGET_CEILING: u64 = 4 << 30;

/// What a counted cell costs beside its text (its separator in the copy; a number's or
/// a date's text is counted as this many bytes more).
pub const CELL_COST: u64 = 8;

/// Why a sheet is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// A cell beyond Excel's last row or column.
    #[error(
        "sheet \"{sheet}\" has a cell at {cell}, beyond Excel's last row (1048576) or column (XFD): not a sheet Excel saved; save the sheet as CSV"
    )]
    Position {
        /// The sheet.
        sheet: String,
        /// The cell's address.
        cell: String,
    },
    /// A cell holding more text than Excel holds in one.
    #[error(
        "sheet \"{sheet}\" cell {cell} holds more than {MAX_CELL_CHARS} characters, Excel's limit for a cell: not a sheet Excel saved; save the sheet as CSV"
    )]
    CellText {
        /// The sheet.
        sheet: String,
        /// The cell's address.
        cell: String,
    },
    /// A sheet whose cells unpack to more text than its workbook's budget.
    #[error(
        "sheet \"{sheet}\" unpacks to more than {} of cell text (reached at cell {cell}), the most read from a workbook of {} (100 times its size, at least 256 MiB, at most 4 GiB): text repeated from one stored copy does this; save the sheet as CSV",
        size(*budget),
        size(*workbook)
    )]
    Budget {
        /// The sheet.
        sheet: String,
        /// The cell at which the budget was spent.
        cell: String,
        /// The budget, in bytes.
        budget: u64,
        /// The workbook's size, in bytes.
        workbook: u64,
    },
    /// An `.xlsx` whose shared strings unpack to more than its budget.
    #[error(
        "its shared strings (the text its cells share, read whole as it is opened) unpack to more than {}, the most read from a workbook of {} (100 times its size, at least 256 MiB, at most 4 GiB); save the sheet as CSV",
        size(*budget),
        size(*workbook)
    )]
    SharedStrings {
        /// The budget, in bytes.
        budget: u64,
        /// The workbook's size, in bytes.
        workbook: u64,
    },
}

/// A size as a message gives it: bytes, KiB or MiB (rounded up), never a run of ten
/// digits that message masking would take for an NHS number.
pub fn size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} bytes"),
        1024..1_048_576 => format!("{} KiB", bytes.div_ceil(1024)),
        _ => format!("{} MiB", bytes.div_ceil(1 << 20)),
    }
}

/// Cell text a workbook of `bytes` bytes may unpack to: [`BUDGET_PER_BYTE`] times its
/// size, at least [`BUDGET_FLOOR`], at most [`BUDGET_CEILING`].
pub fn budget_for(bytes: u64) -> u64 {
    bytes
        .saturating_mul(BUDGET_PER_BYTE)
        .clamp(BUDGET_FLOOR, BUDGET_CEILING)
}

/// Checks that the shared strings of the `.xlsx` archive `content` (its
/// `sharedStrings.xml`, which the reader holds whole as it opens the workbook, before
/// any cell is read) unpack to no more than `budget` bytes; they are unpacked as a stream
/// and not kept, and only as far as the budget. An archive, or a part, that cannot be
/// read passes: the reader then says what is wrong with it.
pub fn check_shared_strings(content: &[u8], budget: u64) -> Result<(), Refused> {
    use std::io::Read;
    let Ok(mut zip) = zip::ZipArchive::new(std::io::Cursor::new(content)) else {
        return Ok(());
    };
    for i in 0..zip.len() {
        let Ok(entry) = zip.by_index(i) else { continue };
        let shared = entry
            .name()
            .is_ok_and(|n| n.to_ascii_lowercase().ends_with("sharedstrings.xml"));
        if !shared {
            continue;
        }
        let unpacked = std::io::copy(&mut entry.take(budget + 1), &mut std::io::sink());
        if unpacked.is_ok_and(|n| n > budget) {
            return Err(Refused::SharedStrings {
                budget,
                workbook: content.len() as u64,
            });
        }
    }
    Ok(())
}

/// The cell text left to read from one sheet.
#[derive(Debug, Clone)]
pub struct Budget {
    sheet: String,
    workbook: u64,
    budget: u64,
    spent: u64,
}

impl Budget {
    /// The budget of sheet `sheet` of a workbook of `workbook` bytes ([`budget_for`]).
    pub fn new(sheet: &str, workbook: u64) -> Self {
        Self::of(sheet, workbook, budget_for(workbook))
    }

    /// A budget of `budget` bytes (tests use small ones).
    pub fn of(sheet: &str, workbook: u64, budget: u64) -> Self {
        Budget {
            sheet: sheet.to_string(),
            workbook,
            budget,
            spent: 0,
        }
    }

    /// The budget, in bytes.
    pub fn bytes(&self) -> u64 {
        self.budget
    }

    /// Checks the position of the cell at `row`, `col` (0-based) against Excel's limits.
    pub fn position(&self, row: u32, col: u32) -> Result<(), Refused> {
        if row < MAX_ROWS && col < MAX_COLS {
            return Ok(());
        }
        Err(Refused::Position {
            sheet: self.sheet.clone(),
            cell: super::nhse::workbook::a1(row, col),
        })
    }

    /// Counts a non-empty cell at `row`, `col` whose text, if it is text, is `text`:
    /// refused when it holds more than [`MAX_CELL_CHARS`] characters, or spends the last
    /// of the budget.
    pub fn cell(&mut self, row: u32, col: u32, text: Option<&str>) -> Result<(), Refused> {
        let len = text.map_or(0, str::len);
        // Bytes first: no text of fewer bytes can hold more characters.
        if len > MAX_CELL_CHARS && text.is_some_and(|t| t.chars().count() > MAX_CELL_CHARS) {
            return Err(Refused::CellText {
                sheet: self.sheet.clone(),
                cell: super::nhse::workbook::a1(row, col),
            });
        }
        self.spend(row, col, len as u64 + CELL_COST)
    }

    /// Spends `bytes` of the budget on cells from `row`, `col` (text a merged region
    /// copies into the rows it covers): refused when that spends the last of it.
    pub fn spend(&mut self, row: u32, col: u32, bytes: u64) -> Result<(), Refused> {
        self.spent = self.spent.saturating_add(bytes);
        if self.spent > self.budget {
            return Err(Refused::Budget {
                sheet: self.sheet.clone(),
                cell: super::nhse::workbook::a1(row, col),
                budget: self.budget,
                workbook: self.workbook,
            });
        }
        Ok(())
    }
}

/// A cell's text, if it holds text ([`Budget::cell`]).
pub fn data_text(cell: &calamine::Data) -> Option<&str> {
    use calamine::Data;
    match cell {
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Some(s),
        _ => None,
    }
}

/// [`data_text`] of a cell as an `.xlsx` is read (a shared string borrowed).
pub fn ref_text<'a>(cell: &'a calamine::DataRef<'_>) -> Option<&'a str> {
    use calamine::DataRef;
    match cell {
        DataRef::SharedString(s) => Some(s),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_grows_with_the_workbook_between_a_floor_and_a_ceiling() {
        assert_eq!(budget_for(0), BUDGET_FLOOR);
        assert_eq!(budget_for(2_600), BUDGET_FLOOR);
        assert_eq!(budget_for(10 << 20), 1000 << 20);
        assert_eq!(budget_for(u64::MAX), BUDGET_CEILING);
    }

    #[test]
    fn sizes_are_given_in_units_without_long_runs_of_digits() {
        assert_eq!(size(1023), "1023 bytes");
        assert_eq!(size(2560), "3 KiB");
        assert_eq!(size(BUDGET_FLOOR), "256 MiB");
        assert_eq!(size(2_097_369_042), "2001 MiB");
    }

    #[test]
    fn cells_within_excel_s_limits_pass_and_others_are_named() {
        let b = Budget::new("Data", 1);
        assert_eq!(b.position(MAX_ROWS - 1, MAX_COLS - 1), Ok(()));
        assert_eq!(
            b.position(7, 321_272_405).unwrap_err().to_string(),
            "sheet \"Data\" has a cell at ZZZZZZ8, beyond Excel's last row (1048576) or column (XFD): not a sheet Excel saved; save the sheet as CSV"
        );
        assert_eq!(
            b.position(999_999_999, 0),
            Err(Refused::Position {
                sheet: "Data".into(),
                cell: "A1000000000".into()
            })
        );
    }

    #[test]
    fn a_cell_s_characters_are_counted_not_its_bytes() {
        let mut b = Budget::new("Data", 1);
        // 32,767 characters of two bytes each: as many as Excel holds.
        assert_eq!(b.cell(1, 1, Some(&"é".repeat(MAX_CELL_CHARS))), Ok(()));
        assert_eq!(
            b.cell(1, 2, Some(&"x".repeat(MAX_CELL_CHARS + 1))),
            Err(Refused::CellText {
                sheet: "Data".into(),
                cell: "C2".into()
            })
        );
    }

    #[test]
    fn the_budget_is_spent_by_text_and_cells() {
        let mut b = Budget::of("Data", 10, 90);
        for c in 0..4 {
            b.cell(0, c, Some("0123456789")).unwrap();
        }
        assert_eq!(b.cell(0, 4, None), Ok(()));
        let err = b.cell(0, 5, Some("0123456789")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "sheet \"Data\" unpacks to more than 90 bytes of cell text (reached at cell F1), the most read from a workbook of 10 bytes (100 times its size, at least 256 MiB, at most 4 GiB): text repeated from one stored copy does this; save the sheet as CSV"
        );
    }
}
