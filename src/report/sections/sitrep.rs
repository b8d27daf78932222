//! Section 7, when NHS England's daily discharge sitrep is loaded
//! (`published/sitrep_daily`): the share of patients who no longer meet the criteria to
//! reside but are still in hospital, for this ICB beside its region and England.
//!
//! The ICB is `--icb` when given; otherwise the pipeline's `icb_code` (recorded in the run
//! manifest); otherwise the only ICB in the data.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};

use super::super::data::SitrepRow;
use super::super::format;
use super::super::html::{self, Section, Table, Td};
use super::super::palette::{BLUE, PINK, PURPLE};
use super::super::svg::{self, LineChart, Series};
use super::super::text;
use super::Context;

pub(super) const ID: &str = "sitrep";
const TITLE: &str = "Compared with England (NHS England sitrep)";
/// Days shown, ending on the latest day published.
const DAYS: i64 = 91;

/// Percentage of patients not meeting the criteria to reside who are still in hospital.
pub fn remaining_pct(r: &SitrepRow) -> Option<f64> {
    match (r.nctr, r.remaining_nctr) {
        (Some(n), Some(rem)) if n > 0 => Some(rem as f64 / n as f64 * 100.0),
        _ => None,
    }
}

/// Whether `a` and `b` name the same thing (codes and names as published vary in case).
fn same(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.trim().eq_ignore_ascii_case(b.trim()))
}

/// Whether `r` is the ICB-level row of ICB `code`.
fn is_icb(r: &SitrepRow, code: &str) -> bool {
    r.org_level == "icb" && (same(r.org_code.as_deref(), code) || same(r.icb_code.as_deref(), code))
}

/// The ICB codes present at ICB level.
fn icb_codes(rows: &[SitrepRow]) -> BTreeSet<String> {
    rows.iter()
        .filter(|r| r.org_level == "icb")
        .filter_map(|r| r.org_code.clone().or_else(|| r.icb_code.clone()))
        .collect()
}

/// Which ICB this report is about: `--icb`, else the pipeline's `icb_code` (from the run
/// manifest), else the only ICB in the data. NHS England's sitrep does not say which ICB
/// a trust belongs to, so the pipeline's providers cannot tell.
pub fn find_icb(rows: &[SitrepRow], given: Option<&str>, pipeline: Option<&str>) -> Option<String> {
    if let Some(code) = given.or(pipeline) {
        return Some(code.to_string());
    }
    let icbs = icb_codes(rows);
    if icbs.len() == 1 {
        return icbs.into_iter().next();
    }
    None
}

/// Checks `--icb` against NHS England's sitrep data before anything is written: an empty
/// code, or one no ICB-level row carries, is a command-line error (exit 2) listing the
/// ICBs there (regression: `--icb XYZ` exited 0 and compared England alone, and
/// `--icb ""` wrote "…rows for ."). Without sitrep data there is nothing to compare
/// (warned: it was ignored silently); sitrep data that cannot be read are shown as such
/// in the section, so the code is not checked. Returns the code, trimmed.
pub fn check_icb(
    sitrep: Option<&std::result::Result<Vec<SitrepRow>, String>>,
    given: Option<&str>,
    out: &std::path::Path,
) -> crate::error::Result<Option<String>> {
    use crate::error::Error;
    let Some(code) = given.map(str::trim) else {
        return Ok(None);
    };
    if code.is_empty() {
        return Err(Error::Usage(
            "--icb needs an ICB's ODS code, e.g. --icb QHM".to_string(),
        ));
    }
    match sitrep {
        None => tracing::warn!(
            stage = "report",
            "--icb {code} is not used: there is no NHS England sitrep data (published/sitrep_daily) in {} to compare it with",
            out.display()
        ),
        Some(Ok(rows)) if !rows.iter().any(|r| is_icb(r, code)) => {
            let icbs = icb_codes(rows);
            return Err(Error::Usage(format!(
                "--icb {code}: no ICB with that code in NHS England's sitrep data (published/sitrep_daily); ICBs there: {}",
                if icbs.is_empty() {
                    "none".to_string()
                } else {
                    icbs.into_iter().collect::<Vec<_>>().join(", ")
                }
            )));
        }
        Some(_) => {}
    }
    Ok(Some(code.to_string()))
}

