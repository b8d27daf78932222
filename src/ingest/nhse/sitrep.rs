//! One discharge sitrep workbook → rows of the four sitrep datasets.
//!
//! Tables are found by a phrase of their title (not by sheet name or position), then
//! read with [`layout::recognise`]. The setting (acute or community) comes from the Cover
//! Sheet title, else from the England row or column labels; the period from the Cover
//! Sheet, else from the tables' own period headers. Per table:
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
use super::checks::{self, Quality, examples};
use super::cover::{self, Cover};
use super::labels::{DailyMeasure, Labels, Setting, TableKind, label_key};
use super::layout::{self, LayoutError, Level, Num, Table};
use super::period::{Period, month_end, month_start};
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

/// Reads a workbook's sheets.
pub fn read(sheets: &[Sheet], name: &str, labels: &Labels) -> Result<SitrepWorkbook, FileError> {
    let mut q = Quality::new(name);
    let cover = cover::find(sheets);
    let tables = find_tables(sheets, labels, &mut q)?;
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
        let values = read_values(&mut q, table, *kind != TableKind::DelayReasons);
        checks::code_formats(&mut q, table);
        let tolerance = if *kind == TableKind::DelayReasons {
            0.01
        } else {
            0.0
        };
        checks::sums(&mut q, table, &values, tolerance);
        match kind {
            TableKind::Daily => daily_rows(&mut wb, &mut q, table, &values, labels)?,
            TableKind::BedDays => bed_days_rows(&mut wb, &mut q, table, &values, labels)?,
            TableKind::Destinations => destination_rows(&mut wb, &mut q, table, &values, labels),
            TableKind::DelayReasons => reason_rows(&mut wb, &mut q, table, &values, labels),
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

/// Reads every data cell of a table, reporting `-`/blank cells and unreadable ones.
fn read_values(q: &mut Quality, table: &Table<'_>, whole: bool) -> Vec<Vec<Option<f64>>> {
    let mut missing = 0u64;
    let mut invalid = Vec::new();
    let values = table
        .rows
        .iter()
        .map(|r| {
            table
                .columns
                .iter()
                .map(|c| match layout::num(table.sheet.value(r.row, c.col)) {
                    Num::Value(v) if !whole || v.fract() == 0.0 => Some(v),
                    Num::Missing => {
                        missing += 1;
                        None
                    }
                    Num::Value(_) | Num::Invalid => {
                        invalid.push(table.sheet.cell_ref(r.row, c.col));
                        None
                    }
                })
                .collect()
        })
        .collect();
    if missing > 0 {
        q.push(
            "missing_values",
            Some(&table.sheet.name),
            format!("{missing} cells are \"-\" or blank (no submission): written as null"),
            missing,
        );
    }
    if !invalid.is_empty() {
        q.push(
            "invalid_values",
            Some(&table.sheet.name),
            format!(
                "{} cells are not {}: written as null: {}",
                invalid.len(),
                if whole { "whole numbers" } else { "numbers" },
                examples(&invalid)
            ),
            invalid.len() as u64,
        );
    }
    values
}

fn org(r: &layout::Row) -> Org {
    Org {
        level: r.level,
        code: r.code.clone(),
        name: r.name.clone(),
        icb_code: if r.level == Level::Icb {
            r.code.clone()
        } else {
            None
        },
        region: r.region.clone(),
    }
}

fn unknown_label(
    q: &mut Quality,
    table: &Table<'_>,
    col: u32,
    what: &str,
    label: &str,
    consequence: &str,
    rows: u64,
) {
    q.push(
        "unknown_label",
        Some(&table.sheet.name),
        format!(
            "{what} \"{label}\" ({}) is not in the label mapping: {consequence}",
            table.sheet.cell_ref(table.header_row, col)
        ),
        rows,
    );
}

/// A table none of whose column labels is recognised cannot be read.
fn no_known_column(table: &Table<'_>, section: &str, labels: &Labels) -> LayoutError {
    let first = table
        .columns
        .first()
        .map(|c| c.col)
        .unwrap_or(table.name_col + 1);
    LayoutError::at(
        table.sheet,
        table.header_row,
        first,
        format!(
            "none of the column labels of this row is listed under {section} in {}",
            labels.file.display()
        ),
    )
}

fn day_of(table: &Table<'_>, c: &layout::Column) -> Result<NaiveDate, LayoutError> {
    match c.period {
        Some(Period::Day(d)) => Ok(d),
        Some(Period::Month(_)) | None => Err(LayoutError::at(
            table.sheet,
            table.period_row.unwrap_or(table.header_row),
            c.col,
            format!(
                "column \"{}\" has no date above it: expected a day header (a date, or text such as \"w/c 02/10/2023\") at the start of its block",
                c.label
            ),
        )),
    }
}

/// The cell naming a column's period: its block's period header, else the column header.
fn period_cell(table: &Table<'_>, c: &layout::Column) -> String {
    match (table.period_row, c.period_col) {
        (Some(r), Some(col)) => table.sheet.cell_ref(r, col),
        _ => table.sheet.cell_ref(table.header_row, c.col),
    }
}

fn outside_period(q: &mut Quality, wb: &SitrepWorkbook, table: &Table<'_>, mut bad: Vec<String>) {
    bad.dedup();
    if !bad.is_empty() {
        q.push(
            "date_outside_period",
            Some(&table.sheet.name),
            format!(
                "{} column header(s) fall outside the stated period {} to {}: {}",
                bad.len(),
                wb.period.0,
                wb.period.1,
                examples(&bad)
            ),
            bad.len() as u64,
        );
    }
}

fn int(v: Option<f64>) -> Option<i64> {
    v.map(|v| v as i64)
}

fn daily_rows(
    wb: &mut SitrepWorkbook,
    q: &mut Quality,
    table: &Table<'_>,
    values: &[Vec<Option<f64>>],
    labels: &Labels,
) -> Result<(), LayoutError> {
    let mut days: BTreeMap<NaiveDate, BTreeMap<u8, usize>> = BTreeMap::new();
    let mut first_col: BTreeMap<NaiveDate, u32> = BTreeMap::new();
    for (j, c) in table.columns.iter().enumerate() {
        let day = day_of(table, c)?;
        first_col.entry(day).or_insert(c.col);
        let Some(m) = labels.daily_measure(&c.label) else {
            unknown_label(
                q,
                table,
                c.col,
                "daily column",
                &c.label,
                "column ignored",
                table.rows.len() as u64,
            );
            continue;
        };
        let slot = match m {
            DailyMeasure::Nctr => 0,
            DailyMeasure::Discharged => 1,
            DailyMeasure::RemainingNctr => 2,
            DailyMeasure::DischargedBy1700 => 3,
            DailyMeasure::DischargedAfter1700 => 4,
        };
        if days.entry(day).or_default().insert(slot, j).is_some() {
            return Err(LayoutError::at(
                table.sheet,
                table.header_row,
                c.col,
                format!("day {day} has two columns labelled \"{}\"", c.label),
            ));
        }
    }
    if days.is_empty() {
        return Err(no_known_column(table, "[daily_columns]", labels));
    }
    let mut bad = Vec::new();
    for (day, cols) in &days {
        if !cols.contains_key(&0) {
            return Err(LayoutError::at(
                table.sheet,
                table.header_row,
                first_col[day],
                format!(
                    "the block for {day} has no column of patients who no longer meet the criteria to reside (see [daily_columns] nctr in {})",
                    labels.file.display()
                ),
            ));
        }
        if *day < wb.period.0 || *day > wb.period.1 {
            bad.push(format!(
                "{} {day}",
                table
                    .columns
                    .iter()
                    .find(|c| c.col == first_col[day])
                    .map(|c| period_cell(table, c))
                    .unwrap_or_default()
            ));
        }
    }
    outside_period(q, wb, table, bad);
    for (i, r) in table.rows.iter().enumerate() {
        let o = org(r);
        for (day, cols) in &days {
            let get = |slot: u8| cols.get(&slot).and_then(|&j| values[i][j]);
            let discharged = match (get(1), get(3), get(4)) {
                (Some(d), _, _) => Some(d),
                (None, Some(a), Some(b)) if !cols.contains_key(&1) => Some(a + b),
                _ => None,
            };
            wb.daily.push(DailyRow {
                date: *day,
                org: o.clone(),
                nctr: int(get(0)),
                discharged: int(discharged),
                remaining_nctr: int(get(2)),
            });
        }
    }
    Ok(())
}

fn bed_days_rows(
    wb: &mut SitrepWorkbook,
    q: &mut Quality,
    table: &Table<'_>,
    values: &[Vec<Option<f64>>],
    labels: &Labels,
) -> Result<(), LayoutError> {
    let mut cols = Vec::new();
    let mut bad = Vec::new();
    let mut seen_weeks = Vec::new();
    for (j, c) in table.columns.iter().enumerate() {
        let week = day_of(table, c)?;
        let Some(threshold) = labels.bed_days_threshold(&c.label) else {
            unknown_label(
                q,
                table,
                c.col,
                "bed-days column",
                &c.label,
                "column ignored",
                table.rows.len() as u64,
            );
            continue;
        };
        let week_end = week + chrono::Days::new(6);
        if !seen_weeks.contains(&week) && (week_end < wb.period.0 || week > wb.period.1) {
            bad.push(format!("{} w/c {week}", period_cell(table, c)));
        }
        seen_weeks.push(week);
        cols.push((j, week, threshold));
    }
    if cols.is_empty() {
        return Err(no_known_column(table, "[bed_days_columns]", labels));
    }
    outside_period(q, wb, table, bad);
    for (i, r) in table.rows.iter().enumerate() {
        let o = org(r);
        for (j, week, threshold) in &cols {
            wb.bed_days.push(BedDaysRow {
                week_commencing: *week,
                org: o.clone(),
                los_threshold: *threshold,
                additional_bed_days: int(values[i][*j]),
            });
        }
    }
    Ok(())
}

fn destination_rows(
    wb: &mut SitrepWorkbook,
    q: &mut Quality,
    table: &Table<'_>,
    values: &[Vec<Option<f64>>],
    labels: &Labels,
) {
    let mut cols = Vec::new();
    let mut bad = Vec::new();
    for (j, c) in table.columns.iter().enumerate() {
        let pathway = labels
            .pathway(&c.label)
            .or_else(|| c.group.as_deref().and_then(|g| labels.pathway(g)))
            .map(String::from);
        if pathway.is_none() {
            unknown_label(
                q,
                table,
                c.col,
                "destination",
                &c.label,
                "kept with a null pathway",
                table.rows.len() as u64,
            );
        }
        let month = c
            .period
            .map(|p| month_start(p.start()))
            .unwrap_or(wb.report_month);
        if month < month_start(wb.period.0) || month > wb.period.1 {
            bad.push(format!("{} {month}", period_cell(table, c)));
        }
        cols.push((j, month, pathway, c.label.clone()));
    }
    outside_period(q, wb, table, bad);
    for (i, r) in table.rows.iter().enumerate() {
        let o = org(r);
        for (j, month, pathway, label) in &cols {
            wb.destinations.push(DestinationRow {
                month: *month,
                org: o.clone(),
                pathway: pathway.clone(),
                destination_label: label.clone(),
                discharges: int(values[i][*j]),
            });
        }
    }
}

fn reason_rows(
    wb: &mut SitrepWorkbook,
    q: &mut Quality,
    table: &Table<'_>,
    values: &[Vec<Option<f64>>],
    labels: &Labels,
) {
    let mut cols = Vec::new();
    let mut bad = Vec::new();
    for (j, c) in table.columns.iter().enumerate() {
        let code = labels.reason(&c.label).map(String::from);
        if code.is_none() {
            unknown_label(
                q,
                table,
                c.col,
                "delay reason",
                &c.label,
                "kept with a null reason_code",
                table.rows.len() as u64,
            );
        }
        let start = c.period.map(Period::start).unwrap_or(wb.report_month);
        if start < month_start(wb.period.0) || start > wb.period.1 {
            bad.push(format!("{} {start}", period_cell(table, c)));
        }
        cols.push((j, start, code, c.label.clone()));
    }
    outside_period(q, wb, table, bad);
    for (i, r) in table.rows.iter().enumerate() {
        let o = org(r);
        for (j, start, code, label) in &cols {
            wb.reasons.push(ReasonRow {
                period_start: *start,
                org: o.clone(),
                reason_code: code.clone(),
                reason_label: label.clone(),
                avg_patients: values[i][*j],
            });
        }
    }
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
