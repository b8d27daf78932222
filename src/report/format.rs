//! How numbers, dates, published cells and codes are written in the report: thousands
//! separators, a true minus sign, British dates, and a suppressed value with what it can
//! stand for ([`Hidden`]): "suppressed (1–7)", "suppressed (0–49)", "suppressed (1–7
//! people)" or "suppressed".

use chrono::{Datelike, NaiveDate};

use super::data::Cell;
use super::hidden::Hidden;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The minus sign used for negative numbers.
pub const MINUS: char = '\u{2212}';

/// A count of records after a disclosure rule: `None` is suppressed, shown as the range
/// it stands for ("1–7" under HES) or "suppressed" when no range is known.
pub fn records(v: Option<i64>, hidden: Option<(i64, i64)>) -> String {
    match (v, hidden) {
        (Some(v), _) => int(v),
        (None, Some((lo, hi))) => format!("{lo}–{hi}"),
        (None, None) => "suppressed".to_string(),
    }
}

/// `1234` → `1,234`; `-45` → `−45`.
pub fn int(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::new();
    if v < 0 {
        out.push(MINUS);
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A change: `+54`, `−4`, `0`.
pub fn signed(v: i64) -> String {
    if v > 0 {
        format!("+{}", int(v))
    } else {
        int(v)
    }
}

/// A number to at most one decimal place, without a trailing `.0`: `15`, `10.5`, `1,234.5`.
pub fn num(v: f64) -> String {
    let tenths = (v * 10.0).round() as i64;
    let whole = int(tenths / 10);
    let whole = if tenths < 0 && tenths / 10 == 0 {
        format!("{MINUS}0")
    } else {
        whole
    };
    match (tenths % 10).abs() {
        0 => whole,
        d => format!("{whole}.{d}"),
    }
}

/// `part` as a percentage of `whole`, both rounded counts, to one decimal place only when
/// `whole` is at least [`crate::publish::disclosure::ONE_DECIMAL_DENOMINATOR`] (as the
/// gate publishes percentages: a tenth of a percent of a small rounded count claims a
/// precision the counts do not have), else whole: `8%`, `8.6%`, `−85%`.
pub fn share_pct(part: i64, whole: i64) -> String {
    let v = part as f64 / whole as f64 * 100.0;
    if whole.abs() >= crate::publish::disclosure::ONE_DECIMAL_DENOMINATOR {
        pct(v)
    } else {
        pct(v.round())
    }
}

/// A percentage to one decimal place always, for a column of them: `59.0%`, `67.4%`
/// (with [`pct`], a whole value lost its decimal and the column mixed `59%` and `67.4%`).
pub fn pct_one_decimal(v: f64) -> String {
    let tenths = (v * 10.0).round() as i64;
    let sign = if tenths < 0 {
        MINUS.to_string()
    } else {
        String::new()
    };
    let tenths = tenths.abs();
    format!("{sign}{}.{}%", int(tenths / 10), tenths % 10)
}

/// A percentage as published (whole, or one decimal place): `22%`, `22.4%`.
pub fn pct(v: f64) -> String {
    format!("{}%", num(v))
}

/// `September 2026`.
pub fn month(d: NaiveDate) -> String {
    format!("{} {}", MONTHS[d.month0() as usize], d.year())
}

/// `July 2026 to October 2026`, or `September 2026` when the months are one
/// (regression, review: one month of data read "September 2026 to September 2026").
pub fn months(from: NaiveDate, to: NaiveDate) -> String {
    if (from.year(), from.month()) == (to.year(), to.month()) {
        month(from)
    } else {
        format!("{} to {}", month(from), month(to))
    }
}

/// `Sep 2026`.
pub fn month_short(d: NaiveDate) -> String {
    format!("{} {}", &MONTHS[d.month0() as usize][..3], d.year())
}

/// `27 October 2026`.
pub fn day(d: NaiveDate) -> String {
    format!("{} {}", d.day(), month(d))
}

/// `27 Oct`.
pub fn day_short(d: NaiveDate) -> String {
    format!("{} {}", d.day(), &MONTHS[d.month0() as usize][..3])
}

/// `1 July – 27 October 2026`, `1–3 July 2026`, or with both years when they differ.
pub fn span(from: NaiveDate, to: NaiveDate) -> String {
    if from == to {
        day(from)
    } else if (from.year(), from.month()) == (to.year(), to.month()) {
        format!("{}–{}", from.day(), day(to))
    } else if from.year() == to.year() {
        format!(
            "{} {} – {}",
            from.day(),
            MONTHS[from.month0() as usize],
            day(to)
        )
    } else {
        format!("{} – {}", day(from), day(to))
    }
}

/// The words for a suppressed value: `suppressed (1–7)` or `suppressed (0–49)` for a
/// count known to lie in a range; `suppressed (1–7 people)` for a value known only by the
/// people it rests on (bed-days, records, a median: 5 patients can stand for 49
/// bed-days); `suppressed` when neither is known (a share, a change, a count with no
/// top).
pub fn suppressed(h: Hidden) -> String {
    match (h.count, h.people) {
        (
            Some(Bounded {
                low,
                high: Some(high),
            }),
            _,
        ) => format!("suppressed ({}–{})", int(low), int(high)),
        (
            _,
            Some(Bounded {
                low,
                high: Some(high),
            }),
        ) => format!("suppressed ({}–{} people)", int(low), int(high)),
        _ => "suppressed".to_string(),
    }
}

/// Patients in groups whose count lies in `b`, in words: `1–7 patients`, `at most 7
/// patients` (a group suppressed with its whole can hold none), or `few patients`.
pub fn patients(b: Option<Bounded>) -> String {
    match b {
        Some(Bounded {
            low: 0,
            high: Some(h),
        }) => format!("at most {} patients", int(h)),
        Some(Bounded { low, high: Some(h) }) => format!("{}–{} patients", int(low), int(h)),
        _ => "few patients".to_string(),
    }
}

/// Text for "no value" (a null that is not suppressed).
pub const EMPTY: &str = "–";

/// A published count as text; `hidden`: what it stands for when suppressed.
pub fn count_cell(c: Cell<i64>, hidden: Hidden) -> String {
    match c {
        Cell::Shown(v) => int(v),
        Cell::Suppressed => suppressed(hidden),
        Cell::Empty => EMPTY.to_string(),
    }
}

/// A total known only within bounds (sums of published figures with some suppressed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounded {
    /// Smallest possible value.
    pub low: i64,
    /// Largest possible value, when known.
    pub high: Option<i64>,
}

impl Bounded {
    /// A value known exactly.
    pub fn exact(v: i64) -> Self {
        Bounded {
            low: v,
            high: Some(v),
        }
    }

    /// Whether the value is known exactly.
    pub fn is_exact(self) -> bool {
        self.high == Some(self.low)
    }

    /// The sum of two values within bounds: no top once either has none.
    pub fn plus(self, other: Bounded) -> Bounded {
        Bounded {
            low: self.low + other.low,
            high: self.high.zip(other.high).map(|(a, b)| a + b),
        }
    }

    /// A value within one bound or the other: the range holding both.
    pub fn either(self, other: Bounded) -> Bounded {
        Bounded {
            low: self.low.min(other.low),
            high: self.high.zip(other.high).map(|(a, b)| a.max(b)),
        }
    }
}

/// `1,400`, `between 155 and 260`, or `at least 155`.
pub fn bounded(b: Bounded) -> String {
    match b.high {
        Some(h) if h == b.low => int(h),
        Some(h) => format!("between {} and {}", int(b.low), int(h)),
        None => format!("at least {}", int(b.low)),
    }
}

/// `1,400`, `681–717`, or `at least 681`.
pub fn bounded_short(b: Bounded) -> String {
    match b.high {
        Some(h) if h == b.low => int(h),
        Some(h) => format!("{}–{}", int(b.low), int(h)),
        None => format!("at least {}", int(b.low)),
    }
}

/// An awaited-service group in words.
pub fn service(group: &str) -> String {
    match group {
        "reablement" => "reablement".to_string(),
        "home_care" => "home care".to_string(),
        "short_term_bed" => "a short-term bed".to_string(),
        "care_home" => "a care home".to_string(),
        "other" => "another service".to_string(),
        // `none`: no social-care service is linked to the spell, which is all linkage can
        // tell; not that the patient awaited none.
        "none" => "no linked social-care service".to_string(),
        other => other.replace('_', " "),
    }
}

/// A council code in words.
pub fn council(code: Option<&str>) -> String {
    match code {
        Some(c) => format!("council {c}"),
        None => "no council".to_string(),
    }
}

/// An organisation name as published, with SHOUTED names (as NHS England's tables write
/// regions) put in title case: `NORTH EAST AND YORKSHIRE` → `North East and Yorkshire`.
pub fn org_name(s: &str) -> String {
    let letters = s.chars().filter(|c| c.is_alphabetic());
    if letters.clone().count() < 2 || letters.clone().any(|c| c.is_lowercase()) {
        return s.to_string();
    }
    s.split(' ')
        .enumerate()
        .map(|(i, w)| match w {
            "NHS" | "ICB" | "ICS" | "UK" => w.to_string(),
            _ if w.chars().any(|c| c.is_ascii_digit()) => w.to_string(),
            "AND" | "OF" | "THE" | "FOR" if i > 0 => w.to_lowercase(),
            _ => capital(&w.to_lowercase()),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Capitalises the first letter.
pub fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_of_one_month_is_that_month() {
        let d = |m| NaiveDate::from_ymd_opt(2026, m, 1).unwrap();
        assert_eq!(months(d(9), d(9)), "September 2026");
        assert_eq!(months(d(7), d(10)), "July 2026 to October 2026");
    }

    #[test]
    fn numbers_have_separators_signs_and_at_most_one_decimal() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1000), "1,000");
        assert_eq!(int(1_234_567), "1,234,567");
        assert_eq!(int(-45), "−45");
        assert_eq!(signed(54), "+54");
        assert_eq!(signed(-4), "−4");
        assert_eq!(signed(0), "0");
        assert_eq!(num(15.0), "15");
        assert_eq!(num(10.5), "10.5");
        assert_eq!(num(21.64), "21.6");
        assert_eq!(num(1234.5), "1,234.5");
        assert_eq!(num(-0.4), "−0.4");
        assert_eq!(pct(22.0), "22%");
        // Regression (review): the sitrep's share column mixed "59%" and "67.4%".
        assert_eq!(pct_one_decimal(59.0), "59.0%");
        assert_eq!(pct_one_decimal(67.44), "67.4%");
        assert_eq!(pct_one_decimal(0.04), "0.0%");
        assert_eq!(pct_one_decimal(-2.25), "−2.3%");
    }

    #[test]
    fn dates_are_british() {
        let a = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        let b = NaiveDate::from_ymd_opt(2026, 10, 27).unwrap();
        let c = NaiveDate::from_ymd_opt(2027, 1, 3).unwrap();
        assert_eq!(month(a), "July 2026");
        assert_eq!(month_short(b), "Oct 2026");
        assert_eq!(day(b), "27 October 2026");
        assert_eq!(day_short(b), "27 Oct");
        assert_eq!(span(a, b), "1 July – 27 October 2026");
        assert_eq!(span(b, c), "27 October 2026 – 3 January 2027");
        assert_eq!(span(a, a.with_day(3).unwrap()), "1–3 July 2026");
    }

    fn hidden(count: Option<(i64, Option<i64>)>, people: Option<(i64, Option<i64>)>) -> Hidden {
        let b = |(low, high)| Bounded { low, high };
        Hidden {
            count: count.map(b),
            people: people.map(b),
        }
    }

    #[test]
    fn suppressed_cells_never_read_as_zero() {
        let r = hidden(Some((1, Some(7))), Some((1, Some(7))));
        assert_eq!(count_cell(Cell::Suppressed, r), "suppressed (1–7)");
        assert_eq!(count_cell(Cell::Suppressed, Hidden::UNKNOWN), "suppressed");
        assert_eq!(count_cell(Cell::Shown(0), r), "0");
        assert_eq!(count_cell(Cell::Empty, r), "–");
        let nine = hidden(Some((1, Some(9))), Some((1, Some(9))));
        assert_eq!(count_cell(Cell::Suppressed, nine), "suppressed (1–9)");
    }

    /// Regression (re-review): every suppressed cell read "suppressed (1–7)", a small
    /// provider-month's zeros and a count of records resting on 1–7 people (30) among
    /// them. The label says what is known, and no range where none is.
    #[test]
    fn regression_a_suppressed_label_claims_only_the_range_known() {
        let label = |count, people| suppressed(hidden(count, people));
        assert_eq!(
            label(Some((0, Some(49))), Some((0, Some(49)))),
            "suppressed (0–49)"
        );
        assert_eq!(
            label(Some((0, Some(999))), Some((0, Some(999)))),
            "suppressed (0–999)"
        );
        assert_eq!(
            label(Some((1, None)), Some((1, Some(7)))),
            "suppressed (1–7 people)"
        );
        assert_eq!(label(None, Some((1, Some(17)))), "suppressed (1–17 people)");
        assert_eq!(label(Some((0, None)), Some((0, None))), "suppressed");
        assert_eq!(label(None, None), "suppressed");
        assert_eq!(
            patients(Some(Bounded {
                low: 1,
                high: Some(7)
            })),
            "1–7 patients"
        );
        assert_eq!(
            patients(Some(Bounded {
                low: 0,
                high: Some(7)
            })),
            "at most 7 patients"
        );
        assert_eq!(patients(None), "few patients");
    }

    #[test]
    fn bounds_add_up_and_join() {
        let b = |low, high| Bounded { low, high };
        assert_eq!(b(3, Some(5)).plus(b(0, Some(49))), b(3, Some(54)));
        assert_eq!(b(3, Some(5)).plus(b(1, None)), b(4, None));
        assert_eq!(b(1, Some(7)).either(b(0, Some(49))), b(0, Some(49)));
        assert_eq!(b(1, Some(7)).either(b(0, None)), b(0, None));
        assert_eq!(Bounded::exact(12), b(12, Some(12)));
    }

    #[test]
    fn shouted_names_are_put_in_title_case() {
        assert_eq!(
            org_name("NORTH EAST AND YORKSHIRE"),
            "North East and Yorkshire"
        );
        assert_eq!(
            org_name("NHS HUMBER AND NORTH YORKSHIRE ICB"),
            "NHS Humber and North Yorkshire ICB"
        );
        assert_eq!(org_name("East of England"), "East of England");
        assert_eq!(org_name("RX1"), "RX1");
        assert_eq!(org_name("LONDON"), "London");
    }

    #[test]
    fn bounded_totals_say_what_is_known() {
        let b = |low, high| bounded(Bounded { low, high });
        assert_eq!(b(1400, Some(1400)), "1,400");
        assert_eq!(b(155, Some(260)), "between 155 and 260");
        assert_eq!(b(155, None), "at least 155");
        let short = |low, high| bounded_short(Bounded { low, high });
        assert_eq!(short(681, Some(717)), "681–717");
        assert_eq!(short(681, Some(681)), "681");
    }
}
