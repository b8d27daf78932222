//! Section 2, where patients wait: the headline month's delayed bed-days by council ×
//! awaited service × provider, in the published rank order (`published/bottlenecks`).

use super::super::data::{Bottleneck, Cell};
use super::super::format;
use super::super::format::Bounded;
use super::super::hidden::Bounds;
use super::super::html::{self, Section, Table, Td};
use super::super::palette::{BAR_GREY, BLUE};
use super::super::svg::{self, Bar, BarChart, BarValue};
use super::super::text;
use super::{Context, missing, td};
use crate::publish::Dataset;

const ID: &str = "waits";
const TITLE: &str = "Where patients wait";
/// Bars drawn; the table lists every group.
pub const TOP: usize = 15;

fn label(r: &Bottleneck) -> String {
    let council = match &r.la_code {
        Some(c) => format!("Council {c}"),
        None => "No council".to_string(),
    };
    let service = if r.awaited_service == "none" {
        "no linked care service".to_string()
    } else {
        format::service(&r.awaited_service)
    };
    format!("{council} · {service} · {}", r.provider_code)
}

pub fn section(cx: &Context) -> Section {
    let (Some(all), Some(p)) = (&cx.data.bottlenecks, cx.period) else {
        return missing(
            ID,
            TITLE,
            "published/bottlenecks",
            cx.data.bottlenecks.is_some(),
        );
    };
    let bounds = cx.data.bounds(Dataset::Bottlenecks);
    let mut rows: Vec<&Bottleneck> = all.iter().filter(|r| r.month == p.month).collect();
    // Ranked groups in rank order, then the unranked (suppressed) ones as published.
    rows.sort_by_key(|r| (r.rank.is_none(), r.rank));

    // Only groups large enough to show are ranked, and only they are drawn: in the
    // chart's order a suppressed group would give its size away.
    let ranked: Vec<&Bottleneck> = rows.iter().copied().filter(|r| r.rank.is_some()).collect();
    let unranked = rows.len() - ranked.len();
    let few = unranked_patients(&bounds, &rows);
    let bars: Vec<Bar> = ranked
        .iter()
        .take(TOP)
        .map(|r| {
            let (value, text) = match r.delayed_bed_days {
                Cell::Shown(v) => (
                    BarValue::Value(v as f64),
                    match r.share_of_system_pct {
                        Cell::Shown(s) => {
                            format!("{} bed-days · {}", format::int(v), format::pct(s))
                        }
                        _ => format!("{} bed-days", format::int(v)),
                    },
                ),
                Cell::Suppressed => (
                    BarValue::Suppressed,
                    format::suppressed(bounds.in_row("delayed_bed_days", *r)),
                ),
                Cell::Empty => (BarValue::Empty, format::EMPTY.to_string()),
            };
            Bar {
                label: label(r),
                value,
                whisker: None,
                colour: if r.awaited_service == "none" {
                    BAR_GREY
                } else {
                    BLUE
                },
                text,
            }
        })
        .collect();
    // The change on the previous month only beside that month's figures: with none
    // published here, its values would stand next to "no figures for August 2026" in
    // section 1 (regression, review), so the column is left out and the note says why.
    // Nor beside a month the hospital data cover only in part (the first month of the
    // extract), whose delays are undercounted (regression, review).
    let prev = p.previous_month();
    let incomplete = p.incomplete_note(prev);
    let has_rows = all.iter().any(|r| r.month == prev);
    let has_prev = has_rows && incomplete.is_none();
    let no_change_note = match incomplete {
        _ if has_prev => String::new(),
        Some(why) if has_rows => format!(" No change on the previous month is shown: {why}."),
        _ => format!(
            " No change on the previous month is shown: there are no figures for {}.",
            format::month(prev)
        ),
    };
    let mut head: Vec<String> = [
        "Rank",
        "Council",
        "Awaited service",
        "Provider",
        "Delayed discharges",
        "Delayed bed-days",
        "Share of all delayed bed-days",
    ]
    .map(String::from)
    .to_vec();
    if has_prev {
        head.push("Change on previous month".to_string());
    }
    let table = Table {
        id: "table-waits".to_string(),
        caption: format!(
            "Delayed discharges by council, awaited service and provider, {}",
            format::month(p.month)
        ),
        head,
        rows: rows
            .iter()
            .map(|r| {
                let mut row = vec![
                    Td::Head(
                        r.rank
                            .map_or_else(|| format::EMPTY.to_string(), |n| n.to_string()),
                    ),
                    Td::Text(r.la_code.clone().unwrap_or_else(|| "none".to_string())),
                    Td::Text(format::service(&r.awaited_service)),
                    Td::Text(r.provider_code.clone()),
                    td(
                        r.delayed_discharges,
                        bounds.in_row("delayed_discharges", *r),
                        format::int,
                    ),
                    td(
                        r.delayed_bed_days,
                        bounds.in_row("delayed_bed_days", *r),
                        format::int,
                    ),
                    td(
                        r.share_of_system_pct,
                        bounds.in_row("share_of_system_pct", *r),
                        format::pct,
                    ),
                ];
                if has_prev {
                    row.push(td(
                        r.change_in_delayed_bed_days,
                        bounds.in_row("change_in_delayed_bed_days", *r),
                        format::signed,
                    ));
                }
                row
            })
            .collect(),
    };
    let who =
        |r: &Bottleneck| text::group(r.la_code.as_deref(), &r.awaited_service, &r.provider_code);
    let largest_shown = ranked.iter().find_map(|r| {
        r.delayed_bed_days
            .shown()
            .map(|v| (who(r), v, r.share_of_system_pct))
    });
    let dominance = bounds.recorded().dominance.is_some();
    let mut reading = text::waits(p.month, largest_shown, unranked, few, dominance);
    if let Some(gap) = p.care_gap(p.month) {
        // Every delay then shows as having no linked care service.
        reading.push_str(&format!(
            " But {gap}: for {} no delay can be seen to wait for a care service, so all count as having none linked.",
            format::month(p.month)
        ));
    }

    let body = if rows.is_empty() {
        String::new()
    } else if bars.is_empty() {
        // Every group suppressed: nothing to draw, the table lists them.
        html::table(&table)
    } else {
        let shown = bars.len();
        let svg = svg::bar_chart(&BarChart {
            id: "chart-waits",
            title: &format!("Delayed bed-days by group, {}", format::month(p.month)),
            desc: &format!(
                "Ranked bar chart of the {shown} groups (council, awaited service, provider) with the most delayed bed-days in {}, of those large enough to show. {reading}",
                format::month(p.month)
            ),
            unit: "delayed bed-days",
            bars: &bars,
        });
        let note = format!(
            "Ranked by delayed bed-days before rounding, among the groups large enough to show.{} Blue: waiting for a social-care service; grey: no linked social-care service (linkage found none, which is not to say none was awaited).{}{}",
            if unranked > 0 {
                format!(
                    " {unranked} suppressed group{} of {} {} not ranked or drawn (a rank would give {} size away) and {} listed last in the table.",
                    if unranked == 1 { "" } else { "s" },
                    format::patients(few),
                    if unranked == 1 { "is" } else { "are" },
                    if unranked == 1 { "its" } else { "their" },
                    if unranked == 1 { "is" } else { "are" }
                )
            } else {
                String::new()
            },
            if ranked.len() > shown {
                format!(
                    " The top {shown} of {} ranked groups are drawn; the table lists all.",
                    ranked.len()
                )
            } else {
                String::new()
            },
            no_change_note
        );
        html::chart(
            &format!(
                "Delayed bed-days by council, awaited service and provider, {}",
                format::month(p.month)
            ),
            &svg,
            &table,
            &note,
        )
    };
    Section {
        id: ID,
        title: TITLE.to_string(),
        period: format!("patients discharged in {}", format::month(p.month)),
        reading,
        body,
    }
}

