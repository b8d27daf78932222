//! Section 3, flow: per provider and day, occupied beds at midnight, patients ready to
//! leave but still in hospital, admissions and discharges (`published/flow_daily`), one
//! line chart per provider. A suppressed day is a gap in its line, never a zero, and its
//! table cell says what it can hold ([`FlowHidden`]: 1–7, or 0–49 in a month its provider
//! had fewer than 50 patients).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::super::data::{Cell, FlowColumn, FlowDay};
use super::super::format;
use super::super::hidden::FlowHidden;
use super::super::html::{self, Section, Table, Td};
use super::super::palette::{BLUE, GREEN, PINK, PURPLE};
use super::super::period::{hospital_ends, month_end};
use super::super::svg::{self, LineChart, Series};
use super::super::text;
use super::{Context, missing, td};
use crate::publish::Dataset;

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

/// The largest shown value of `column` over `rows`, and what its suppressed days can hold
/// (`hidden`).
fn peak(rows: &[&FlowDay], column: FlowColumn, hidden: &FlowHidden) -> text::Peak {
    let mut peak = text::Peak::none();
    for r in rows {
        match r.get(column) {
            Cell::Shown(v) if peak.shown.as_ref().is_none_or(|(b, _, _)| v > *b) => {
                peak.shown = Some((v, r.provider_code.clone(), r.date));
                peak.ties = 0;
            }
            Cell::Shown(v) if peak.shown.as_ref().is_some_and(|(b, _, _)| v == *b) => {
                // The first of tied days is named: the earliest, or the first provider.
                if let Some((_, p, d)) = &mut peak.shown
                    && (r.date, r.provider_code.as_str()) < (*d, p.as_str())
                {
                    *p = r.provider_code.clone();
                    *d = r.date;
                }
                peak.ties += 1;
            }
            Cell::Suppressed => peak.add_suppressed(hidden.of(r, column).in_sum()),
            _ => {}
        }
    }
    peak
}

/// Why the days after `to`, the last day shown, are left out, when `flow_daily` has any.
fn left_out(all: &[FlowDay], to: NaiveDate) -> Option<String> {
    let last = all.iter().map(|r| r.date).max().filter(|l| *l > to)?;
    let (admissions, discharges) = hospital_ends(all);
    let days = (last - to).num_days();
    let span = format!(
        "the {} after it, to {},",
        if days == 1 {
            "day".to_string()
        } else {
            format!("{days} days")
        },
        format::day(last)
    );
    // One day "is" left out (regression, review: "the day after it … are left out").
    let (are, their) = if days == 1 {
        ("is", "its")
    } else {
        ("are", "their")
    };
    Some(match (admissions, discharges) {
        (Some(a), _) if a == to => format!(
            "The hospital data hold no admissions after {}, so {span} {are} left out: {their} beds, patients ready to leave and discharges would count only patients admitted by then.",
            format::day(to)
        ),
        (_, Some(d)) if d == to => format!(
            "The hospital data hold no discharges after {}, so {span} {are} left out: {their} figures would be incomplete.",
            format::day(to)
        ),
        _ => format!(
            "The hospital data are complete only to {}, so {span} {are} left out.",
            format::day(to)
        ),
    })
}

