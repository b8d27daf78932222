//! Section 1, headline: delayed bed-days in the headline month, the change on the month
//! before, and the share of them spent waiting for a social-care service — from
//! `published/bottlenecks`, whose system totals are the month's totals.

use chrono::NaiveDate;

use super::super::data::{Bottleneck, Cell};
use super::super::format;
use super::super::html::{self, Section, Table, Td};
use super::super::palette::{BAR_GREY, BLUE, DARK_BLUE};
use super::super::svg::{self, Bar, BarChart, BarValue};
use super::super::text;
use super::{Context, missing, td, td_value};

const ID: &str = "headline";
const TITLE: &str = "Headline: delayed discharges";

/// The month's total delayed bed-days (every row of a month carries it).
pub fn month_total(rows: &[Bottleneck], month: NaiveDate) -> Cell<i64> {
    rows.iter()
        .find(|r| r.month == month)
        .map_or(Cell::Empty, |r| r.system_delayed_bed_days)
}

fn month_discharges(rows: &[Bottleneck], month: NaiveDate) -> Cell<i64> {
    rows.iter()
        .find(|r| r.month == month)
        .map_or(Cell::Empty, |r| r.system_delayed_discharges)
}

/// The share of a month's delayed bed-days spent waiting for a social-care service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Share {
    /// The shown groups awaiting a service, as a percentage of the month's total;
    /// `at_least` when some such group is suppressed (its bed-days are not counted).
    Known { pct: f64, at_least: bool },
    /// Not known, and why.
    Unknown(&'static str),
}

impl Share {
    /// `about 45%`, `at least 30%`, or `not known`.
    pub fn value(self) -> String {
        match self {
            Share::Known { pct, at_least } => {
                format!(
                    "{} {}%",
                    if at_least { "at least" } else { "about" },
                    pct.round()
                )
            }
            Share::Unknown(_) => "not known".to_string(),
        }
    }
}

/// Percentage of the month's delayed bed-days spent waiting for a social-care service:
/// the shown groups awaiting one over the month's total. Only shown cells are added: the
/// total less the groups awaiting none would be the sum of suppressed cells too, which
/// the report must not work out. A suppressed group awaiting a service makes the share
/// a lower bound.
pub fn social_care_share(rows: &[Bottleneck], month: NaiveDate) -> Share {
    let total = match month_total(rows, month) {
        Cell::Shown(t) if t > 0 => t,
        Cell::Shown(_) => return Share::Unknown("no delayed bed-days this month"),
        Cell::Suppressed => return Share::Unknown("the month's total is suppressed"),
        Cell::Empty => return Share::Unknown("no delays published for this month"),
    };
    let (mut shown, mut suppressed) = (0, false);
    for r in rows
        .iter()
        .filter(|r| r.month == month && r.awaited_service != "none")
    {
        match r.delayed_bed_days {
            Cell::Shown(v) => shown += v,
            Cell::Suppressed => suppressed = true,
            Cell::Empty => {}
        }
    }
    if shown == 0 && suppressed {
        return Share::Unknown("every group waiting for social care is suppressed");
    }
    Share::Known {
        pct: (shown as f64 / total as f64 * 100.0).clamp(0.0, 100.0),
        at_least: suppressed,
    }
}

