//! One discharge sitrep workbook → rows of the four sitrep datasets.
//!
//! Tables are found by a phrase of their title (not by sheet name or position), then
//! read with [`layout::recognise`]. The setting (acute or community) comes from the Cover
//! Sheet title, else from the England row or column labels; the period from the Cover
//! Sheet, else from the tables' own period headers. Each table is then read by
//! `tables`:
//!
//! - Table 2, daily: one block per day (3 columns, or 4 in the spring 2022 layout where
//!   discharges are split at 17:00 and summed here);
//! - Table 3, bed days: one block per week commencing, one column per length-of-stay
//!   threshold;
//! - Table 4, destinations: one column per destination, its pathway from the label;
//! - Table 5, delay reasons: one column per reason, its code from the label.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;

use super::FileError;
use super::checks::{self, Quality};
use super::cover::{self, Cover};
use super::labels::{Labels, Setting, TableKind, label_key};
use super::layout::{self, LayoutError, Level, Table};
use super::period::{Period, month_end, month_start};
use super::tables;
use super::workbook::{Sheet, read_workbook};

/// An organisation as a row of a table names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Org {
    /// Geography level.
    pub level: Level,
    /// ODS code (ICB or trust); `None` for England and regions.
    pub code: Option<String>,
    /// Name as written.
    pub name: String,
    /// The ICB's code for ICB rows (the publication does not give a trust's ICB).
    pub icb_code: Option<String>,
    /// NHS England region.
    pub region: Option<String>,
}

/// `sitrep_daily`.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyRow {
    /// The day.
    pub date: NaiveDate,
    /// Who.
    pub org: Org,
    /// Patients who no longer meet the criteria to reside.
    pub nctr: Option<i64>,
    /// Patients discharged.
    pub discharged: Option<i64>,
    /// Patients remaining who no longer meet the criteria to reside.
    pub remaining_nctr: Option<i64>,
}

/// `sitrep_bed_days`.
#[derive(Debug, Clone, PartialEq)]
pub struct BedDaysRow {
    /// Week commencing.
    pub week_commencing: NaiveDate,
    /// Who.
    pub org: Org,
    /// Length of stay threshold in days (7, 14, 21).
    pub los_threshold: i64,
    /// Additional bed days.
    pub additional_bed_days: Option<i64>,
}

/// `sitrep_destinations`.
#[derive(Debug, Clone, PartialEq)]
pub struct DestinationRow {
    /// First day of the month.
    pub month: NaiveDate,
    /// Who.
    pub org: Org,
    /// `P0` … `P3b`, or `None` for an unknown label.
    pub pathway: Option<String>,
    /// The destination label as written.
    pub destination_label: String,
    /// Patients discharged.
    pub discharges: Option<i64>,
}

/// `sitrep_delay_reasons`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReasonRow {
    /// First day of the period averaged over.
    pub period_start: NaiveDate,
    /// Who.
    pub org: Org,
    /// Stable reason code, or `None` for an unknown label.
    pub reason_code: Option<String>,
    /// The reason as written.
    pub reason_label: String,
    /// Average patients per day.
    pub avg_patients: Option<f64>,
}

/// Everything read from one workbook.
#[derive(Debug, Clone)]
pub struct SitrepWorkbook {
    /// Acute or community.
    pub setting: Setting,
    /// First day of the month the workbook reports (the key for revisions).
    pub report_month: NaiveDate,
    /// The stated period, first and last day.
    pub period: (NaiveDate, NaiveDate),
    /// Published date, from the Cover Sheet.
    pub published_on: Option<NaiveDate>,
    /// Revised date, from the Cover Sheet.
    pub revised_on: Option<NaiveDate>,
    /// Table 2.
    pub daily: Vec<DailyRow>,
    /// Table 3.
    pub bed_days: Vec<BedDaysRow>,
    /// Table 4.
    pub destinations: Vec<DestinationRow>,
    /// Table 5.
    pub reasons: Vec<ReasonRow>,
    /// Data-quality results.
    pub quality: Vec<crate::publish::manifest::DataQualityResult>,
}

