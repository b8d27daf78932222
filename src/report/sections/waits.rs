//! Section 2, where patients wait: the headline month's delayed bed-days by council ×
//! awaited service × provider, in the published rank order (`published/bottlenecks`).

use super::super::data::{Bottleneck, Cell};
use super::super::format;
use super::super::html::{self, Section, Table, Td};
use super::super::palette::{BAR_GREY, BLUE};
use super::super::svg::{self, Bar, BarChart, BarValue};
use super::super::text;
use super::{Context, missing, td, td_value};

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
        "no care service".to_string()
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
    let hidden = cx.hidden("bottlenecks");
    let mut rows: Vec<&Bottleneck> = all.iter().filter(|r| r.month == p.month).collect();
    // Ranked groups in rank order, then the unranked (suppressed) ones as published.
    rows.sort_by_key(|r| (r.rank.is_none(), r.rank));

    // Only groups large enough to show are ranked, and only they are drawn: in the
    // chart's order a suppressed group would give its size away.
    let ranked: Vec<&Bottleneck> = rows.iter().copied().filter(|r| r.rank.is_some()).collect();
    let unranked = rows.len() - ranked.len();
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
                    format!("{} patients", format::suppressed(hidden)),
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
    let table = Table {
        id: "table-waits".to_string(),
        caption: format!(
            "Delayed discharges by council, awaited service and provider, {}",
            format::month(p.month)
        ),
        head: [
            "Rank",
            "Council",
            "Awaited service",
            "Provider",
            "Delayed discharges",
            "Delayed bed-days",
            "Share of all delayed bed-days",
            "Change on previous month",
        ]
        .map(String::from)
        .to_vec(),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Td::Head(
                        r.rank
                            .map_or_else(|| format::EMPTY.to_string(), |n| n.to_string()),
                    ),
                    Td::Text(r.la_code.clone().unwrap_or_else(|| "none".to_string())),
                    Td::Text(format::service(&r.awaited_service)),
                    Td::Text(r.provider_code.clone()),
                    td(r.delayed_discharges, hidden, format::int),
                    td_value(r.delayed_bed_days, hidden, format::int),
                    td_value(r.share_of_system_pct, hidden, format::pct),
                    td_value(r.change_in_delayed_bed_days, hidden, format::signed),
                ]
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
    let mut reading = text::waits(p.month, largest_shown, unranked, hidden);
    if let Some(gap) = p.care_gap(p.month) {
        // Every delay then shows as waiting for no care service.
        reading.push_str(&format!(
            " But {gap}: for {} no delay can be seen to wait for a care service, so all count as waiting for none.",
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
            "Ranked by delayed bed-days before rounding, among the groups large enough to show.{} Blue: waiting for a social-care service; grey: not waiting for one.{}",
            if unranked > 0 {
                format!(
                    " {unranked} suppressed group{} of {} {} not ranked or drawn (a rank would give {} size away) and {} listed last in the table.",
                    if unranked == 1 { "" } else { "s" },
                    hidden.map_or("few patients".to_string(), |(lo, hi)| format!(
                        "{lo}–{hi} patients"
                    )),
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
            }
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
