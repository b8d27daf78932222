//! Workbooks a few kilobytes long that stand for gigabytes (review F1, F2, F4): each is
//! the APC fixture with one part of its archive edited, one defect each, refused naming
//! the sheet and the cell before anything is sized or written by it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::limits::MAX_CELL_CHARS;
use super::tests::{apc_book, apc_contract};
use super::*;

/// `book` with the archive part `part` edited by `edit`, saved beside it as `name`.
fn edited(book: &Path, name: &str, part: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(book).unwrap()).unwrap();
    let out = book.with_file_name(name);
    let mut w = zip::ZipWriter::new(std::fs::File::create(&out).unwrap());
    let mut found = false;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        let entry_name = entry.name().unwrap().to_string();
        if entry_name == part {
            bytes = edit(String::from_utf8(bytes).unwrap()).into_bytes();
            found = true;
        }
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file(entry_name, deflated).unwrap();
        w.write_all(&bytes).unwrap();
    }
    w.finish().unwrap();
    assert!(found, "{part}");
    out
}

/// The APC fixture with the text `MARK` in cell A8 (a shared string, as Excel saves
/// text).
fn marked() -> (tempfile::TempDir, PathBuf) {
    apc_book(0, |ws| {
        ws.write_string(7, 0, "MARK").unwrap();
    })
}