/// Reads one workbook. `name` is how the file is named in results.
pub fn load(path: &Path, name: &str, labels: &Labels) -> Result<SitrepWorkbook, FileError> {
    let sheets = read_workbook(path).map_err(|e| FileError::Unreadable(e.to_string()))?;
    read(&sheets, name, labels)
}

/// Refuses a workbook whose Cover Sheet or tables have formula cells without a saved
/// result: their values are not in the file (a workbook written by a program, not saved
/// by Excel), and read as blanks they would publish a month of nulls — replacing a month
/// loaded before. Sheets nothing is read from (a Contents sheet of links) do not count.
fn refuse_uncalculated<'s>(used: impl Iterator<Item = &'s Sheet>) -> Result<(), LayoutError> {
    let mut seen = std::collections::BTreeSet::new();
    for sheet in used {
        if !seen.insert(sheet.name.as_str()) {
            continue;
        }
        if let Some((n, (row, col))) = sheet.uncalculated {
            return Err(LayoutError::at(
                sheet,
                row,
                col,
                format!(
                    "{n} formula cell(s) of this sheet have no saved result (the workbook was written by a program, not saved by Excel), so their values are not in the file: open it in Excel and save it, or use NHS England's published file"
                ),
            ));
        }
    }
    Ok(())
}

/// Reads a workbook's sheets.
pub fn read(sheets: &[Sheet], name: &str, labels: &Labels) -> Result<SitrepWorkbook, FileError> {
    let mut q = Quality::new(name);
    let cover = cover::find(sheets);
    let tables = find_tables(sheets, labels, &mut q)?;
    let cover_sheet = cover
        .as_ref()
        .and_then(|c| sheets.iter().find(|s| s.name == c.sheet));
    refuse_uncalculated(
        cover_sheet
            .into_iter()
            .chain(tables.values().map(|t| t.sheet)),
    )?;
    let daily = tables.get(&TableKind::Daily).ok_or_else(|| {
        LayoutError {
            sheet: sheets.first().map(|s| s.name.clone()).unwrap_or_default(),
            cell: "A1".to_string(),
            message: format!(
                "no sheet has a title naming the daily table (Table 2); looked in the first rows of {} for a phrase listed under [tables] daily in {}",
                sheets.iter().map(|s| format!("\"{}\"", s.name)).collect::<Vec<_>>().join(", "),
                labels.file.display()
            ),
        }
    })?;

    let setting = setting(cover.as_ref(), &tables, labels).ok_or_else(|| {
        let (row, col) = daily
            .rows
            .first()
            .map(|r| (r.row, daily.name_col))
            .unwrap_or((0, 0));
        LayoutError::at(
            daily.sheet,
            row,
            col,
            format!(
                "cannot tell the acute from the community collection: {}and no England row or column label contains a phrase listed under [setting] in {}",
                match &cover {
                    Some(c) => format!("the Cover Sheet title is \"{}\", ", c.title.as_deref().unwrap_or("")),
                    None => "there is no Cover Sheet, ".to_string(),
                },
                labels.file.display()
            ),
        )
    })?;

    let period = match cover.as_ref().and_then(|c| c.period) {
        Some(p) => p,
        None => {
            let p = derived_period(&tables).ok_or_else(|| {
                LayoutError::at(
                    daily.sheet,
                    daily.header_row,
                    daily.name_col + 1,
                    "no Cover Sheet period and no dated column headers to take the period from",
                )
            })?;
            q.push(
                "no_cover_sheet",
                None,
                format!(
                    "{}: period {} to {} taken from the tables' own headers; published and revised dates unknown",
                    if cover.is_some() {
                        "the Cover Sheet has no period"
                    } else {
                        "no Cover Sheet"
                    },
                    p.0,
                    p.1
                ),
                1,
            );
            p
        }
    };
    let mut wb = SitrepWorkbook {
        setting,
        report_month: month_start(period.0),
        period,
        published_on: cover.as_ref().and_then(|c| c.published),
        revised_on: cover.as_ref().and_then(|c| c.revised),
        daily: Vec::new(),
        bed_days: Vec::new(),
        destinations: Vec::new(),
        reasons: Vec::new(),
        quality: Vec::new(),
    };
    for (kind, table) in &tables {
        let values = tables::read_values(&mut q, table, *kind != TableKind::DelayReasons);
        checks::code_formats(&mut q, table);
        for &r in &table.totals_left_out {
            q.push(
                "totals_row",
                Some(&table.sheet.name),
                format!(
                    "{} is a totals row inside an organisation block, not an organisation: left out",
                    table.sheet.cell_ref(r, table.name_col)
                ),
                1,
            );
        }
        let tolerance = if *kind == TableKind::DelayReasons {
            0.01
        } else {
            0.0
        };
        checks::sums(&mut q, table, &values, tolerance);
        match kind {
            TableKind::Daily => tables::daily_rows(&mut wb, &mut q, table, &values, labels)?,
            TableKind::BedDays => tables::bed_days_rows(&mut wb, &mut q, table, &values, labels)?,
            TableKind::Destinations => {
                tables::destination_rows(&mut wb, &mut q, table, &values, labels)
            }
            TableKind::DelayReasons => {
                tables::reason_rows(&mut wb, &mut q, table, &values, labels)?
            }
        }
    }
    for kind in TableKind::ALL {
        if !tables.contains_key(&kind) {
            q.push(
                "table_not_found",
                None,
                format!(
                    "{} was not found: no sheet title contains a phrase listed for it in {}",
                    kind.describe(),
                    labels.file.display()
                ),
                1,
            );
        }
    }
    wb.quality = q.results;
    Ok(wb)
}

