//! Recognising one statistical table on a sheet by rule, never by fixed cell offsets.
//!
//! NHS England's tables share a shape that moves around between months:
//!
//! ```text
//!  title            Table 2: Number of patients who …
//!  period row       │        │ 01/06/2022 (merged)  │ 02/06/2022 …     (dates, "w/c …", "June 2022 - …")
//!  group row        │        │ Pathway 1 …                               (optional)
//!  header row       notes    │ label │ label │ label │ label …
//!  (code row)                │ DIS002_TOTAL …                            (optional, ignored)
//!  England block       ENGLAND (Type 1 Trusts) │ 23709 │ …              (then one row per region)
//!  block header     Region │ ICB Code │ ICB Name
//!  ICB block        EAST OF ENGLAND │ QUE │ NHS CAMBRIDGESHIRE … │ 410 │ …
//!  block header     Region │ Org Code │ Org Name
//!  trust block      …
//! ```
//!
//! The England row anchors everything: its column is the name column, data columns are to
//! its right, the header row is the nearest text row above it, and block headers below it
//! say which level (ICB or trust) the rows under them are. Notes, footnotes and blank rows
//! hold no data in the data columns and are skipped.

use super::labels::label_key;
use super::period::{Period, period_of};
use super::workbook::{Sheet, Value, a1};

/// Where and why recognition stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sheet \"{sheet}\" cell {cell}: {message}")]
pub struct LayoutError {
    /// The sheet.
    pub sheet: String,
    /// The cell (A1) where recognition stopped.
    pub cell: String,
    /// What was expected and what was found.
    pub message: String,
}

impl LayoutError {
    /// An error at a 0-based position of `sheet`.
    pub fn at(sheet: &Sheet, row: u32, col: u32, message: impl Into<String>) -> Self {
        LayoutError {
            sheet: sheet.name.clone(),
            cell: a1(row, col),
            message: message.into(),
        }
    }
}

/// The geography level of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The national row.
    England,
    /// An NHS England region (in the England block).
    Region,
    /// An Integrated Care Board.
    Icb,
    /// A provider: an NHS trust or another provider organisation.
    Trust,
}

impl Level {
    /// The value written to `org_level`.
    pub fn name(self) -> &'static str {
        match self {
            Level::England => "england",
            Level::Region => "region",
            Level::Icb => "icb",
            Level::Trust => "trust",
        }
    }
}

/// A data column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// 0-based column.
    pub col: u32,
    /// The header label as written (trimmed).
    pub label: String,
    /// The period of the block the column sits in, when the table has a period row.
    pub period: Option<Period>,
    /// The column of that block's period header cell.
    pub period_col: Option<u32>,
    /// The group header above the column (e.g. "Pathway 1"), when there is one.
    pub group: Option<String>,
}

/// An organisation row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 0-based row.
    pub row: u32,
    /// Geography level.
    pub level: Level,
    /// Region name, for ICB and trust rows (and a region row's own name).
    pub region: Option<String>,
    /// ODS code of an ICB or trust.
    pub code: Option<String>,
    /// Name as written.
    pub name: String,
}

/// A recognised table.
#[derive(Debug)]
pub struct Table<'s> {
    /// The sheet.
    pub sheet: &'s Sheet,
    /// 0-based row of the column header row.
    pub header_row: u32,
    /// 0-based row of the period row, if any.
    pub period_row: Option<u32>,
    /// 0-based column of organisation names.
    pub name_col: u32,
    /// Data columns, left to right.
    pub columns: Vec<Column>,
    /// Organisation rows, top to bottom.
    pub rows: Vec<Row>,
    /// Rows of an ICB or trust block named as a total, with no code: not organisations,
    /// left out (0-based rows; reported by the caller).
    pub totals_left_out: Vec<u32>,
}

/// How far below a title the England row may be, and how far right.
const SEARCH_ROWS: u32 = 60;
const SEARCH_COLS: u32 = 12;