/// One organisation's rows of one setting, by date.
struct Org<'a> {
    name: String,
    by_date: BTreeMap<NaiveDate, &'a SitrepRow>,
}

pub fn section(cx: &Context) -> Option<Section> {
    let rows = match cx.data.sitrep.as_ref()? {
        Ok(rows) => rows,
        Err(e) => {
            return Some(Section {
                id: ID,
                title: TITLE.to_string(),
                period: "none".to_string(),
                reading: "NHS England's sitrep data is present but could not be read, so there is no comparison.".to_string(),
                body: html::para("note", &format!("published/sitrep_daily: {e}")),
            });
        }
    };
    let pipeline_icb = cx
        .data
        .manifest
        .as_ref()
        .and_then(|m| m.pipeline.icb_code.as_deref());
    let icb = find_icb(rows, cx.icb, pipeline_icb);
    let icb_rows: Vec<&SitrepRow> = match &icb {
        Some(code) => rows.iter().filter(|r| is_icb(r, code)).collect(),
        None => Vec::new(),
    };
    let region = icb_rows.iter().find_map(|r| r.region.clone());
    let settings: BTreeSet<&str> = rows.iter().map(|r| r.setting.as_str()).collect();

    let mut body = String::new();
    if icb.is_none() {
        let icbs = icb_codes(rows);
        body.push_str(&html::para(
            "note",
            &format!(
                "Which ICB this report is about is not known: name it with icb_code = \"CODE\" under [pipeline], or joinedup report --icb CODE. ICBs in the sitrep: {}.",
                if icbs.is_empty() {
                    "none".to_string()
                } else {
                    icbs.into_iter().collect::<Vec<_>>().join(", ")
                }
            ),
        ));
    } else if icb_rows.is_empty() {
        body.push_str(&html::para(
            "note",
            &format!(
                "The sitrep has no ICB-level rows for {}.",
                icb.as_deref().unwrap_or_default()
            ),
        ));
    }

    let mut reading = None;
    let mut spans = Vec::new();
    for (si, setting) in settings.iter().enumerate() {
        let of = |pred: &dyn Fn(&SitrepRow) -> bool| -> Option<Org> {
            let by_date: BTreeMap<NaiveDate, &SitrepRow> = rows
                .iter()
                .filter(|r| r.setting == *setting && pred(r))
                .map(|r| (r.date, r))
                .collect();
            let name = format::org_name(&by_date.values().next()?.org_name);
            Some(Org { name, by_date })
        };
        let icb_org = icb.as_ref().and_then(|c| of(&|r: &SitrepRow| is_icb(r, c)));
        let region_org = region.as_ref().and_then(|g| {
            of(&|r: &SitrepRow| {
                r.org_level == "region"
                    && (same(Some(&r.org_name), g)
                        || same(r.region.as_deref(), g)
                        || same(r.org_code.as_deref(), g))
            })
        });
        let england = of(&|r: &SitrepRow| r.org_level == "england");
        let orgs: Vec<(&Org, &'static str, Option<&'static str>)> = [
            (icb_org.as_ref(), BLUE, None),
            (region_org.as_ref(), PINK, Some("8 4")),
            (england.as_ref(), PURPLE, Some("2 3")),
        ]
        .into_iter()
        .filter_map(|(o, c, d)| o.map(|o| (o, c, d)))
        .collect();
        let Some(last) = orgs
            .iter()
            .filter_map(|(o, _, _)| o.by_date.keys().last())
            .max()
            .copied()
        else {
            continue;
        };
        let first = last - Duration::days(DAYS - 1);
        let dates: Vec<NaiveDate> = {
            let mut d: BTreeSet<NaiveDate> = BTreeSet::new();
            for (o, _, _) in &orgs {
                d.extend(o.by_date.keys().filter(|k| **k >= first));
            }
            d.into_iter().collect()
        };
        let (Some(from), Some(to)) = (dates.first().copied(), dates.last().copied()) else {
            continue;
        };
        spans.push(format!("{setting}: {}", format::span(from, to)));
        let series: Vec<Series> = orgs
            .iter()
            .map(|(o, colour, dash)| Series {
                name: o.name.clone(),
                values: dates
                    .iter()
                    .map(|d| o.by_date.get(d).and_then(|r| remaining_pct(r)))
                    .collect(),
                colour,
                dash: *dash,
            })
            .collect();
        let mut table_rows = Vec::new();
        for d in &dates {
            for (o, _, _) in &orgs {
                let Some(r) = o.by_date.get(d) else { continue };
                let n = |v: Option<i64>| match v {
                    Some(v) => Td::Num(format::int(v)),
                    None => Td::Empty("not published".to_string()),
                };
                table_rows.push(vec![
                    Td::Head(d.format("%Y-%m-%d").to_string()),
                    Td::Text(o.name.clone()),
                    n(r.nctr),
                    n(r.discharged),
                    n(r.remaining_nctr),
                    match remaining_pct(r) {
                        Some(v) => Td::Num(format::pct_one_decimal(v)),
                        None => Td::Empty(format::EMPTY.to_string()),
                    },
                ]);
            }
        }
        let table = Table {
            id: format!("table-sitrep-{si}"),
            caption: format!(
                "Patients no longer meeting the criteria to reside, {setting}, by day"
            ),
            head: [
                "Date",
                "Organisation",
                "No longer meeting the criteria to reside",
                "Discharged",
                "Still in hospital",
                "Share still in hospital",
            ]
            .map(String::from)
            .to_vec(),
            rows: table_rows,
        };
        let latest = |o: Option<&Org>| {
            o.and_then(|o| {
                o.by_date
                    .get(&to)
                    .and_then(|r| remaining_pct(r))
                    .map(|v| (o.name.clone(), v))
            })
        };
        if reading.is_none() {
            let mut said = text::sitrep(
                to,
                setting,
                latest(icb_org.as_ref()),
                latest(region_org.as_ref()),
                latest(england.as_ref()).map(|(_, v)| v),
            );
            // NHS England's latest day may be far from the months the ICB's own data show.
            let month = super::super::period::month_start(to);
            if let Some(p) = cx.period
                && (month < p.first_month || month > p.last_month)
            {
                said.push_str(&format!(
                    " These are NHS England's latest published figures, not those of {}, the month the rest of this report is about.",
                    format::month(p.month)
                ));
            }
            reading = Some(said);
        }
        let svg = svg::line_chart(&LineChart {
            id: &format!("chart-sitrep-{si}"),
            title: &format!(
                "Share of {setting} patients no longer meeting the criteria to reside who are still in hospital"
            ),
            desc: &format!(
                "Line chart, each day from {}, of the percentage of {setting} patients who no longer meet the criteria to reside but remain in hospital, for {}.",
                format::span(from, to),
                orgs.iter()
                    .map(|(o, _, _)| o.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            unit: "% still in hospital",
            dates: &dates,
            series: &series,
            band: None,
        });
        body.push_str(&html::chart(
            &format!("{}: patients ready to leave but still in hospital", format::capital(setting)),
            &svg,
            &table,
            if si == 0 {
                "From NHS England's published daily discharge situation report. Lower is better: a smaller share of patients who no longer need a hospital bed are still in one."
            } else {
                ""
            },
        ));
    }
    Some(Section {
        id: ID,
        title: TITLE.to_string(),
        period: if spans.is_empty() {
            "none".to_string()
        } else {
            format!("each day, {}", spans.join("; "))
        },
        reading: reading.unwrap_or_else(|| {
            "NHS England's sitrep data is loaded but has no rows for England, a region or this ICB."
                .to_string()
        }),
        body,
    })
}