/// Finds each table by its title. A title starting "Table" is preferred over other
/// mentions of the same phrase (a contents page); a table whose title was found but whose
/// layout is not understood fails the file.
fn find_tables<'s>(
    sheets: &'s [Sheet],
    labels: &Labels,
    q: &mut Quality,
) -> Result<BTreeMap<TableKind, Table<'s>>, LayoutError> {
    const TITLE_ROWS: u32 = 10;
    const TITLE_COLS: u32 = 10;
    let mut candidates: BTreeMap<TableKind, Vec<(bool, &Sheet, u32)>> = BTreeMap::new();
    for sheet in sheets {
        let Some((first, last)) = sheet.rows() else {
            continue;
        };
        let mut found_on_sheet = Vec::new();
        for r in first..=last.min(first + TITLE_ROWS) {
            for c in sheet.first_col()..sheet.first_col() + TITLE_COLS {
                if let Some(t) = sheet.value(r, c).text()
                    && let Some(kind) = labels.table_in(t)
                    && !found_on_sheet.contains(&kind)
                {
                    found_on_sheet.push(kind);
                    let titled = label_key(t).starts_with("table");
                    candidates.entry(kind).or_default().push((titled, sheet, r));
                }
            }
        }
    }
    let mut tables = BTreeMap::new();
    for (kind, mut list) in candidates {
        list.sort_by_key(|(titled, ..)| !*titled);
        let mut first_error = None;
        for (titled, sheet, row) in &list {
            match layout::recognise(sheet, *row) {
                Ok(t) => {
                    tables.insert(kind, t);
                    break;
                }
                Err(e) => {
                    if *titled && first_error.is_none() {
                        first_error = Some(e);
                    }
                }
            }
        }
        if !tables.contains_key(&kind)
            && let Some(e) = first_error
        {
            return Err(e);
        }
        let titled: Vec<&str> = list
            .iter()
            .filter(|(t, ..)| *t)
            .map(|(_, s, _)| s.name.as_str())
            .collect();
        if titled.len() > 1 {
            q.push(
                "duplicate_table",
                None,
                format!(
                    "{} has titles on sheets {}; the first that could be read was used",
                    kind.describe(),
                    titled.join(", ")
                ),
                titled.len() as u64,
            );
        }
    }
    Ok(tables)
}

fn setting(
    cover: Option<&Cover>,
    tables: &BTreeMap<TableKind, Table<'_>>,
    labels: &Labels,
) -> Option<Setting> {
    if let Some(s) = cover
        .and_then(|c| c.title.as_deref())
        .and_then(|t| labels.setting_in(t))
    {
        return Some(s);
    }
    let england = tables
        .values()
        .flat_map(|t| t.rows.iter().filter(|r| r.level == Level::England))
        .find_map(|r| labels.setting_in(&r.name));
    england.or_else(|| {
        tables
            .values()
            .flat_map(|t| t.columns.iter())
            .find_map(|c| labels.setting_in(&c.label))
    })
}