/// Recognises the table whose title is at `title_row` of `sheet`.
pub fn recognise(sheet: &Sheet, title_row: u32) -> Result<Table<'_>, LayoutError> {
    let (_, last_row) = sheet
        .rows()
        .ok_or_else(|| LayoutError::at(sheet, title_row, 0, "the sheet is empty"))?;
    let first_col = sheet.first_col();
    let (england_row, name_col) = find_england(sheet, title_row, last_row).ok_or_else(|| {
        LayoutError::at(
            sheet,
            title_row,
            first_col,
            format!(
                "no England row: looked for a cell starting \"ENGLAND\" in rows {}–{}, columns {}–{}",
                title_row + 2,
                (title_row + SEARCH_ROWS).min(last_row) + 1,
                col_name(first_col),
                col_name(first_col + SEARCH_COLS - 1)
            ),
        )
    })?;
    let data_from = name_col + 1;

    // The header row: the nearest row above the England row with label text in the data
    // columns (not a period row, not a row of collection codes), in two or more when
    // the England row has two or more values: a row of one text cell over a wider table
    // is a note ("Figures exclude …"), not its column labels (taken as the header, it
    // failed the whole file).
    let england_values = sheet.row_cells(england_row, data_from).count();
    let min_labels = england_values.clamp(1, 2);
    let mut header_row = None;
    let mut r = england_row;
    while r > title_row + 1 {
        r -= 1;
        let cells: Vec<Value<'_>> = sheet.row_cells(r, data_from).map(|(_, v)| v).collect();
        let labels = cells
            .iter()
            .filter(|v| matches!(v, Value::Text(_)) && period_of(v).is_none())
            .count();
        if labels >= min_labels && !is_code_row(&cells) {
            header_row = Some(r);
            break;
        }
    }
    let header_row = header_row.ok_or_else(|| {
        LayoutError::at(
            sheet,
            england_row,
            data_from,
            "no column header row above the England row: expected a row of column labels",
        )
    })?;

    // Above the header: the nearest period row, and the nearest group row below it.
    let mut period_row = None;
    let mut group_row = None;
    let mut r = header_row;
    while r > title_row + 1 && period_row.is_none() {
        r -= 1;
        let cells: Vec<(u32, Value<'_>)> = sheet.row_cells(r, data_from).collect();
        if cells.is_empty() || is_code_row(&cells.iter().map(|c| c.1).collect::<Vec<_>>()) {
            continue;
        }
        if cells.iter().all(|(_, v)| period_of(v).is_some()) {
            period_row = Some(r);
        } else if group_row.is_none() && cells.iter().all(|(_, v)| v.text().is_some()) {
            group_row = Some(r);
        }
    }

    let mut columns = Vec::new();
    let mut period = None;
    let mut period_col = None;
    let mut group = None;
    for c in data_from..=sheet.last_col() {
        if let Some(pr) = period_row {
            let v = sheet.value(pr, c);
            if let Some(p) = period_of(&v) {
                period = Some(p);
                period_col = Some(c);
            }
        }
        if let Some(gr) = group_row
            && let Value::Text(t) = sheet.value(gr, c)
        {
            group = Some(t.to_string());
        }
        match sheet.value(header_row, c) {
            Value::Text(label) => columns.push(Column {
                col: c,
                label: label.to_string(),
                period,
                period_col,
                group: group.clone(),
            }),
            Value::Empty => {}
            other => {
                return Err(LayoutError::at(
                    sheet,
                    header_row,
                    c,
                    format!("expected a column label, found {other:?}"),
                ));
            }
        }
    }

    let (rows, totals_left_out) =
        organisation_rows(sheet, header_row, england_row, name_col, &columns, last_row)?;
    Ok(Table {
        sheet,
        header_row,
        period_row,
        name_col,
        columns,
        rows,
        totals_left_out,
    })
}

fn col_name(c: u32) -> String {
    a1(0, c).trim_end_matches('1').to_string()
}

