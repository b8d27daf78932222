//! Section 3, flow: per provider and day, occupied beds at midnight, patients ready to
//! leave but still in hospital, admissions and discharges (`published/flow_daily`), one
//! line chart per provider. A suppressed day is a gap in its line, never a zero.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::super::data::{Cell, FlowDay};
use super::super::format;
use super::super::html::{self, Section, Table, Td};
use super::super::palette::{BLUE, GREEN, PINK, PURPLE};
use super::super::period::month_end;
use super::super::svg::{self, LineChart, Series};
use super::super::text;
use super::{Context, missing, td};

const ID: &str = "flow";
const TITLE: &str = "Flow through hospital";

/// Admissions of all kinds, known only when none of the three parts is suppressed.
pub fn admissions(r: &FlowDay) -> Cell<i64> {
    let parts = [
        r.admissions_elective,
        r.admissions_emergency,
        r.admissions_other,
    ];
    if parts.iter().any(|c| c.is_suppressed()) {
        return Cell::Suppressed;
    }
    match parts.iter().map(|c| c.shown()).sum::<Option<i64>>() {
        Some(v) => Cell::Shown(v),
        None => Cell::Empty,
    }
}

fn peak(rows: &[&FlowDay], f: impl Fn(&FlowDay) -> Cell<i64>) -> text::Peak {
    let mut peak = text::Peak {
        shown: None,
        suppressed: 0,
    };
    for r in rows {
        match f(r) {
            Cell::Shown(v) if peak.shown.as_ref().is_none_or(|(b, _, _)| v > *b) => {
                peak.shown = Some((v, r.provider_code.clone(), r.date));
            }
            Cell::Suppressed => peak.suppressed += 1,
            _ => {}
        }
    }
    peak
}

pub fn section(cx: &Context) -> Section {
    let (Some(all), Some(p)) = (&cx.data.flow, cx.period) else {
        return missing(ID, TITLE, "published/flow_daily", cx.data.flow.is_some());
    };
    let hidden = cx.hidden("flow_daily");
    let rows: Vec<&FlowDay> = all.iter().filter(|r| r.date >= p.first_month).collect();
    let (Some(from), Some(to)) = (
        rows.iter().map(|r| r.date).min(),
        rows.iter().map(|r| r.date).max(),
    ) else {
        return missing(ID, TITLE, "published/flow_daily", true);
    };
    let mut by_provider: BTreeMap<&str, Vec<&FlowDay>> = BTreeMap::new();
    for r in &rows {
        by_provider.entry(&r.provider_code).or_default().push(r);
    }
    let reading = text::flow(
        from,
        to,
        &peak(&rows, |r| r.occupied_beds_midnight),
        &peak(&rows, |r| r.ready_to_leave_in_hospital),
        hidden,
    );

    let mut body = String::new();
    for (i, (provider, mut days)) in by_provider.into_iter().enumerate() {
        days.sort_by_key(|r| r.date);
        let dates: Vec<NaiveDate> = days.iter().map(|r| r.date).collect();
        let n = days.len();
        let series_of = |name: &str,
                         colour: &'static str,
                         dash: Option<&'static str>,
                         f: &dyn Fn(&FlowDay) -> Cell<i64>| {
            let values: Vec<Option<f64>> = days
                .iter()
                .map(|r| f(r).shown().map(|v| v as f64))
                .collect();
            let gaps = days.iter().filter(|r| f(r).is_suppressed()).count();
            Series {
                name: if gaps == 0 {
                    name.to_string()
                } else {
                    format!("{name} (suppressed on {gaps} of {n} days)")
                },
                values,
                colour,
                dash,
            }
        };
        let series = [
            series_of("Occupied beds at midnight", BLUE, None, &|r| {
                r.occupied_beds_midnight
            }),
            series_of(
                "Ready to leave, still in hospital",
                PINK,
                Some("8 4"),
                &|r| r.ready_to_leave_in_hospital,
            ),
            series_of("Admissions", GREEN, Some("2 3"), &admissions),
            series_of("Discharges", PURPLE, Some("10 3 2 3"), &|r| r.discharges),
        ];
        let svg = svg::line_chart(&LineChart {
            id: &format!("chart-flow-{i}"),
            title: &format!("Daily flow at {provider}"),
            desc: &format!(
                "Line chart of occupied beds at midnight, patients ready to leave but still in hospital, admissions and discharges at {provider} each day from {}. Gaps are days whose figure is suppressed.",
                format::span(from, to)
            ),
            unit: "patients",
            dates: &dates,
            series: &series,
            band: Some((p.month, month_end(p.month), format::month(p.month))),
        });
        let table = Table {
            id: format!("table-flow-{i}"),
            caption: format!("Daily flow at {provider}"),
            head: [
                "Date",
                "Occupied beds at midnight",
                "Ready to leave, still in hospital",
                "Elective admissions",
                "Emergency admissions",
                "Other admissions",
                "Discharges",
            ]
            .map(String::from)
            .to_vec(),
            rows: days
                .iter()
                .map(|r| {
                    vec![
                        Td::Head(r.date.format("%Y-%m-%d").to_string()),
                        td(r.occupied_beds_midnight, hidden, format::int),
                        td(r.ready_to_leave_in_hospital, hidden, format::int),
                        td(r.admissions_elective, hidden, format::int),
                        td(r.admissions_emergency, hidden, format::int),
                        td(r.admissions_other, hidden, format::int),
                        td(r.discharges, hidden, format::int),
                    ]
                })
                .collect(),
        };
        body.push_str(&html::chart(
            &format!("{provider}: patients in hospital and movements each day"),
            &svg,
            &table,
            if i == 0 {
                "Admissions are elective, emergency and other admissions together, drawn only on days when none of the three is suppressed. The shaded band is the headline month."
            } else {
                ""
            },
        ));
    }
    Section {
        id: ID,
        title: TITLE.to_string(),
        period: format!("each day, {}", format::span(from, to)),
        reading,
        body,
    }
}
