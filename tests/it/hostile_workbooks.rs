//! Workbooks a few kilobytes long that stand for gigabytes (review F1, F2, F4), one
//! defect each, run end to end: the file is refused (exit 3) naming the workbook, the
//! sheet and the cell, without a cell's text, and the sheet's copy (which holds NHS
//! numbers in plain text) is not left behind.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::util::*;

/// An `.xlsx` of the APC fixture's rows on sheet "Spells" with `MARK` in cell A8, its
/// sheet's XML and shared strings then edited by `edit`.
fn hostile(dir: &Path, edit: impl Fn(&str, String) -> String) -> PathBuf {
    let csv = std::fs::read_to_string(root().join("tests/fixtures/bad/apc/valid.csv")).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Spells").unwrap();
    for (r, line) in csv.lines().enumerate() {
        for (c, v) in line.split(',').enumerate() {
            ws.write_string(r as u32, c as u16, v).unwrap();
        }
    }
    ws.write_string(7, 0, "MARK").unwrap();
    let plain = wb.save_to_buffer().unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(plain)).unwrap();
    let book = dir.join("apc.xlsx");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&book).unwrap());
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        let name = entry.name().unwrap().to_string();
        let text = edit(&name, text);
        w.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(text.as_bytes()).unwrap();
    }
    w.finish().unwrap();
    book
}

/// Runs the APC-only pipeline over `book`: the exit code and stderr, after checking that
/// no ingest folder in progress (`.tmp-…`, holding the sheet's copy) is left.
fn run(book: &Path) -> (i32, String) {
    let out = tempfile::tempdir().unwrap();
    let source = format!("apc={}", book.display());
    let (code, _, stderr) = result(&joinedup(&[
        "run",
        "tests/fixtures/apc_only.toml",
        "--source",
        &source,
        "--out",
        out.path().to_str().unwrap(),
    ]));
    let mut left = Vec::new();
    let mut stack = vec![out.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with(".tmp-") || name == "apc.xlsx" {
                left.push(path.clone());
            }
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    assert_eq!(left, Vec::<PathBuf>::new(), "{stderr}");
    (code, stderr)
}

/// Regression (review, F1): one cell at column ZZZZZZ aborted the run (SIGABRT, exit
/// 134, "memory allocation of 10280716992 bytes failed", no manifest).
#[test]
fn regression_a_workbook_cell_beyond_column_xfd_is_refused_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let book = hostile(dir.path(), |name, xml| match name {
        "xl/worksheets/sheet1.xml" => xml.replace(r#"<c r="A8" "#, r#"<c r="ZZZZZZ8" "#),
        _ => xml,
    });
    let (code, stderr) = run(&book);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("apc.xlsx: sheet \"Spells\" has a cell at ZZZZZZ8, beyond Excel's last row (1048576) or column (XFD)"),
        "{stderr}"
    );
}

/// Regression (review, F4): one cell at row 1,000,000,000 wrote a 1 GB copy of blank
/// lines.
#[test]
fn regression_a_workbook_cell_beyond_row_1048576_is_refused_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let book = hostile(dir.path(), |name, xml| match name {
        "xl/worksheets/sheet1.xml" => xml
            .replace(r#"<c r="A8" "#, r#"<c r="A1000000000" "#)
            .replace(r#"<row r="8" "#, r#"<row r="1000000000" "#),
        _ => xml,
    });
    let (code, stderr) = run(&book);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("apc.xlsx: sheet \"Spells\" has a cell at A1000000000, beyond"),
        "{stderr}"
    );
}

/// Regression (review, F2): one 50 MB shared string in 60 cells peaked at 8.5 GB; a cell
/// of more than Excel's 32,767 characters is refused, and its text is not shown.
#[test]
fn regression_a_workbook_cell_longer_than_excel_holds_is_refused_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("9434765919{}", "A".repeat(40_000));
    let book = hostile(dir.path(), |name, xml| match name {
        "xl/sharedStrings.xml" => xml.replace("<t>MARK</t>", &format!("<t>{long}</t>")),
        _ => xml,
    });
    let (code, stderr) = run(&book);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("apc.xlsx: sheet \"Spells\" cell A8 holds more than 32767 characters, Excel's limit for a cell"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("9434765919") && !stderr.contains("AAAA"),
        "{stderr}"
    );
}
