//! A workbook cell as the text a person reading the sheet would type, for the CSV copy
//! [`super::workbook_sheet`] writes: a whole number without a decimal point
//! (`9434765919`, not `9434765919.0`), a date or time in a format its contract column
//! declares, ISO 8601 in a column that is not a date, an error cell's text (`#N/A`), a
//! line break typed in a cell as a space.
//!
//! A duration of a day or more (`[h]:mm`) is written as Excel shows it (`26:30:00`).
//!
//! A date-time is written in the first of its column's formats that holds it exactly
//! (`%Y-%m-%d %H:%M:%S` for 10:00:10 when the column declares `%Y-%m-%d %H:%M` first):
//! writing it in a format without seconds would cut them off and change a four-hour
//! wait. When no declared format holds it, it is written in full in ISO 8601, which the
//! column does not read, so its row is quarantined (`invalid_date`) instead of read with
//! the time cut short ([`CellText::Unheld`]).

use calamine::Data;
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use crate::ingest::dates::DateFormat;
use crate::schema::ColumnType;

/// A cell's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellText {
    /// As typed.
    Typed(String),
    /// A date or time no format of its column holds exactly, written in full.
    Unheld(String),
}

impl CellText {
    /// The text, however written.
    pub fn text(self) -> String {
        match self {
            CellText::Typed(t) | CellText::Unheld(t) => t,
        }
    }
}

/// Whether a cell reads as empty: no value, or text of whitespace only (a formula's `""`
/// result, a space left in a cell), which a person sees as an empty cell.
pub fn is_blank(cell: &Data) -> bool {
    match cell {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// A cell as text, for a column read as `kind`, in a workbook using the 1904 date system
/// when `date1904` (a date cell carries its workbook's system; a plain number in a date
/// column is a serial day number of that system).
pub fn cell_text(cell: &Data, kind: Option<&ColumnType>, date1904: bool) -> CellText {
    let typed = CellText::Typed;
    match cell {
        Data::Empty => typed(String::new()),
        Data::String(s) => typed(s.clone()),
        // Dates an `.ods` file (or an `.xlsx` saved with ISO dates) holds as text.
        Data::DateTimeIso(s) => {
            iso_datetime(s).map_or_else(|| typed(s.clone()), |at| datetime_text(at, kind))
        }
        Data::DurationIso(s) => match iso_time(s) {
            Some(at) => datetime_text(at, kind),
            None => typed(iso_seconds(s).map_or_else(|| s.clone(), duration_text)),
        },
        Data::Int(i) => typed(i.to_string()),
        Data::Float(f) => match (kind, super::nhse::workbook::serial_date_in(*f, date1904)) {
            (Some(ColumnType::Date(_)), Some(day)) if f.fract() == 0.0 => {
                datetime_text(day.and_time(NaiveTime::MIN), kind)
            }
            _ => typed(number_text(*f)),
        },
        Data::Bool(b) => typed(if *b { "TRUE" } else { "FALSE" }.to_string()),
        Data::Error(e) => typed(e.to_string()),
        // A duration of a day or more (`[h]:mm`, hours of care) as Excel shows it: it is
        // no time of day, and no date either.
        Data::DateTime(dt) if dt.is_duration() && dt.as_f64() >= 1.0 => {
            typed(duration_text(dt.as_f64() * 86_400.0))
        }
        Data::DateTime(dt) => {
            let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
            NaiveDate::from_ymd_opt(i32::from(y), u32::from(mo), u32::from(d))
                .and_then(|day| day.and_hms_opt(u32::from(h), u32::from(mi), u32::from(s)))
                .map_or_else(
                    || typed(number_text(dt.as_f64())),
                    |at| datetime_text(at, kind),
                )
        }
    }
}

/// A date and time in the first format of its column that holds it exactly (a date
/// column holds the day, a time column the time of day, a date-time column both, to the
/// second), else in full ([`CellText::Unheld`]); in a column that is not a date, ISO
/// 8601 (the date alone at midnight).
fn datetime_text(at: NaiveDateTime, kind: Option<&ColumnType>) -> CellText {
    let (formats, full) = match kind {
        Some(ColumnType::Date(f)) if !f.is_empty() => (f, "%Y-%m-%d"),
        Some(ColumnType::DateTime(f)) if !f.is_empty() => (f, "%Y-%m-%d %H:%M:%S"),
        Some(ColumnType::Time(f)) if !f.is_empty() => (f, "%H:%M:%S"),
        _ if at.time() == NaiveTime::MIN => {
            return CellText::Typed(at.format("%Y-%m-%d").to_string());
        }
        _ => return CellText::Typed(at.format("%Y-%m-%d %H:%M:%S").to_string()),
    };
    let (date, time) = (
        !matches!(kind, Some(ColumnType::Time(_))),
        !matches!(kind, Some(ColumnType::Date(_))),
    );
    formats
        .iter()
        .find_map(|f| {
            let text = at.format(f.as_str()).to_string();
            holds(f, &text, at, date, time).then_some(text)
        })
        .map_or_else(
            || CellText::Unheld(at.format(full).to_string()),
            CellText::Typed,
        )
}

/// Whether `text` (`at` written in `format`) reads back as `at`: its date when `date`,
/// its time of day to the second when `time`.
fn holds(format: &DateFormat, text: &str, at: NaiveDateTime, date: bool, time: bool) -> bool {
    let Some(p) = format.parse(text) else {
        return false;
    };
    (!date || (p.year, p.month, p.day) == (at.year(), at.month(), at.day()))
        && (!time || (p.hour, p.minute, p.second) == (at.hour(), at.minute(), at.second()))
}

/// An ISO 8601 date or date and time (`2026-07-01`, `2026-07-15T00:00:00`), to the
/// nearest second: a spreadsheet holds a time as a fraction of a day, and writes
/// 13:37 as `13:36:59.999999999`, which it shows, and a person reads, as 13:37.
fn iso_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .and_then(|at| {
            let rounded = at.checked_add_signed(chrono::TimeDelta::milliseconds(500))?;
            rounded.with_nanosecond(0)
        })
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .map(|d| d.and_time(NaiveTime::MIN))
        })
}

