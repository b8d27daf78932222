//! Explicit date, datetime and time formats, parsed without allocation.
//!
//! Contracts name their formats (`%d/%m/%Y`, `%Y-%m-%d %H:%M`, `%Y%m%d`, …): dates are
//! never guessed, and a value that fits none of a column's formats is a defect.
//! Supported fields: `%d`, `%m` and `%H` (1–2 digits when a separator or the end of the
//! value delimits them, as spreadsheets write `3/9/2026`; exactly 2 in compact formats
//! such as `%Y%m%d`), `%Y` (4 digits), `%M` and `%S` (2 digits), `%b` and `%B` (an
//! English month name, abbreviated — `Sep`, and `Sept` — or in full — `September` — in any case, as
//! councils' spreadsheets write `06-Sep-2024`), `%%`; any other character must appear
//! literally.

/// A compiled format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    text: String,
    items: Vec<Item>,
    /// Per item: may this field have fewer digits than its maximum?
    flexible: Vec<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Day,
    Month,
    /// `%b`: `Jan`…`Dec`.
    MonthAbbreviated,
    /// `%B`: `January`…`December`.
    MonthName,
    Year,
    Hour,
    Minute,
    Second,
    Literal(u8),
}

/// The parts of a parsed value; absent parts are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Parts {
    /// Year.
    pub year: i32,
    /// Month 1–12 (0 when the format has none).
    pub month: u32,
    /// Day 1–31 (0 when the format has none).
    pub day: u32,
    /// Hour 0–23.
    pub hour: u32,
    /// Minute 0–59.
    pub minute: u32,
    /// Second 0–59.
    pub second: u32,
}

impl DateFormat {
    /// Compiles a format string; the error names the offending directive.
    pub fn compile(text: &str) -> Result<Self, String> {
        let bytes = text.as_bytes();
        let mut items = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let Some(&d) = bytes.get(i + 1) else {
                    return Err(format!("format \"{text}\" ends with a lone %"));
                };
                items.push(match d {
                    b'd' => Item::Day,
                    b'm' => Item::Month,
                    b'b' => Item::MonthAbbreviated,
                    b'B' => Item::MonthName,
                    b'Y' => Item::Year,
                    b'H' => Item::Hour,
                    b'M' => Item::Minute,
                    b'S' => Item::Second,
                    b'%' => Item::Literal(b'%'),
                    other => {
                        return Err(format!(
                            "format \"{text}\" uses %{}; supported directives are %d %m %b %B %Y %H %M %S %%",
                            other as char
                        ));
                    }
                });
                i += 2;
            } else {
                items.push(Item::Literal(bytes[i]));
                i += 1;
            }
        }
        // A literal, a month name or the value's end delimits a number's digits.
        let is_sep = |i: Option<&Item>| {
            matches!(
                i,
                None | Some(Item::Literal(_) | Item::MonthAbbreviated | Item::MonthName)
            )
        };
        let flexible = (0..items.len())
            .map(|i| {
                is_sep(i.checked_sub(1).and_then(|p| items.get(p))) && is_sep(items.get(i + 1))
            })
            .collect();
        Ok(DateFormat {
            text: text.to_string(),
            items,
            flexible,
        })
    }

    /// The format as written in the contract.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when the format has a day, a month (as a number or a name) and a year.
    pub fn has_date(&self) -> bool {
        let month = [Item::Month, Item::MonthAbbreviated, Item::MonthName]
            .iter()
            .any(|i| self.items.contains(i));
        month && self.items.contains(&Item::Day) && self.items.contains(&Item::Year)
    }

    /// True when the format has a directive at all (`%d`, `%m`, `%b`, `%B`, `%Y`, `%H`,
    /// `%M`, `%S`).
    pub fn has_directive(&self) -> bool {
        self.items.iter().any(|i| !matches!(i, Item::Literal(_)))
    }

    /// True when the format has an hour and a minute.
    pub fn has_time(&self) -> bool {
        self.items.contains(&Item::Hour) && self.items.contains(&Item::Minute)
    }

    /// Parses `value` (already trimmed); `None` if it does not fit or is not a real date/time.
    pub fn parse(&self, value: &str) -> Option<Parts> {
        let b = value.as_bytes();
        let mut pos = 0;
        let mut p = Parts::default();
        for (item, &flexible) in self.items.iter().zip(&self.flexible) {
            let short = if flexible { 1 } else { 2 };
            match *item {
                Item::Literal(c) => {
                    if b.get(pos) != Some(&c) {
                        return None;
                    }
                    pos += 1;
                }
                Item::Year => p.year = digits(b, &mut pos, 4, 4)? as i32,
                Item::Month => p.month = digits(b, &mut pos, short, 2)?,
                Item::MonthAbbreviated => p.month = month_name(b, &mut pos, false)?,
                Item::MonthName => p.month = month_name(b, &mut pos, true)?,
                Item::Day => p.day = digits(b, &mut pos, short, 2)?,
                Item::Hour => p.hour = digits(b, &mut pos, short, 2)?,
                Item::Minute => p.minute = digits(b, &mut pos, 2, 2)?,
                Item::Second => p.second = digits(b, &mut pos, 2, 2)?,
            }
        }
        if pos != b.len() || p.hour > 23 || p.minute > 59 || p.second > 59 {
            return None;
        }
        if self.has_date()
            && (p.month == 0
                || p.month > 12
                || p.day == 0
                || p.day > days_in_month(p.year, p.month))
        {
            return None;
        }
        Some(p)
    }
}

