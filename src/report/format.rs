//! How numbers, dates, published cells and codes are written in the report: thousands
//! separators, a true minus sign, British dates, "suppressed (1–7)" for hidden values.

use chrono::{Datelike, NaiveDate};

use super::data::Cell;

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

/// The words for a suppressed value: `suppressed (1–7)` when the rule is known.
pub fn suppressed(range: Option<(i64, i64)>) -> String {
    match range {
        Some((lo, hi)) => format!("suppressed ({lo}–{hi})"),
        None => "suppressed".to_string(),
    }
}

/// The words for a suppressed value that is not itself a count of people (bed-days, a
/// share, a change, a median): hidden because the people behind it number 1–7, which
/// says nothing of its own size (5 patients can stand for 49 bed-days).
pub fn suppressed_of_people(range: Option<(i64, i64)>) -> String {
    match range {
        Some((lo, hi)) => format!("suppressed ({lo}–{hi} people)"),
        None => "suppressed".to_string(),
    }
}

/// Text for "no value" (a null that is not suppressed).
pub const EMPTY: &str = "–";

/// A published count as text.
pub fn count_cell(c: Cell<i64>, range: Option<(i64, i64)>) -> String {
    match c {
        Cell::Shown(v) => int(v),
        Cell::Suppressed => suppressed(range),
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
    /// Whether the value is known exactly.
    pub fn is_exact(self) -> bool {
        self.high == Some(self.low)
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

    #[test]
    fn suppressed_cells_never_read_as_zero() {
        let r = Some((1, 7));
        assert_eq!(count_cell(Cell::Suppressed, r), "suppressed (1–7)");
        assert_eq!(count_cell(Cell::Suppressed, None), "suppressed");
        assert_eq!(count_cell(Cell::Shown(0), r), "0");
        assert_eq!(count_cell(Cell::Empty, r), "–");
        assert_eq!(
            count_cell(Cell::Suppressed, Some((1, 9))),
            "suppressed (1–9)"
        );
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