pub fn section(cx: &Context) -> Section {
    let (Some(all), Some(p)) = (&cx.data.flow, cx.period) else {
        return missing(ID, TITLE, "published/flow_daily", cx.data.flow.is_some());
    };
    // From every row: a month's days outside the period tell whether it is small.
    let hidden = FlowHidden::new(cx.data.bounds(Dataset::FlowDaily), all);
    // Only the days the hospital data cover completely: after the last admission (or the
    // last discharge), beds and patients ready to leave count only some patients, and
    // admissions would read as real zeros (regression: the sample's October, with
    // admissions to 30 September only, showed admissions 0 and beds falling).
    let end = p.data_end;
    let rows: Vec<&FlowDay> = all
        .iter()
        .filter(|r| r.date >= p.first_month && end.is_none_or(|e| r.date <= e))
        .collect();
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
        &peak(&rows, FlowColumn::OccupiedBedsMidnight, &hidden),
        &peak(&rows, FlowColumn::ReadyToLeaveInHospital, &hidden),
    );

    let mut body = String::new();
    if let Some(note) = left_out(all, to) {
        body.push_str(&html::para("note", &note));
    }
    // Discharges but no admissions on any day: the admissions are not known, not zero
    // (regression, review: the sample's October alone showed admissions 0 every day).
    let no_admissions = p.no_admissions();
    if no_admissions {
        body.push_str(&html::para(
            "note",
            "The hospital data hold discharges but no admissions, so they are not known to be complete: admissions are not shown (– in the tables), and beds and patients ready to leave count only patients admitted before the data begin.",
        ));
    }
    let adm = |c: Cell<i64>| if no_admissions { Cell::Empty } else { c };
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
            series_of("Admissions", GREEN, Some("2 3"), &|r| adm(admissions(r))),
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
                    let cell = |c: FlowColumn| td(r.get(c), hidden.of(r, c), format::int);
                    let admitted = |c: FlowColumn| td(adm(r.get(c)), hidden.of(r, c), format::int);
                    vec![
                        Td::Head(r.date.format("%Y-%m-%d").to_string()),
                        cell(FlowColumn::OccupiedBedsMidnight),
                        cell(FlowColumn::ReadyToLeaveInHospital),
                        admitted(FlowColumn::AdmissionsElective),
                        admitted(FlowColumn::AdmissionsEmergency),
                        admitted(FlowColumn::AdmissionsOther),
                        cell(FlowColumn::Discharges),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::data::ReportData;
    use crate::report::period::Period;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    /// Regression (review): the sample's hospital extract holds spells admitted to 30
    /// September; its daily rows run to 27 October with discharges only, and the flow
    /// section showed every October day with admissions 0 and occupied beds falling, as
    /// if real, under "data to 27 October 2026".
    #[test]
    fn regression_days_after_the_last_admission_are_left_out_not_shown_as_zeros() {
        let mut rows = Vec::new();
        let mut x = d(7, 1);
        while x <= d(10, 27) {
            let admitting = x <= d(9, 30);
            let c = |v: i64| Cell::Shown(if admitting { v } else { 0 });
            rows.push(FlowDay {
                provider_code: "RX1".to_string(),
                date: x,
                admissions_elective: c(10),
                admissions_emergency: c(10),
                admissions_other: Cell::Shown(0),
                discharges: Cell::Shown(10),
                occupied_beds_midnight: Cell::Shown(if admitting { 60 } else { 20 }),
                ready_to_leave_in_hospital: Cell::Shown(10),
                ae_arrivals: Cell::Shown(100),
                ae_over_4h: Cell::Shown(10),
                ae_over_12h: Cell::Shown(0),
            });
            x = x.succ_opt().unwrap();
        }
        let data = ReportData {
            flow: Some(rows),
            ..Default::default()
        };
        let cx = Context {
            data: &data,
            period: Period::choose(&data),
            icb: None,
        };
        let s = section(&cx);
        assert_eq!(s.period, "each day, 1 July – 30 September 2026");
        assert!(
            s.reading
                .starts_with("Between 1 July 2026 and 30 September 2026, "),
            "{}",
            s.reading
        );
        assert!(
            s.body.contains(
                "The hospital data hold no admissions after 30 September 2026, so the 27 days after it, to 27 October 2026, are left out: their beds, patients ready to leave and discharges would count only patients admitted by then."
            ),
            "{}",
            s.body
        );
        assert!(s.body.contains("<th scope=\"row\">2026-09-30</th>"));
        assert!(!s.body.contains("2026-10-"), "{}", s.body);
    }

    /// Regression (review): with discharges but no admissions in the daily data (the
    /// sample's October alone), the flow table showed admissions 0 every day, as if real.
    #[test]
    fn regression_admissions_are_not_shown_as_zeros_when_the_data_hold_none() {
        let rows: Vec<FlowDay> = (1..=27)
            .map(|day| FlowDay {
                provider_code: "RX1".to_string(),
                date: d(10, day),
                admissions_elective: Cell::Shown(0),
                admissions_emergency: Cell::Shown(0),
                admissions_other: Cell::Shown(0),
                discharges: Cell::Shown(10),
                occupied_beds_midnight: Cell::Shown(20),
                ready_to_leave_in_hospital: Cell::Shown(10),
                ae_arrivals: Cell::Shown(0),
                ae_over_4h: Cell::Shown(0),
                ae_over_12h: Cell::Shown(0),
            })
            .collect();
        let data = ReportData {
            flow: Some(rows),
            ..Default::default()
        };
        let cx = Context {
            data: &data,
            period: Period::choose(&data),
            icb: None,
        };
        let s = section(&cx);
        assert!(
            s.body.contains("The hospital data hold discharges but no admissions, so they are not known to be complete"),
            "{}",
            s.body
        );
        assert!(
            s.body.contains("<th scope=\"row\">2026-10-01</th><td class=\"num\">20</td><td class=\"num\">10</td><td class=\"num empty\">–</td><td class=\"num empty\">–</td><td class=\"num empty\">–</td><td class=\"num\">10</td>"),
            "{}",
            s.body
        );
    }

    /// Regression (review): "so the day after it, to 30 March 2025, are left out".
    #[test]
    fn regression_one_day_left_out_is_singular() {
        let row = |date: NaiveDate, admissions: i64| FlowDay {
            provider_code: "RX1".to_string(),
            date,
            admissions_elective: Cell::Shown(0),
            admissions_emergency: Cell::Shown(admissions),
            admissions_other: Cell::Shown(0),
            discharges: Cell::Shown(10),
            occupied_beds_midnight: Cell::Shown(20),
            ready_to_leave_in_hospital: Cell::Shown(10),
            ae_arrivals: Cell::Shown(0),
            ae_over_4h: Cell::Shown(0),
            ae_over_12h: Cell::Shown(0),
        };
        let all = vec![row(d(3, 29), 5), row(d(3, 30), 0)];
        assert_eq!(
            left_out(&all, d(3, 29)).as_deref(),
            Some(
                "The hospital data hold no admissions after 29 March 2026, so the day after it, to 30 March 2026, is left out: its beds, patients ready to leave and discharges would count only patients admitted by then."
            )
        );
    }

    /// Regression (re-review): every suppressed day read "suppressed (1–7)", a small
    /// provider-month's zeros too. A provider with a count shown in the month is not
    /// small: its suppressed days are 1–7; a provider all of whose days are suppressed
    /// may be small: 0–49.
    #[test]
    fn regression_a_small_provider_month_s_days_read_0_to_49_the_others_1_to_7() {
        let row = |provider: &str, day: u32, c: Cell<i64>| FlowDay {
            provider_code: provider.to_string(),
            date: d(9, day),
            admissions_elective: c,
            admissions_emergency: if provider == "RX1" {
                Cell::Shown(10)
            } else {
                c
            },
            admissions_other: c,
            discharges: if provider == "RX1" {
                Cell::Shown(10)
            } else {
                c
            },
            occupied_beds_midnight: c,
            ready_to_leave_in_hospital: c,
            ae_arrivals: Cell::Shown(0),
            ae_over_4h: Cell::Shown(0),
            ae_over_12h: Cell::Shown(0),
        };
        let mut rows = Vec::new();
        for day in 1..=30 {
            let large = if day == 2 {
                Cell::Suppressed
            } else {
                Cell::Shown(40)
            };
            rows.push(row("RX1", day, large));
            rows.push(row("RX9", day, Cell::Suppressed));
        }
        let mut data = ReportData::with_outputs(serde_json::json!([{
            "dataset": "flow_daily",
            "access": "published",
            "rows": 60,
            "disclosure": {"rule": "threshold", "min_shown": 8, "round_to": 5},
            "small_populations": {"daily_min_patients": 50, "counts_below_minimum": true},
        }]));
        data.flow = Some(rows);
        let cx = Context {
            data: &data,
            period: Period::choose(&data),
            icb: None,
        };
        let s = section(&cx);
        let seven = "<td class=\"num sup\">suppressed (1–7)</td>";
        let forty_nine = "<td class=\"num sup\">suppressed (0–49)</td>";
        assert!(
            s.body.contains(&format!(
                "<th scope=\"row\">2026-09-02</th>{seven}{seven}{seven}<td class=\"num\">10</td>{seven}<td class=\"num\">10</td>"
            )),
            "{}",
            s.body
        );
        assert!(
            s.body.contains(&format!(
                "<th scope=\"row\">2026-09-02</th>{}",
                forty_nine.repeat(6)
            )),
            "{}",
            s.body
        );
        assert_eq!(
            s.reading,
            "Between 1 September 2026 and 30 September 2026, occupied beds at midnight peaked at 40 on 29 days (first RX1, 1 September 2026) among the days shown (31 days suppressed, 0 to 49 each), and the most patients ready to leave but still in hospital on one day was 40 on 29 days (first RX1, 1 September 2026) among the days shown (31 days suppressed, 0 to 49 each)."
        );
    }

    /// Tied peaks: counted, and the earliest day named (regression, review: one was
    /// named as if alone).
    #[test]
    fn regression_tied_peaks_are_counted_and_the_first_is_named() {
        let row = |day: u32, provider: &str, beds: i64| FlowDay {
            provider_code: provider.to_string(),
            date: d(3, day),
            admissions_elective: Cell::Shown(0),
            admissions_emergency: Cell::Shown(0),
            admissions_other: Cell::Shown(0),
            discharges: Cell::Shown(0),
            occupied_beds_midnight: Cell::Shown(beds),
            ready_to_leave_in_hospital: Cell::Shown(0),
            ae_arrivals: Cell::Shown(0),
            ae_over_4h: Cell::Shown(0),
            ae_over_12h: Cell::Shown(0),
        };
        let rows = [row(2, "RX1", 70), row(3, "RX2", 75), row(1, "RX1", 75)];
        let refs: Vec<&FlowDay> = rows.iter().collect();
        let data = ReportData::default();
        let hidden = FlowHidden::new(data.bounds(Dataset::FlowDaily), &rows);
        let p = peak(&refs, FlowColumn::OccupiedBedsMidnight, &hidden);
        assert_eq!(p.shown, Some((75, "RX1".to_string(), d(3, 1))));
        assert_eq!((p.ties, p.suppressed), (1, 0));
    }
}
