//! Quarantined rows: collected during ingest, written as Parquet with their reasons.
//!
//! A quarantine row keeps where the row was (file, line, data row number), every reason
//! code, a human-readable detail naming each failing column, and the row's
//! non-identifying values as JSON so an analyst can fix the source. Identifying columns
//! (NHS numbers, person identifiers, names, dates of birth, postcodes) are never
//! written, and anything else that looks like an NHS number is masked.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::reason::Reason;

/// One quarantined row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineRow {
    /// Input file name.
    pub file: String,
    /// 1-based line where the row starts.
    pub line: u64,
    /// 1-based data row number (header excluded).
    pub row: u64,
    /// Reasons, sorted, without repeats.
    pub reasons: Vec<Reason>,
    /// One entry per failing check, naming the column.
    pub details: Vec<String>,
    /// Non-identifying values as JSON, when the row's fields line up with the header.
    pub record: Option<String>,
}

/// The quarantine of one source.
#[derive(Debug, Default)]
pub struct Quarantine {
    rows: Vec<QuarantineRow>,
    counts: BTreeMap<&'static str, u64>,
}

impl Quarantine {
    /// Adds a row and counts its reasons.
    pub fn push(&mut self, mut row: QuarantineRow) {
        row.reasons.sort();
        row.reasons.dedup();
        for r in &row.reasons {
            *self.counts.entry(r.code()).or_default() += 1;
        }
        self.rows.push(row);
    }

    /// Appends another quarantine's rows (and counts) after this one's.
    pub fn append(&mut self, other: Quarantine) {
        for (k, v) in other.counts {
            *self.counts.entry(k).or_default() += v;
        }
        self.rows.extend(other.rows);
    }

    /// Number of quarantined rows.
    pub fn len(&self) -> u64 {
        self.rows.len() as u64
    }

    /// Number of quarantined rows with a detail containing `text`.
    pub fn rows_with_detail(&self, text: &str) -> u64 {
        self.rows
            .iter()
            .filter(|r| r.details.iter().any(|d| d.contains(text)))
            .count() as u64
    }

    /// True when nothing was quarantined.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Rows per reason code (a row with two reasons counts under both).
    pub fn counts(&self) -> &BTreeMap<&'static str, u64> {
        &self.counts
    }

    /// The quarantined rows.
    pub fn rows(&self) -> &[QuarantineRow] {
        &self.rows
    }

    /// The rows as a DataFrame: `source, file, line, row, reasons, detail, record`.
    pub fn to_frame(&self, source: &str) -> PolarsResult<DataFrame> {
        let n = self.rows.len();
        let r = &self.rows;
        DataFrame::new(
            n,
            vec![
                Column::new("source".into(), vec![source; n]),
                // A file name holding an NHS number (`apc_9434765919.csv`) is masked too.
                Column::new(
                    "file".into(),
                    r.iter()
                        .map(|q| mask_file_name(&q.file))
                        .collect::<Vec<_>>(),
                ),
                Column::new("line".into(), r.iter().map(|q| q.line).collect::<Vec<_>>()),
                Column::new("row".into(), r.iter().map(|q| q.row).collect::<Vec<_>>()),
                Column::new(
                    "reasons".into(),
                    r.iter()
                        .map(|q| {
                            q.reasons
                                .iter()
                                .map(|x| x.code())
                                .collect::<Vec<_>>()
                                .join(";")
                        })
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    "detail".into(),
                    r.iter().map(|q| q.details.join("; ")).collect::<Vec<_>>(),
                ),
                Column::new(
                    "record".into(),
                    r.iter().map(|q| q.record.as_deref()).collect::<Vec<_>>(),
                ),
            ],
        )
    }
}

/// Replaces anything shaped like an NHS number (10 digits, optionally grouped by single
/// spaces, dashes, dots or underscores after the 3rd, 5th or 6th digit, not part of a
/// longer number; or 11 with a leading zero) with `<withheld>`: for values from the data
/// (quarantine records and details, headers), where a number with a wrong check digit is
/// still somebody's mistyped number.
pub fn mask_nhs_like(text: &str) -> String {
    mask_shapes(text, Grouping::Loose, |_| true).into_owned()
}

