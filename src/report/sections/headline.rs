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
use super::{Context, missing, td};
use crate::publish::Dataset;

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
    /// The month's total less the groups awaiting no service, over the total: every
    /// group awaiting none is shown. Percent.
    About(f64),
    /// Some group awaiting no service is suppressed: the share lies between the shown
    /// groups awaiting a service over the total (`low`) and the total less the shown
    /// groups awaiting none over the total (`high`). Percent.
    Range { low: f64, high: f64 },
    /// Not known, and why.
    Unknown(&'static str),
}

impl Share {
    /// `about 86%`, `between 31% and 86%`, `up to 86%` (no group awaiting a service
    /// shown), or `not known`. A range whose ends round alike is `about`.
    pub fn value(self) -> String {
        match self {
            Share::About(pct) => format!("about {}%", pct.round()),
            Share::Range { low, high } if low.round() == high.round() => {
                format!("about {}%", high.round())
            }
            Share::Range { low, high } if low.round() == 0.0 => {
                format!("up to {}%", high.round())
            }
            Share::Range { low, high } => {
                format!("between {}% and {}%", low.round(), high.round())
            }
            Share::Unknown(_) => "not known".to_string(),
        }
    }

    /// Whether the share is given as a range (some group awaiting no service is
    /// suppressed).
    pub fn is_range(self) -> bool {
        matches!(self, Share::Range { low, high } if low.round() != high.round())
    }
}

/// Percentage of the month's delayed bed-days spent waiting for a social-care service.
///
/// Every delayed discharge of the month is in exactly one group (council × awaited
/// service × provider), and the month's total is their sum, so the share waiting for a
/// service is the total less the groups awaiting none (`awaited_service = "none"`: no
/// linked social-care service), over the total. When the total and every group awaiting
/// none are shown, that is the share, whatever groups awaiting a service are suppressed.
/// When a group awaiting none is suppressed, the share is given as a range: from the
/// shown groups awaiting a service over the total (a suppressed group awaiting one only
/// adds to it) to the total less the shown groups awaiting none over the total (a
/// suppressed group awaiting none only takes from it).
///
/// What this discloses: each figure is worked out from shown cells of
/// `published/bottlenecks` alone — the month's total and shown groups' bed-days —
/// never from a suppressed cell, and it is rounded to a whole percent, coarser than those
/// cells. For the headline month those cells are printed on this page (the total in
/// section 1, every group in section 2's table), so a reader can already work out
/// (480 − 40 − 25) / 480 = 86% from the page; for the other months they are in the same
/// published, disclosure-controlled dataset the page is built from. The share therefore
/// tells nothing the published data does not already show. (The residue, total less every
/// shown group, is the sum of the suppressed groups as the published cells let anyone
/// work it out; protecting it, if it needs protecting, is the disclosure gate's job, not
/// the report's, which neither hides nor adds to it.) The earlier rule, adding up only
/// the shown groups awaiting a service, turned this into a figure that swung with which
/// groups happened to be suppressed (5%, 42%, 31% in successive months of the sample,
/// against about 86% true).
pub fn social_care_share(rows: &[Bottleneck], month: NaiveDate) -> Share {
    let total = match month_total(rows, month) {
        Cell::Shown(t) if t > 0 => t,
        Cell::Shown(_) => return Share::Unknown("no delayed bed-days this month"),
        Cell::Suppressed => return Share::Unknown("the month's total is suppressed"),
        Cell::Empty => return Share::Unknown("no delays published for this month"),
    };
    let (mut care_shown, mut none_shown, mut none_suppressed) = (0, 0, false);
    for r in rows.iter().filter(|r| r.month == month) {
        match (r.awaited_service == "none", r.delayed_bed_days) {
            (true, Cell::Shown(v)) => none_shown += v,
            (true, Cell::Suppressed) => none_suppressed = true,
            (false, Cell::Shown(v)) => care_shown += v,
            (_, Cell::Suppressed | Cell::Empty) => {}
        }
    }
    let pct = |v: i64| (v as f64 / total as f64 * 100.0).clamp(0.0, 100.0);
    let high = pct(total - none_shown);
    let low = pct(care_shown).min(high);
    if none_suppressed && low.round() == 0.0 && high.round() == 100.0 {
        // "Up to 100%" would say nothing.
        return Share::Unknown("too many groups are suppressed to tell");
    }
    if none_suppressed {
        // Rounded cells can make the shown groups add up to more than the total.
        Share::Range { low, high }
    } else {
        Share::About(high)
    }
}