pub fn section(cx: &Context) -> Section {
    let (Some(rows), Some(p)) = (&cx.data.bottlenecks, cx.period) else {
        return missing(
            ID,
            TITLE,
            "published/bottlenecks",
            cx.data.bottlenecks.is_some(),
        );
    };
    let hidden = cx.hidden("bottlenecks");
    let month = p.month;
    let prev = p.previous_month();
    let total = month_total(rows, month);
    let prev_total = month_total(rows, prev);
    // After the social-care data end, no delay can be seen to wait for a care service.
    let share = social_care_share(rows, month);
    let has_prev = rows.iter().any(|r| r.month == prev);

    let change = match (total, prev_total) {
        (Cell::Shown(t), Cell::Shown(pt)) if has_prev => {
            let pct = if pt > 0 {
                format!(" ({})", format::share_pct(t - pt, pt))
            } else {
                String::new()
            };
            (
                format!("{}{pct}", format::signed(t - pt)),
                format!("{} in {}", format::int(pt), format::month(prev)),
            )
        }
        _ if !has_prev => (
            format::EMPTY.to_string(),
            format!("no figures for {}", format::month(prev)),
        ),
        _ => (
            "not known".to_string(),
            "a monthly total is suppressed".to_string(),
        ),
    };
    let tiles = html::tiles(&[
        (
            "Delayed bed-days".to_string(),
            match total {
                Cell::Suppressed => format::suppressed_of_people(hidden),
                total => format::count_cell(total, hidden),
            },
            format!(
                "days patients waited after they were ready to leave, {}",
                format::month(month)
            ),
        ),
        (
            format!("Change on {}", format::month(prev)),
            change.0,
            change.1,
        ),
        (
            "Waiting for social care".to_string(),
            // After the social-care data end, no delay can be seen to wait for a care
            // service (regression: the card read "about 0%" there).
            if p.care_covers(month) {
                share.value()
            } else {
                "not known".to_string()
            },
            match (share, p.care_gap(month)) {
                (_, Some(gap)) => format!("{gap}: not yet known for this month"),
                (Share::Known { at_least: false, .. }, None) => {
                    "of delayed bed-days, waiting for a care service to start".to_string()
                }
                (Share::Known { at_least: true, .. }, None) => {
                    "of delayed bed-days, waiting for a care service to start (suppressed groups not counted)".to_string()
                }
                (Share::Unknown(why), None) => why.to_string(),
            },
        ),
        (
            "Delayed discharges".to_string(),
            format::count_cell(month_discharges(rows, month), hidden),
            "patients who left after their ready date".to_string(),
        ),
    ]);

    // Trend: every month shown, the headline month darker, incomplete months grey.
    let months = p.months();
    let mut bars = Vec::new();
    let mut table_rows = Vec::new();
    for m in &months {
        let t = month_total(rows, *m);
        let partial = p.is_partial(*m);
        let label = p.month_label(*m, format::month);
        let colour = if *m == month {
            DARK_BLUE
        } else if partial {
            BAR_GREY
        } else {
            BLUE
        };
        let (value, text) = match t {
            Cell::Shown(v) => (
                BarValue::Value(v as f64),
                format!("{} bed-days", format::int(v)),
            ),
            Cell::Suppressed => (BarValue::Suppressed, format::suppressed_of_people(hidden)),
            Cell::Empty => (
                BarValue::Empty,
                "no delayed discharges published".to_string(),
            ),
        };
        bars.push(Bar {
            label: label.clone(),
            value,
            whisker: None,
            colour,
            text,
        });
        let share = social_care_share(rows, *m);
        table_rows.push(vec![
            Td::Head(label),
            td(month_discharges(rows, *m), hidden, format::int),
            td_value(t, hidden, format::int),
            match (share, p.care_gap(*m)) {
                (_, Some(gap)) => Td::Empty(format!("not known: {gap}")),
                (Share::Known { .. }, None) => Td::Num(share.value()),
                (Share::Unknown(why), None) => Td::Empty(format!("not known: {why}")),
            },
        ]);
    }
    let table = Table {
        id: "table-headline".to_string(),
        caption: "Delayed discharges and delayed bed-days by month of discharge".to_string(),
        head: vec![
            "Month".to_string(),
            "Delayed discharges".to_string(),
            "Delayed bed-days".to_string(),
            "Share waiting for social care".to_string(),
        ],
        rows: table_rows,
    };
    let svg = svg::bar_chart(&BarChart {
        id: "chart-headline",
        title: "Delayed bed-days by month",
        desc: &format!(
            "Bar chart of delayed bed-days for each month from {} to {}; {} is highlighted.",
            format::month(p.first_month),
            format::month(p.last_month),
            format::month(month)
        ),
        unit: "delayed bed-days",
        bars: &bars,
    });
    let mut body = tiles;
    body.push_str(&html::chart(
        "Delayed bed-days by month of discharge",
        &svg,
        &table,
        "The share waiting for social care adds up the shown groups of patients awaiting a social-care service; it is approximate because published figures are rounded, and a lower bound (“at least”) when some of those groups are suppressed, since suppressed figures are never added up.",
    ));
    Section {
        id: ID,
        title: TITLE.to_string(),
        period: format!(
            "patients discharged in {}{}, compared with {}",
            format::month(month),
            if p.month_incomplete {
                " (incomplete month)"
            } else {
                ""
            },
            format::month(prev)
        ),
        reading: text::headline(
            month,
            total,
            has_prev.then_some((prev, prev_total)),
            match share {
                _ if !p.care_covers(month) => None,
                Share::Known { pct, at_least } => Some((pct, at_least)),
                Share::Unknown(_) => None,
            },
        ),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(service: &str, bed_days: Cell<i64>) -> Bottleneck {
        Bottleneck {
            month: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            rank: Some(1),
            la_code: (service != "none").then(|| "902".to_string()),
            awaited_service: service.to_string(),
            provider_code: "RX1".to_string(),
            delayed_discharges: Cell::Shown(10),
            delayed_bed_days: bed_days,
            system_delayed_discharges: Cell::Shown(130),
            system_delayed_bed_days: Cell::Shown(480),
            share_of_system_pct: Cell::Empty,
            change_in_delayed_bed_days: Cell::Empty,
        }
    }

    #[test]
    fn regression_the_social_care_share_never_adds_up_suppressed_groups() {
        // The share was the total less the shown groups awaiting nothing: with the social-
        // care groups suppressed it published their sum (480 - 40 - 25 = 415 bed-days).
        let m = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        let rows = vec![
            row("home_care", Cell::Suppressed),
            row("none", Cell::Shown(40)),
            row("none", Cell::Shown(25)),
        ];
        assert_eq!(
            social_care_share(&rows, m),
            Share::Unknown("every group waiting for social care is suppressed")
        );

        // Shown groups awaiting a service are added; a suppressed one makes it a bound.
        let rows = vec![
            row("home_care", Cell::Shown(120)),
            row("care_home", Cell::Suppressed),
            row("none", Cell::Suppressed),
        ];
        let share = social_care_share(&rows, m);
        assert_eq!(
            share,
            Share::Known {
                pct: 25.0,
                at_least: true
            }
        );
        assert_eq!(share.value(), "at least 25%");

        // Every group awaiting a service shown: the share, whatever the groups awaiting
        // nothing.
        let rows = vec![
            row("home_care", Cell::Shown(120)),
            row("care_home", Cell::Shown(60)),
            row("none", Cell::Suppressed),
        ];
        assert_eq!(social_care_share(&rows, m).value(), "about 38%");
        assert_eq!(month_total(&rows, m), Cell::Shown(480));
        let other = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
        assert_eq!(month_total(&rows, other), Cell::Empty);
        assert_eq!(
            social_care_share(&rows, other),
            Share::Unknown("no delays published for this month")
        );
    }

    /// Regression (review of the share's rewrite): after the social-care data end the
    /// card read "about 0%" beside "social-care data end …: not yet known".
    #[test]
    fn regression_the_share_after_the_social_care_data_end_is_not_known() {
        use crate::report::data::ReportData;
        use crate::report::period::Period;
        let m = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        let data = ReportData {
            manifest: None,
            bottlenecks: Some(vec![row("none", Cell::Shown(480))]),
            flow: None,
            queue: None,
            linkage: None,
            sitrep: None,
            other_pipelines: Default::default(),
        };
        let period = Period {
            month: m,
            first_month: m,
            last_month: m,
            data_end: None,
            month_incomplete: false,
            care_end: NaiveDate::from_ymd_opt(2026, 6, 1),
        };
        let cx = Context {
            data: &data,
            period: Some(period),
            icb: None,
        };
        let s = section(&cx);
        assert!(!s.body.contains("about 0%"), "{}", s.body);
        assert!(s.body.contains("not known"), "{}", s.body);
    }
}