fn find_england(sheet: &Sheet, title_row: u32, last_row: u32) -> Option<(u32, u32)> {
    let first_col = sheet.first_col();
    for r in title_row + 1..=(title_row + SEARCH_ROWS).min(last_row) {
        for c in first_col..first_col + SEARCH_COLS {
            if let Value::Text(t) = sheet.value(r, c)
                && label_key(t).starts_with("england")
            {
                return Some((r, c));
            }
        }
    }
    None
}

/// A row of collection codes such as `DIS002_TOTAL`, `DIS003b_TOTAL` or
/// `DIS004_P2_CARE HOME`: every text's first word holds `_` and a digit.
fn is_code_row(cells: &[Value<'_>]) -> bool {
    let texts: Vec<&str> = cells.iter().filter_map(Value::text).collect();
    !texts.is_empty()
        && texts.len() == cells.len()
        && texts.iter().all(|t| {
            let word = t.split_whitespace().next().unwrap_or("");
            word.contains('_') && word.chars().any(|c| c.is_ascii_digit())
        })
}

/// The block a run of rows belongs to, as set by the last block header.
struct Block {
    level: Option<Level>,
    region_col: Option<u32>,
    code_col: Option<u32>,
    /// Where the block's names are, when its header says (else the England row's column).
    name_col: Option<u32>,
}

fn organisation_rows(
    sheet: &Sheet,
    header_row: u32,
    england_row: u32,
    name_col: u32,
    columns: &[Column],
    last_row: u32,
) -> Result<(Vec<Row>, Vec<u32>), LayoutError> {
    let mut rows = Vec::new();
    let mut totals = Vec::new();
    let mut block = Block {
        level: None,
        region_col: None,
        code_col: None,
        name_col: None,
    };
    let first_col = sheet.first_col();
    let text_at = |r: u32, c: Option<u32>| -> Option<String> {
        match sheet.value(r, c?) {
            Value::Text(t) => Some(t.to_string()),
            Value::Number(n) => Some(format!("{n}")),
            _ => None,
        }
    };
    for r in header_row + 1..=last_row {
        if r < england_row {
            continue;
        }
        if let Some(b) = block_header(sheet, r, first_col, name_col) {
            block = b;
            continue;
        }
        let has_data = columns.iter().any(|c| !sheet.value(r, c.col).is_empty());
        let name = text_at(r, Some(block.name_col.unwrap_or(name_col)));
        let code = text_at(r, block.code_col);
        // An organisation with every cell blank did not submit: it stays, with nulls
        // (left out, it vanished from the dataset and from the missing-value count).
        // Rows of text alone (footnotes) and spacing rows are not rows of the table.
        let organisation = block.level.is_some() && code.is_some();
        if (!has_data && !organisation) || (name.is_none() && code.is_none()) {
            continue;
        }
        let name = name.unwrap_or_default();
        // A total inside an ICB or trust block ("Total", "ICB total") has no code and is
        // not an organisation: published as one, a sum over the block counted it twice.
        if block.level.is_some()
            && code.is_none()
            && label_key(&name)
                .split_whitespace()
                .any(|w| w == "total" || w == "totals")
        {
            totals.push(r);
            continue;
        }
        let row = match block.level {
            None => {
                if label_key(&name).starts_with("england") {
                    Row {
                        row: r,
                        level: Level::England,
                        region: None,
                        code: None,
                        name,
                    }
                } else {
                    Row {
                        row: r,
                        level: Level::Region,
                        region: Some(name.clone()),
                        code: None,
                        name,
                    }
                }
            }
            Some(level) => Row {
                row: r,
                level,
                region: text_at(r, block.region_col),
                code,
                name,
            },
        };
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(LayoutError::at(
            sheet,
            england_row,
            name_col,
            "no organisation rows with data below the header row",
        ));
    }
    Ok((rows, totals))
}

/// `Region | ICB Code | ICB Name` or `Region | Org Code | Org Name`, the columns found
/// by their labels up to the England row's column (the names), in whatever order: a
/// block with its code and name columns the other way round (`ICB Name | ICB Code`)
/// reads its names and codes from where its header puts them (regression: read by
/// position, every ICB and trust was published as a region named by its code).
fn block_header(sheet: &Sheet, r: u32, first_col: u32, name_col: u32) -> Option<Block> {
    let mut code_col = None;
    let mut block_name_col = None;
    let mut region_col = None;
    let mut level = Level::Trust;
    for c in first_col..=name_col {
        if let Value::Text(t) = sheet.value(r, c) {
            let k = label_key(t);
            if k.ends_with("code") {
                code_col = Some(c);
                if k.contains("icb") {
                    level = Level::Icb;
                }
            } else if k.ends_with("name") {
                block_name_col = Some(c);
            } else if k == "region" || k.ends_with("region") {
                region_col = Some(c);
            }
        }
    }
    block_name_col?;
    code_col?;
    Some(Block {
        level: Some(level),
        region_col,
        code_col,
        name_col: block_name_col,
    })
}

/// A data cell read as a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// A number.
    Value(f64),
    /// `-` (no submission) or an empty cell.
    Missing,
    /// Anything else: an Excel error such as `#DIV/0!`, or text.
    Invalid,
}