/// How many patients each unranked group (its delayed bed-days suppressed) can hold: the
/// people its bed-days rest on, over every such group — 1–7 where the month's total is
/// shown, from 0 where a group is suppressed with a suppressed total. `None` when there
/// is none, or no top is known.
fn unranked_patients(bounds: &Bounds, rows: &[&Bottleneck]) -> Option<Bounded> {
    rows.iter()
        .filter(|r| r.rank.is_none())
        .map(|r| bounds.in_row("delayed_bed_days", *r).people)
        .reduce(|a, b| Some(a?.either(b?)))
        .flatten()
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::report::data::ReportData;
    use crate::report::period::Period;

    fn row(rank: i64, la: Option<&str>, service: &str, bed_days: i64) -> Bottleneck {
        Bottleneck {
            month: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            rank: Some(rank),
            la_code: la.map(str::to_string),
            awaited_service: service.to_string(),
            provider_code: "RX2".to_string(),
            delayed_discharges: Cell::Shown(10),
            delayed_bed_days: Cell::Shown(bed_days),
            system_delayed_discharges: Cell::Shown(30),
            system_delayed_bed_days: Cell::Shown(100),
            share_of_system_pct: Cell::Shown(bed_days as f64),
            change_in_delayed_bed_days: Cell::Shown(5),
        }
    }

    /// Regression (review): with one month of data, "the largest cause of delay … was
    /// patients waiting for no social-care service" (none is no linked service, not a
    /// cause); the chart note said grey bars were "not waiting for one", more than
    /// linkage shows; and "Change on previous month" values stood beside section 1's "no
    /// figures for August 2026".
    #[test]
    fn regression_one_month_with_a_group_without_a_linked_service_leading() {
        let m = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        let data = ReportData {
            bottlenecks: Some(vec![
                row(1, None, "none", 60),
                row(2, Some("902"), "home_care", 40),
            ]),
            ..Default::default()
        };
        let cx = Context {
            data: &data,
            period: Some(Period::one_month(m, None)),
            icb: None,
        };
        let s = section(&cx);
        assert_eq!(
            s.reading,
            "The largest single group of delays in September 2026 was patients at RX2 with no linked social-care service: 60 delayed bed-days, 60% of the total."
        );
        assert!(
            s.body.contains(
                "grey: no linked social-care service (linkage found none, which is not to say none was awaited). No change on the previous month is shown: there are no figures for August 2026."
            ),
            "{}",
            s.body
        );
        assert!(!s.body.contains("Change on previous month"), "{}", s.body);
        assert!(!s.body.contains(">+5<"), "{}", s.body);
        assert!(
            s.body.contains("<td>no linked social-care service</td>"),
            "{}",
            s.body
        );
    }
}
