//! The Cover Sheet of a sitrep workbook: title, period, published and revised dates.
//!
//! Found by its labels (`Title:`, `Period:`, `Published:`, `Revised:`), on whichever
//! sheet holds them; each value is the first cell to the right of its label. Some
//! months were published without a Cover Sheet: then there is none, and the caller
//! derives the period from the tables.

use chrono::NaiveDate;

use super::labels::label_key;
use super::period::date_in_text;
use super::workbook::{Sheet, Value, serial_date_in};

/// What the Cover Sheet says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover {
    /// The sheet it is on.
    pub sheet: String,
    /// The publication's title (`Acute Daily Discharge Situation Report`).
    pub title: Option<String>,
    /// First and last day of the period covered.
    pub period: Option<(NaiveDate, NaiveDate)>,
    /// Cell reference of the period (for messages).
    pub period_cell: Option<String>,
    /// Date first published.
    pub published: Option<NaiveDate>,
    /// Date revised (`-` when never revised).
    pub revised: Option<NaiveDate>,
}

const SEARCH_ROWS: u32 = 30;
const SEARCH_COLS: u32 = 8;

/// Finds the Cover Sheet among `sheets`: the first sheet with both a `Period:` and a
/// `Published:` label near its top left.
pub fn find(sheets: &[Sheet]) -> Option<Cover> {
    sheets.iter().find_map(read)
}

fn read(sheet: &Sheet) -> Option<Cover> {
    let (first_row, last_row) = sheet.rows()?;
    let first_col = sheet.first_col();
    let mut cover = Cover {
        sheet: sheet.name.clone(),
        title: None,
        period: None,
        period_cell: None,
        published: None,
        revised: None,
    };
    let mut has_period = false;
    let mut has_published = false;
    for r in first_row..=last_row.min(first_row + SEARCH_ROWS) {
        for c in first_col..first_col + SEARCH_COLS {
            let Value::Text(t) = sheet.value(r, c) else {
                continue;
            };
            let values: Vec<(u32, Value<'_>)> = sheet
                .row_cells(r, c + 1)
                .take_while(|(col, _)| *col < c + 1 + SEARCH_COLS)
                .collect();
            // The first label wins: a value such as "Published" (the status) is not a label.
            match label_key(t).as_str() {
                "title" if cover.title.is_none() => {
                    cover.title = values.iter().find_map(|(_, v)| v.text().map(String::from));
                }
                "period" if !has_period => {
                    has_period = true;
                    let dates: Vec<NaiveDate> = values
                        .iter()
                        .filter_map(|(_, v)| date(v, sheet.date1904))
                        .collect();
                    if let (Some(first), Some(last)) = (dates.first(), dates.last()) {
                        cover.period = Some((*first, *last));
                        cover.period_cell = Some(sheet.cell_ref(r, values[0].0));
                    }
                }
                "published" if !has_published => {
                    has_published = true;
                    cover.published = values.iter().find_map(|(_, v)| date(v, sheet.date1904));
                }
                "revised" if cover.revised.is_none() => {
                    cover.revised = values.iter().find_map(|(_, v)| date(v, sheet.date1904));
                }
                _ => {}
            }
        }
    }
    (has_period && has_published).then_some(cover)
}

/// A cover value as a date: a date cell, a serial number in a date-formatted cell that
/// was not recognised as one (a serial day of the workbook's date system: 1904 when
/// `date1904`), or text holding a date.
fn date(v: &Value<'_>, date1904: bool) -> Option<NaiveDate> {
    match v {
        Value::Date(d) => Some(*d),
        Value::Number(n) => serial_date_in(*n, date1904),
        Value::Text(t) => date_in_text(t),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, ExcelDateTime, ExcelDateTimeType, Range};

    fn excel_date(serial: f64) -> Data {
        Data::DateTime(ExcelDateTime::new(
            serial,
            ExcelDateTimeType::DateTime,
            false,
        ))
    }

    #[test]
    fn reads_period_and_dates_next_to_their_labels() {
        let mut r = Range::new((0, 0), (9, 5));
        // Rows 2–9 as on NHS England's Cover Sheet; "Published" is also the status value.
        r.set_value((1, 1), Data::String("Title:".into()));
        r.set_value(
            (1, 2),
            Data::String("Acute Daily Discharge Situation Report ".into()),
        );
        r.set_value((3, 1), Data::String("Period:".into()));
        r.set_value((3, 2), excel_date(45078.0)); // 2023-06-01
        r.set_value((3, 3), Data::String("-".into()));
        r.set_value((3, 4), excel_date(45107.0)); // 2023-06-30
        r.set_value((6, 1), Data::String("Published:".into()));
        r.set_value((6, 2), Data::Float(45120.0)); // 2023-07-13, format not recognised
        r.set_value((7, 1), Data::String("Revised:".into()));
        r.set_value((7, 2), Data::String("-".into()));
        r.set_value((8, 1), Data::String("Status:".into()));
        r.set_value((8, 2), Data::String("Published".into()));
        let c = find(&[Sheet::new("Cover Sheet", r)]).unwrap();
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(
            c.title.as_deref(),
            Some("Acute Daily Discharge Situation Report")
        );
        assert_eq!(c.period, Some((d(2023, 6, 1), d(2023, 6, 30))));
        assert_eq!(c.period_cell.as_deref(), Some("'Cover Sheet'!C4"));
        assert_eq!(c.published, Some(d(2023, 7, 13)));
        assert_eq!(c.revised, None);
    }

    /// Regression (known limit of session 19): a cover date held as a plain number was
    /// read in the 1900 date system whatever the workbook's, four years and a day early
    /// in a workbook saved in the 1904 system. The same serial is 2023-07-13 in one and
    /// 2027-07-14 in the other.
    #[test]
    fn regression_a_cover_serial_date_is_read_in_its_workbooks_date_system() {
        let cover = |date1904: bool| {
            let mut r = Range::new((0, 0), (2, 2));
            r.set_value((0, 1), Data::String("Period:".into()));
            r.set_value((0, 2), Data::String("June 2023".into()));
            r.set_value((1, 1), Data::String("Published:".into()));
            r.set_value((1, 2), Data::Float(45120.0));
            find(&[Sheet::new("Cover", r).in_date_system(date1904)])
                .unwrap()
                .published
        };
        assert_eq!(cover(false), NaiveDate::from_ymd_opt(2023, 7, 13));
        assert_eq!(cover(true), NaiveDate::from_ymd_opt(2027, 7, 14));
    }

    #[test]
    fn a_workbook_without_cover_labels_has_no_cover() {
        let mut r = Range::new((0, 0), (1, 1));
        r.set_value((0, 0), Data::String("Table 2: x".into()));
        assert_eq!(find(&[Sheet::new("Table 2", r)]), None);
    }
}