/// The "Change on {previous month}" card: its value and the line under it, each case
/// with its own reason (regression, review: with no delays published for the headline
/// month, it said "a monthly total is suppressed" though nothing was). `previous` is the
/// month before and its total, `None` when it has no rows; `incomplete` says why the
/// month before is incomplete, when it is (it is then no baseline).
pub fn change_card(
    (month, total): (NaiveDate, Cell<i64>),
    (prev, prev_total): (NaiveDate, Option<Cell<i64>>),
    incomplete: Option<&str>,
) -> (String, String) {
    let (m, pm) = (format::month(month), format::month(prev));
    let not_known = |why: String| ("not known".to_string(), why);
    match (total, prev_total) {
        (Cell::Empty, _) => (
            format::EMPTY.to_string(),
            format!("no delayed discharges published for {m}"),
        ),
        (_, None) => (format::EMPTY.to_string(), format!("no figures for {pm}")),
        (_, Some(_)) if incomplete.is_some() => (
            "not compared".to_string(),
            incomplete.unwrap_or_default().to_string(),
        ),
        (Cell::Shown(t), Some(Cell::Shown(pt))) => {
            let pct = if pt > 0 {
                format!(" ({})", format::share_pct(t - pt, pt))
            } else {
                String::new()
            };
            (
                format!("{}{pct}", format::signed(t - pt)),
                format!("{} in {pm}", format::int(pt)),
            )
        }
        (Cell::Suppressed, Some(Cell::Suppressed)) => {
            not_known(format!("the totals of {m} and {pm} are suppressed"))
        }
        (Cell::Suppressed, Some(_)) => not_known(format!("the total of {m} is suppressed")),
        (Cell::Shown(_), Some(Cell::Suppressed)) => {
            not_known(format!("the total of {pm} is suppressed"))
        }
        (Cell::Shown(_), Some(Cell::Empty)) => not_known(format!("no total published for {pm}")),
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
    let bounds = cx.data.bounds(Dataset::Bottlenecks);
    let (bed_days_hidden, discharges_hidden) = (
        bounds.of("system_delayed_bed_days"),
        bounds.of("system_delayed_discharges"),
    );
    let month = p.month;
    let prev = p.previous_month();
    let total = month_total(rows, month);
    let prev_total = month_total(rows, prev);
    // After the social-care data end, no delay can be seen to wait for a care service.
    let share = social_care_share(rows, month);
    let has_prev = rows.iter().any(|r| r.month == prev);
    // A month the hospital data cover only in part (the first month of the extract) is
    // no baseline: its delays are undercounted, so a change on it would be false.
    let prev_incomplete = p.incomplete_note(prev);
    let compared = has_prev && prev_incomplete.is_none();

    let change = change_card(
        (month, total),
        (prev, has_prev.then_some(prev_total)),
        prev_incomplete.as_deref(),
    );
    let tiles = html::tiles(&[
        (
            "Delayed bed-days".to_string(),
            format::count_cell(total, bed_days_hidden),
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
                (Share::Unknown(why), None) => why.to_string(),
                (share, None) if share.is_range() => {
                    "of delayed bed-days, waiting for a care service to start (a range: some groups with no linked service are suppressed)".to_string()
                }
                (_, None) => {
                    "of delayed bed-days, waiting for a care service to start".to_string()
                }
            },
        ),
        (
            "Delayed discharges".to_string(),
            format::count_cell(month_discharges(rows, month), discharges_hidden),
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
            Cell::Suppressed => (BarValue::Suppressed, format::suppressed(bed_days_hidden)),
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
            td(month_discharges(rows, *m), discharges_hidden, format::int),
            td(t, bed_days_hidden, format::int),
            match (share, p.care_gap(*m)) {
                (_, Some(gap)) => Td::Empty(format!("not known: {gap}")),
                (Share::Unknown(why), None) => Td::Empty(format!("not known: {why}")),
                (share, None) => Td::Num(share.value()),
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
            "Bar chart of delayed bed-days for each month, {}; {} is highlighted.",
            format::months(p.first_month, p.last_month),
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
        "The share waiting for social care is the month's delayed bed-days less those of the groups with no linked social-care service, as a share of the month's; it is approximate because published figures are rounded. When a group with no linked service is suppressed it is a range: from the shown groups awaiting a service to the total less the shown groups with none.",
    ));
    Section {
        id: ID,
        title: TITLE.to_string(),
        period: format!(
            "patients discharged in {}{}, {}",
            format::month(month),
            match (p.month_incomplete, p.data_end) {
                (false, _) => String::new(),
                (true, Some(_)) => " (incomplete month)".to_string(),
                (true, None) => format!(" (may be incomplete: {})", p.unknown_why()),
            },
            if prev_incomplete.is_some() {
                format!("not compared with {} (incomplete)", format::month(prev))
            } else {
                format!("compared with {}", format::month(prev))
            }
        ),
        reading: text::headline(
            month,
            total,
            compared.then_some((prev, prev_total)),
            match share {
                _ if !p.care_covers(month) => None,
                Share::Unknown(_) => None,
                share => Some(share.value()),
            },
            bounds.recorded().dominance.is_some(),
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

    /// The sample's September as published: a total of 480 delayed bed-days; groups
    /// awaiting a service shown at 105, 25 and 20 and fifteen suppressed; the two groups
    /// awaiting none shown at 40 and 25.
    fn sample_september() -> Vec<Bottleneck> {
        let mut rows = vec![
            row("home_care", Cell::Shown(105)),
            row("none", Cell::Shown(40)),
            row("home_care", Cell::Shown(25)),
            row("none", Cell::Shown(25)),
            row("reablement", Cell::Shown(20)),
        ];
        rows.extend((0..15).map(|_| row("care_home", Cell::Suppressed)));
        rows
    }

    /// Regression (review): the share added up only the shown groups awaiting a service
    /// and read "at least 31%" for the sample's September, whose true share (from
    /// restricted/patient_journey) is 86.6–87.2%; it swung 5% → 42% → 31% over three
    /// months with which groups happened to be suppressed. The page shows the total and
    /// every group awaiting none, so the share is (480 − 40 − 25) / 480.
    #[test]
    fn regression_the_share_is_the_total_less_the_groups_awaiting_none() {
        let m = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        let rows = sample_september();
        let share = social_care_share(&rows, m);
        assert_eq!(share, Share::About(415.0 / 480.0 * 100.0));
        assert_eq!(share.value(), "about 86%");
        assert!(!share.is_range());

        // Every group awaiting a service suppressed: still known, from the shown total
        // and groups awaiting none (it was "not known").
        let rows = vec![
            row("home_care", Cell::Suppressed),
            row("none", Cell::Shown(40)),
            row("none", Cell::Shown(25)),
        ];
        assert_eq!(social_care_share(&rows, m).value(), "about 86%");

        // A group awaiting none suppressed: a range, from the shown groups awaiting a
        // service (150 of 480) to the total less the shown groups awaiting none (440).
        let mut rows = sample_september();
        rows[3] = row("none", Cell::Suppressed);
        let share = social_care_share(&rows, m);
        assert_eq!(
            share,
            Share::Range {
                low: 150.0 / 480.0 * 100.0,
                high: 440.0 / 480.0 * 100.0
            }
        );
        assert_eq!(share.value(), "between 31% and 92%");
        assert!(share.is_range());
        // ... with no group awaiting a service shown, an upper bound.
        let rows = vec![
            row("home_care", Cell::Suppressed),
            row("none", Cell::Shown(40)),
            row("none", Cell::Suppressed),
        ];
        assert_eq!(social_care_share(&rows, m).value(), "up to 92%");
        // ... and with no group of either kind shown, not known ("up to 100%" says
        // nothing).
        let rows = vec![
            row("home_care", Cell::Suppressed),
            row("none", Cell::Suppressed),
        ];
        assert_eq!(
            social_care_share(&rows, m),
            Share::Unknown("too many groups are suppressed to tell")
        );
        // Rounded cells adding up to more than the total never make low exceed high.
        let rows = vec![
            row("home_care", Cell::Shown(460)),
            row("none", Cell::Shown(40)),
            row("none", Cell::Suppressed),
        ];
        assert_eq!(social_care_share(&rows, m).value(), "about 92%");

        assert_eq!(month_total(&rows, m), Cell::Shown(480));
        let other = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
        assert_eq!(month_total(&rows, other), Cell::Empty);
        assert_eq!(
            social_care_share(&rows, other),
            Share::Unknown("no delays published for this month")
        );
    }

    /// The card, the monthly table and the reading all give the same share.
    #[test]
    fn regression_the_card_table_and_reading_give_the_share_of_the_total_less_none() {
        use crate::report::data::ReportData;
        use crate::report::period::Period;
        let m = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        let data = ReportData {
            bottlenecks: Some(sample_september()),
            ..Default::default()
        };
        let period = Period::one_month(m, None);
        let cx = Context {
            data: &data,
            period: Some(period),
            icb: None,
        };
        let s = section(&cx);
        assert_eq!(
            s.reading,
            "In September 2026, patients who were ready to leave hospital spent 480 days waiting to go; about 86% of those days were spent waiting for a social-care service to start."
        );
        assert!(
            s.body.contains("<dt>Waiting for social care</dt><dd class=\"big\">about 86%</dd><dd class=\"small\">of delayed bed-days, waiting for a care service to start</dd>"),
            "{}",
            s.body
        );
        assert!(
            s.body.contains("<th scope=\"row\">September 2026</th><td class=\"num\">130</td><td class=\"num\">480</td><td class=\"num\">about 86%</td>"),
            "{}",
            s.body
        );
        assert!(!s.body.contains("at least"), "{}", s.body);
    }

    /// Regression (review): with the hospital data starting on 1 August, the card and
    /// reading compared September with August ("190 more than in August 2026"), whose
    /// delays of patients admitted before 1 August were missing.
    #[test]
    fn regression_no_change_on_the_first_month_of_the_hospital_data() {
        use crate::report::data::ReportData;
        use crate::report::period::Period;
        let (aug, sep) = (
            NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
        );
        let mut august = row("none", Cell::Shown(290));
        august.month = aug;
        august.system_delayed_bed_days = Cell::Shown(290);
        let data = ReportData {
            bottlenecks: Some(vec![august, row("none", Cell::Shown(480))]),
            ..Default::default()
        };
        let period = Period {
            first_month: aug,
            data_start: Some(aug),
            data_end: NaiveDate::from_ymd_opt(2026, 9, 30),
            ..Period::one_month(sep, None)
        };
        let cx = Context {
            data: &data,
            period: Some(period),
            icb: None,
        };
        let s = section(&cx);
        assert_eq!(
            s.reading,
            "In September 2026, patients who were ready to leave hospital spent 480 days waiting to go; about 0% of those days were spent waiting for a social-care service to start."
        );
        assert_eq!(
            s.period,
            "patients discharged in September 2026, not compared with August 2026 (incomplete)"
        );
        assert!(
            s.body.contains("<dt>Change on August 2026</dt><dd class=\"big\">not compared</dd><dd class=\"small\">August 2026 is incomplete: the hospital data start on 1 August 2026</dd>"),
            "{}",
            s.body
        );
        assert!(s.body.contains("August 2026 (incomplete: data from 1 Aug)"));
    }

    /// Regression (review): with September's delayed discharges missing, the card read
    /// "not known — a monthly total is suppressed" though nothing was suppressed: every
    /// case but a comparison fell into one catch-all.
    #[test]
    fn regression_the_change_card_gives_each_case_its_own_reason() {
        let (sep, aug) = (
            NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(),
        );
        let card = |t: Cell<i64>, pt: Option<Cell<i64>>, why: Option<&str>| {
            let (a, b) = change_card((sep, t), (aug, pt), why);
            format!("{a} | {b}")
        };
        let (shown, hidden) = (Cell::Shown(480), Cell::Suppressed);
        assert_eq!(
            card(Cell::Empty, Some(Cell::Shown(525)), None),
            "– | no delayed discharges published for September 2026"
        );
        assert_eq!(card(shown, None, None), "– | no figures for August 2026");
        assert_eq!(
            card(shown, Some(Cell::Shown(525)), None),
            "−45 (−9%) | 525 in August 2026"
        );
        assert_eq!(
            card(
                shown,
                Some(Cell::Shown(525)),
                Some("August 2026 is incomplete: why")
            ),
            "not compared | August 2026 is incomplete: why"
        );
        assert_eq!(
            card(hidden, Some(Cell::Shown(525)), None),
            "not known | the total of September 2026 is suppressed"
        );
        assert_eq!(
            card(shown, Some(hidden), None),
            "not known | the total of August 2026 is suppressed"
        );
        assert_eq!(
            card(hidden, Some(hidden), None),
            "not known | the totals of September 2026 and August 2026 are suppressed"
        );
        assert_eq!(
            card(shown, Some(Cell::Empty), None),
            "not known | no total published for August 2026"
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
            bottlenecks: Some(vec![row("none", Cell::Shown(480))]),
            ..Default::default()
        };
        let period = Period::one_month(m, NaiveDate::from_ymd_opt(2026, 6, 30));
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