/// The marked fixture with the cell `A8` moved to `cell` (its row to `row`).
fn moved(to: &str, row: u32) -> (tempfile::TempDir, PathBuf) {
    let (dir, book) = marked();
    let book = edited(&book, "moved.xlsx", "xl/worksheets/sheet1.xml", |xml| {
        assert!(xml.contains(r#"<c r="A8" t="s">"#), "{xml}");
        xml.replace(r#"<c r="A8" "#, &format!(r#"<c r="{to}" "#))
            .replace(r#"<row r="8" "#, &format!(r#"<row r="{row}" "#))
    });
    (dir, book)
}

fn refused(book: &Path, dir: &Path) -> String {
    to_csv(book, &apc_contract(), &dir.join("out")).unwrap_err()
}

/// Regression (review, F1): a 2.6 KB workbook with one cell at column ZZZZZZ made the
/// run allocate 10 GB for the cell's row and abort (exit 134, no manifest); at KZZZZZZ,
/// 119 GB. A cell beyond Excel's last column is refused, naming the sheet and the cell;
/// nothing is sized by it.
#[test]
fn regression_a_cell_beyond_column_xfd_refuses_the_workbook_naming_it() {
    for column in ["ZZZZZZ", "KZZZZZZ", "XFE"] {
        let (dir, book) = moved(&format!("{column}8"), 8);
        assert!(std::fs::metadata(&book).unwrap().len() < 10_000);
        assert_eq!(
            refused(&book, dir.path()),
            format!(
                "sheet \"Spells\" has a cell at {column}8, beyond Excel's last row (1048576) or column (XFD): not a sheet Excel saved; save the sheet as CSV"
            )
        );
    }
}

/// A cell in Excel's last column (XFD) is read as before: a value in a column without a
/// header, counted, its row sized to 16,384 cells at most.
#[test]
fn a_cell_in_column_xfd_is_a_column_without_a_header() {
    let (dir, book) = moved("XFD8", 8);
    let sheet = to_csv(&book, &apc_contract(), &dir.path().join("out")).unwrap();
    assert_eq!(sheet.headless.first.as_deref(), Some("XFD8"));
}

/// Regression (review, F4): a 2.6 KB workbook with one cell at row 1,000,000,000 wrote a
/// 1 GB copy of blank lines (one for each row, so line numbers are the sheet's rows);
/// a cell beyond Excel's last row is refused, naming it, and the copy holds at most
/// 1,048,576 lines.
#[test]
fn regression_a_cell_beyond_row_1048576_refuses_the_workbook_naming_it() {
    let (dir, book) = moved("A1000000000", 1_000_000_000);
    assert_eq!(
        refused(&book, dir.path()),
        "sheet \"Spells\" has a cell at A1000000000, beyond Excel's last row (1048576) or column (XFD): not a sheet Excel saved; save the sheet as CSV"
    );
    let copy = dir.path().join("out/moved.xlsx");
    assert!(std::fs::metadata(&copy).map_or(0, |m| m.len()) < 100_000);
    let (_dir, book) = moved("A1048577", 1_048_577);
    assert!(refused(&book, _dir.path()).contains("cell at A1048577, beyond"));
}

/// The marked fixture with its shared string `MARK` replaced by `text`.
fn shared(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let (dir, book) = marked();
    let book = edited(&book, name, "xl/sharedStrings.xml", |xml| {
        assert!(xml.contains("<t>MARK</t>"), "{xml}");
        xml.replace("<t>MARK</t>", &format!("<t>{text}</t>"))
    });
    (dir, book)
}

/// Regression (review, F2): one 50 MB shared string referenced by 60 cells of a 54 KB
/// workbook peaked at 8.5 GB and wrote a 943 MB copy. A cell holding more than Excel's
/// 32,767 characters is refused, naming it (here 32,768).
#[test]
fn regression_a_cell_longer_than_excel_holds_refuses_the_workbook_naming_it() {
    let (dir, book) = shared("long.xlsx", &"A".repeat(MAX_CELL_CHARS + 1));
    assert_eq!(
        refused(&book, dir.path()),
        "sheet \"Spells\" cell A8 holds more than 32767 characters, Excel's limit for a cell: not a sheet Excel saved; save the sheet as CSV"
    );
    // As many as Excel holds are read.
    let (dir, book) = shared("longest.xlsx", &"A".repeat(MAX_CELL_CHARS));
    to_csv(&book, &apc_contract(), &dir.path().join("out")).unwrap();
}

/// Regression (review, F2): 10 rows of 13 cells sharing one 10 MB string wrote 1.36 GB.
/// Within Excel's limit for a cell, text shared by many cells is counted as often as it
/// is read, against the workbook's budget: here 60 cells of 32,000 characters (one
/// shared string, a workbook of a few kilobytes) against a budget of 1 MiB, refused at
/// the cell that spends it.
#[test]
fn regression_a_shared_string_repeated_past_the_budget_refuses_the_workbook() {
    let long = "B".repeat(32_000);
    let (dir, book) = apc_book(0, |ws| {
        for c in 0..60u16 {
            ws.write_string(7, c, &long).unwrap();
        }
    });
    assert!(std::fs::metadata(&book).unwrap().len() < 20_000);
    let budget = |_| 1 << 20;
    let err = to_csv_within(&book, &apc_contract(), &dir.path().join("out"), budget).unwrap_err();
    assert_eq!(
        err,
        format!(
            "sheet \"Spells\" unpacks to more than 1 MiB of cell text (reached at cell AG8), the most read from a workbook of {} (100 times its size, at least 256 MiB, at most 4 GiB): text repeated from one stored copy does this; save the sheet as CSV",
            limits::size(std::fs::metadata(&book).unwrap().len())
        )
    );
    // The default budget of so small a workbook is 256 MiB: read.
    to_csv(&book, &apc_contract(), &dir.path().join("out2")).unwrap();
}

/// Shared strings are held whole as an `.xlsx` is opened, before any cell is read: ones
/// that unpack to more than the budget refuse the workbook first.
#[test]
fn shared_strings_past_the_budget_refuse_the_workbook_before_it_is_opened() {
    let (dir, book) = shared("many.xlsx", &"C".repeat(30_000));
    let budget = |_| 20_000;
    let err = to_csv_within(&book, &apc_contract(), &dir.path().join("out"), budget).unwrap_err();
    assert!(
        err.starts_with("its shared strings (the text its cells share, read whole as it is opened) unpack to more than 20 KiB, the most read from a workbook of "),
        "{err}"
    );
    let content = std::fs::read(&book).unwrap();
    assert_eq!(limits::check_shared_strings(&content, 1 << 20), Ok(()));
}

/// Regression (session review): text a region merged down the sheet copies into every
/// row it covers was not counted, so one 32,000-character cell merged down a column of
/// a million rows would write 34 GB into the sheet copy within any budget. What a merged
/// region fills in is charged as the file's own cells are: here one cell merged down 60
/// rows of a column with a value in every row, against a budget of 1 MiB.
#[test]
fn regression_text_a_merged_region_fills_in_is_counted_against_the_budget() {
    let long = "D".repeat(32_000);
    let (dir, book) = apc_book(0, |ws| {
        for r in 7..67u32 {
            ws.write_string(r, 1, "x").unwrap();
        }
        ws.merge_range(7, 0, 66, 0, &long, &rust_xlsxwriter::Format::new())
            .unwrap();
    });
    let budget = |_| 1 << 20;
    let err = to_csv_within(&book, &apc_contract(), &dir.path().join("out"), budget).unwrap_err();
    assert!(
        err.starts_with(
            "sheet \"Spells\" unpacks to more than 1 MiB of cell text (reached at cell A"
        ),
        "{err}"
    );
    // Within the default budget of so small a workbook (256 MiB): read.
    to_csv(&book, &apc_contract(), &dir.path().join("out2")).unwrap();
}

/// Regression (review of the workbook drafts): a cell the reader cannot read (a boolean
/// cell holding text, as no Excel writes it) was refused with the reader's message, which
/// quotes the cell's value: a patient's name reached the run's error, its log and
/// `check`. The refusal names the sheet, the kind of fault and the cell before it.
#[test]
fn regression_a_cell_the_reader_cannot_read_is_refused_without_its_value() {
    let (dir, book) = marked();
    let book = edited(&book, "boolean.xlsx", "xl/worksheets/sheet1.xml", |xml| {
        let at = xml.find(r#"<c r="A8" t="s">"#).unwrap();
        let end = at + xml[at..].find("</c>").unwrap() + 4;
        format!(
            r#"{}<c r="A8" t="b"><v>Jane Smith</v></c>{}"#,
            &xml[..at],
            &xml[end..]
        )
    });
    let why = refused(&book, dir.path());
    assert!(!why.contains("Jane"), "{why}");
    assert!(
        why.starts_with(
            "sheet \"Spells\" cannot be read: Unrecognized boolean cell value (after cell "
        ),
        "{why}"
    );
}