/// Without a Cover Sheet: the month of a month header, else the span of the day headers.
fn derived_period(tables: &BTreeMap<TableKind, Table<'_>>) -> Option<(NaiveDate, NaiveDate)> {
    let periods = || {
        tables
            .values()
            .flat_map(|t| t.columns.iter().filter_map(|c| c.period))
    };
    if let Some(m) = periods().find_map(|p| match p {
        Period::Month(m) => Some(m),
        Period::Day(_) => None,
    }) {
        return Some((m, month_end(m)));
    }
    let days: Vec<NaiveDate> = tables
        .get(&TableKind::Daily)?
        .columns
        .iter()
        .filter_map(|c| c.period.map(Period::start))
        .collect();
    let first = *days.iter().min()?;
    Some((month_start(first), month_end(first)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigErrors;
    use calamine::{Data, Range};

    fn labels() -> Labels {
        let file =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/mappings/nhse_labels.toml");
        let mut errors = ConfigErrors::default();
        super::super::labels::load(&file, &mut errors).expect("labels")
    }

    fn sheet(name: &str, rows: &[&[&str]]) -> Sheet {
        let mut range = Range::new((0, 0), (rows.len() as u32 - 1, 6));
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if let Some(n) = v.strip_prefix('#') {
                    range.set_value((r as u32, c as u32), Data::Float(n.parse().unwrap()));
                } else if !v.is_empty() {
                    range.set_value((r as u32, c as u32), Data::String(v.to_string()));
                }
            }
        }
        Sheet::new(name, range)
    }

    fn daily(england: &str) -> Sheet {
        sheet(
            "T2",
            &[
                &[
                    "",
                    "Table 2: Number of patients who no longer meet criteria to reside and number of patients who were/were not discharged",
                ],
                &["", "", "", "", "2023-06-01"],
                &[
                    "",
                    "",
                    "",
                    "",
                    "Number of patients who no longer meet the criteria to reside",
                    "Number of patients discharged",
                ],
                &["", "", "", england, "#5", "#2"],
            ],
        )
    }

    #[test]
    fn the_setting_comes_from_the_england_row_without_a_cover_sheet() {
        let wb = read(&[daily("ENGLAND (Type 1 Trusts)")], "x.xlsx", &labels()).unwrap();
        assert_eq!(wb.setting, Setting::Acute);
        assert_eq!(
            wb.report_month,
            NaiveDate::from_ymd_opt(2023, 6, 1).unwrap()
        );
        assert_eq!(wb.daily.len(), 1);
        assert_eq!(
            (
                wb.daily[0].nctr,
                wb.daily[0].discharged,
                wb.daily[0].remaining_nctr
            ),
            (Some(5), Some(2), None)
        );
        let checks: Vec<&str> = wb.quality.iter().map(|r| r.check.as_str()).collect();
        assert_eq!(
            checks,
            vec![
                "no_cover_sheet",
                "table_not_found",
                "table_not_found",
                "table_not_found"
            ]
        );
    }

    #[test]
    fn a_workbook_naming_no_setting_fails_at_the_england_row() {
        let e = read(&[daily("ENGLAND")], "x.xlsx", &labels()).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("sheet \"T2\" cell D4: cannot tell the acute from the community collection: there is no Cover Sheet, and no England row or column label contains a phrase listed under [setting]"),
            "{text}"
        );
    }

    #[test]
    fn a_workbook_without_a_daily_table_fails_naming_its_sheets() {
        let other = sheet("Notes", &[&["", "Some notes"]]);
        let e = read(&[other], "x.xlsx", &labels()).unwrap_err();
        assert!(
            e.to_string().starts_with("sheet \"Notes\" cell A1: no sheet has a title naming the daily table (Table 2); looked in the first rows of \"Notes\""),
            "{e}"
        );
    }
}
