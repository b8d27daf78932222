//! Section 5, A&E: attendances lasting more than 4 and more than 12 hours, by month,
//! added up from the published daily figures (`published/flow_daily`). A day whose figure
//! is suppressed stands for what its reason allows ([`FlowHidden`]: 1 to 7 under the HES
//! rule; 0 to 49 in a month its provider had fewer than 50 A&E patients; from 0 with no
//! top when the manifest does not say), so a month with such days is a range: the known
//! part drawn solid, the uncertain part hatched.

use chrono::NaiveDate;

use super::super::data::{Cell, FlowColumn, FlowDay};
use super::super::format::{self, Bounded};
use super::super::hidden::FlowHidden;
use super::super::html::{self, Section, Table, Td};
use super::super::palette::{BLUE, PINK};
use super::super::period::{covered_label, month_end, month_start};
use super::super::svg::{self, Bar, BarChart, BarValue};
use super::super::text;
use super::{Context, missing};
use crate::publish::Dataset;

const ID: &str = "ae";
const TITLE: &str = "A&E long waits";

/// Days of a month total whose figure is not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Unshown {
    /// Days whose figure is suppressed (each within what its reason allows).
    pub suppressed: usize,
    /// Days with no figure at all (null, not suppressed): anything from 0 up.
    pub empty: usize,
}

/// The month's total of `column` over every provider and day: shown values added, each
/// suppressed day counted within what its reason allows (`hidden`: regression,
/// re-review: a small provider-month's suppressed zeros were counted as 1 to 7 each, and
/// "714–1,128 arrivals" stood for 710), and a day with no figure as 0 with no top
/// (regression, review: such days were skipped and the total said to be exact).
pub fn month_total(
    rows: &[FlowDay],
    month: NaiveDate,
    column: FlowColumn,
    hidden: &FlowHidden,
) -> (Bounded, Unshown) {
    let (mut total, mut days) = (Bounded::exact(0), Unshown::default());
    for r in rows.iter().filter(|r| month_start(r.date) == month) {
        match r.get(column) {
            Cell::Shown(_) => {}
            Cell::Suppressed => days.suppressed += 1,
            Cell::Empty => days.empty += 1,
        }
        total = total.plus(hidden.in_sum(r, column));
    }
    (total, days)
}

/// What a suppressed day counts as in the totals, in words: `1 to 7, or 0 to 49 in a
/// month its provider had fewer than 50 A&E patients`.
fn suppressed_day(hidden: &FlowHidden) -> String {
    let range = |b: Bounded| match b.high {
        Some(h) => format!("{} to {}", format::int(b.low), format::int(h)),
        None if b.low > 0 => format!("at least {}", format::int(b.low)),
        None => "any number from 0 up".to_string(),
    };
    let bounds = hidden.bounds();
    let mut words = range(bounds.not_small(FlowColumn::AeArrivals.name()).in_sum());
    if let Some(small) = bounds.small_population() {
        let fewer = match bounds.recorded().small_populations {
            Some(s) => format!(
                "fewer than {} A&E patients",
                format::int(s.daily_min_patients)
            ),
            None => "too few A&E patients for its days to be shown".to_string(),
        };
        words.push_str(&format!(
            ", or {} in a month its provider had {fewer} (every figure of that month suppressed)",
            range(small)
        ));
    }
    words
}

fn bar(label: String, b: Bounded, colour: &'static str) -> Bar {
    let value = if b.is_exact() {
        BarValue::Value(b.low as f64)
    } else {
        BarValue::Range {
            low: b.low as f64,
            high: b.high.map(|h| h as f64),
        }
    };
    Bar {
        label,
        value,
        whisker: None,
        colour,
        text: format::bounded(b),
    }
}

fn td(b: Bounded, days: Unshown) -> Td {
    if b.is_exact() {
        return Td::Num(format::int(b.low));
    }
    let n = |k: usize| format!("{k} {}", if k == 1 { "day" } else { "days" });
    let mut why = Vec::new();
    if days.suppressed > 0 {
        why.push(format!("{} suppressed", n(days.suppressed)));
    }
    if days.empty > 0 {
        why.push(format!("{} without a figure", n(days.empty)));
    }
    Td::Num(format!("{} ({})", format::bounded(b), why.join(", ")))
}