/// A value from the data as quarantine records, details and messages show it: NHS-number
/// shapes ([`mask_nhs_like`]) and full UK postcodes ([`mask_postcodes`]) withheld. (Names
/// have no shape to find: only columns the contract constrains are copied at all.)
pub fn mask_data_value(text: &str) -> String {
    let nhs = mask_nhs_like(text);
    match mask_postcodes(&nhs) {
        std::borrow::Cow::Borrowed(_) => nhs,
        std::borrow::Cow::Owned(o) => o,
    }
}

/// Replaces every full UK postcode shape (`A9 9AA`, `A99 9AA`, `A9A 9AA`, `AA9 9AA`,
/// `AA99 9AA`, `AA9A 9AA`, in either case, the space optional, not part of a longer word)
/// with `<withheld>`. Borrowed when there is none.
pub fn mask_postcodes(text: &str) -> std::borrow::Cow<'_, str> {
    let b = text.as_bytes();
    let mut out = String::new();
    let (mut i, mut last) = (0, 0);
    while i < b.len() {
        if let Some(end) = postcode_at(b, i) {
            out.push_str(&text[last..i]);
            out.push_str("<withheld>");
            i = end;
            last = end;
            continue;
        }
        i += 1;
    }
    if last == 0 {
        return std::borrow::Cow::Borrowed(text);
    }
    out.push_str(&text[last..]);
    std::borrow::Cow::Owned(out)
}

/// Whether `text` holds a full UK postcode shape as [`mask_postcodes`] finds them.
pub fn holds_postcode(text: &str) -> bool {
    let b = text.as_bytes();
    // Five characters at least, with a digit: most values (codes, counts) are out at once.
    b.len() >= 5
        && b.iter().any(u8::is_ascii_digit)
        && (0..b.len()).any(|i| postcode_at(b, i).is_some())
}

/// The end of a postcode shape starting at `start`, which must begin a word.
fn postcode_at(b: &[u8], start: usize) -> Option<usize> {
    let alnum = |i: usize| b.get(i).is_some_and(u8::is_ascii_alphanumeric);
    let letter = |i: usize| b.get(i).is_some_and(u8::is_ascii_alphabetic);
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    if !letter(start) || (start > 0 && alnum(start - 1)) {
        return None;
    }
    for letters in [1, 2] {
        if !(0..letters).all(|k| letter(start + k)) || !digit(start + letters) {
            continue;
        }
        let area = start + letters + 1;
        for extra in [0, 1] {
            if extra == 1 && !alnum(area) {
                continue;
            }
            let outward_end = area + extra;
            for space in [0, 1] {
                if space == 1 && b.get(outward_end) != Some(&b' ') {
                    continue;
                }
                let inward = outward_end + space;
                if digit(inward) && letter(inward + 1) && letter(inward + 2) && !alnum(inward + 3) {
                    return Some(inward + 3);
                }
            }
        }
    }
    None
}

/// Replaces every NHS number in a file name or path (a shape as [`mask_nhs_like`] finds
/// them whose digits pass Modulus 11) with `<withheld>`: a file named after its patient
/// keeps its name otherwise, and names that only look like one (a time stamp, a batch
/// number) stay apart.
pub fn mask_file_name(name: &str) -> String {
    mask_shapes(name, Grouping::Loose, is_nhs_number).into_owned()
}

/// Replaces every NHS number in free text such as log lines and error messages (a shape
/// grouped 3-3-4 or 5-5 or not at all, whose digits pass Modulus 11) with `<withheld>`,
/// leaving other numbers as they are: byte counts, seconds (`123.4567891`) and other
/// ten-digit numbers are common there. Borrowed when nothing is masked. Paths in such
/// text were masked where they were named ([`mask_file_name`]).
pub fn mask_nhs_numbers(text: &str) -> std::borrow::Cow<'_, str> {
    mask_shapes(text, Grouping::Strict, is_nhs_number)
}

/// Whether an NHS-number shape ([`nhs_shape_end`]) is an NHS number: its ten digits (a
/// leading zero of eleven dropped) pass Modulus 11.
fn is_nhs_number(shape: &str) -> bool {
    let digits: String = shape.chars().filter(char::is_ascii_digit).collect();
    let ten = digits.strip_prefix('0').filter(|d| d.len() == 10);
    super::nhs_number::validate(ten.unwrap_or(&digits)).is_ok()
}