/// English month names, lower case, January first.
pub const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Reads an English month name in any case, its first three letters (`%b`; `Sept` too,
/// as often written in England) or in full (`%B`): its number 1–12.
fn month_name(b: &[u8], pos: &mut usize, full: bool) -> Option<u32> {
    let rest = &b[*pos..];
    let number = MONTHS.iter().zip(1..).find_map(|(name, number)| {
        let want = if full {
            name.as_bytes()
        } else {
            &name.as_bytes()[..3]
        };
        let found = rest.get(..want.len())?;
        found.eq_ignore_ascii_case(want).then(|| {
            *pos += want.len();
            number
        })
    })?;
    let letter = |i: usize| b.get(i).is_some_and(u8::is_ascii_alphabetic);
    if !full
        && number == 9
        && b.get(*pos).is_some_and(|c| c.eq_ignore_ascii_case(&b't'))
        && !letter(*pos + 1)
    {
        *pos += 1;
    }
    Some(number)
}

/// Reads between `min` and `max` ASCII digits.
fn digits(b: &[u8], pos: &mut usize, min: usize, max: usize) -> Option<u32> {
    let start = *pos;
    let mut v: u32 = 0;
    while *pos < b.len() && *pos - start < max && b[*pos].is_ascii_digit() {
        v = v * 10 + u32::from(b[*pos] - b'0');
        *pos += 1;
    }
    (*pos - start >= min).then_some(v)
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 for a valid civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u32;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe as i32 - 719_468
}

/// `(year, month, day)` of days since 1970-01-01 (the inverse of [`days_from_civil`]).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Milliseconds since midnight.
pub fn time_ms(p: &Parts) -> i64 {
    i64::from(p.hour * 3_600 + p.minute * 60 + p.second) * 1_000
}

/// Milliseconds since 1970-01-01T00:00 for a datetime.
pub fn datetime_ms(p: &Parts) -> i64 {
    i64::from(days_from_civil(p.year, p.month, p.day)) * 86_400_000 + time_ms(p)
}

/// Years a date or date-time of NHS or council activity can be in. Outside them a value
/// is a placeholder (`01/01/0001`, `31/12/9999`) or a typing error: accepted, year 0000
/// would make a month file for every month since it.
pub const PLAUSIBLE_YEARS: std::ops::RangeInclusive<i32> = 1900..=2100;

/// Parses with the first format that fits.
pub fn parse_any<'a>(formats: &'a [DateFormat], value: &str) -> Option<(Parts, &'a DateFormat)> {
    formats.iter().find_map(|f| f.parse(value).map(|p| (p, f)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> DateFormat {
        DateFormat::compile(s).unwrap()
    }

    #[test]
    fn day_first_sus_dates() {
        let p = f("%d/%m/%Y").parse("03/09/2026").unwrap();
        assert_eq!((p.year, p.month, p.day), (2026, 9, 3));
        assert_eq!(days_from_civil(2026, 9, 3), 20_699);
        // Single-digit day and month as exported by spreadsheets.
        assert!(f("%d/%m/%Y").parse("3/9/2026").is_some());
        assert!(f("%d/%m/%Y").parse("31/02/2026").is_none());
        assert!(f("%d/%m/%Y").parse("00/08/2026").is_none());
        assert!(f("%d/%m/%Y").parse("15/13/2026").is_none());
        assert!(f("%d/%m/%Y").parse("29/02/2024").is_some());
        assert!(f("%d/%m/%Y").parse("29/02/2026").is_none());
        assert!(f("%d/%m/%Y").parse("2026-09-03").is_none());
        assert!(f("%d/%m/%Y").parse("03/09/2026 ").is_none());
    }

    /// Regression (review): a council's `06-Sep-2024` could not be declared (`%b` was
    /// refused), so such a feed needed code or a conversion first.
    #[test]
    fn regression_month_names_are_read_in_any_case() {
        let ymd =
            |format: &str, value: &str| f(format).parse(value).map(|p| (p.year, p.month, p.day));
        assert_eq!(ymd("%d-%b-%Y", "06-Sep-2024"), Some((2024, 9, 6)));
        assert_eq!(ymd("%d-%b-%Y", "6-SEP-2024"), Some((2024, 9, 6)));
        assert_eq!(ymd("%d %b %Y", "31 dec 2025"), Some((2025, 12, 31)));
        assert_eq!(ymd("%d%b%Y", "6Sep2024"), Some((2024, 9, 6)));
        assert_eq!(ymd("%d %B %Y", "1 February 2024"), Some((2024, 2, 1)));
        assert_eq!(ymd("%B %d, %Y", "may 5, 2026"), Some((2026, 5, 5)));
        // Regression (second review): "Sept", as often written in England.
        assert_eq!(ymd("%d-%b-%Y", "06-Sept-2024"), Some((2024, 9, 6)));
        assert_eq!(ymd("%d %b %Y", "6 SEPT 2024"), Some((2024, 9, 6)));
        assert_eq!(ymd("%d-%b-%Y", "06-Septe-2024"), None);
        assert_eq!(ymd("%d-%b-%Y", "06-Octt-2024"), None);
        assert_eq!(ymd("%d-%b-%Y", "31-Feb-2024"), None);
        assert_eq!(ymd("%d %B %Y", "1 Feb 2024"), None);
        assert_eq!(ymd("%d-%b-%Y", "06-Spe-2024"), None);
        assert!(f("%d-%b-%Y").has_date());
        assert!(f("%d %B %Y").has_date());
    }

    #[test]
    fn iso_and_compact_dates() {
        assert_eq!(
            f("%Y-%m-%d")
                .parse("1970-01-01")
                .map(|p| days_from_civil(p.year, p.month, p.day)),
            Some(0)
        );
        assert_eq!(
            f("%Y%m%d")
                .parse("20000301")
                .map(|p| days_from_civil(p.year, p.month, p.day)),
            Some(11_017)
        );
        // Regression: compact formats must not read a one-digit day or month.
        assert!(f("%Y%m%d").parse("2000031").is_none());
        assert!(f("%Y%m%d").parse("200031").is_none());
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }

    #[test]
    fn ecds_datetimes_and_times() {
        let p = f("%Y-%m-%d %H:%M").parse("2026-08-01 23:59").unwrap();
        assert_eq!(
            datetime_ms(&p),
            (i64::from(days_from_civil(2026, 8, 1)) * 86_400 + 86_340) * 1000
        );
        assert!(f("%Y-%m-%d %H:%M").parse("2026-08-01 25:10").is_none());
        assert!(f("%Y-%m-%d %H:%M").parse("2026-08-32 10:00").is_none());
        assert!(f("%Y-%m-%d %H:%M").parse("2026-08-01 10:7").is_none());
        assert_eq!(
            f("%H:%M:%S").parse("07:05:09").map(|p| time_ms(&p)),
            Some(25_509_000)
        );
    }

    #[test]
    fn compile_errors_name_the_directive() {
        let e = DateFormat::compile("%d/%m/%y").unwrap_err();
        assert_eq!(
            e,
            "format \"%d/%m/%y\" uses %y; supported directives are %d %m %b %B %Y %H %M %S %%"
        );
        assert!(DateFormat::compile("%d%").is_err());
    }

    #[test]
    fn first_matching_format_wins() {
        let fs = vec![f("%d/%m/%Y"), f("%Y-%m-%d")];
        let (p, used) = parse_any(&fs, "2026-07-01").unwrap();
        assert_eq!(
            (p.year, p.month, p.day, used.as_str()),
            (2026, 7, 1, "%Y-%m-%d")
        );
    }
}