pub fn section(cx: &Context) -> Section {
    let (Some(rows), Some(p)) = (&cx.data.flow, cx.period) else {
        return missing(ID, TITLE, "published/flow_daily", cx.data.flow.is_some());
    };
    let hidden = FlowHidden::new(cx.data.bounds(Dataset::FlowDaily), rows);
    // Without a manifest the rule is not known: published counts are taken as rounded
    // (the default rule rounds them), so their totals are never stated as hard bounds.
    let rounded = cx.data.round_to("flow_daily").is_none_or(|r| r > 1);
    // The first and last days any A&E arrival was published (a suppressed day had some):
    // before and after them the zeros of `flow_daily` mean no A&E data, not no
    // attendances.
    let ae_days: Vec<NaiveDate> = rows
        .iter()
        .filter(|r| {
            matches!(r.ae_arrivals, Cell::Suppressed)
                || r.ae_arrivals.shown().is_some_and(|v| v > 0)
        })
        .map(|r| r.date)
        .collect();
    let (ae_start, ae_end) = (ae_days.iter().min().copied(), ae_days.iter().max().copied());
    // No A&E arrival on any day: no A&E data (a pipeline without an A&E source), not
    // months of no attendances (regression, review: "No A&E attendances were published
    // for March 2026" under "A&E arrivals by month, January 2026 to March 2026").
    if ae_end.is_none() {
        return Section {
            id: ID,
            title: TITLE.to_string(),
            period: "none".to_string(),
            reading: text::no_ae_data(),
            body: String::new(),
        };
    }
    let covered = |m: NaiveDate| {
        ae_start.is_some_and(|start| month_end(m) >= start) && ae_end.is_some_and(|end| m <= end)
    };
    let months = p.months();
    let mut bars = Vec::new();
    let mut table_rows = Vec::new();
    let mut headline = None;
    for m in &months {
        if !covered(*m) {
            let note = "no A&E data".to_string();
            for what in ["over 4 hours", "over 12 hours"] {
                bars.push(Bar {
                    label: format!("{} · {what}", format::month_short(*m)),
                    value: BarValue::Empty,
                    whisker: None,
                    colour: BLUE,
                    text: note.clone(),
                });
            }
            table_rows.push(vec![
                Td::Head(format::month(*m)),
                Td::Empty(note.clone()),
                Td::Empty(note.clone()),
                Td::Empty(note),
            ]);
            continue;
        }
        // The days of the month the A&E data cover: their own start and end, not the
        // hospital data's (regression: ECDS ending on 15 September read "September
        // 2026", "out of 348–366 arrivals", as if whole).
        let (from, to) = (
            ae_start.map_or(*m, |s| s.max(*m)),
            ae_end.map_or(month_end(*m), |e| e.min(month_end(*m))),
        );
        let part = (from > *m || to < month_end(*m)).then_some((from, to));
        let label = covered_label(*m, from, to, format::month_short);
        let (arrivals, da) = month_total(rows, *m, FlowColumn::AeArrivals, &hidden);
        let (over_4h, d4) = month_total(rows, *m, FlowColumn::AeOver4h, &hidden);
        let (over_12h, d12) = month_total(rows, *m, FlowColumn::AeOver12h, &hidden);
        bars.push(bar(format!("{label} · over 4 hours"), over_4h, BLUE));
        bars.push(bar(format!("{label} · over 12 hours"), over_12h, PINK));
        table_rows.push(vec![
            Td::Head(covered_label(*m, from, to, format::month)),
            td(arrivals, da),
            td(over_4h, d4),
            td(over_12h, d12),
        ]);
        if *m == p.month {
            headline = Some((part, arrivals, over_4h, over_12h));
        }
    }
    let reading = match (headline, ae_end) {
        (Some((part, a, o4, o12)), _) => text::ae(p.month, part, a, o4, o12, rounded),
        (None, Some(end)) => text::ae_not_covered(p.month, end),
        (None, None) => text::no_ae_data(),
    };
    let table = Table {
        id: "table-ae".to_string(),
        caption: "A&E attendances and long waits by month, all providers".to_string(),
        head: [
            "Month",
            "Arrivals",
            "More than 4 hours",
            "More than 12 hours",
        ]
        .map(String::from)
        .to_vec(),
        rows: table_rows,
    };
    let svg = svg::bar_chart(&BarChart {
        id: "chart-ae",
        title: "A&E attendances lasting more than 4 and 12 hours, by month",
        desc: &format!(
            "Bar chart of A&E attendances lasting more than 4 hours and more than 12 hours in each month, {}. A hatched end shows the range left open by suppressed days. {reading}",
            format::months(p.first_month, p.last_month)
        ),
        unit: "attendances",
        bars: &bars,
    });
    let rounding = match cx.data.round_to("flow_daily") {
        Some(r) if r > 1 => {
            format!("; those are rounded to the nearest {r}, so totals are approximate")
        }
        Some(_) => String::new(),
        None => "; those may be rounded (no run manifest says how), so totals are approximate"
            .to_string(),
    };
    let note = format!(
        "Monthly totals add up the published daily figures of every provider{rounding}. A day whose figure is suppressed counts as {}, which makes the total a range (hatched).",
        suppressed_day(&hidden)
    );
    Section {
        id: ID,
        title: TITLE.to_string(),
        period: format!(
            "A&E arrivals by month, {}",
            format::months(p.first_month, p.last_month)
        ),
        reading,
        body: html::chart(
            "A&E attendances lasting more than 4 and more than 12 hours",
            &svg,
            &table,
            &note,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::data::ReportData;

    /// The section as the report writes it from `data`, in the month it chooses.
    fn section_of(data: ReportData) -> Section {
        let cx = Context {
            data: &data,
            period: crate::report::period::Period::choose(&data),
            icb: None,
        };
        section(&cx)
    }

    fn day(date: u32, over_4h: Cell<i64>) -> FlowDay {
        let c = Cell::Shown(0);
        FlowDay {
            provider_code: "RX1".to_string(),
            date: NaiveDate::from_ymd_opt(2026, 9, date).unwrap(),
            admissions_elective: c,
            admissions_emergency: c,
            admissions_other: c,
            discharges: c,
            occupied_beds_midnight: c,
            ready_to_leave_in_hospital: c,
            ae_arrivals: Cell::Shown(100),
            ae_over_4h: over_4h,
            ae_over_12h: c,
        }
    }

    /// `flow_daily` written under the HES rule, with `small` its population rule
    /// (daily_min_patients, every count below it) when recorded.
    fn hes(small: Option<(i64, bool)>) -> ReportData {
        let mut output = serde_json::json!({
            "dataset": "flow_daily",
            "access": "published",
            "rows": 0,
            "disclosure": {"rule": "threshold", "min_shown": 8, "round_to": 5},
        });
        if let Some((d, below)) = small {
            output["small_populations"] = serde_json::json!({
                "daily_min_patients": d,
                "counts_below_minimum": below,
            });
        }
        ReportData::with_outputs(serde_json::json!([output]))
    }

    #[test]
    fn suppressed_days_make_a_range_never_a_zero() {
        let m = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        let rows = vec![
            day(1, Cell::Shown(10)),
            day(2, Cell::Suppressed),
            day(3, Cell::Suppressed),
            day(4, Cell::Shown(0)),
        ];
        let data = hes(Some((50, true)));
        let hidden = FlowHidden::new(data.bounds(Dataset::FlowDaily), &rows);
        let (b, n) = month_total(&rows, m, FlowColumn::AeOver4h, &hidden);
        assert_eq!(
            (b, n.suppressed, n.empty),
            (
                Bounded {
                    low: 12,
                    high: Some(24)
                },
                2,
                0
            )
        );
        let unknown = ReportData::default();
        let hidden = FlowHidden::new(unknown.bounds(Dataset::FlowDaily), &rows);
        let (b, _) = month_total(&rows, m, FlowColumn::AeOver4h, &hidden);
        assert_eq!(
            b,
            Bounded {
                low: 12,
                high: None
            }
        );
        let (b, n) = month_total(&rows, m, FlowColumn::AeArrivals, &hidden);
        assert_eq!(
            (b, n),
            (
                Bounded {
                    low: 400,
                    high: Some(400)
                },
                Unshown::default()
            )
        );
    }

    /// Regression (review): a day with no figure (null, not flagged suppressed) was
    /// skipped and the month's total reported as exact.
    #[test]
    fn regression_a_day_without_a_figure_makes_the_month_total_open_not_exact() {
        let m = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        let rows = vec![
            day(1, Cell::Shown(10)),
            day(2, Cell::Empty),
            day(3, Cell::Suppressed),
        ];
        let data = hes(Some((50, true)));
        let hidden = FlowHidden::new(data.bounds(Dataset::FlowDaily), &rows);
        let (b, n) = month_total(&rows, m, FlowColumn::AeOver4h, &hidden);
        assert_eq!(
            (b, n),
            (
                Bounded {
                    low: 11,
                    high: None
                },
                Unshown {
                    suppressed: 1,
                    empty: 1
                }
            )
        );
        assert!(!b.is_exact());
        assert_eq!(
            td(b, n),
            Td::Num("at least 11 (1 day suppressed, 1 day without a figure)".to_string())
        );
    }

    /// September 2026's rows of a large provider, RX1 (arrivals 24 a day, one day of 2
    /// suppressed), and a small one, RX9 (fewer than 50 A&E patients: every A&E figure
    /// suppressed, 27 days of 0 and 3 of 4): 696 + 2 + 12 = 710 arrivals.
    fn large_and_small_provider() -> Vec<FlowDay> {
        let mut rows = Vec::new();
        for date in 1..=30 {
            let mut r = day(date, Cell::Shown(3));
            r.admissions_emergency = Cell::Shown(5);
            r.discharges = Cell::Shown(5);
            r.ae_arrivals = if date == 30 {
                Cell::Suppressed
            } else {
                Cell::Shown(24)
            };
            rows.push(r);
            let mut small = day(date, Cell::Suppressed);
            small.provider_code = "RX9".to_string();
            small.ae_arrivals = Cell::Suppressed;
            small.ae_over_12h = Cell::Suppressed;
            rows.push(small);
        }
        rows
    }

    /// Regression (re-review): a small provider-month's suppressed days, zeros included,
    /// were added as 1–7 each, so the range given for a month's arrivals lay above the
    /// true count ("714–1,128 arrivals" for 710). Here 710 arrivals were said to be
    /// 727–913; each RX9 day is 0 to 49 and RX1's suppressed day 1 to 7: 697–2,173,
    /// which holds them.
    #[test]
    fn regression_a_small_provider_month_s_suppressed_zeros_keep_the_true_total_in_range() {
        let rows = large_and_small_provider();
        let m = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        let data = hes(Some((50, true)));
        let hidden = FlowHidden::new(data.bounds(Dataset::FlowDaily), &rows);
        let (arrivals, n) = month_total(&rows, m, FlowColumn::AeArrivals, &hidden);
        assert_eq!(
            (arrivals, n.suppressed),
            (
                Bounded {
                    low: 697,
                    high: Some(2_173)
                },
                31
            )
        );
        assert!((arrivals.low..=arrivals.high.unwrap()).contains(&710));
        let s = section_of(ReportData {
            flow: Some(rows),
            ..data
        });
        assert_eq!(
            s.reading,
            "In September 2026, roughly between 90 and 1,560 A&E attendances lasted more than 4 hours and between 0 and 1,470 more than 12 hours, out of 697–2,173 arrivals (added up from rounded daily figures)."
        );
        assert!(
            s.body.contains(
                "A day whose figure is suppressed counts as 1 to 7, or 0 to 49 in a month its provider had fewer than 50 A&amp;E patients (every figure of that month suppressed), which makes the total a range (hatched)."
            ),
            "{}",
            s.body
        );
    }

    /// Regression (re-review): with a manifest from before the population rule was
    /// recorded, a small provider-month's days have no known top: the total is "at
    /// least", never a range claiming 1–7 a day.
    #[test]
    fn regression_an_older_manifest_without_daily_min_patients_gives_no_top() {
        let rows = large_and_small_provider();
        let m = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        let data = hes(None);
        let hidden = FlowHidden::new(data.bounds(Dataset::FlowDaily), &rows);
        let (arrivals, _) = month_total(&rows, m, FlowColumn::AeArrivals, &hidden);
        assert_eq!(
            arrivals,
            Bounded {
                low: 697,
                high: None
            }
        );
        let s = section_of(ReportData {
            flow: Some(rows),
            ..data
        });
        assert!(
            s.reading
                .ends_with("out of at least 697 arrivals (added up from rounded daily figures)."),
            "{}",
            s.reading
        );
        assert!(
            s.body.contains(
                "counts as 1 to 7, or any number from 0 up in a month its provider had too few A&amp;E patients for its days to be shown (every figure of that month suppressed)"
            ),
            "{}",
            s.body
        );
    }

    /// Regression (review): with no A&E source the section read "No A&E attendances were
    /// published for March 2026" under "A&E arrivals by month, January 2026 to March
    /// 2026", as if there had been none.
    #[test]
    fn regression_without_ae_data_the_section_says_there_are_none() {
        let mut rows = Vec::new();
        for date in 1..=30 {
            let mut r = day(date, Cell::Shown(0));
            r.ae_arrivals = Cell::Shown(0);
            r.admissions_emergency = Cell::Shown(10);
            r.discharges = Cell::Shown(10);
            rows.push(r);
        }
        let s = section_of(ReportData {
            flow: Some(rows),
            ..Default::default()
        });
        assert_eq!(s.period, "none");
        assert_eq!(
            s.reading,
            "There are no A&E data: the published daily figures hold no A&E arrivals on any day, so there is nothing to show here."
        );
        assert_eq!(s.body, "");
    }

    /// Regression (review): a month before the A&E data start read as real zeros ("July
    /// 2026 | 0 | 0 | 0"), while months after their end said "no A&E data".
    #[test]
    fn regression_months_before_the_ae_data_start_have_no_ae_data() {
        use chrono::Datelike;
        let mut rows = Vec::new();
        // Daily data from 1 July to 30 September; A&E arrivals from 1 September only.
        let mut x = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        while x <= NaiveDate::from_ymd_opt(2026, 9, 30).unwrap() {
            let mut r = day(1, Cell::Shown(0));
            r.date = x;
            r.ae_arrivals = Cell::Shown(if x.month() == 9 { 100 } else { 0 });
            rows.push(r);
            x = x.succ_opt().unwrap();
        }
        let s = section_of(ReportData {
            flow: Some(rows),
            ..Default::default()
        });
        // Regression (review): without a manifest the rounding is unknown, and totals of
        // rounded daily figures were stated as hard bounds ("at least 66").
        assert!(s.reading.contains("roughly"), "{}", s.reading);
        let body = s.body;
        assert!(
            body.contains(
                "<th scope=\"row\">July 2026</th><td class=\"num empty\">no A&amp;E data</td>"
            ),
            "{body}"
        );
        assert!(
            !body.contains("<th scope=\"row\">September 2026</th><td class=\"num empty\">"),
            "{body}"
        );
    }

    /// Regression (review): with A&E data to 15 September only (the hospital data to 30
    /// September), the reading said "In September 2026, … out of 348–366 arrivals" and
    /// the table row "September 2026", as if the month were whole: the label knew only
    /// the daily data's end, not the A&E data's.
    #[test]
    fn regression_a_month_the_ae_data_cover_in_part_says_so() {
        let mut rows = Vec::new();
        let mut x = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
        while x <= NaiveDate::from_ymd_opt(2026, 9, 30).unwrap() {
            let mut r = day(1, Cell::Shown(10));
            r.date = x;
            r.discharges = Cell::Shown(5);
            r.admissions_emergency = Cell::Shown(5);
            if x > NaiveDate::from_ymd_opt(2026, 9, 15).unwrap() {
                r.ae_arrivals = Cell::Shown(0);
                r.ae_over_4h = Cell::Shown(0);
            }
            rows.push(r);
            x = x.succ_opt().unwrap();
        }
        let data = ReportData {
            flow: Some(rows),
            ..Default::default()
        };
        let cx = Context {
            data: &data,
            period: crate::report::period::Period::choose(&data),
            icb: None,
        };
        assert_eq!(
            cx.period.map(|p| p.month),
            NaiveDate::from_ymd_opt(2026, 9, 1)
        );
        let s = section(&cx);
        assert_eq!(
            s.reading,
            "In September 2026 (A&E data for 1–15 September 2026 only), roughly 150 A&E attendances lasted more than 4 hours and 0 more than 12 hours, out of 1,500 arrivals (added up from rounded daily figures)."
        );
        assert!(
            s.body.contains(
                "<th scope=\"row\">September 2026 (to 15 Sep)</th><td class=\"num\">1,500</td>"
            ),
            "{}",
            s.body
        );
        assert!(
            s.body
                .contains("<th scope=\"row\">August 2026</th><td class=\"num\">3,100</td>"),
            "{}",
            s.body
        );
        assert!(s.body.contains("Sep 2026 (to 15 Sep) · over 4 hours"));
    }
}