/// `text` with each NHS-number shape for which `masked` is true replaced by `<withheld>`.
fn mask_shapes(
    text: &str,
    grouping: Grouping,
    masked: impl Fn(&str) -> bool,
) -> std::borrow::Cow<'_, str> {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        if b[i].is_ascii_digit()
            && (i == 0 || !b[i - 1].is_ascii_digit())
            && let Some(end) = nhs_shape_end(b, i, grouping)
            && masked(&text[i..end])
        {
            out.push_str(&text[last..i]);
            out.push_str("<withheld>");
            i = end;
            last = end;
            continue;
        }
        i += 1;
    }
    if last == 0 {
        return std::borrow::Cow::Borrowed(text);
    }
    out.push_str(&text[last..]);
    std::borrow::Cow::Owned(out)
}

/// Whether `text` holds an NHS-number shape (10 digits, or 3-3-4 with spaces or dashes)
/// whose digits pass Modulus 11: a real NHS number, not just ten digits.
pub fn holds_valid_nhs_number(text: &str) -> bool {
    let b = text.as_bytes();
    if b.iter().filter(|c| c.is_ascii_digit()).count() < 10 {
        return false;
    }
    (0..b.len()).any(|i| {
        b[i].is_ascii_digit()
            && (i == 0 || !b[i - 1].is_ascii_digit())
            && nhs_shape_end(b, i, Grouping::Loose).is_some_and(|end| is_nhs_number(&text[i..end]))
    })
}

/// How the digits of an NHS-number shape may be grouped.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Grouping {
    /// Split by single spaces, dashes, dots or underscores after the 3rd, 5th or 6th
    /// digit, in any combination (`943 476 5919`, `94347 65919`, `943 4765919`,
    /// `943_476_5919`): data values and names, where any such spelling is somebody's
    /// number.
    Loose,
    /// Exactly 3-3-4 or 5-5, or not at all: free text, where `123.4567891` is a time.
    Strict,
}

/// If an NHS-number shape starts at `start`, returns where it ends: ten digits, grouped
/// as `grouping` allows or not at all, or eleven with a leading zero (`09434765919`, a
/// number padded by a spreadsheet). Dates and times (`2026-08-01 10:00`) are not
/// grouped so.
fn nhs_shape_end(b: &[u8], start: usize, grouping: Grouping) -> Option<usize> {
    let mut digits = 0;
    let mut i = start;
    let mut end = start;
    // Digits before each separator.
    let mut groups = [0usize; 3];
    let mut separators = 0;
    while i < b.len() && digits < 11 {
        if b[i].is_ascii_digit() {
            digits += 1;
            i += 1;
            end = i;
        } else if matches!(b[i], b' ' | b'-' | b'.' | b'_')
            && separators < 3
            && matches!(digits, 3 | 5 | 6)
            && i + 1 < b.len()
            && b[i + 1].is_ascii_digit()
        {
            groups[separators] = digits;
            separators += 1;
            i += 1;
        } else {
            break;
        }
    }
    let longer = end < b.len() && b[end].is_ascii_digit()
        || (i < b.len() && i > end && b[i].is_ascii_digit());
    let grouped = match (grouping, separators) {
        (_, 0) | (Grouping::Loose, _) => true,
        (Grouping::Strict, 1) => groups[0] == 5,
        (Grouping::Strict, 2) => groups[..2] == [3, 6],
        (Grouping::Strict, _) => false,
    };
    let padded =
        digits == 11 && b[start] == b'0' && (grouping == Grouping::Loose || separators == 0);
    let shape = (digits == 10 && grouped) || padded;
    (shape && !longer).then_some(end)
}