/// An ISO 8601 duration within a day as a time of day (`PT01H06M00S` is 01:06), on
/// Excel's day 0, to the nearest second, as [`iso_datetime`]; a duration of a day or
/// more is not a time of day.
fn iso_time(s: &str) -> Option<NaiveDateTime> {
    let seconds = iso_seconds(s)?.round();
    let time = NaiveTime::from_num_seconds_from_midnight_opt(seconds as u32, 0)
        .filter(|_| seconds < 86_400.0)?;
    Some(NaiveDate::from_ymd_opt(1899, 12, 30)?.and_time(time))
}

/// An ISO 8601 duration of hours, minutes and seconds (`PT26H30M00S`) in seconds.
fn iso_seconds(s: &str) -> Option<f64> {
    let rest = s.trim().strip_prefix("PT")?;
    let (mut h, mut m, mut sec, mut number) = (0f64, 0f64, 0f64, String::new());
    for ch in rest.chars() {
        match ch {
            'H' => h = std::mem::take(&mut number).parse().ok()?,
            'M' => m = std::mem::take(&mut number).parse().ok()?,
            'S' => sec = std::mem::take(&mut number).parse().ok()?,
            c if c.is_ascii_digit() || c == '.' => number.push(c),
            _ => return None,
        }
    }
    Some(h * 3600.0 + m * 60.0 + sec)
}

/// A duration as Excel's `[h]:mm:ss` shows it (`26:30:00`), to the nearest second.
fn duration_text(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// A number as typed: whole numbers without a decimal point.
fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.0}")
    } else {
        f.to_string()
    }
}