/// Reads a data cell.
pub fn num(v: Value<'_>) -> Num {
    match v {
        Value::Number(n) => Num::Value(n),
        Value::Empty => Num::Missing,
        Value::Text(t)
            if t.chars()
                .all(|c| c == '-' || c == '\u{2013}' || c == '\u{2014}') =>
        {
            Num::Missing
        }
        Value::Text(t) => match t.replace(',', "").parse::<f64>() {
            Ok(n) => Num::Value(n),
            Err(_) => Num::Invalid,
        },
        Value::Date(_) | Value::Error => Num::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Range};

    /// A sheet from rows of cells; `"#n"` is a number, `""` empty.
    pub(crate) fn sheet(name: &str, rows: &[&[&str]]) -> Sheet {
        let width = rows.iter().map(|r| r.len()).max().unwrap_or(1) as u32;
        let mut range = Range::new((0, 0), (rows.len() as u32 - 1, width - 1));
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let data = if let Some(n) = v.strip_prefix('#') {
                    Data::Float(n.parse().unwrap())
                } else if v.is_empty() {
                    Data::Empty
                } else {
                    Data::String(v.to_string())
                };
                range.set_value((r as u32, c as u32), data);
            }
        }
        Sheet::new(name, range)
    }

    #[test]
    fn blocks_levels_and_columns_are_found_by_rule() {
        let s = sheet(
            "T",
            &[
                &["", "Table 9: something"],
                &["", "Contents"],
                &["", "", "", "", "w/c 02/10/2023", "", "w/c 09/10/2023", ""],
                &[
                    "",
                    "Notes: 1. blah",
                    "",
                    "",
                    "a 14+",
                    "b 21+",
                    "a 14+",
                    "b 21+",
                ],
                &["", "", "", "ENGLAND", "#10", "#9", "#8", "-"],
                &["", "", "", "LONDON", "#10", "#9", "#8", "#7"],
                &[],
                &["", "Region", "ICB Code", "ICB Name"],
                &["", "LONDON", "QRV", "NW LONDON", "#4", "#3", "#2", "#1"],
                &["", "LONDON", "QMJ", "NC LONDON", "-", "-", "-", "-"],
                &[],
                &["", "Region", "Org Code", "Org Name"],
                &["", "LONDON", "RAL", "ROYAL FREE", "#1", "#1", "#1", "#1"],
                &["", "A footnote in the label column"],
            ],
        );
        let t = recognise(&s, 0).unwrap();
        assert_eq!(t.header_row, 3);
        assert_eq!(t.period_row, Some(2));
        assert_eq!(t.name_col, 3);
        assert_eq!(
            t.columns
                .iter()
                .map(|c| (c.col, c.period.map(|p| p.start().to_string())))
                .collect::<Vec<_>>(),
            vec![
                (4, Some("2023-10-02".to_string())),
                (5, Some("2023-10-02".to_string())),
                (6, Some("2023-10-09".to_string())),
                (7, Some("2023-10-09".to_string())),
            ]
        );
        let levels: Vec<(u32, Level, Option<&str>, &str)> = t
            .rows
            .iter()
            .map(|r| (r.row, r.level, r.code.as_deref(), r.name.as_str()))
            .collect();
        assert_eq!(
            levels,
            vec![
                (4, Level::England, None, "ENGLAND"),
                (5, Level::Region, None, "LONDON"),
                (8, Level::Icb, Some("QRV"), "NW LONDON"),
                (9, Level::Icb, Some("QMJ"), "NC LONDON"),
                (12, Level::Trust, Some("RAL"), "ROYAL FREE"),
            ]
        );
        assert_eq!(t.rows[2].region.as_deref(), Some("LONDON"));
        assert_eq!(num(s.value(4, 7)), Num::Missing);
        assert_eq!(num(s.value(4, 4)), Num::Value(10.0));
    }

    #[test]
    fn regression_a_note_between_the_column_labels_and_the_england_row_is_not_the_header() {
        let s = sheet(
            "T",
            &[
                &["", "", "", "", "w/c 02/10/2023", ""],
                &["", "Notes", "", "", "a 14+", "b 21+"],
                &["", "", "", "", "Figures exclude one trust", ""],
                &["", "", "", "ENGLAND", "#10", "#9"],
            ],
        );
        let t = recognise(&s, 0).unwrap();
        assert_eq!(t.header_row, 1);
        assert_eq!(t.columns.len(), 2);
    }

    #[test]
    fn regression_an_organisation_with_every_cell_blank_stays_a_row() {
        // A trust that submitted nothing (every data cell blank) vanished from the table,
        // and from the count of missing values.
        let s = sheet(
            "T",
            &[
                &["", "", "", "", "w/c 02/10/2023", ""],
                &["", "Notes", "", "", "a 14+", "b 21+"],
                &["", "", "", "ENGLAND", "#10", "#9"],
                &[],
                &["", "Region", "Org Code", "Org Name"],
                &["", "LONDON", "RAL", "ROYAL FREE", "#1", "#1"],
                &["", "LONDON", "RC9", "LUTON", "", ""],
                &["", "A footnote in the label column"],
            ],
        );
        let t = recognise(&s, 0).unwrap();
        let codes: Vec<Option<&str>> = t.rows.iter().map(|r| r.code.as_deref()).collect();
        assert_eq!(codes, [None, Some("RAL"), Some("RC9")]);
    }

    #[test]
    fn a_sheet_without_england_row_names_where_it_looked() {
        let s = sheet(
            "Table 2",
            &[&["", "Table 2: x"], &["", "", "", "SCOTLAND", "#1"]],
        );
        let e = recognise(&s, 0).unwrap_err();
        assert_eq!(e.sheet, "Table 2");
        assert_eq!(e.cell, "A1");
        assert!(
            e.to_string().contains(
                "no England row: looked for a cell starting \"ENGLAND\" in rows 2–2, columns A–L"
            ),
            "{e}"
        );
    }

    #[test]
    fn code_rows_are_not_headers() {
        let s = sheet(
            "T",
            &[
                &["", "Table 2: x"],
                &["", "", "", "", "nctr label", "discharged label"],
                &["", "", "", "", "DIS002_TOTAL", "DIS003b_TOTAL"],
                &["", "", "", "ENGLAND", "#1", "#2"],
            ],
        );
        let t = recognise(&s, 0).unwrap();
        assert_eq!(t.header_row, 1);
        assert_eq!(t.columns[1].label, "discharged label");
    }
}