#[cfg(test)]
mod tests {
    #[test]
    fn postcodes_of_every_shape_are_found_and_masked_but_codes_and_ids_are_not() {
        for pc in [
            "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "W1A 0AX", "EC1A 1BB", "sw1a1aa", "ls1 4ap",
        ] {
            assert!(super::holds_postcode(pc), "{pc}");
            assert_eq!(super::mask_data_value(pc), "<withheld>", "{pc}");
        }
        assert_eq!(
            super::mask_data_value("moved to LS1 4AP, 9434765919"),
            "moved to <withheld>, <withheld>"
        );
        for not in [
            "RX1",
            "RX101",
            "RX10037461",
            "NS-SVC-025821",
            "E06000002",
            "300",
            "1 - Male",
            "2026-07-01",
            "XLS1 4AP",
            "LS1 4APX",
            "LS1 4A",
        ] {
            assert!(!super::holds_postcode(not), "{not}");
            assert_eq!(super::mask_data_value(not), not);
        }
    }

    use super::{mask_nhs_like, mask_nhs_numbers};

    /// Regression: free text's exact grouping (so that `123.4567891` seconds was not
    /// masked) was applied to data and names too, and let `943476 5919` and
    /// `943 4765919` through the row check into restricted data.
    #[test]
    fn data_and_names_take_any_grouping_free_text_only_3_3_4_or_5_5() {
        use super::{holds_valid_nhs_number, mask_file_name};
        for spelt in ["943476 5919", "943 4765919", "943-476-5919", "943_476_5919"] {
            assert!(holds_valid_nhs_number(spelt), "{spelt}");
            assert_eq!(
                mask_file_name(&format!("a_{spelt}.csv")),
                "a_<withheld>.csv"
            );
        }
        assert_eq!(mask_nhs_numbers("took 943.4765919 s"), "took 943.4765919 s");
        assert_eq!(mask_nhs_numbers("in 943 476 5919"), "in <withheld>");
        // Names keep numbers that only look like one (a time stamp, a batch number).
        assert_eq!(mask_file_name("ecds_1722470400.csv"), "ecds_1722470400.csv");
        assert_eq!(mask_file_name("cld_0000012345.csv"), "cld_0000012345.csv");
    }

    #[test]
    fn free_text_loses_its_nhs_numbers_and_keeps_other_numbers() {
        // 943 476 5919 passes Modulus 11; 943 476 5918 does not.
        assert_eq!(
            mask_nhs_numbers("reading /in/9434765919_apc.csv: bytes=9434765918"),
            "reading /in/<withheld>_apc.csv: bytes=9434765918"
        );
        assert_eq!(
            mask_nhs_numbers("943-476-5919 and 94347 65919 and 09434765919"),
            "<withheld> and <withheld> and <withheld>"
        );
        assert!(matches!(
            mask_nhs_numbers("rows=1234567890 nothing here"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn masks_nhs_shapes_only() {
        assert_eq!(mask_nhs_like("x 9434765919 y"), "x <withheld> y");
        assert_eq!(mask_nhs_like("943 476 5919"), "<withheld>");
        assert_eq!(mask_nhs_like("943-476-5919,"), "<withheld>,");
        // Regression: other spacings, dots and a leading zero passed through unmasked.
        assert_eq!(mask_nhs_like("94347 65919"), "<withheld>");
        assert_eq!(mask_nhs_like("943.476.5919"), "<withheld>");
        assert_eq!(
            mask_nhs_like("value \"09434765919\""),
            "value \"<withheld>\""
        );
        assert_eq!(mask_nhs_like("apc_943_476_5919.csv"), "apc_<withheld>.csv");
        assert_eq!(mask_nhs_like("2026-08-01 10:00"), "2026-08-01 10:00");
        // In data any split after the 3rd, 5th or 6th digit is somebody's number.
        assert_eq!(mask_nhs_like("943476 5919"), "<withheld>");
        assert_eq!(mask_nhs_like("943 4765919"), "<withheld>");
        assert_eq!(mask_nhs_like("943 47 65919"), "<withheld>");
        assert_eq!(mask_nhs_like("94 3476 5919"), "94 3476 5919");
        assert_eq!(mask_nhs_like("2026.08.01 1000"), "2026.08.01 1000");
        // SNOMED codes, dates and short numbers stay.
        assert_eq!(mask_nhs_like("1064891000000107"), "1064891000000107");
        assert_eq!(mask_nhs_like("01/08/2026"), "01/08/2026");
        assert_eq!(mask_nhs_like("12345"), "12345");
    }
}