/// A cell's text on one line: a line break typed in a cell (Alt+Enter) is a space, as
/// the row is one record.
pub fn one_line(text: String) -> String {
    if text.contains(['\n', '\r']) {
        text.replace("\r\n", " ").replace(['\n', '\r'], " ")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(cell: &Data, kind: Option<&ColumnType>) -> String {
        match cell_text(cell, kind, false) {
            CellText::Typed(t) => t,
            CellText::Unheld(t) => panic!("unheld: {t}"),
        }
    }

    /// Regression (review of the workbook drafts): an `.ods` time or date-time a hair
    /// under a minute (`13:36:59.999999999`, as spreadsheets store 13:37) was cut to
    /// 13:36:59, so `%H:%M` quarantined it: it is read to the nearest second. A duration
    /// of a day or more, or of absurd hours, is no time of day.
    #[test]
    fn regression_ods_times_are_read_to_the_nearest_second() {
        let time = Data::DurationIso("PT13H36M59.999999999S".into());
        let t = Some(ColumnType::Time(formats(&["%H:%M"])));
        assert_eq!(text(&time, t.as_ref()), "13:37");
        let at = Data::DateTimeIso("2026-10-01T13:36:59.999999999".into());
        let dt = Some(ColumnType::DateTime(formats(&["%d/%m/%Y %H:%M"])));
        assert_eq!(text(&at, dt.as_ref()), "01/10/2026 13:37");
        let late = Data::DateTimeIso("2026-10-01T23:59:59.7".into());
        assert_eq!(text(&late, None), "2026-10-02");
        for (long, shown) in [
            ("PT24H00M00S", "24:00:00"),
            ("PT26H29M59.9S", "26:30:00"),
            ("PT4294967295H00M00S", "4294967295:00:00"),
        ] {
            let d = Data::DurationIso(long.into());
            assert_eq!(text(&d, t.as_ref()), shown);
        }
    }

    /// Regression (review of the workbook drafts): a duration of a day or more typed in
    /// Excel (`[h]:mm`, 26 hours 30 minutes of care) was written as a date-time of 1900
    /// (`1900-01-01 02:30:00`): it is written as Excel shows it, `26:30:00`, in any
    /// column; a shorter one is still a time of day.
    #[test]
    fn regression_a_duration_of_a_day_or_more_is_written_as_excel_shows_it() {
        let duration = |days: f64| {
            Data::DateTime(calamine::ExcelDateTime::new(
                days,
                calamine::ExcelDateTimeType::TimeDelta,
                false,
            ))
        };
        let long = duration(1.0 + 2.5 / 24.0);
        assert_eq!(text(&long, None), "26:30:00");
        let t = Some(ColumnType::Time(formats(&["%H:%M"])));
        assert_eq!(text(&long, t.as_ref()), "26:30:00");
        assert_eq!(text(&duration(0.5), t.as_ref()), "12:00");
    }

    fn formats(f: &[&str]) -> Vec<DateFormat> {
        f.iter().map(|f| DateFormat::compile(f).unwrap()).collect()
    }

    fn excel(serial: f64) -> Data {
        Data::DateTime(calamine::ExcelDateTime::new(
            serial,
            calamine::ExcelDateTimeType::DateTime,
            false,
        ))
    }

    #[test]
    fn cells_become_the_text_a_person_would_type() {
        assert_eq!(text(&Data::Float(9434765919.0), None), "9434765919");
        assert_eq!(text(&Data::Float(2.5), None), "2.5");
        assert_eq!(text(&Data::Int(-3), None), "-3");
        assert_eq!(text(&Data::Bool(true), None), "TRUE");
        assert_eq!(
            text(&Data::Error(calamine::CellErrorType::NA), None),
            "#N/A"
        );
        assert_eq!(text(&Data::String(" RXX ".into()), None), " RXX ");
        assert_eq!(text(&Data::Empty, None), "");
    }

    #[test]
    fn dates_take_their_column_s_first_format_or_iso() {
        let date = ColumnType::Date(formats(&["%d/%m/%Y"]));
        // 46235 is 2026-08-01; .5 is noon.
        assert_eq!(text(&excel(46235.0), Some(&date)), "01/08/2026");
        assert_eq!(text(&excel(46235.0), None), "2026-08-01");
        assert_eq!(text(&excel(46235.5), None), "2026-08-01 12:00:00");
        // A date kept as a plain day number in a date column.
        assert_eq!(text(&Data::Float(46235.0), Some(&date)), "01/08/2026");
        // Regression (review): dates an `.ods` holds as ISO text, and times as
        // durations, were passed on as written and every row quarantined.
        let time = ColumnType::Time(formats(&["%H:%M:%S"]));
        let iso = |s: &str| Data::DateTimeIso(s.into());
        assert_eq!(text(&iso("2026-07-01"), Some(&date)), "01/07/2026");
        assert_eq!(text(&iso("2026-07-15T00:00:00"), Some(&date)), "15/07/2026");
        assert_eq!(
            text(&iso("2026-07-15T10:30:00"), None),
            "2026-07-15 10:30:00"
        );
        assert_eq!(
            text(&Data::DurationIso("PT01H06M00S".into()), Some(&time)),
            "01:06:00"
        );
        assert_eq!(text(&iso("not a date"), Some(&date)), "not a date");
    }

    /// Regression (review): a date-time was always written in its column's first format
    /// (ECDS's `%Y-%m-%d %H:%M`), so an arrival at 10:00:10 became 10:00 and a wait of
    /// 4 h 0 min 40 s read as 4 h 0 min, no breach. The first format holding the value
    /// exactly is used; a value no declared format holds is written in full (its row is
    /// then quarantined), never cut short.
    #[test]
    fn regression_workbook_date_times_keep_their_seconds() {
        let ecds = ColumnType::DateTime(formats(&["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]));
        // 2026-07-01 10:00:10 and 10:00:00.
        let ten_past = excel(46204.0 + (10.0 * 3600.0 + 10.0) / 86400.0);
        let on_the_hour = excel(46204.0 + 10.0 / 24.0);
        assert_eq!(
            cell_text(&ten_past, Some(&ecds), false),
            CellText::Typed("2026-07-01 10:00:10".into())
        );
        assert_eq!(
            cell_text(&on_the_hour, Some(&ecds), false),
            CellText::Typed("2026-07-01 10:00".into())
        );
        let minutes_only = ColumnType::DateTime(formats(&["%d/%m/%Y %H:%M"]));
        assert_eq!(
            cell_text(&ten_past, Some(&minutes_only), false),
            CellText::Unheld("2026-07-01 10:00:10".into())
        );
        let time = ColumnType::Time(formats(&["%H:%M"]));
        assert_eq!(
            cell_text(&Data::DurationIso("PT01H06M30S".into()), Some(&time), false),
            CellText::Unheld("01:06:30".into())
        );
        // A date column holds the day: a time of day in it is not a value lost.
        let date = ColumnType::Date(formats(&["%d/%m/%Y"]));
        assert_eq!(
            cell_text(&ten_past, Some(&date), false),
            CellText::Typed("01/07/2026".into())
        );
    }

    /// Regression (review): a formula's `""` result and a space left in a cell made a
    /// row that looks empty a data row, quarantined.
    #[test]
    fn regression_empty_text_and_spaces_are_blank_cells() {
        assert!(is_blank(&Data::Empty));
        assert!(is_blank(&Data::String(String::new())));
        assert!(is_blank(&Data::String(" \t".into())));
        assert!(!is_blank(&Data::String(" x".into())));
        assert!(!is_blank(&Data::Float(0.0)));
    }

    /// Regression (review): a line break typed in a cell (Alt+Enter) split the row in
    /// two in the CSV, quarantining both halves and shifting every later line number.
    #[test]
    fn a_line_break_in_a_cell_is_a_space() {
        assert_eq!(one_line("RX1\nRX1".into()), "RX1 RX1");
        assert_eq!(
            one_line("Start Date\r\n(Spell)".into()),
            "Start Date (Spell)"
        );
        assert_eq!(one_line("plain".into()), "plain");
    }
}
