//! The four sitrep tables, cell by cell: Table 2 (daily), Table 3 (bed days), Table 4
//! (destinations) and Table 5 (delay reasons) → rows of their datasets, with the
//! data-quality findings each table gives (unknown labels, `-` and unreadable cells,
//! dates outside the stated period).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::checks::{Quality, examples};
use super::labels::{DailyMeasure, Labels};
use super::layout::{self, LayoutError, Level, Num, Table};
use super::period::{Period, month_start};
use super::sitrep::{BedDaysRow, DailyRow, DestinationRow, Org, ReasonRow, SitrepWorkbook};

/// Reads every data cell of a table, reporting `-`/blank cells and unreadable ones.
pub(super) fn read_values(
    q: &mut Quality,
    table: &Table<'_>,
    whole: bool,
) -> Vec<Vec<Option<f64>>> {
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

pub(super) fn daily_rows(
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

pub(super) fn bed_days_rows(
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

pub(super) fn destination_rows(
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

pub(super) fn reason_rows(
    wb: &mut SitrepWorkbook,
    q: &mut Quality,
    table: &Table<'_>,
    values: &[Vec<Option<f64>>],
    labels: &Labels,
) -> Result<(), LayoutError> {
    let mut cols = Vec::new();
    let mut bad = Vec::new();
    // (period, code) -> the first column's label: two columns of one period under one
    // code would publish two rows a sum or pivot by reason_code adds together.
    let mut seen: BTreeMap<(NaiveDate, String), &str> = BTreeMap::new();
    for (j, c) in table.columns.iter().enumerate() {
        let code = labels.reason(&c.label).map(String::from);
        let start = c.period.map(Period::start).unwrap_or(wb.report_month);
        if let Some(code) = &code
            && let Some(first) = seen.insert((start, code.clone()), &c.label)
        {
            return Err(LayoutError::at(
                table.sheet,
                table.header_row,
                c.col,
                format!(
                    "\"{}\" and \"{first}\" are both mapped to delay reason \"{code}\" in {}: they are two measures here; give each its own code",
                    c.label,
                    labels.file.display()
                ),
            ));
        }
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
    Ok(())
}
